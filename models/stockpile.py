"""The $12 billion stockpile (MODEL.md §4, "Stockpile").

Three questions, one function family each. Quantities in kt, prices in USD/kg, money in USD
million (so a budget divided by a price is kt).

(a) **What a budget buys and how long it defends a floor.** :func:`purchasing_power` turns a
    budget into tonnes at the reference price and into months of the bloc's consumption.
    :func:`floor_defence` puts a buyer of last resort (:class:`~models.policies.StockpileFloor`)
    in the stockpile's location, buying at the floor ``f`` from the eligible origins, and reads
    the purchases ``K(f)`` the equilibrium needs to hold the floor for a year. The annual outlay is
    ``f·K(f)``; a budget ``B`` then lasts ``B / (f·K(f))`` years. Purchases are recomputed each year
    in the same steady state and **the inventory is never resold** (selling it would push the price
    back below the floor): the budget is spent, not revolved.

(b) **Insurance value.** :class:`InsuranceModel` is a two-stage stochastic programme, one convex
    cvxpy problem. First stage: inventory ``I_m ≥ 0`` of each mineral bought at its benchmark price
    in the stockpile's location. Second stage: in each disruption scenario ``ω`` (probability
    ``π_ω``; an export quota ``Q`` on the origin's shipments to the named destinations), the
    spatial equilibrium of each mineral with a release ``0 ≤ R_{mω} ≤ I_m`` entering as extra supply
    in the stockpile's location at zero marginal cost. See the class docstring for the equations.

(c) **Cost sharing.** :func:`cost_shares` splits a bill among members by GDP and by the value of
    their consumption of the modelled minerals. (The Shapley split belongs to the coalition model.)
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import cvxpy as cp
import numpy as np
import pandas as pd
import scipy.sparse as sp

from . import certificate
from .calibration import Benchmark
from .curves import total_area
from .equilibrium import policy_trade_costs
from .errors import InaccurateSolutionError, InfeasibleError, ModelInputError, SolverError, UnboundedError
from .market import check_regions
from .policies import ALL, StockpileFloor

#: The bloc's core members (``rosters.csv``: roster ``core``).
BLOC_CORE = ("USA", "EU", "JPN")
#: Eligible-origin rules of a stockpile floor.
ELIGIBILITY_RULES = ("all", "bloc", "ex_china")
#: The open budget that finds the purchases a floor needs is set so that the cap ``B / f`` is this
#: many times world production: it never binds, and stays small enough for the solver's scaling.
OPEN_CAP_MULTIPLE = 50.0
#: Inventories and releases worth less than this at the purchase price (USD million, i.e. $10,000)
#: are solver noise and read as zero (graphite's noise is ~1e-4 kt because its market is ~1,600 kt).
VALUE_NOISE = 1.0e-2


# ====================================================================== helpers
def _finite_nonneg(name: str, value, unit: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ModelInputError(name, value, f"a finite non-negative number ({unit})") from None
    if not np.isfinite(v) or v < 0:
        raise ModelInputError(name, value, f"a finite non-negative number ({unit})")
    return v


def _check_mineral(dataset, mineral: str) -> str:
    if mineral not in dataset.mineral_ids:
        raise ModelInputError("mineral", mineral, f"one of {list(dataset.mineral_ids)}")
    return mineral


def _minerals(dataset, minerals) -> list[str]:
    if minerals is None:
        return list(dataset.mineral_ids)
    if isinstance(minerals, str):
        minerals = [minerals]
    return [_check_mineral(dataset, m) for m in minerals]


# ====================================================================== (a) purchasing power
def purchasing_power(dataset, budget: float = 12_000.0, members: Sequence[str] = BLOC_CORE,
                     minerals: Sequence[str] | None = None, days: float = 60.0) -> pd.DataFrame:
    """What ``budget`` buys, mineral by mineral, if all of it went to that one mineral.

    ``tonnes = B / P_ref`` (kt, at the reference price of ``prices.csv``); months of the bloc's
    consumption ``= 12 · tonnes / Σ_{r∈bloc} D0_r``; the cost of ``days`` days of the bloc's
    consumption ``= P_ref · Σ D0_r · days / 365`` (USD million).

    Parameters
    ----------
    dataset : models.data.Dataset
    budget : float
        USD million (``12_000`` is $12 billion).
    members : sequence of str
        Region ids of the bloc whose consumption is the yardstick.
    minerals : sequence of str, optional
        Default: every mineral of the dataset.
    days : float
        The emergency-supply yardstick (Project Vault's stated aim is about 60 days).

    Returns
    -------
    pandas.DataFrame
        Index ``mineral``; columns ``reference_price`` (USD/kg), ``tonnes_kt``,
        ``bloc_consumption_kt`` and ``world_consumption_kt`` (kt/yr),
        ``months_of_bloc_consumption``, ``months_of_world_consumption``,
        ``cost_of_days_musd`` (USD million for ``days`` days of bloc consumption) and
        ``share_of_budget_for_days``.
    """
    budget = _finite_nonneg("budget", budget, "USD million")
    days = _finite_nonneg("days", days, "days")
    members = check_regions("members", members, dataset.region_ids)
    rows = {}
    for m in _minerals(dataset, minerals):
        price = dataset.price(m, "reference")
        cons = dataset.quantity(m, "consumption")
        bloc = float(cons.loc[list(members)].sum())
        world = float(cons.sum())
        tonnes = budget / price
        cost_days = price * bloc * days / 365.0
        rows[m] = {
            "reference_price": price, "tonnes_kt": tonnes, "bloc_consumption_kt": bloc,
            "world_consumption_kt": world,
            "months_of_bloc_consumption": 12.0 * tonnes / bloc if bloc > 0 else np.inf,
            "months_of_world_consumption": 12.0 * tonnes / world if world > 0 else np.inf,
            "cost_of_days_musd": cost_days,
            "share_of_budget_for_days": cost_days / budget if budget > 0 else np.inf,
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "mineral"
    return out


def eligible_origins(rule: str, regions: Sequence[str], members: Sequence[str] = BLOC_CORE,
                     excluded: str = "CHN"):
    """The origins a stockpile floor may buy from under ``rule``.

    ``"all"``: every region (:data:`~models.policies.ALL`); ``"bloc"``: the ``members`` only;
    ``"ex_china"``: every region but ``excluded``.
    """
    regions = tuple(regions)
    if rule == "all":
        return ALL
    if rule == "bloc":
        return check_regions("members", members, regions)
    if rule == "ex_china":
        check_regions("excluded", excluded, regions)
        return tuple(r for r in regions if r != excluded)
    raise ModelInputError("rule", rule, f"one of {ELIGIBILITY_RULES}")


def defence_years(budget: float, level: float, purchases: float) -> float:
    """Years a budget defends a floor: ``B / (f · K)`` (``inf`` when the floor needs no purchases).

    Parameters
    ----------
    budget : float
        USD million.
    level : float
        Floor ``f`` in USD/kg.
    purchases : float
        ``K``, kt per year.
    """
    budget = _finite_nonneg("budget", budget, "USD million")
    level = _finite_nonneg("level", level, "USD/kg")
    purchases = _finite_nonneg("purchases", purchases, "kt per year")
    outlay = level * purchases
    return budget / outlay if outlay > 0 else np.inf


def floor_defence(bench: Benchmark, levels: Sequence[float], budget: float = 12_000.0,
                  location: str = "USA", rules: Sequence[str] = ELIGIBILITY_RULES,
                  members: Sequence[str] = BLOC_CORE, excluded: str = "CHN",
                  purchase_tolerance: float = 1e-6) -> pd.DataFrame:
    """Annual cost of a stockpile floor at each level, and the years ``budget`` defends it.

    For each eligible-origin rule one :class:`~models.equilibrium.EquilibriumModel` is built with a
    :class:`~models.policies.StockpileFloor` at ``location`` and an open budget (the cap ``B/f``
    never binds), then re-solved at each level ``f``. The purchases ``K(f)`` (kt/yr) are what the
    equilibrium needs to hold the floor for one year; the annual outlay is ``f·K(f)`` and the budget
    lasts ``B / (f·K(f))`` years, with purchases recomputed each year (same steady state) and the
    inventory never resold.

    Parameters
    ----------
    bench : Benchmark
        A calibrated market (use long-run elasticities for a steady state).
    levels : sequence of float
        Floor levels in USD/kg.
    budget : float
        USD million.
    location : str
        Where the stockpile buys.
    rules : sequence of str
        Among :data:`ELIGIBILITY_RULES`.
    members, excluded :
        The bloc (for ``"bloc"``) and the region left out by ``"ex_china"``.

    Returns
    -------
    pandas.DataFrame
        One row per (rule, level): ``purchases_kt``, ``outlay_musd`` (per year),
        ``years_defended``, ``location_price`` (border price at the location, USD/kg),
        ``chn_supply_price`` (USD/kg), purchases from ``excluded`` (``purchases_from_excluded_kt``;
        not unique when several origins deliver at the same price, except that it is zero when
        ``excluded`` is not eligible; prices, totals and welfare are unique),
        and welfare changes against the benchmark in USD million per year, inventory valued at
        zero (it is never sold): ``d_world``, ``d_bloc``, ``d_excluded`` (the region left out by
        ``ex_china``, China by default), ``d_excluded_producers``, ``d_bloc_consumers``,
        ``d_bloc_producers``.
    """
    budget = _finite_nonneg("budget", budget, "USD million")
    levels = np.asarray(list(levels), dtype=float)
    if levels.size == 0 or not np.all(np.isfinite(levels)) or (levels <= 0).any():
        raise ModelInputError("levels", levels.tolist(), "a non-empty list of positive floor levels (USD/kg)")
    regions = bench.market.regions
    check_regions("location", location, regions)
    members = check_regions("members", members, regions)
    check_regions("excluded", excluded, regions)
    for rule in rules:
        if rule not in ELIGIBILITY_RULES:
            raise ModelInputError("rules", rule, f"among {ELIGIBILITY_RULES}")
    base = bench.solve()
    base_w = base.welfare
    open_budget = OPEN_CAP_MULTIPLE * float(bench.production.sum()) * float(levels.max())
    rows = []
    for rule in rules:
        origins = eligible_origins(rule, regions, members, excluded)
        floor = StockpileFloor(location, float(levels[0]), open_budget, origins)
        model = bench.model(bench.base_scenario.extend(name=f"stockpile floor, {rule}", floors=floor))
        for f in levels:
            res = model.solve(floor_level=float(f))
            k = float(res.stockpile["purchases"])
            if k < purchase_tolerance:
                k = 0.0
            if not res.stockpile["floor_holds"]:  # pragma: no cover - the open budget never binds
                raise SolverError("cap_binding", "the open budget bound the purchases; raise OPEN_CAP_MULTIPLE")
            outlay = float(f) * k
            dw = res.welfare - base_w
            net = dw["total"] - dw["stockpile_value"]
            rows.append({
                "rule": rule, "level": float(f), "purchases_kt": k, "outlay_musd": outlay,
                "years_defended": budget / outlay if outlay > 0 else np.inf,
                "location_price": float(res.regions.loc[location, "border_price"]),
                "chn_supply_price": float(res.regions.loc[excluded, "supply_price"]),
                "purchases_from_excluded_kt": float(res.stockpile_by_origin.loc[excluded]),
                "d_world": float(net.sum()),
                "d_bloc": float(net.loc[list(members)].sum()),
                "d_excluded": float(net.loc[excluded]),
                "d_excluded_producers": float(dw.loc[excluded, "producer_surplus"]),
                "d_bloc_consumers": float(dw.loc[list(members), "consumer_surplus"].sum()),
                "d_bloc_producers": float(dw.loc[list(members), "producer_surplus"].sum()),
            })
    return pd.DataFrame(rows)


# ====================================================================== (b) insurance value
@dataclass(frozen=True)
class Disruption:
    """A disruption scenario: ``origin`` cuts its exports to ``destinations`` by ``cut_share``.

    It enters each hit mineral's market as an export quota
    ``Σ_{j∈J} x_{origin,j} ≤ (1 − cut_share) · X0`` where ``X0`` is the origin's benchmark exports
    to ``J`` (``cut_share = 1`` is a ban). It lasts one year (the period of the curves).

    Parameters
    ----------
    name : str
    probability : float
        ``π_ω`` in (0, 1]: the probability that this scenario occurs in the stockpile's horizon.
    origin : str
    destinations : tuple of str or ``"ALL"``
    cut_share : float
        In [0, 1].
    minerals : tuple of str or ``"ALL"``
        The minerals it hits.
    source : str
        Where the scenario and its probability come from (a publication or ``assumption: …``).
    """

    name: str
    probability: float
    origin: str = "CHN"
    destinations: tuple[str, ...] | str = BLOC_CORE
    cut_share: float = 1.0
    minerals: tuple[str, ...] | str = ALL
    source: str = "assumption"

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ModelInputError("disruption.name", self.name, "a non-empty string")
        p = float(self.probability)
        if not np.isfinite(p) or p <= 0 or p > 1:
            raise ModelInputError(f"disruption[{self.name}].probability", self.probability,
                                  "a probability in (0, 1] (drop a scenario rather than give it 0)")
        object.__setattr__(self, "probability", p)
        c = float(self.cut_share)
        if not np.isfinite(c) or c < 0 or c > 1:
            raise ModelInputError(f"disruption[{self.name}].cut_share", self.cut_share, "a share in [0, 1]")
        object.__setattr__(self, "cut_share", c)
        for attr in ("destinations", "minerals"):
            value = getattr(self, attr)
            if value != ALL:
                value = (value,) if isinstance(value, str) else tuple(value)
                if not value:
                    raise ModelInputError(f"disruption[{self.name}].{attr}", value, f"a non-empty list or {ALL!r}")
                object.__setattr__(self, attr, value)

    def hits(self, mineral: str) -> bool:
        return self.minerals == ALL or mineral in self.minerals


#: The default disruption scenarios. Their probabilities are assumptions (no source gives one);
#: the chapter shows how the results move with them.
DEFAULT_DISRUPTIONS = (
    Disruption(
        "bloc_ban", 0.10, "CHN", BLOC_CORE, 1.0, ALL,
        "assumption: China turns its export licences (in force for all five minerals, "
        "export_controls.csv) into a one-year ban on shipments to the US, EU and Japan; precedents: "
        "the gallium ban on the US (Dec 2024, suspended Nov 2025) and the rare-earth ban on Japanese "
        "users (Jan 2026); annual probability 10% is a judgement"),
    Disruption(
        "world_cut", 0.05, "CHN", ALL, 0.5, ALL,
        "assumption: China halves its exports to every destination for a year (licences withheld, "
        "as in April-June 2025 for the seven licensed rare earths); annual probability 5% is a judgement"),
)


def disruptions_in_force(dataset, disruptions: Sequence[Disruption] = DEFAULT_DISRUPTIONS) -> pd.DataFrame:
    """Which controls of ``export_controls.csv`` are in force behind each scenario and mineral.

    Returns a DataFrame (scenario × mineral) of the measures in force (``"licence"``, ``"ban"``,
    joined with ``+``) of the scenario's origin on that mineral, ``""`` where none.
    """
    ec = dataset.export_controls
    table = {}
    for d in disruptions:
        col = {}
        for m in dataset.mineral_ids:
            rows = ec[(ec["origin"] == d.origin) & (ec["mineral"] == m) & (ec["status"] == "in_force")]
            col[m] = "+".join(sorted(set(rows["measure"]))) if d.hits(m) else ""
        table[d.name] = col
    return pd.DataFrame(table)


@dataclass
class _Block:
    """One (mineral, scenario) second-stage equilibrium inside the stacked programme."""

    mineral: str
    scenario: int
    D: cp.Variable
    S: cp.Variable
    x: cp.Variable
    R: cp.Variable
    demand_balance: cp.Constraint
    supply_balance: cp.Constraint
    quota: cp.Constraint | None
    quota_mask: np.ndarray | None
    quota_level: float
    welfare: cp.Expression


@dataclass
class InsuranceResult:
    """One solve of :class:`InsuranceModel` (and the same programme with no inventory).

    Attributes
    ----------
    inventory : pandas.Series
        ``I_m`` in kt, by mineral.
    inventory_cost : pandas.Series
        ``P0_m I_m`` in USD million, by mineral (what the budget pays).
    budget, probabilities : the parameter values solved at (USD million; Series by scenario).
    releases : pandas.DataFrame
        ``R_{mω}`` in kt, mineral × scenario (0 where the scenario does not hit the mineral).
    release_value : pandas.DataFrame
        Marginal value of a unit released at the location, ``max_j (p_j − t_{Lj})``, USD/kg, with the
        optimal inventory; ``release_value_without`` the same with no inventory.
    prices : pandas.DataFrame
        Border prices ``p_{rmω}`` (USD/kg), long format: mineral, scenario, region, ``with`` (optimal
        inventory), ``without`` (no inventory), ``benchmark``; also ``demand_with``,
        ``demand_without``, ``demand_benchmark`` in kt.
    bloc : pandas.DataFrame
        Per mineral and scenario: the bloc's consumption-weighted price with and without the
        stockpile and in the benchmark, the spike reduction ``1 − (p_with − P0)/(p_without − P0)``,
        and the bloc's consumption shortfall (share of benchmark consumption) with and without.
    welfare_change : pandas.DataFrame
        Expected welfare change by region (rows) against no inventory, USD million: ``market``
        (consumer and producer surplus, tax revenue and licence rents, summed over scenarios with
        their probabilities) and ``stockpile`` (the agency at the location: purchase and carrying
        cost, expected release revenue and residual value), ``total``.
    value : float
        Expected world welfare with the optimal inventory minus with none (USD million): the
        expected value of the stockpile.
    objective, objective_without : the programme's optimal values (USD million).
    identity_residual : float
        ``Σ_r ΔE[W_r] − (Δobjective + Σ_ω π_ω Δ(τ·x)_ω)``: zero up to solver tolerance.
    solve_time : float (seconds, both solves).
    """

    inventory: pd.Series
    inventory_cost: pd.Series
    budget: float
    probabilities: pd.Series
    releases: pd.DataFrame
    release_value: pd.DataFrame
    release_value_without: pd.DataFrame
    prices: pd.DataFrame
    bloc: pd.DataFrame
    welfare_change: pd.DataFrame
    value: float
    objective: float
    objective_without: float
    identity_residual: float
    solve_time: float
    purchase_price: pd.Series = field(default_factory=pd.Series)
    residual_value: pd.Series = field(default_factory=pd.Series)
    carrying_cost: float = 0.0

    @property
    def budget_used(self) -> float:
        """Share of the budget the optimal inventory spends."""
        return float(self.inventory_cost.sum() / self.budget) if self.budget > 0 else 0.0

    def break_even_probability(self, scenario: str) -> pd.Series:
        """Probability of ``scenario`` (others at their values) above which the first kt of each
        mineral's inventory pays, from the no-inventory release values::

            π*_ω = ((1 + c) P0 − v − Σ_{ω'≠ω} π_ω' (rv_ω'(0) − v)^+) / (rv_ω(0) − v)

        ``inf`` where the scenario does not raise the release value above ``v``.
        """
        if scenario not in self.probabilities.index:
            raise ModelInputError("scenario", scenario, f"one of {list(self.probabilities.index)}")
        rv = self.release_value_without
        out = {}
        for m in rv.index:
            v, p0 = self.residual_value[m], self.purchase_price[m]
            gain = (rv.loc[m] - v).clip(lower=0.0)
            others = float((self.probabilities.drop(scenario) * gain.drop(scenario)).sum())
            need = (1 + self.carrying_cost) * p0 - v - others
            out[m] = max(0.0, need / gain[scenario]) if gain[scenario] > 1e-5 * p0 else np.inf
        return pd.Series(out, name=f"break_even_probability[{scenario}]")


class InsuranceModel:
    r"""The insurance value of a stockpile: a two-stage stochastic programme, one convex problem.

    Notation as in the book: minerals ``m``, regions ``r``, scenarios ``ω`` with probability
    ``π_ω`` (``Σ_ω π_ω ≤ 1``; the rest is "no disruption"), stockpile location ``L``. First stage:
    inventory ``I_m ≥ 0`` bought at the benchmark price ``P0_m`` in ``L``. Second stage, in each
    scenario and for each mineral the scenario hits, the spatial equilibrium with a release
    ``R_{mω}``::

        maximise   Σ_ω π_ω Σ_m [ W_{mω} + v_m (I_m − R_{mω}) ] + (1 − Σ_ω π_ω) Σ_m v_m I_m
                   − Σ_m (1 + c) P0_m I_m
        W_{mω} =   Σ_r A^d_{rm}(D_{rmω}) − Σ_r A^s_{rm}(S_{rmω}) − Σ_ij (t_ijm + τ_ijm) x_{ijmω}
        subject to D_{jmω} ≤ Σ_i x_{ijmω}                        (π_ω p_{jmω})
                   Σ_j x_{ijmω} ≤ S_{imω} + 1[i = L] R_{mω}         (π_ω w_{imω})
                   Σ_{j∈J_ω} x_{o_ω j mω} ≤ (1 − s_ω) X0_{o_ω J_ω m}  (π_ω ρ_{mω}: licence rent)
                   0 ≤ R_{mω} ≤ I_m
                   Σ_m P0_m I_m ≤ B
                   D, S, x, I ≥ 0

    ``A`` are the areas under the calibrated curves, ``t`` transport, ``τ`` the base policy wedges
    (China's export wedge), ``X0`` the benchmark exports, ``v_m`` the residual value of inventory
    not released (default ``P0_m``: it can be carried into the next year or sold later at the
    benchmark price), ``c`` the carrying cost as a share of ``P0`` (financing and storage for the
    year). The second-stage objective is the one whose maximum is the competitive equilibrium, so
    the release rule is the market's: release while the price a unit fetches exceeds ``v``; the
    first stage is a risk-neutral stockholder's choice: at an interior optimum
    ``(1 + c) P0 = Σ_ω π_ω max(rv_ω, v) + (1 − Σπ) v``.

    Simplification: the first-stage purchase does not move the benchmark price (it is spread over
    the years before a disruption); with the budget binding, the stockholder is rationed by ``B``.
    In a scenario that does not hit a mineral its market stays at the benchmark, and in the
    no-disruption state nothing is released.

    Budget and probabilities are ``cp.Parameter``\ s: :meth:`solve` re-solves the built problem.

    Parameters
    ----------
    benchmarks : mapping mineral -> Benchmark
        Calibrated markets on the same regions (short-run elasticities for a one-year disruption).
    disruptions : sequence of Disruption
    budget : float
        ``B``, USD million.
    location : str
        ``L``.
    members : sequence of str
        The bloc whose prices and welfare are reported.
    carrying_cost : float
        ``c``, share of ``P0`` per year.
    residual_value : float
        ``v_m / P0_m``, in [0, 1 + c].
    solver : str
    """

    def __init__(self, benchmarks: Mapping[str, Benchmark], disruptions: Sequence[Disruption] = DEFAULT_DISRUPTIONS,
                 budget: float = 12_000.0, location: str = "USA", members: Sequence[str] = BLOC_CORE,
                 carrying_cost: float = 0.05, residual_value: float = 1.0, solver: str = "CLARABEL"):
        if not isinstance(benchmarks, Mapping) or not benchmarks:
            raise ModelInputError("benchmarks", type(benchmarks).__name__, "a non-empty mapping mineral -> Benchmark")
        for m, b in benchmarks.items():
            if not isinstance(b, Benchmark):
                raise ModelInputError(f"benchmarks[{m}]", type(b).__name__, "a models.Benchmark")
            if b.market.mineral != m:
                raise ModelInputError(f"benchmarks[{m}]", b.market.mineral, f"the benchmark of {m!r}")
        self.benchmarks = dict(benchmarks)
        self.minerals = list(self.benchmarks)
        first = self.benchmarks[self.minerals[0]]
        self.regions = tuple(first.market.regions)
        for m, b in self.benchmarks.items():
            if tuple(b.market.regions) != self.regions:
                raise ModelInputError(f"benchmarks[{m}].regions", b.market.regions, f"the regions {self.regions}")
        self.location = check_regions("location", location, self.regions)[0]
        self.members = check_regions("members", members, self.regions)
        self.disruptions = tuple(disruptions)
        if not self.disruptions:
            raise ModelInputError("disruptions", self.disruptions, "at least one Disruption")
        names = [d.name for d in self.disruptions]
        if len(set(names)) != len(names):
            raise ModelInputError("disruptions (names)", names, "distinct names")
        for d in self.disruptions:
            if not isinstance(d, Disruption):
                raise ModelInputError("disruptions", d, "instances of Disruption")
            check_regions(f"disruption[{d.name}].origin", d.origin, self.regions)
            if d.destinations != ALL:
                check_regions(f"disruption[{d.name}].destinations", d.destinations, self.regions)
            if d.minerals != ALL:
                unknown = [m for m in d.minerals if m not in self.benchmarks]
                if unknown:
                    raise ModelInputError(f"disruption[{d.name}].minerals", unknown, f"minerals among {self.minerals}")
        self._check_probabilities(np.array([d.probability for d in self.disruptions]))
        self.carrying_cost = _finite_nonneg("carrying_cost", carrying_cost, "a share of P0 per year")
        rv = _finite_nonneg("residual_value", residual_value, "a share of P0")
        if rv > 1 + self.carrying_cost:
            raise ModelInputError("residual_value", residual_value,
                                  "at most 1 + carrying_cost (else buying to hold is a money machine)")
        self.residual_share = rv
        self.solver = str(solver).upper()
        if self.solver not in cp.installed_solvers():
            raise ModelInputError("solver", solver, f"an installed solver among {cp.installed_solvers()}")
        self.default_budget = _finite_nonneg("budget", budget, "USD million")
        loc = self.regions.index(self.location)
        self.P0 = pd.Series({m: float(b.prices.iloc[loc]) for m, b in self.benchmarks.items()}, name="P0")
        self.v = self.P0 * self.residual_share
        self._build()

    # ------------------------------------------------------------------ validation
    def _check_probabilities(self, p: np.ndarray) -> np.ndarray:
        p = np.asarray(p, dtype=float)
        if p.shape != (len(self.disruptions),):
            raise ModelInputError("probabilities", p.tolist(), f"{len(self.disruptions)} values, one per scenario")
        for d, value in zip(self.disruptions, p):
            if not np.isfinite(value) or value <= 0 or value > 1:
                raise ModelInputError(f"probabilities[{d.name}]", float(value), "a probability in (0, 1]")
        if p.sum() > 1 + 1e-12:
            raise ModelInputError("sum of probabilities", float(p.sum()), "at most 1")
        return p

    def _probabilities(self, probabilities) -> np.ndarray:
        if probabilities is None:
            return np.array([d.probability for d in self.disruptions])
        if isinstance(probabilities, Mapping):
            unknown = [k for k in probabilities if k not in [d.name for d in self.disruptions]]
            if unknown:
                raise ModelInputError("probabilities", unknown, f"scenario names among {[d.name for d in self.disruptions]}")
            current = (np.array([d.probability for d in self.disruptions]) if self.pi.value is None
                       else np.asarray(self.pi.value, dtype=float))
            p = np.array([float(probabilities.get(d.name, current[k])) for k, d in enumerate(self.disruptions)])
        else:
            p = np.asarray(probabilities, dtype=float)
        return self._check_probabilities(p)

    # ------------------------------------------------------------------ build
    def _build(self) -> None:
        n, loc = len(self.regions), self.regions.index(self.location)
        nm, ns = len(self.minerals), len(self.disruptions)
        self.I = cp.Variable(nm, nonneg=True, name="I")
        self.budget = cp.Parameter(nonneg=True, name="budget")
        self.pi = cp.Parameter(ns, nonneg=True, name="pi")
        p0, v = self.P0.to_numpy(), self.v.to_numpy()
        self.blocks: list[_Block] = []
        self.trade_cost, self.policy_matrix, self.base_exports, self._dreg = {}, {}, {}, {}
        objective = (1 - cp.sum(self.pi)) * (v @ self.I) - (1 + self.carrying_cost) * (p0 @ self.I)
        cons = [p0 @ self.I <= self.budget]
        for k, m in enumerate(self.minerals):
            bench = self.benchmarks[m]
            market, sc = bench.market, bench.base_scenario
            if sc.quotas or sc.floors or sc.subsidies:
                raise ModelInputError(f"benchmarks[{m}].base_scenario", sc.name,
                                      "a base scenario of tariffs and export taxes only")
            imp, exp = policy_trade_costs(market, sc, bench.prices)
            t = market.transport_cost.to_numpy()
            self.trade_cost[m], self.policy_matrix[m] = t + imp + exp, (imp, exp)
            flows = bench.flows.to_numpy().copy()
            np.fill_diagonal(flows, 0.0)
            self.base_exports[m] = flows
            dreg = [r for r in self.regions if market.demand_curve(r) is not None]
            sreg = [r for r in self.regions if market.supply_curve(r) is not None]
            idx = {r: i for i, r in enumerate(self.regions)}
            Md = sp.csr_matrix((np.ones(len(dreg)), ([idx[r] for r in dreg], range(len(dreg)))), shape=(n, len(dreg)))
            Ms = sp.csr_matrix((np.ones(len(sreg)), ([idx[r] for r in sreg], range(len(sreg)))), shape=(n, len(sreg)))
            eL = np.zeros(n)
            eL[loc] = 1.0
            for w, d in enumerate(self.disruptions):
                if not d.hits(m):
                    continue
                D = cp.Variable(len(dreg), nonneg=True, name=f"D[{m},{d.name}]")
                S = cp.Variable(len(sreg), nonneg=True, name=f"S[{m},{d.name}]")
                x = cp.Variable((n, n), nonneg=True, name=f"x[{m},{d.name}]")
                R = cp.Variable(nonneg=True, name=f"R[{m},{d.name}]")
                welfare = (total_area(D, [market.demand_curve(r) for r in dreg])
                           - total_area(S, [market.supply_curve(r) for r in sreg])
                           - cp.sum(cp.multiply(self.trade_cost[m], x)))
                db = Md @ D <= cp.sum(x, axis=0)
                sb = cp.sum(x, axis=1) <= Ms @ S + eL * R
                o = idx[d.origin]
                dests = [j for j in (range(n) if d.destinations == ALL else [idx[r] for r in d.destinations]) if j != o]
                mask = np.zeros((n, n))
                mask[o, dests] = 1.0
                level = (1.0 - d.cut_share) * float((mask * flows).sum())
                quota = cp.sum(cp.multiply(mask, x)) <= level
                cons += [db, sb, quota, R <= self.I[k]]
                objective += self.pi[w] * (welfare + v[k] * (self.I[k] - R))
                self.blocks.append(_Block(m, w, D, S, x, R, db, sb, quota, mask, level, welfare))
            self._dreg[m] = (dreg, sreg)
        self.objective = objective
        self.problem = cp.Problem(cp.Maximize(objective), cons)
        if not self.problem.is_dcp(dpp=True):  # pragma: no cover - a construction error
            raise ModelInputError("problem", "not DPP", "a disciplined parametrised convex programme")

    # ------------------------------------------------------------------ solve
    def _solve_once(self) -> float:
        try:
            self.problem.solve(solver=self.solver)
        except cp.error.SolverError as exc:
            raise SolverError("solver_error", f"the solver failed ({exc}); try solver='SCS'", self.solver) from exc
        status = self.problem.status
        if status == cp.OPTIMAL:
            return float(self.problem.value)
        kind = {cp.INFEASIBLE: InfeasibleError, cp.INFEASIBLE_INACCURATE: InfeasibleError,
                cp.UNBOUNDED: UnboundedError, cp.UNBOUNDED_INACCURATE: UnboundedError,
                cp.OPTIMAL_INACCURATE: InaccurateSolutionError}.get(status, SolverError)
        raise kind(str(status), "check budget, probabilities and the benchmarks' curves", self.solver)

    def _read(self, pi: np.ndarray) -> dict:
        """Primal values, prices (duals / π) and per-region accounting of the current solution."""
        n, loc = len(self.regions), self.regions.index(self.location)
        I = np.asarray(self.I.value, dtype=float)
        p0 = self.P0.to_numpy()
        out = {"I": np.where(I * p0 > VALUE_NOISE, I, 0.0), "blocks": {}}
        for b in self.blocks:
            market = self.benchmarks[b.mineral].market
            dreg, sreg = self._dreg[b.mineral]
            idx = {r: i for i, r in enumerate(self.regions)}
            prob = pi[b.scenario]
            D = np.zeros(n)
            S = np.zeros(n)
            D[[idx[r] for r in dreg]] = b.D.value
            S[[idx[r] for r in sreg]] = b.S.value
            x = np.maximum(np.asarray(b.x.value, dtype=float), 0.0)
            p = np.asarray(b.demand_balance.dual_value, dtype=float) / prob
            w = np.asarray(b.supply_balance.dual_value, dtype=float) / prob
            rho = float(b.quota.dual_value) / prob
            cost = self.trade_cost[b.mineral]
            for r in self.regions:       # indeterminate duals: the tightest no-arbitrage value
                if r not in dreg:
                    p[idx[r]] = float(np.min(w + cost[:, idx[r]]))
            for r in self.regions:
                if r not in sreg and r != self.location:
                    w[idx[r]] = float(np.max(p - cost[idx[r], :]))
            release_value = float(np.max(p - cost[loc, :]))
            if certificate.ENABLED:
                # each scenario's second stage is a spatial equilibrium: certify it as one
                release = np.zeros(n)
                release[loc] = max(float(b.R.value), 0.0)
                checks = certificate.market_checks(market, cost, D, S, x, p, w, release, rho * b.quota_mask,
                                                   prefix=f"{b.mineral}/{self.disruptions[b.scenario].name}: ")
                checks.append(certificate.Complementarity(
                    f"{b.mineral}/{self.disruptions[b.scenario].name}: quota",
                    np.array([b.quota_level - float((b.quota_mask * x).sum())]), np.array([rho]),
                    (self.disruptions[b.scenario].origin,)))
                p_scale = max(1.0, float(np.max(np.abs(np.concatenate([p, w])))))
                q_scale = max(1.0, float(np.max(np.concatenate([D, S, x.ravel()]))))
                certificate.evaluate(checks, p_scale, q_scale, certificate.TOLERANCE[market.curve_family],
                                     self.solver)
            ad = np.array([float(market.demand_curve(r).area(D[i])) if market.demand_curve(r) else 0.0
                           for i, r in enumerate(self.regions)])
            as_ = np.array([float(market.supply_curve(r).area(S[i])) if market.supply_curve(r) else 0.0
                            for i, r in enumerate(self.regions)])
            imp, exp = self.policy_matrix[b.mineral]
            cs = ad - p * D
            ps = w * S - as_
            tax = (imp * x).sum(axis=0) + (exp * x).sum(axis=1)
            rent = np.zeros(n)
            rent[idx[self.disruptions[b.scenario].origin]] = rho * float((b.quota_mask * x).sum())
            out["blocks"][(b.mineral, b.scenario)] = {
                "D": D, "S": S, "x": x,
                "R": float(b.R.value) if float(b.R.value) * float(self.P0[b.mineral]) > VALUE_NOISE else 0.0, "p": p, "w": w,
                "release_value": release_value, "market": cs + ps + tax + rent,
                "tax_total": float((imp * x).sum() + (exp * x).sum()),
            }
        return out

    def solve(self, budget: float | None = None, probabilities=None) -> InsuranceResult:
        """Solve at ``budget`` (USD million) and ``probabilities`` (array in scenario order or a
        mapping name -> probability), and again with no inventory (``B = 0``) for the comparison.

        Values persist on the model until changed. Raises a :class:`~models.errors.SolverError`
        subclass unless both solves are optimal.
        """
        start = time.perf_counter()
        budget = self.default_budget if budget is None else _finite_nonneg("budget", budget, "USD million")
        pi = self._probabilities(probabilities) if (probabilities is not None or self.pi.value is None) \
            else np.asarray(self.pi.value, dtype=float)
        self.pi.value = pi
        self.budget.value = 0.0
        obj0 = self._solve_once()
        without = self._read(pi)
        self.budget.value = budget
        obj1 = self._solve_once()
        withs = self._read(pi)
        return self._result(budget, pi, withs, without, obj1, obj0, time.perf_counter() - start)

    def _result(self, budget, pi, withs, without, obj1, obj0, elapsed) -> InsuranceResult:
        names = [d.name for d in self.disruptions]
        regions, loc = list(self.regions), self.regions.index(self.location)
        I = pd.Series(withs["I"], index=pd.Index(self.minerals, name="mineral"), name="inventory_kt")
        cost = (self.P0 * I).rename("inventory_cost_musd")
        rel = pd.DataFrame(0.0, index=I.index, columns=pd.Index(names, name="scenario"))
        rv1 = pd.DataFrame(np.nan, index=I.index, columns=rel.columns)
        rv0 = rv1.copy()
        market = np.zeros(len(regions))
        tax_diff = 0.0
        price_rows, bloc_rows = [], []
        midx = [regions.index(r) for r in self.members]
        for (m, w), blk in withs["blocks"].items():
            b0 = without["blocks"][(m, w)]
            name = names[w]
            rel.loc[m, name] = blk["R"]
            rv1.loc[m, name] = blk["release_value"]
            rv0.loc[m, name] = b0["release_value"]
            market += pi[w] * (blk["market"] - b0["market"])
            tax_diff += pi[w] * (blk["tax_total"] - b0["tax_total"])
            bench = self.benchmarks[m]
            P0 = bench.prices.to_numpy()
            D0 = bench.consumption.to_numpy()
            for i, r in enumerate(regions):
                price_rows.append({"mineral": m, "scenario": name, "region": r, "with": blk["p"][i],
                                   "without": b0["p"][i], "benchmark": P0[i], "demand_with": blk["D"][i],
                                   "demand_without": b0["D"][i], "demand_benchmark": D0[i]})
            wts = D0[midx]
            tot = wts.sum()
            if tot > 0:
                pw, pwo, pb = (float(wts @ blk["p"][midx] / tot), float(wts @ b0["p"][midx] / tot),
                               float(wts @ P0[midx] / tot))
                spike_wo = pwo - pb
                bloc_rows.append({
                    "mineral": m, "scenario": name, "price_benchmark": pb, "price_without": pwo,
                    "price_with": pw,
                    "spike_reduction": (1 - (pw - pb) / spike_wo) if spike_wo > 1e-6 * max(pb, 1e-9) else np.nan,
                    "shortfall_without": 1 - float(b0["D"][midx].sum()) / tot,
                    "shortfall_with": 1 - float(blk["D"][midx].sum()) / tot,
                    "release_kt": blk["R"], "bloc_consumption_kt": float(tot)})
        # the stockpile agency at the location: expected net revenue, with minus without
        agency = -(1 + self.carrying_cost) * float(self.P0 @ I)
        hit = {m: [w for (mm, w) in withs["blocks"] if mm == m] for m in self.minerals}
        for k, m in enumerate(self.minerals):
            v, i_m = float(self.v[m]), float(I[m])
            p_hit = float(sum(pi[w] for w in hit[m]))
            agency += (1 - p_hit) * v * i_m       # no disruption, or a scenario that misses m
            for w in hit[m]:
                blk = withs["blocks"][(m, w)]
                agency += pi[w] * (blk["w"][loc] * blk["R"] + v * (i_m - blk["R"]))
        stock = np.zeros(len(regions))
        stock[loc] = agency
        welfare = pd.DataFrame({"market": market, "stockpile": stock},
                               index=pd.Index(regions, name="region"))
        welfare["total"] = welfare["market"] + welfare["stockpile"]
        value = float(welfare["total"].sum())
        residual = value - ((obj1 - obj0) + tax_diff)
        bloc = pd.DataFrame(bloc_rows)
        if not bloc.empty:
            bloc = bloc.set_index(["mineral", "scenario"])
        return InsuranceResult(
            inventory=I, inventory_cost=cost, budget=float(budget),
            probabilities=pd.Series(pi, index=pd.Index(names, name="scenario"), name="probability"),
            releases=rel, release_value=rv1, release_value_without=rv0,
            prices=pd.DataFrame(price_rows), bloc=bloc, welfare_change=welfare, value=value,
            objective=obj1, objective_without=obj0, identity_residual=float(residual),
            solve_time=elapsed, purchase_price=self.P0.copy(), residual_value=self.v.copy(),
            carrying_cost=self.carrying_cost)

    def sweep(self, name: str, values, scenario: str | None = None) -> pd.DataFrame:
        """Re-solve for each value of ``"budget"`` (USD million) or ``"probability"`` (of
        ``scenario``, others fixed) and return one row per value: inventory by mineral (kt),
        inventory cost (USD million), expected value of the stockpile and the bloc's expected
        welfare change (USD million)."""
        if name not in ("budget", "probability"):
            raise ModelInputError("sweep parameter", name, "'budget' or 'probability'")
        names = [d.name for d in self.disruptions]
        if name == "probability" and scenario not in names:
            raise ModelInputError("scenario", scenario, f"one of {names}")
        saved_b, saved_p = float(self.budget.value), np.array(self.pi.value, dtype=float)
        rows = []
        try:
            for val in values:
                if name == "budget":
                    res = self.solve(budget=val, probabilities=saved_p)
                else:
                    res = self.solve(budget=saved_b, probabilities={scenario: float(val)})
                row = {name: float(val), "value": res.value,
                       "bloc_welfare": float(res.welfare_change.loc[list(self.members), "total"].sum()),
                       "inventory_cost": float(res.inventory_cost.sum())}
                row.update({f"I[{m}]": float(res.inventory[m]) for m in self.minerals})
                rows.append(row)
        finally:
            self.budget.value, self.pi.value = saved_b, saved_p
        return pd.DataFrame(rows)


# ====================================================================== (c) cost sharing
def cost_shares(dataset, members: Sequence[str] = BLOC_CORE, bill: float = 12_000.0,
                minerals: Sequence[str] | None = None) -> pd.DataFrame:
    """How ``bill`` (USD million) would split among ``members`` by GDP and by consumption.

    GDP from ``gdp.csv`` (USD billion, 2024); consumption as its value at reference prices,
    ``Σ_m P_ref_m · D0_{rm}`` (USD million per year) over ``minerals`` (default all).

    Returns
    -------
    pandas.DataFrame
        Index member; ``gdp_usd_bn``, ``gdp_share``, ``gdp_bill``, ``consumption_value_musd``,
        ``consumption_share``, ``consumption_bill`` (bills in USD million).
    """
    bill = _finite_nonneg("bill", bill, "USD million")
    members = check_regions("members", members, dataset.region_ids)
    if len(set(members)) != len(members):
        raise ModelInputError("members", members, "distinct region ids")
    gdp = dataset.gdp.set_index("region")["gdp_usd_bn"].astype(float).reindex(list(members))
    value = pd.Series(0.0, index=list(members))
    for m in _minerals(dataset, minerals):
        value += dataset.price(m, "reference") * dataset.quantity(m, "consumption").reindex(list(members))
    out = pd.DataFrame({"gdp_usd_bn": gdp, "gdp_share": gdp / gdp.sum()})
    out["gdp_bill"] = out["gdp_share"] * bill
    out["consumption_value_musd"] = value
    out["consumption_share"] = value / value.sum() if value.sum() > 0 else np.nan
    out["consumption_bill"] = out["consumption_share"] * bill
    out.index.name = "member"
    return out
