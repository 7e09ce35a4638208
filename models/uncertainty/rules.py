"""Verdict rules: the code that grades a claim, as functions a chapter and a Monte Carlo sweep share.

A :class:`Rule` has a name, the claim it grades, the named solves it reads (:data:`SOLVES`) and
a function ``func(ctx) -> RuleOutcome``: the verdict (one of the register's words) and the numbers
it was chosen from. ``ctx`` is a :class:`RuleContext`: the setting (members, floors, thresholds)
and the solved results by name. The registry is public: :func:`register` adds a rule,
:func:`get_rules` looks rules up by name, :data:`RULES` lists them.

The rules of ``book/price_floors.ipynb`` (claims C09, C12, C13 and C25) are implemented here
exactly as that chapter's ``judge`` computes them: same summaries (:func:`summarise`), same
thresholds, same comparisons. Each rule says which solves it needs, so a sweep solves only those.

Named solves (instrument ``@`` floor, ``+`` China's extra subsidy):

======================  =====================================================================
``baseline``            the calibrated benchmark (base policies)
``pref@floor``          the preferential floor at the floor level ``f``, no extra subsidy
``<inst>@market``       instrument at the market-value floor ``f_market``, no extra subsidy
``<inst>@market+flood`` the same with China's extra subsidy ``s`` (the flood)
``pref@market+probe``   the preferential floor at ``f_market`` with the top of the subsidy range
======================  =====================================================================

``<inst>`` is ``none`` (the bloc without a floor), ``pref``, ``guar``, ``cfd``, ``stock_all`` or
``stock_members`` (:data:`INSTRUMENTS`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..errors import ModelInputError
from .families import Family, get_family, register_family

#: The chapter's four floors (``none`` is the bloc without a floor).
INSTRUMENTS = ("pref", "guar", "cfd", "stock_all", "stock_members")
#: The register's verdicts.
VERDICTS = ("supported", "supported with conditions", "not supported", "contradicted", "out of scope")


@dataclass(frozen=True)
class RuleOutcome:
    """A rule's verdict and the numbers it was chosen from (floats or bools, by name)."""

    verdict: str
    numbers: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ModelInputError("verdict", self.verdict, f"one of {list(VERDICTS)}")


@dataclass(frozen=True)
class FloorSetting:
    """What the price-floor rules hold fixed: the bloc, the floors and the thresholds.

    Attributes
    ----------
    members : tuple of str
        The bloc's member regions.
    china : str
        The subsidised supplier.
    others : tuple of str
        Non-members other than China.
    floor : float
        The floor level ``f`` (USD/kg) of C25.
    market_floor : float
        The market-value floor ``f_market`` (USD/kg) of C09, C12 and C13.
    probe_subsidy : float
        The top of China's subsidy range (USD/kg), C09's probe.
    shield_threshold : float
        A floor "counters" a flood if it removes this share of the fall in members' output.
    internal_tariff : float
        The largest tariff between members under the bloc (USD/kg), C09.
    """

    members: tuple
    china: str
    others: tuple
    floor: float
    market_floor: float
    probe_subsidy: float
    shield_threshold: float = 0.9
    internal_tariff: float = 0.0


class RuleContext:
    """The setting and the solves a rule reads, solved on demand and kept for the draw.

    Parameters
    ----------
    setting : FloorSetting
    regions : tuple of str
        The market's regions, in the order of the raw arrays.
    solve : callable
        ``solve(name) -> (raw, make_result)``: the certified raw solution of the named solve and
        a function that builds its ``EquilibriumResult`` (see ``EquilibriumModel.solve_raw``).

    :meth:`arrays` reads a solve's per-region numpy arrays (cheap), :meth:`result` its labelled
    result (pandas), :meth:`summary` the chapter's summary of it. A chapter that already holds
    its results uses :meth:`from_results`.
    """

    def __init__(self, setting: FloorSetting, regions, solve: Callable):
        self.setting, self.regions, self._solve = setting, tuple(regions), solve
        self._raw: dict = {}
        self._results: dict = {}
        self._summaries: dict = {}

    @classmethod
    def from_results(cls, setting: FloorSetting, results: dict) -> "RuleContext":
        """A context over results already solved: ``{name: EquilibriumResult}``."""
        regions = next(iter(results.values())).market.regions

        def solve(name):
            if name not in results:
                raise ModelInputError("solve", name, f"one of the given results {sorted(results)}")
            return results[name].raw, lambda: results[name]
        return cls(setting, regions, solve)

    def _get(self, name: str):
        if name not in self._raw:
            self._raw[name] = self._solve(name)
        return self._raw[name]

    def arrays(self, name: str) -> dict:
        """Per-region arrays of the named solve (``RawSolution.region_arrays``), region order."""
        return self._get(name)[0].region_arrays()

    def result(self, name: str):
        """The named solve's ``EquilibriumResult``."""
        if name not in self._results:
            self._results[name] = self._get(name)[1]()
        return self._results[name]

    def index(self, regions) -> list:
        return [self.regions.index(r) for r in regions]

    def summary(self, name: str) -> dict:
        if name not in self._summaries:
            self._summaries[name] = summarise(self.result(name), self.result("baseline"), self.setting)
        return self._summaries[name]


def _wavg(x, w) -> float:
    w = np.asarray(w, dtype=float)
    return float(np.dot(np.asarray(x, dtype=float), w) / w.sum()) if w.sum() > 1e-12 else float("nan")


def summarise(res, baseline, setting: FloorSetting) -> dict:
    """Prices, quantities and welfare changes (vs ``baseline``) for members, China and the others.

    The price-floor chapter's ``summarise``: demand-weighted consumer prices, supply-weighted
    producer prices (USD/kg), quantities (kt), welfare changes (USD million a year), the floor's
    wedge per kg (the preferential floor's tariff, or the guaranteed price's demand-weighted
    levy), China's revenue and the stockpile's purchases and outlay.
    """
    r, w, mem = res.regions, res.welfare_change(baseline), list(setting.members)
    china, others = setting.china, list(setting.others)
    out = {}
    for group, rs in (("members", mem), ("china", [china]), ("others", others)):
        out[f"{group}_consumer_price"] = _wavg(r.loc[rs, "consumer_price"], r.loc[rs, "demand"])
        out[f"{group}_producer_price"] = _wavg(r.loc[rs, "producer_price"], r.loc[rs, "supply"])
        for q in ("demand", "supply", "net_exports"):
            out[f"{group}_{q}"] = float(r.loc[rs, q].sum())
        out[f"{group}_welfare"] = float(w.loc[rs, "total"].sum())
    for c in ("consumer_surplus", "producer_surplus", "government"):
        out[f"members_{c}"] = float(w.loc[mem, c].sum())
        out[f"china_{c}"] = float(w.loc[china, c])
    out["members_wedge_per_kg"] = (float(res.zone["tariff"]) if not res.zone.empty
                                   else _wavg(res.wedges.loc[mem, "levy"], r.loc[mem, "demand"]))
    out["china_revenue"] = float(r.loc[china, "producer_price"] * r.loc[china, "supply"])
    sp = res.stockpile
    out["stockpile_purchases"] = float(sp["purchases"]) if sp["location"] else 0.0
    out["stockpile_outlay"] = float(sp["outlay"]) if sp["location"] else 0.0
    return out


def flood_effects(ctx: RuleContext, instruments) -> dict:
    """Per instrument at the market-value floor: the flood's effects (the chapter's ``flood_effects``).

    Returns ``{inst: {...}}`` with ``d_members_supply``, ``d_members_producer_price``,
    ``d_members_imports``, the wedge before and after, ``flood_<x>`` levels, ``shield`` (share of the
    fall in members' output the floor removes; NaN when output does not fall without a floor) and
    ``vs_no_floor_<x>`` (the instrument's level under the flood minus no floor's).
    """
    out = {}
    for k in ("none", *instruments):
        r0, r1 = ctx.summary(f"{k}@market"), ctx.summary(f"{k}@market+flood")
        out[k] = {"d_members_supply": r1["members_supply"] - r0["members_supply"],
                  "d_members_producer_price": r1["members_producer_price"] - r0["members_producer_price"],
                  "d_members_imports": -(r1["members_net_exports"] - r0["members_net_exports"]),
                  "wedge_per_kg_before": r0["members_wedge_per_kg"], "wedge_per_kg_after": r1["members_wedge_per_kg"],
                  **{f"flood_{key}": r1[key] for key in ("members_consumer_surplus", "members_government",
                                                         "members_welfare", "china_revenue")}}
    d = out["none"]["d_members_supply"]
    for k in out:
        out[k]["shield"] = 1 - out[k]["d_members_supply"] / d if d < -1e-9 else float("nan")
        for key in ("members_consumer_surplus", "members_government", "members_welfare", "china_revenue"):
            out[k][f"vs_no_floor_{key}"] = out[k][f"flood_{key}"] - out["none"][f"flood_{key}"]
    return out


@dataclass(frozen=True)
class Rule:
    """A verdict rule: ``name``, the ``claim`` it grades, the named ``needs`` and ``func(ctx)``.

    ``family`` names the models the rule reads (:mod:`models.uncertainty.families`): ``ctx`` is
    what that family's state returns for a draw. The default, ``"floors"``, is this module's
    :class:`RuleContext` over the price-floor chapter's named solves.
    """

    name: str
    claim: str
    needs: tuple
    func: Callable[[RuleContext], RuleOutcome]
    description: str = ""
    family: str = "floors"

    def __call__(self, ctx: RuleContext) -> RuleOutcome:
        out = self.func(ctx)
        if not isinstance(out, RuleOutcome):
            raise ModelInputError(f"rule {self.name}", type(out).__name__, "a RuleOutcome")
        return out


RULES: dict[str, Rule] = {}


def register(rule: Rule) -> Rule:
    """Add ``rule`` to :data:`RULES`. A name is registered once (again only by the same function,
    as when a module of rules is imported anew in a Dask worker)."""
    if not isinstance(rule, Rule):
        raise ModelInputError("rule", type(rule).__name__, "a models.uncertainty.Rule")
    same = rule.name in RULES and (RULES[rule.name] is rule or _origin(RULES[rule.name]) == _origin(rule))
    if rule.name in RULES and not same:
        raise ModelInputError("rule.name", rule.name, f"a name not yet registered ({sorted(RULES)})")
    family = get_family(rule.family)
    unknown = [s for s in rule.needs if not family.known_need(s)]
    if unknown:
        raise ModelInputError(f"rule {rule.name}.needs", unknown, f"needs known to the family {family.name!r}")
    RULES[rule.name] = rule
    return rule


def _origin(rule: Rule) -> tuple:
    """Where a rule's function is defined (a module imported twice registers the same rule)."""
    return (rule.claim, rule.needs, rule.family, getattr(rule.func, "__module__", None), getattr(rule.func, "__qualname__", None))


def get_rules(names) -> list[Rule]:
    """The registered rules named in ``names`` (in that order)."""
    if isinstance(names, str):
        names = (names,)
    names = list(names)
    unknown = [n for n in names if n not in RULES]
    if unknown or not names:
        raise ModelInputError("rules", unknown or names, f"a non-empty list of rules among {sorted(RULES)}")
    return [RULES[n] for n in names]


def _known_solve(name: str) -> bool:
    if name in ("baseline", "pref@floor", "pref@market+probe"):
        return True
    base = name.split("+")[0]
    inst, _, where = base.partition("@")
    return where == "market" and inst in ("none", *INSTRUMENTS) and name.partition("+")[2] in ("", "flood")


def _build_floors(inputs, rules):
    from .floor_family import FloorState
    return FloorState(inputs, rules)


register_family(Family("floors", _build_floors, known_need=_known_solve,
                       description="the price-floor chapter's floors on one equilibrium (RuleContext)"))


def _flood_needs(instruments) -> tuple:
    return tuple(f"{k}@market{s}" for k in ("none", *instruments) for s in ("", "+flood"))


# ----------------------------------------------------------------------------- the chapter's rules
def c09(ctx: RuleContext) -> RuleOutcome:
    """C09: ``supported`` if members trade without tariffs and the preferential floor's tariff
    rises (by more than 0.001 USD/kg) when China's subsidy rises to the top of its range;
    ``supported with conditions`` otherwise."""
    before = ctx.summary("pref@market")["members_wedge_per_kg"]
    after = ctx.summary("pref@market+probe")["members_wedge_per_kg"]
    adjust = float(after - before)
    internal = float(ctx.setting.internal_tariff)
    ok = internal == 0.0 and adjust > 1e-3
    return RuleOutcome("supported" if ok else "supported with conditions",
                       {"internal_tariff": internal, "tariff_adjustment_usd_per_kg": adjust})


def c12(ctx: RuleContext) -> RuleOutcome:
    """C12: a floor counters the flood if it removes at least ``shield_threshold`` of the fall in
    members' output. ``not supported`` if the preferential floor's share is undefined or no floor
    counters; ``supported`` if every floor counters, none raises China's revenue by more than 0.5%
    of its benchmark revenue and under none members lose against no floor; otherwise ``supported
    with conditions``."""
    eff = flood_effects(ctx, INSTRUMENTS)
    thr = ctx.setting.shield_threshold
    shield = {k: eff[k]["shield"] for k in INSTRUMENTS}
    counters = [k for k in INSTRUMENTS if shield[k] >= thr]
    china_base = ctx.summary("baseline")["china_revenue"]
    props = [k for k in INSTRUMENTS if eff[k]["vs_no_floor_china_revenue"] > 0.005 * china_base]
    lose = [k for k in INSTRUMENTS if eff[k]["vs_no_floor_members_welfare"] < 0]
    if not np.isfinite(shield["pref"]) or not counters:
        v = "not supported"
    elif len(counters) == len(INSTRUMENTS) and not props and not lose:
        v = "supported"
    else:
        v = "supported with conditions"
    return RuleOutcome(v, {"shield_pref": shield["pref"], "n_counter": float(len(counters)),
                           "n_props_china": float(len(props)), "n_members_lose": float(len(lose))})


def c13(ctx: RuleContext) -> RuleOutcome:
    """C13: ``not supported`` unless the flood lowers members' producer price by more than 0.5% of
    the market-value floor and the preferential floor removes the fall in members' output and
    their extra imports (``shield_threshold``); then ``supported with conditions`` if members'
    manufacturers pay for it (their surplus under the floor below no floor's), else ``supported``."""
    eff = flood_effects(ctx, ("pref",))
    thr, f_mkt = ctx.setting.shield_threshold, ctx.setting.market_floor
    none, pref = eff["none"], eff["pref"]
    problem = none["d_members_producer_price"] < -0.005 * f_mkt
    eliminated = (pref["shield"] >= thr if np.isfinite(pref["shield"]) else False) and \
        abs(pref["d_members_imports"]) <= (1 - thr) * max(abs(none["d_members_imports"]), 1e-12)
    pay = pref["vs_no_floor_members_consumer_surplus"] < 0
    v = ("not supported" if not problem or not eliminated else
         "supported with conditions" if pay else "supported")
    return RuleOutcome(v, {"producer_price_fall": -none["d_members_producer_price"], "shield_pref": pref["shield"],
                           "manufacturers_vs_no_floor": pref["vs_no_floor_members_consumer_surplus"],
                           "problem": bool(problem), "eliminated": bool(eliminated)})


def c25(ctx: RuleContext) -> RuleOutcome:
    """C25: under the preferential floor at ``f``: ``not supported`` unless the zone's output rises
    (by more than 0.01%); ``supported`` if every member produces in the base year, every one
    expands and US consumption does not fall; otherwise ``supported with conditions``."""
    mem = list(ctx.setting.members)
    idx = ctx.index(mem)
    pref, base = ctx.arrays("pref@floor"), ctx.arrays("baseline")
    s0, s1 = base["supply"][idx], pref["supply"][idx]
    producing = s0 > 1e-9
    expanded = producing & (s1 > s0 * (1 + 1e-4))
    zone_before, zone_after = float(s0.sum()), float(s1.sum())
    zone_up = zone_after > zone_before * (1 + 1e-4)
    usa = ctx.index(["USA" if "USA" in mem else mem[0]])[0]
    access = 100 * (pref["demand"][usa] / base["demand"][usa] - 1)
    if not zone_up:
        v = "not supported"
    elif producing.all() and bool((expanded == producing).all()) and access >= 0:
        v = "supported"
    else:
        v = "supported with conditions"
    return RuleOutcome(v, {"zone_supply_change_kt": zone_after - zone_before, "n_expanded": float(expanded.sum()),
                           "usa_demand_change_pct": float(access)})


register(Rule("C09", "C09", ("baseline", "pref@market", "pref@market+probe"), c09,
              "the preferential floor's tariff adjusts to China's subsidy"))
register(Rule("C12", "C12", ("baseline", *_flood_needs(INSTRUMENTS)), c12,
              "floors counter China's subsidised supply"))
register(Rule("C13", "C13", ("baseline", *_flood_needs(("pref",))), c13,
              "the preferential floor stops a flood undercutting members"))
register(Rule("C25", "C25", ("baseline", "pref@floor"), c25,
              "the preferential floor expands production across the zone and keeps US access"))
