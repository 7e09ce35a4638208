"""The membership chapter's verdicts: the numbers they rest on and the rules that grade them.

``book/membership.ipynb`` grades eight claims of the register (``data/claims.csv``). Five of them
read only data (the State Department's list, the bilateral frameworks, the base-year complementarity
of C07: base-year quantities do not move with the elasticities); the others read the roster games
of one calibrated market, so they move with its elasticities and export wedge. This module holds
both halves, so that the chapter and a Monte Carlo sweep (:mod:`models.uncertainty.rules_membership`)
grade the same way:

* :func:`membership_numbers` computes, for one calibration, the numbers behind the model-graded
  verdicts, by **part** (:data:`PARTS`), so a caller computes only what its claims read:

  ==============  ===========================================================================
  ``stability``   instruments under which the ministerial bloc ``N`` is stable (internal and
                  external, China barred)
  ``picked_off``  per instrument, active members ``r`` that leave for a discount from China
                  below ``easy_discount · P0_r``: ``ΔW_r(N∖{r}; δ) ≥ ΔW_r(N)`` at
                  ``δ = easy_discount · P0_r`` (welfare rises with ``δ``, so this is the
                  bisection of :func:`~models.coalition.defection_price` stopped at the threshold)
  ``interested``  active 'interested' regions ``j`` that gain by joining the core ``C``:
                  ``ΔW_j(C ∪ {j}) − ΔW_j(C) > tol``
  ``eu_leave``    the EU's gain from leaving ``N`` per instrument, and with the stockpile's
                  account shared by GDP
  ``buying_power`` the largest fall of members' import price ``1 − p(N; τ)/p(benchmark)`` over
                  the external tariffs ``τ`` and the preferential floor
  ``bill``        Shapley split of the stockpile's net bill: share carried by members other
                  than the stockpile's host, members paying
  ==============  ===========================================================================

* :data:`MEMBERSHIP_VERDICTS` maps each model-graded claim to the parts it reads and the
  function ``verdict(numbers, facts) -> str`` that grades it; :func:`membership_verdicts`
  applies them. ``facts`` (:class:`MembershipFacts`) are the data-only counts the verdicts also
  read (self-sufficiency and complementarity in base-year quantities; the source of '30 countries').
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..errors import ModelInputError
from .games import RosterGame
from .rosters import CORE, INSTRUMENTS, NO_FLOOR, WELFARE_TOL, RosterModel
from .sharing import bill_split, complementarity, import_price

#: The parts of :func:`membership_numbers`, in the order they are computed.
PARTS = ("stability", "picked_off", "interested", "eu_leave", "buying_power", "bill")
#: The EU's row in ``eu_leave`` with the stockpile's account shared by GDP.
GDP_SHARED = "stockpile (GDP-shared bill)"


@dataclass(frozen=True)
class MembershipSetting:
    """What the membership verdicts hold fixed (the chapter's parameters).

    Attributes
    ----------
    grand : tuple of str
        The ministerial bloc ``N`` (``data/roster_regions.csv``: ministerial_2026).
    interested : tuple of str
        Regions of the 'interested' roster.
    gdp : tuple of (region, USD bn)
        GDP by region, the key of the shared stockpile bill (``data/gdp.csv``).
    budget : float
        The stockpile's budget (USD million a year).
    core, barred : tuple of str
        The founders (never tested for leaving) and who may not join (China).
    instruments : tuple of str
        How the bloc holds its floor; ``default_instrument`` is the plan's.
    floor_level, external_tariff : float
        USD/kg.
    external_tariffs : tuple of float
        The buying-power sweep (USD/kg, no floor).
    location, eligible, supplier : str
        The stockpile's host, who may sell to it, and whose discounts and bans are modelled.
    easy_discount : float
        A side deal is "easy" below this share of the member's price.
    buying_power_min : float
        A fall of the import price of at least this share counts as buying power.
    tol : float
        USD million a year: welfare differences below this are zero.
    shapley_method, shapley_samples, seed
        The Shapley split's method (:func:`~models.coalition.bill_split`).
    """

    grand: tuple
    interested: tuple
    gdp: tuple
    budget: float
    core: tuple = CORE
    barred: tuple = ("CHN",)
    instruments: tuple = INSTRUMENTS
    default_instrument: str = "preferential"
    floor_level: float = 110.0
    external_tariff: float = 0.0
    external_tariffs: tuple = (0.0, 5.0, 10.0, 20.0)
    location: str = "USA"
    eligible: str = "members"
    supplier: str = "CHN"
    easy_discount: float = 0.05
    buying_power_min: float = 0.01
    tol: float = 1e-3
    shapley_method: str = "auto"
    shapley_samples: int = 2000
    seed: int = 0

    def __post_init__(self):
        if self.default_instrument not in self.instruments:
            raise ModelInputError("default_instrument", self.default_instrument, f"one of {list(self.instruments)}")
        if "stockpile" not in self.instruments:
            raise ModelInputError("instruments", list(self.instruments), "a list that includes 'stockpile'")

    @property
    def gdp_series(self) -> pd.Series:
        return pd.Series(dict(self.gdp), dtype=float)


@dataclass(frozen=True)
class MembershipFacts:
    """Data-only counts the verdicts read: no elasticity or price gap moves them.

    ``n_minerals`` minerals compared; ``n_selfsuff`` of them where members' base-year output
    covers their use; ``n_shared`` where complementarity ``C`` is below the shared-demand
    threshold; ``thirty_in_source``: the '30 countries' figure is in ``data/rosters.csv``.
    """

    n_minerals: int
    n_selfsuff: int
    n_shared: int
    thirty_in_source: bool


def membership_setting(dataset, mineral: str, grand_roster: str = "ministerial_2026",
                       interested_roster: str = "interested", budget: float | None = None,
                       **kwargs) -> MembershipSetting:
    """The chapter's :class:`MembershipSetting` for ``mineral`` from ``dataset``: the rosters, GDP
    and (``budget=None``) the mineral's share of Project Vault (:func:`models.insurance_data.vault_budgets`)."""
    from ..insurance_data import vault_budgets
    if budget is None:
        budget = float(vault_budgets(dataset)["budget_musd"].get(mineral, 0.0))
    gdp = dataset.gdp.set_index("region")["gdp_usd_bn"]
    return MembershipSetting(grand=tuple(dataset.roster(grand_roster)), interested=tuple(dataset.roster(interested_roster)),
                             gdp=tuple((str(r), float(v)) for r, v in gdp.items()), budget=float(budget), **kwargs)


def membership_facts(dataset, grand, minerals, shared_demand_below: float = 0.5, horizon: str = "long",
                     which: str = "central", curve: str = "linear") -> MembershipFacts:
    """The data-only counts of :class:`MembershipFacts`: complementarity and self-sufficiency of the
    members ``grand`` in base-year quantities of each of ``minerals`` (:func:`~models.coalition.complementarity`)."""
    from ..calibration import benchmark_from_dataset
    n_shared = n_selfsuff = 0
    for m in minerals:
        b = benchmark_from_dataset(dataset, m, horizon=horizon, which=which, curve=curve)
        c = complementarity(b.production, b.consumption, grand)
        n_shared += int(c["complementarity"] < shared_demand_below)
        n_selfsuff += int(c["self_sufficiency"] >= 1)
    thirty = bool(dataset.rosters["source"].str.contains("Some 30 countries", regex=False).any())
    return MembershipFacts(len(minerals), n_selfsuff, n_shared, thirty)


def roster_models(bench, setting: MembershipSetting) -> dict:
    """One :class:`RosterModel` per instrument of ``setting`` on ``bench`` (the chapter's models),
    sharing one solve of the benchmark."""
    kw = dict(external_tariff=setting.external_tariff, budget=setting.budget, location=setting.location,
              eligible=setting.eligible, supplier=setting.supplier, baseline=bench.solve())
    return {inst: RosterModel(bench, inst, setting.floor_level, **kw) for inst in setting.instruments}


def leaves_for_discount(model: RosterModel, members, region: str, discount: float, stay: pd.Series) -> bool:
    """Whether ``region`` leaves ``members`` when the supplier offers it ``discount`` (USD/kg):
    ``ΔW_r(S∖{r}; 0) ≥ ΔW_r(S) − WELFARE_TOL`` (leaving pays already), or
    ``ΔW_r(S∖{r}; δ) ≥ ΔW_r(S)``. ``stay`` is ``model.welfare_change(members)``."""
    k = model.regions.index(region)
    target = float(stay.iloc[k])
    rest = tuple(m for m in members if m != region)

    def leave(delta):
        res = model.solve_roster(rest, discounts={region: delta} if delta > 0 else None)
        return float(res.welfare["total"].iloc[k] - model.baseline.welfare["total"].iloc[k])
    if leave(0.0) >= target - WELFARE_TOL:
        return True
    return leave(float(discount)) >= target


def membership_numbers(bench, setting: MembershipSetting, models: dict | None = None, games: dict | None = None,
                       parts=PARTS) -> dict:
    """The numbers behind the model-graded membership verdicts for the calibration ``bench``.

    ``models`` / ``games`` (by instrument) are reused when given (their caches too), else built
    (:func:`roster_models`). Only the ``parts`` asked for (:data:`PARTS`) are computed.
    """
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        raise ModelInputError("parts", unknown, f"parts among {list(PARTS)}")
    s = setting
    models = models if models is not None else roster_models(bench, s)
    games = games if games is not None else {inst: RosterGame(models[inst]) for inst in s.instruments}
    grand, insts, default = tuple(s.grand), s.instruments, s.default_instrument
    out: dict = {}
    gs = {}
    if "stability" in parts or "eu_leave" in parts:
        gs = {inst: games[inst].stability(grand, fixed=s.core, barred=s.barred, tol=s.tol) for inst in insts}
    if "stability" in parts:
        out["grand_stable"] = [inst for inst in insts if gs[inst].attrs["stable"]]
    if "picked_off" in parts:
        act = [r for r in grand if r in models[default].active]
        out["n_easy_by"] = {}
        for inst in insts:
            stay = models[inst].welfare_change(grand)
            out["n_easy_by"][inst] = int(sum(
                leaves_for_discount(models[inst], grand, r, s.easy_discount * float(bench.prices[r]), stay)
                for r in act))
        out["n_easy"] = out["n_easy_by"][default]
        out["n_act"] = len(act)
    if "interested" in parts:
        core_roster = tuple(r for r in models[default].regions if r in set(s.core))
        inter = [r for r in s.interested if r in models[default].active and r not in s.core]
        out["interested_gainers"] = {}
        for inst in insts:
            st = games[inst].stability(core_roster, fixed=s.core, tol=s.tol)
            out["interested_gainers"][inst] = [r for r in inter if st.loc[r, "gain_from_switch"] > s.tol]
        out["n_interested"] = len(inter)
    if "eu_leave" in parts:
        eu_leave = {inst: float(gs[inst].loc["EU", "gain_from_switch"]) if "EU" in gs[inst].index else 0.0
                    for inst in insts}
        shared = RosterGame(models["stockpile"], bill_shares=s.gdp_series).stability(grand, fixed=(), tol=s.tol)
        eu_leave[GDP_SHARED] = float(shared.loc["EU", "gain_from_switch"])
        out["eu_leave"] = eu_leave
    if "buying_power" in parts:
        nm = RosterModel(bench, NO_FLOOR, s.floor_level, supplier=s.supplier, baseline=models[default].baseline)
        p0 = import_price(nm.baseline, grand, weights=bench.flows)
        falls = [1 - import_price(nm.solve_roster(grand, external_tariff=t), grand, weights=bench.flows) / p0
                 for t in s.external_tariffs]
        falls.append(1 - import_price(models["preferential"].solve_roster(grand), grand, weights=bench.flows) / p0)
        out["bp_fall"] = float(max(falls))
    if "bill" in parts:
        sp = bill_split(RosterGame(models["stockpile"]), grand, method=s.shapley_method,
                        samples=s.shapley_samples, seed=s.seed)
        out["others_share"] = float(sp.drop(index=s.location)["share"].sum())
        active_sp = [r for r in grand if r in models["stockpile"].active]
        out["n_paying"] = int((sp.loc[active_sp, "contribution"] > s.tol).sum())
        out["n_active_sp"] = len(active_sp)
    return out


# ----------------------------------------------------------------------------- the verdicts
def _c02(n, facts, s):
    k = len(n["grand_stable"])
    return ("supported" if k == len(s.instruments) and facts.n_selfsuff == facts.n_minerals else
            "not supported" if k == 0 and facts.n_selfsuff == 0 else "supported with conditions")


def _c26(n, facts, s):
    gainers = n["interested_gainers"][s.default_instrument]
    return ("not supported" if not facts.thirty_in_source else
            "supported" if len(gainers) == n["n_interested"] else "supported with conditions")


def _c08(n, facts, s):
    majority = [i for i in s.instruments if n["n_easy_by"][i] > n["n_act"] / 2]
    return ("supported" if len(majority) == len(s.instruments) else
            "not supported" if not majority else "supported with conditions")


def _n_leave(n, s) -> int:
    return sum(g > s.tol for g in n["eu_leave"].values())


def _c05(n, facts, s):
    k = _n_leave(n, s)
    return "supported" if k == len(n["eu_leave"]) else "not supported" if k == 0 else "supported with conditions"


def _c06(n, facts, s):
    k = _n_leave(n, s)
    return ("supported" if n["eu_leave"][GDP_SHARED] > s.tol and k == len(n["eu_leave"]) else
            "not supported" if k == 0 else "supported with conditions")


def _c23(n, facts, s):
    return "supported with conditions" if n["bp_fall"] >= s.buying_power_min else "not supported"


def _c04(n, facts, s):
    return ("supported" if n["n_paying"] == n["n_active_sp"] else
            "not supported" if n["others_share"] <= 0 else "supported with conditions")


def _c07(n, facts, s):
    return ("supported" if facts.n_shared == facts.n_minerals else
            "not supported" if facts.n_shared == 0 else "supported with conditions")


#: claim -> (parts of :func:`membership_numbers` it reads, ``verdict(numbers, facts, setting)``).
#: C07 reads no part: base-year complementarity only.
MEMBERSHIP_VERDICTS = {
    "C02": (("stability",), _c02),
    "C26": (("interested",), _c26),
    "C07": ((), _c07),
    "C08": (("picked_off",), _c08),
    "C05": (("eu_leave",), _c05),
    "C06": (("eu_leave",), _c06),
    "C23": (("buying_power",), _c23),
    "C04": (("bill",), _c04),
}


def membership_verdict(claim: str, numbers: dict, facts: MembershipFacts, setting: MembershipSetting) -> str:
    """The verdict on ``claim`` from ``numbers`` (:func:`membership_numbers`) and ``facts``."""
    if claim not in MEMBERSHIP_VERDICTS:
        raise ModelInputError("claim", claim, f"one of {sorted(MEMBERSHIP_VERDICTS)}")
    return MEMBERSHIP_VERDICTS[claim][1](numbers, facts, setting)


def membership_verdicts(numbers: dict, facts: MembershipFacts, setting: MembershipSetting) -> dict:
    """``{claim: verdict}`` for every claim of :data:`MEMBERSHIP_VERDICTS` (all parts computed)."""
    return {c: membership_verdict(c, numbers, facts, setting) for c in MEMBERSHIP_VERDICTS}
