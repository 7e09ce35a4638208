"""The ``membership`` family: the membership chapter's roster games, re-solved per draw.

``book/membership.ipynb`` grades C02, C04, C05, C06, C08, C23 and C26 on the roster games of one
calibrated market (:mod:`models.coalition`); its grading code is
:mod:`models.coalition.verdicts` (:func:`~models.coalition.verdicts.membership_numbers` and
:data:`~models.coalition.verdicts.MEMBERSHIP_VERDICTS`), which the chapter and these rules both
call. A rule's ``needs`` are the parts of ``membership_numbers`` it reads (``stability``,
``picked_off``, ``eu_leave``, ...); a draw computes only the parts of the rules graded.

The bloc is the chapter's, not the sweep's ``roster``: the ministerial bloc (``ministerial_2026``)
with the core (USA, EU, Japan) fixed and China barred, the instruments at the sweep's floor
(``SweepSpec.floor``, else ``data/floors.csv``, as the price-floor rules), the stockpile's budget
the mineral's share of ``SweepSpec.vault_total_musd``.

Per draw the roster models are built on the re-calibrated benchmark (:class:`~models.uncertainty.Draw`):
its base scenario carries the drawn export wedge, so no export discount is needed; China's
extra subsidy does not enter these games. The data-only counts (:class:`~models.coalition.verdicts.MembershipFacts`:
base-year self-sufficiency and complementarity) are read once; no drawn input moves them, and C07,
which reads them alone, is therefore not a rule here (see :func:`models.uncertainty.coverage`).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..coalition.verdicts import (GDP_SHARED, PARTS, MEMBERSHIP_VERDICTS, MembershipFacts, MembershipSetting,
                                  membership_facts, membership_numbers, membership_setting, membership_verdict)
from .families import Draw, Family, FamilyInputs, register_family
from .floor_family import budget_of, floor_of
from .rules import Rule, RuleOutcome, register


@dataclass(frozen=True)
class MembershipContext:
    """What the membership rules read for one draw: the setting, the data-only facts and the
    numbers of :func:`~models.coalition.verdicts.membership_numbers` (the parts asked for)."""

    setting: MembershipSetting
    facts: MembershipFacts
    numbers: dict


class MembershipState:
    """The membership family's fixed part of a sweep; :meth:`context` solves one draw's games."""

    def __init__(self, inputs: FamilyInputs, rules: list):
        spec, ds = inputs.spec, inputs.dataset
        self.setting = membership_setting(ds, spec.mineral, budget=budget_of(spec, ds), floor_level=floor_of(spec, ds),
                                          location=spec.stockpile_location, supplier=spec.china,
                                          barred=(spec.china,))
        self.facts = membership_facts(ds, self.setting.grand, tuple(ds.mineral_ids), horizon=spec.horizon)
        self.parts = tuple(p for p in PARTS if any(p in rule.needs for rule in rules))

    def context(self, draw: Draw) -> MembershipContext:
        numbers = membership_numbers(draw.bench, self.setting, parts=self.parts)
        return MembershipContext(self.setting, self.facts, numbers)


register_family(Family("membership", MembershipState, known_need=lambda name: name in PARTS,
                       description="the membership chapter's roster games (models.coalition.verdicts)"))


def _outcome(claim: str, ctx: MembershipContext, numbers: dict) -> RuleOutcome:
    return RuleOutcome(membership_verdict(claim, ctx.numbers, ctx.facts, ctx.setting),
                       {k: float(v) for k, v in numbers.items()})


def c02(ctx: MembershipContext) -> RuleOutcome:
    """C02: the chapter's verdict on a 'China-free' bloc of more than 50 countries (stable under
    every instrument and self-sufficient in every mineral: supported; under none and in none: not)."""
    return _outcome("C02", ctx, {"n_instruments_stable": len(ctx.numbers["grand_stable"])})


def c04(ctx: MembershipContext) -> RuleOutcome:
    """C04: the Shapley split of the stockpile's net bill (every active member pays: supported;
    members other than the host carry none of it: not supported)."""
    n = ctx.numbers
    return _outcome("C04", ctx, {"others_share": n["others_share"], "n_paying": n["n_paying"]})


def c05(ctx: MembershipContext) -> RuleOutcome:
    """C05: the EU gains by leaving under every instrument (supported), some (with conditions), none (not)."""
    eu = ctx.numbers["eu_leave"]
    return _outcome("C05", ctx, {"eu_leave_preferential": eu.get("preferential", 0.0),
                                 "eu_leave_gdp_shared": eu[GDP_SHARED]})


def c06(ctx: MembershipContext) -> RuleOutcome:
    """C06: the EU gains by leaving when the stockpile's bill is shared by GDP, and under every
    instrument (supported); under none (not supported); otherwise with conditions."""
    eu = ctx.numbers["eu_leave"]
    return _outcome("C06", ctx, {"eu_leave_gdp_shared": eu[GDP_SHARED],
                                 "n_instruments_eu_leaves": sum(g > ctx.setting.tol for g in eu.values())})


def c08(ctx: MembershipContext) -> RuleOutcome:
    """C08: most active members are picked off by a Chinese discount below ``easy_discount`` of
    their price under every instrument (supported), under some (with conditions), under none (not)."""
    n = ctx.numbers
    return _outcome("C08", ctx, {f"n_easy_{i}": k for i, k in n["n_easy_by"].items()} | {"n_active": n["n_act"]})


def c23(ctx: MembershipContext) -> RuleOutcome:
    """C23: members' collective buying power lowers their import price by at least ``buying_power_min``."""
    return _outcome("C23", ctx, {"import_price_fall": ctx.numbers["bp_fall"]})


def c26(ctx: MembershipContext) -> RuleOutcome:
    """C26: every active 'interested' region gains by joining the core (supported), else with conditions."""
    n = ctx.numbers
    return _outcome("C26", ctx, {"n_gainers": len(n["interested_gainers"][ctx.setting.default_instrument]),
                                 "n_interested": n["n_interested"]})


_DESCRIPTIONS = {
    "C02": (c02, "a 'China-free' bloc of more than 50 countries holds together"),
    "C04": (c04, "the stockpile's funds must be shared among all members"),
    "C05": (c05, "the EU has an economic reason to be sceptical (it gains by leaving)"),
    "C06": (c06, "the EU would pay to support the US (it gains by leaving when the bill is shared)"),
    "C08": (c08, "members are picked off one by one by a Chinese discount"),
    "C23": (c23, "collective buying power lowers members' import price"),
    "C26": (c26, "some 30 countries gain by joining"),
}
for _claim, (_func, _text) in _DESCRIPTIONS.items():
    register(Rule(_claim, _claim, MEMBERSHIP_VERDICTS[_claim][0], _func, _text, family="membership"))
