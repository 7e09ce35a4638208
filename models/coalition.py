"""Bloc membership: who gains by joining, which rosters are stable, how complementary the members
are, and how a shared bill would split (MODEL.md §4, "Bloc membership").

A *roster* ``S`` is a set of member regions. It defines a :class:`~models.policies.Bloc` (no
tariffs between members, a common external tariff ``τ^ext`` on imports from non-members) and the
coverage of the bloc's price floor ``f``:

=============  ==============================================================================
instrument     coverage of the floor
=============  ==============================================================================
``levy``       ``D_j ≤ D_j(f)``, ``S_j ≥ S_j(f)`` for members ``j`` (the "adjustable tariffs")
``cfd``        ``S_i ≥ S_i(f)`` for members' producers ``i`` (contract for difference)
``stockpile``  a buyer of last resort at ``f`` located in ``location`` (the United States),
               budget ``B``, buying from members only (``eligible="members"``) or from anyone
=============  ==============================================================================

Welfare of region ``i`` under roster ``S`` is its total welfare (consumer and producer surplus,
government, rents, stockpile value; :mod:`models.result`), summed over the minerals of a game,
as a change against the replicated benchmark::

    ΔW_i(S) = Σ_m [ W_i^m(S) − W_i^m(benchmark) ]                         (USD million / yr)

Stability of ``S`` (d'Aspremont et al. 1983; Carraro & Siniscalco 1993)::

    internal:  ΔW_i(S) ≥ ΔW_i(S ∖ {i})   for every member i not in ``fixed``
    external:  ΔW_j(S) ≥ ΔW_j(S ∪ {j})   for every outsider j

**Build once, re-solve by parameters.** :class:`RosterModel` builds one
:class:`~models.equilibrium.EquilibriumModel` per (mineral, instrument) whose floor covers every
region with a curve and whose stockpile may buy from every region. A roster enters only as
parameter values: the tariff matrix ``τ`` (``policy_trade_costs`` of the roster's bloc), the
floor bounds (a non-member's demand cap is set to ``10 ×`` world consumption, which never binds,
and its supply minimum to 0), and an upper bound on each origin's sales to the stockpile (0 for
non-members when ``eligible="members"``). Two constraints are appended to the built problem: that
bound, and an optional export ban of the ``supplier`` (China) on a set of destinations, used to
model a supplier's response to the bloc. ``EquilibriumModel.solve`` resets every floor bound
from the scenario, so the roster path calls the model's ``_solve_raw`` and ``_raw`` directly.

**Inert regions.** A region with neither a demand nor a supply curve in a mineral (e.g. Brazil in
NdPr oxide) has no flows, so its membership cannot change that mineral's equilibrium. Results are
cached by ``S ∩ active``; the enumeration is exact, not approximate (tested).

Cost sharing uses the Shapley value (Shapley 1953) of the game ``v(S)`` = the members' joint
welfare gain from forming bloc ``S``, the stockpile (if any) owned by the bloc::

    φ_i = Σ_{S ⊆ N∖{i}} |S|! (n − |S| − 1)! / n! · [v(S ∪ {i}) − v(S)]

exact by enumeration of the ``2^n`` coalitions up to :data:`EXACT_LIMIT` players, above that by
Monte Carlo over random orderings (seeded) with a standard error.
"""
from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

import cvxpy as cp
import numpy as np
import pandas as pd

from .calibration import Benchmark
from .equilibrium import EquilibriumModel, policy_trade_costs
from .errors import ModelInputError
from .policies import ALL, Bloc, CfdFloor, LevyFloor, Scenario, StockpileFloor
from .result import EquilibriumResult

#: The bloc's founders: the US–EU–Japan partnership of 4 Feb 2026 (``data/rosters.csv``: core).
CORE = ("USA", "EU", "JPN")
INSTRUMENTS = ("levy", "cfd", "stockpile")
#: Also accepted by :class:`RosterModel`: ``"none"``, the bloc's tariffs alone (no floor).
NO_FLOOR = "none"
#: Largest number of players for which the Shapley value is computed exactly (2^20 coalitions).
EXACT_LIMIT = 20
#: Welfare differences below this (USD million per year) count as zero in stability tests.
WELFARE_TOL = 1e-3


# ---------------------------------------------------------------------------- rosters
def check_roster(members, regions: Sequence[str], core: Sequence[str] = CORE,
                 require_core: bool = False, field: str = "members") -> tuple[str, ...]:
    """Validate a roster and return it in model region order.

    Raises :class:`ModelInputError` naming ``field`` for an empty roster, an unknown region, a
    duplicate, or (``require_core=True``) a roster without every region of ``core``.
    """
    if isinstance(members, str):
        members = (members,)
    try:
        members = tuple(members)
    except TypeError:
        raise ModelInputError(field, members, "a list of region ids") from None
    if not members:
        raise ModelInputError(field, members, "a non-empty list of region ids")
    unknown = [m for m in members if m not in regions]
    if unknown:
        raise ModelInputError(field, unknown[0] if len(unknown) == 1 else unknown,
                              f"region ids among {list(regions)}")
    if len(set(members)) != len(members):
        raise ModelInputError(field, members, "distinct region ids")
    if require_core:
        missing = [c for c in core if c not in members]
        if missing:
            raise ModelInputError(field, members, f"a roster containing the core {list(core)} "
                                  f"(missing {missing})")
    return tuple(r for r in regions if r in members)


def rosters_containing(core: Sequence[str], candidates: Sequence[str]) -> list[tuple[str, ...]]:
    """Every roster ``core ∪ T`` for ``T ⊆ candidates`` (``2^len(candidates)`` rosters)."""
    core, candidates = tuple(core), [c for c in candidates if c not in core]
    out = []
    for k in range(len(candidates) + 1):
        for extra in itertools.combinations(candidates, k):
            out.append(core + extra)
    return out


# ---------------------------------------------------------------------------- one mineral
class RosterModel:
    """One mineral's equilibrium under a bloc whose roster is a parameter.

    Parameters
    ----------
    bench : Benchmark
        The calibrated market (``benchmark_from_dataset``); its base policies stay in force.
    instrument : {"levy", "cfd", "stockpile", "none"}
        How the bloc holds its floor (``"none"``: the bloc's tariffs only).
    level : float
        Floor ``f`` (USD/kg); can be changed per solve.
    external_tariff : float
        The bloc's common external tariff ``τ^ext`` (USD/kg) on imports from non-members.
    budget : float
        Stockpile budget ``B`` (USD million per year); the stockpile buys at most ``B / f`` kt.
    location : str
        Where the stockpile sits (and, in the model's accounts, who pays for it).
    eligible : {"members", "all"}
        Who may sell to the stockpile.
    supplier : str
        The region whose exports may be banned or discounted in a solve (China).
    solver : str
        cvxpy solver (default Clarabel).

    Examples
    --------
    >>> rm = RosterModel(bench, "levy", 110.0)                       # doctest: +SKIP
    >>> res = rm.solve_roster(("USA", "EU", "JPN"))                  # doctest: +SKIP
    >>> dw = rm.welfare_change(("USA", "EU", "JPN", "KOR"), level=90)  # doctest: +SKIP
    """

    def __init__(self, bench: Benchmark, instrument: str = "levy", level: float = 100.0, *,
                 external_tariff: float = 0.0, budget: float = 12_000.0, location: str = "USA",
                 eligible: str = "members", supplier: str = "CHN", solver: str = "CLARABEL"):
        if not isinstance(bench, Benchmark):
            raise ModelInputError("bench", type(bench).__name__, "a models.Benchmark")
        if instrument not in INSTRUMENTS + (NO_FLOOR,):
            raise ModelInputError("instrument", instrument, f"one of {INSTRUMENTS + (NO_FLOOR,)}")
        if eligible not in ("members", "all"):
            raise ModelInputError("eligible", eligible, "'members' or 'all'")
        market = bench.market
        self.bench, self.market, self.instrument, self.eligible = bench, market, instrument, eligible
        self.regions = market.regions
        for name, value in (("location", location), ("supplier", supplier)):
            if value not in self.regions:
                raise ModelInputError(name, value, f"a region id among {list(self.regions)}")
        self.location, self.supplier = location, supplier
        self.level = _positive("level", level)
        self.external_tariff = _nonneg("external_tariff", external_tariff)
        self.budget = _nonneg("budget", budget)
        self.demand_regions = tuple(r for r in self.regions if market.demand_curve(r) is not None)
        self.supply_regions = tuple(r for r in self.regions if market.supply_curve(r) is not None)
        #: regions with a demand or a supply curve: the only ones whose membership matters
        self.active = tuple(r for r in self.regions
                            if r in self.demand_regions or r in self.supply_regions)
        self.inert = tuple(r for r in self.regions if r not in self.active)
        self._big = 10.0 * float(bench.consumption.sum() + bench.production.sum())

        floor = self._floor(self.active, self.level, all_origins=True)
        scenario = bench.base_scenario.extend(
            name=f"roster model ({instrument})", bloc=Bloc(self.regions, self.external_tariff),
            floors=() if floor is None else (floor,))
        self.model: EquilibriumModel = bench.model(scenario, solver=solver)
        m, n = self.model, market.n
        s = self.regions.index(supplier)
        self.ban = cp.Parameter(n, nonneg=True, name="supplier_ban")
        extra = [cp.multiply(self.ban, m.x[s, :]) <= 0]
        self.y_cap = None
        if m.y is not None:
            self.y_cap = cp.Parameter(len(m.y_origins), nonneg=True, name="stockpile_origin_cap")
            extra.append(m.y <= self.y_cap)
        # Same objective and constraints, plus the two roster constraints (see module docstring).
        m.problem = cp.Problem(m.problem.objective, list(m.problem.constraints) + extra)
        if not m.problem.is_dcp(dpp=True):  # pragma: no cover - guards a change in equilibrium.py
            raise ModelInputError("problem", "not DPP", "a disciplined parametrised convex programme")
        self.n_solves = 0
        self._baseline: EquilibriumResult | None = None

    # ------------------------------------------------------------------ scenario of a roster
    def _floor(self, members, level, all_origins=False):
        if self.instrument == NO_FLOOR:
            return None
        if self.instrument == "levy":
            covered = tuple(r for r in members if r in self.active)
            return LevyFloor(covered, level) if covered else None
        if self.instrument == "cfd":
            covered = tuple(r for r in members if r in self.supply_regions)
            return CfdFloor(covered, level) if covered else None
        origins = ALL if (all_origins or self.eligible == "all") else tuple(members)
        return StockpileFloor(self.location, level, self.budget, eligible_origins=origins)

    def scenario_for(self, members, level: float | None = None,
                     external_tariff: float | None = None) -> Scenario:
        """The scenario a model built from scratch for roster ``members`` would use (for checks)."""
        members = check_roster(members, self.regions)
        level = self.level if level is None else _positive("level", level)
        tariff = self.external_tariff if external_tariff is None else _nonneg("external_tariff", external_tariff)
        floor = self._floor(members, level)
        return self.bench.base_scenario.extend(
            name=f"bloc {'+'.join(members)} ({self.instrument} at {level:g})",
            bloc=Bloc(members, tariff), floors=() if floor is None else (floor,))

    @property
    def baseline(self) -> EquilibriumResult:
        """The replicated benchmark (base policies, no bloc, no floor)."""
        if self._baseline is None:
            self._baseline = self.bench.solve()
        return self._baseline

    # ------------------------------------------------------------------ solve
    def solve_roster(self, members, level: float | None = None, *, external_tariff: float | None = None,
                     budget: float | None = None, ban: Iterable[str] = (),
                     discounts: dict[str, float] | None = None) -> EquilibriumResult:
        """Solve the equilibrium with bloc ``members`` by setting parameters of the built problem.

        Parameters
        ----------
        members : sequence of region ids
            The roster (non-empty).
        level, external_tariff, budget : float, optional
            Override the model's floor (USD/kg), external tariff (USD/kg), stockpile budget
            (USD million).
        ban : sequence of region ids
            Destinations to which the ``supplier`` may not export (its response to the bloc).
        discounts : dict region -> USD/kg
            A preferential price offered by the ``supplier``: its delivered cost to that region is
            lowered by the amount, paid by the supplier (a negative export tax on that arc).
        """
        members = check_roster(members, self.regions)
        level = self.level if level is None else _positive("level", level)
        tariff = self.external_tariff if external_tariff is None else _nonneg("external_tariff", external_tariff)
        budget = self.budget if budget is None else _nonneg("budget", budget)
        ban = tuple(ban)
        ban = check_roster(ban, self.regions, field="ban") if ban else ()
        if self.supplier in ban:
            raise ModelInputError("ban", self.supplier, "destinations other than the supplier itself")
        discounts = dict(discounts or {})
        for region, amount in discounts.items():
            check_roster((region,), self.regions, field="discounts")
            _nonneg(f"discounts[{region}]", amount)

        m = self.model
        # 1. floor level and budget for every covered region (the model's own path) ...
        m._apply(floor_level=level, budget=budget)
        # 2. ... then release the bounds of non-members.
        for fb in m.floor_bounds:
            if fb.demand_cap is not None:
                cap = fb.demand_cap.value.copy()
                for k, p in enumerate(fb.demand_pos):
                    if m.demand_regions[p] not in members:
                        cap[k] = self._big
                fb.demand_cap.value = cap
            if fb.supply_min is not None:
                smin = fb.supply_min.value.copy()
                for k, p in enumerate(fb.supply_pos):
                    if m.supply_regions[p] not in members:
                        smin[k] = 0.0
                fb.supply_min.value = smin
        # 3. the roster's tariffs (members' mutual tariffs removed, common external tariff)
        imp, exp = policy_trade_costs(self.market, self.bench.base_scenario.with_policies(bloc=Bloc(members, tariff)),
                                      self.bench.prices)
        s = self.regions.index(self.supplier)
        for region, amount in discounts.items():
            exp[s, self.regions.index(region)] -= float(amount)
        m.tariff_matrix, m.export_tax_matrix = imp, exp
        m.policy_cost.value = imp + exp
        m._trade_cost = m.transport + imp + exp
        # 4. the supplier's ban and the stockpile's eligible origins
        self.ban.value = np.array([1.0 if r in ban else 0.0 for r in self.regions])
        # the arcs these two constraints close, for the solution's certificate (models.certificate)
        m.closed_arcs = np.zeros((len(self.regions), len(self.regions)), dtype=bool)
        m.closed_arcs[s, :] = self.ban.value > 0
        if self.y_cap is not None:
            loc_banned = self.location in ban
            self.y_cap.value = np.array([
                0.0 if ((self.eligible == "members" and self.regions[i] not in members)
                        or (loc_banned and self.regions[i] == self.supplier)) else self._big
                for i in m.y_origins])
            m.closed_stockpile_origins = self.y_cap.value == 0
        objective, solve_time = m._solve_raw()
        self.n_solves += 1
        raw = m._raw(objective, solve_time)
        params = {"members": members, "floor_level": level, "external_tariff": tariff,
                  "budget": budget, "ban": ban, "discounts": discounts}
        return EquilibriumResult(self.market, self.scenario_for(members, level, tariff), raw,
                                 solver=m.solver, parameters=params)

    def welfare_change(self, members, **kwargs) -> pd.Series:
        """``ΔW_i(S)``: total welfare change by region against the benchmark (USD million / yr)."""
        res = self.solve_roster(members, **kwargs)
        return (res.welfare["total"] - self.baseline.welfare["total"]).rename("welfare_change")


def _positive(name, value) -> float:
    v = float(value)
    if not np.isfinite(v) or v <= 0:
        raise ModelInputError(name, value, "a finite positive number")
    return v


def _nonneg(name, value) -> float:
    v = float(value)
    if not np.isfinite(v) or v < 0:
        raise ModelInputError(name, value, "a finite non-negative number")
    return v


# ---------------------------------------------------------------------------- games over rosters
@dataclass(frozen=True)
class _Outcome:
    """Cached welfare of one (mineral, roster): arrays in region order, USD million / yr."""

    change: np.ndarray           # ΔW_i, the stockpile accounted at its location
    private: np.ndarray          # ΔW_i without the stockpile's account
    stockpile_net: float         # inventory value − outlay (the stockpile's own account)


class RosterGame:
    """Welfare of every region for any roster, summed over one or more minerals, with a cache.

    Parameters
    ----------
    models : RosterModel or sequence of RosterModel
        One per mineral; all must share the same regions.
    level : float, optional
        Floor level for every model (default: each model's own).
    bill_shares : pandas.Series, optional
        Weights by region (e.g. GDP). When given, the stockpile's account (inventory value minus
        outlay) is shared among the members in proportion to them instead of staying with the
        stockpile's location.
    ban_members : bool
        The supplier bans its exports to every member (its response to the bloc).
    prune_inert : bool
        Cache outcomes by ``S ∩ active`` (exact; see the module docstring). ``False`` solves every
        distinct roster.
    solve_kwargs :
        Passed to :meth:`RosterModel.solve_roster` (e.g. ``external_tariff``).
    """

    def __init__(self, models, level: float | None = None, *, bill_shares: pd.Series | None = None,
                 ban_members: bool = False, prune_inert: bool = True, **solve_kwargs):
        models = (models,) if isinstance(models, RosterModel) else tuple(models)
        if not models or not all(isinstance(m, RosterModel) for m in models):
            raise ModelInputError("models", models, "one or more RosterModel")
        self.regions = models[0].regions
        if any(m.regions != self.regions for m in models):
            raise ModelInputError("models", [m.market.mineral for m in models], "models with the same regions")
        self.models, self.level, self.ban_members = models, level, bool(ban_members)
        self.prune_inert = bool(prune_inert)
        self.solve_kwargs = solve_kwargs
        if bill_shares is not None:
            bill_shares = pd.Series(bill_shares, dtype=float)
            check_roster(tuple(bill_shares.index), self.regions, field="bill_shares (index)")
            if (bill_shares < 0).any() or not np.all(np.isfinite(bill_shares)):
                raise ModelInputError("bill_shares", bill_shares.to_dict(), "finite non-negative weights")
            bill_shares = bill_shares.reindex(list(self.regions)).fillna(0.0)
        self.bill_shares = bill_shares
        self._cache: list[dict] = [dict() for _ in models]
        self._base = [m.baseline.welfare["total"].to_numpy() for m in models]

    @property
    def n_solves(self) -> int:
        """Distinct equilibria solved so far (over all minerals)."""
        return sum(len(c) for c in self._cache)

    def _outcome(self, k: int, members: tuple[str, ...]) -> _Outcome:
        model = self.models[k]
        key = frozenset(r for r in members if r in model.active) if self.prune_inert else frozenset(members)
        hit = self._cache[k].get(key)
        if hit is not None:
            return hit
        if not key:
            # no active member: nothing binds in this mineral, the benchmark holds
            zero = np.zeros(len(self.regions))
            out = _Outcome(zero, zero, 0.0)
        else:
            roster = tuple(sorted(key, key=self.regions.index))
            kwargs = dict(self.solve_kwargs)
            if self.ban_members:
                kwargs["ban"] = tuple(r for r in roster if r != model.supplier)
            res = model.solve_roster(roster, level=self.level, **kwargs)
            w = res.welfare
            change = w["total"].to_numpy() - self._base[k]
            account = (w["stockpile_value"] - w["stockpile_outlay"]).to_numpy()
            out = _Outcome(change, change - account, float(account.sum()))
        self._cache[k][key] = out
        return out

    def welfare(self, members) -> pd.Series:
        """``ΔW_i(S)`` by region (USD million / yr), summed over the game's minerals."""
        members = check_roster(members, self.regions)
        total = np.zeros(len(self.regions))
        for k in range(len(self.models)):
            out = self._outcome(k, members)
            if self.bill_shares is None:
                total += out.change
            else:
                total += out.private + self._allocate(out.stockpile_net, members)
        return pd.Series(total, index=pd.Index(self.regions, name="region"), name="welfare_change")

    def _allocate(self, amount: float, members) -> np.ndarray:
        w = self.bill_shares.to_numpy() * np.array([r in members for r in self.regions], dtype=float)
        if w.sum() <= 0:
            w = np.array([r in members for r in self.regions], dtype=float)
        return amount * w / w.sum()

    def joint_worth(self, members) -> float:
        """``v(S)``: the members' joint welfare gain, the stockpile's account belonging to the bloc.

        ``v(S) = Σ_{i∈S} ΔW_i^private(S) + stockpile account(S)``; ``v(∅) = 0``.
        """
        if members is None or len(tuple(members)) == 0:
            return 0.0
        members = check_roster(members, self.regions)
        mask = np.array([r in members for r in self.regions])
        total = 0.0
        for k in range(len(self.models)):
            out = self._outcome(k, members)
            total += float(out.private[mask].sum()) + out.stockpile_net
        return total

    def private_gains(self, members) -> pd.Series:
        """``ΔW_i`` before the stockpile's account (its outlay and inventory), USD million / yr."""
        members = check_roster(members, self.regions)
        total = np.zeros(len(self.regions))
        for k in range(len(self.models)):
            total += self._outcome(k, members).private
        return pd.Series(total, index=pd.Index(self.regions, name="region"), name="private_gain")

    def stockpile_account(self, members) -> float:
        """Inventory value minus outlay of the bloc's stockpile (USD million / yr; 0 without one)."""
        members = check_roster(members, self.regions)
        return float(sum(self._outcome(k, members).stockpile_net for k in range(len(self.models))))

    # ------------------------------------------------------------------ stability
    def stability(self, members, fixed: Sequence[str] = (), candidates: Sequence[str] | None = None,
                  barred: Sequence[str] = (), tol: float = WELFARE_TOL) -> pd.DataFrame:
        """Internal and external stability of roster ``members``, one row per region.

        Columns: ``member`` (bool), ``welfare`` ``ΔW_i(S)``, ``welfare_if_switch`` (``ΔW_i(S∖{i})``
        for a member, ``ΔW_i(S∪{j})`` for an outsider), ``gain_from_switch`` (their difference, USD
        million / yr), ``wants_to_switch`` (gain above ``tol``; never for ``fixed`` members, whose
        gain is still reported, nor for ``barred`` outsiders, who may not join, e.g. China in a
        "China-free" bloc). ``df.attrs`` holds ``internally_stable``, ``externally_stable``
        and ``stable``.
        """
        members = check_roster(members, self.regions)
        candidates = self.regions if candidates is None else check_roster(candidates, self.regions, field="candidates")
        base = self.welfare(members)
        rows = []
        for r in self.regions:
            inside = r in members
            if not inside and r not in candidates:
                continue
            if inside:
                rest = tuple(m for m in members if m != r)
                alt = float(self.welfare(rest)[r]) if rest else 0.0
            else:
                alt = float(self.welfare(members + (r,))[r])
            gain = alt - float(base[r])
            rows.append({"region": r, "member": inside, "welfare": float(base[r]),
                         "welfare_if_switch": alt, "gain_from_switch": gain,
                         "wants_to_switch": bool(gain > tol and r not in fixed and r not in barred)})
        table = pd.DataFrame(rows).set_index("region")
        internal = not table.loc[table["member"], "wants_to_switch"].any()
        external = not table.loc[~table["member"], "wants_to_switch"].any()
        table.attrs.update(internally_stable=bool(internal), externally_stable=bool(external),
                           stable=bool(internal and external))
        return table


@dataclass(frozen=True)
class Enumeration:
    """Every roster containing the core, with its stability (from :func:`enumerate_rosters`).

    ``table`` has one row per roster: ``roster`` (``+``-joined ids), ``size``, ``admissible`` (no
    barred region in it), one boolean column
    per candidate region, ``internally_stable``, ``externally_stable``, ``stable``, ``would_leave``
    and ``would_join`` (regions that gain by switching, ``+``-joined), ``max_gain_leave`` and
    ``max_gain_join`` (USD million / yr), ``joint_welfare`` (members' ΔW sum) and
    ``world_welfare`` (all regions). ``wall_time`` in seconds; ``n_solves`` distinct equilibria.
    """

    table: pd.DataFrame
    wall_time: float
    n_rosters: int
    n_solves: int
    welfare: pd.DataFrame = field(repr=False)   # ΔW by roster (rows) × region (columns)

    @property
    def stable(self) -> pd.DataFrame:
        """Stable and admissible rosters."""
        return self.table[self.table["stable"] & self.table["admissible"]]


def enumerate_rosters(game: RosterGame, core: Sequence[str] = CORE, candidates: Sequence[str] | None = None,
                      fixed: Sequence[str] | None = None, barred: Sequence[str] = (),
                      tol: float = WELFARE_TOL) -> Enumeration:
    """Stability of every roster ``core ∪ T``, ``T ⊆ candidates`` (default: all other regions).

    Members of ``fixed`` (default: the core) are not tested for leaving: the bloc is defined by
    its founders. Members of ``barred`` may not join: rosters containing them are still
    enumerated (``admissible`` is False) and their gain from joining is reported, but it does not
    make a roster externally unstable. Leaving by any other member and joining by any outsider lead to rosters that
    still contain the core, so the ``2^k`` solves cover every test.
    """
    regions = game.regions
    core = check_roster(core, regions, field="core")
    candidates = tuple(r for r in regions if r not in core) if candidates is None else \
        tuple(r for r in check_roster(candidates, regions, field="candidates") if r not in core)
    fixed = core if fixed is None else tuple(fixed)
    start = time.perf_counter()
    solves_before = game.n_solves
    rosters = rosters_containing(core, candidates)
    idx = {r: k for k, r in enumerate(regions)}
    W = {}
    for roster in rosters:
        W[frozenset(roster)] = game.welfare(roster).to_numpy()
    rows = []
    for roster in rosters:
        S = frozenset(roster)
        w = W[S]
        leave, join = {}, {}
        for i in roster:
            if i in fixed:
                continue
            leave[i] = W[S - {i}][idx[i]] - w[idx[i]]
        for j in candidates:
            if j not in S:
                join[j] = W[S | {j}][idx[j]] - w[idx[j]]
        would_leave = [i for i, g in leave.items() if g > tol]
        would_join = [j for j, g in join.items() if g > tol and j not in barred]
        mask = np.array([r in S for r in regions])
        row = {"roster": "+".join(r for r in regions if r in S), "size": len(S),
               "admissible": not any(b in S for b in barred)}
        row.update({c: c in S for c in candidates})
        row.update(internally_stable=not would_leave, externally_stable=not would_join,
                   stable=not would_leave and not would_join,
                   would_leave="+".join(would_leave), would_join="+".join(would_join),
                   max_gain_leave=max(leave.values(), default=0.0),
                   max_gain_join=max(join.values(), default=0.0),
                   joint_welfare=float(w[mask].sum()), world_welfare=float(w.sum()))
        rows.append(row)
    wall = time.perf_counter() - start
    table = pd.DataFrame(rows)
    welfare = pd.DataFrame([W[frozenset(r)] for r in rosters], columns=list(regions),
                           index=pd.Index(table["roster"], name="roster"))
    return Enumeration(table, wall, len(rosters), game.n_solves - solves_before, welfare)


# ---------------------------------------------------------------------------- complementarity
def complementarity(supply: pd.Series, demand: pd.Series, members) -> dict:
    """Self-sufficiency and complementarity of a roster in one mineral.

    With net positions ``e_i = max(S_i − D_i, 0)`` (net exports) and ``m_i = max(D_i − S_i, 0)``
    (net imports) of the members ``i ∈ S``::

        self-sufficiency  σ(S) = Σ_S S_i / Σ_S D_i
        complementarity   C(S) = min(Σ_S e_i, Σ_S m_i) / Σ_S m_i

    ``C`` is the share of the members' net imports that other members' net exports could cover:
    1 = complementary (some members' surplus covers the others' deficits), 0 = "shared demand"
    (every member is a net importer). When no member is a net importer, ``C = 1``; when the
    members neither produce nor consume, ``σ`` is reported as 1.

    Returns a dict: ``self_sufficiency``, ``complementarity``, ``net_exports`` and
    ``net_imports`` (kt), ``exporters`` and ``importers`` (tuples of members).
    """
    supply, demand = pd.Series(supply, dtype=float), pd.Series(demand, dtype=float)
    members = check_roster(members, tuple(supply.index))
    s = supply.loc[list(members)]
    d = demand.reindex(list(members)).fillna(0.0)
    net = s - d
    exports = float(net.clip(lower=0).sum())
    imports = float((-net).clip(lower=0).sum())
    tol = 1e-9 * max(1.0, float(s.sum() + d.sum()))
    return {
        "self_sufficiency": float(s.sum() / d.sum()) if d.sum() > tol else 1.0,
        "complementarity": min(exports, imports) / imports if imports > tol else 1.0,
        "net_exports": exports, "net_imports": imports,
        "exporters": tuple(r for r in members if net[r] > tol),
        "importers": tuple(r for r in members if net[r] < -tol),
    }


def import_price(result: EquilibriumResult, members, weights: pd.DataFrame | None = None) -> float:
    """The price members pay non-members for imports, before their own tariff (USD/kg).

    ``Σ_{i∉S, j∈S} q_ij (w_i + τ^exp_ij + t_ij) / Σ_{i∉S, j∈S} q_ij``: the exporter's supply price
    plus its export tax and freight, weighted by shipments ``q``. With ``weights`` (a flow matrix,
    origin × destination, e.g. the benchmark's ``bench.flows``) the weights are fixed, so that a
    change in the index is a change in prices only (flows between equally cheap routes are not
    unique); without, the result's own flows are used. A fall in it is a bloc's "buying power":
    a terms-of-trade gain paid for by the exporters.
    """
    regions = tuple(result.market.regions)
    members = check_roster(members, regions)
    inside = np.array([r in members for r in regions])
    q = result.raw.flows if weights is None else \
        pd.DataFrame(weights).reindex(index=list(regions), columns=list(regions)).fillna(0.0).to_numpy()
    x = q[np.ix_(~inside, inside)]
    total = float(x.sum())
    if total <= 1e-9:
        raise ModelInputError("members", members, "a roster that imports from non-members "
                              "(under the weights used)")
    w = result.raw.supply_price[~inside][:, None]
    cost = w + result.raw.export_tax[np.ix_(~inside, inside)] + result.raw.transport[np.ix_(~inside, inside)]
    return float((x * cost).sum() / total)


def defection_price(model: RosterModel, members, region: str, *, level: float | None = None,
                    max_discount: float | None = None, tol: float = 1e-3, **solve_kwargs) -> dict:
    """The smallest preferential discount ``δ`` (USD/kg) from the supplier that makes ``region``
    leave the bloc: ``ΔW_r(S∖{r}; δ) ≥ ΔW_r(S)``, found by bisection (welfare rises with ``δ``).

    Returns ``discount`` (0 if leaving pays already; ``None`` if not even ``max_discount``
    suffices, default the benchmark price of ``region``), ``gain_from_staying`` (USD million /
    yr, without the deal), ``supplier_cost`` (``δ ×`` the supplier's shipments to ``region``) and
    ``supplier_gain`` (the supplier's welfare change from the defection, net of that cost).
    """
    members = check_roster(members, model.regions)
    if region not in members:
        raise ModelInputError("region", region, f"a member of {list(members)}")
    if region == model.supplier:
        raise ModelInputError("region", region, "a member other than the supplier")
    rest = tuple(m for m in members if m != region)
    if not rest:
        raise ModelInputError("members", members, "a roster that survives the defection (two or more)")
    k, s = model.regions.index(region), model.regions.index(model.supplier)
    stay = model.welfare_change(members, level=level, **solve_kwargs)
    target = float(stay.iloc[k])

    def leave(delta):
        res = model.solve_roster(rest, level=level, discounts={region: delta} if delta > 0 else None,
                                 **solve_kwargs)
        dw = res.welfare["total"] - model.baseline.welfare["total"]
        return float(dw.iloc[k]), res, float(dw.iloc[s])

    w0, res0, sup0 = leave(0.0)
    out = {"gain_from_staying": target - w0}
    hi = float(model.bench.prices[region]) if max_discount is None else _nonneg("max_discount", max_discount)
    if w0 >= target - WELFARE_TOL:
        delta, res, sup = 0.0, res0, sup0
    else:
        w_hi, res_hi, sup_hi = leave(hi)
        if w_hi < target:
            out.update(discount=None, supplier_cost=None, supplier_gain=None)
            return out
        lo, res, sup = 0.0, res_hi, sup_hi
        while hi - lo > tol:
            mid = 0.5 * (lo + hi)
            w_mid, res_mid, sup_mid = leave(mid)
            if w_mid >= target:
                hi, res, sup = mid, res_mid, sup_mid
            else:
                lo = mid
        delta = hi
    shipped = float(res.raw.flows[s, k])
    out.update(discount=delta, supplier_cost=delta * shipped,
               supplier_gain=sup - float(stay.iloc[s]))
    return out


# ---------------------------------------------------------------------------- Shapley value
@dataclass(frozen=True)
class ShapleyResult:
    """Shapley values of a game.

    ``values`` by player; ``std_error`` (0 when exact) and ``ci95`` (half-width of a 95 % normal
    interval) of a sampled estimate; ``method`` ("exact" or "sample"); ``n_worths`` distinct
    coalition worths evaluated; ``samples`` orderings drawn (0 when exact).
    """

    values: pd.Series
    std_error: pd.Series
    method: str
    n_worths: int
    samples: int = 0

    @property
    def ci95(self) -> pd.Series:
        return 1.959964 * self.std_error


def shapley_value(worth: Callable[[frozenset], float] | dict, players: Sequence[str], *,
                  method: str = "auto", samples: int = 2000, seed: int = 0) -> ShapleyResult:
    """The Shapley value of the transferable-utility game ``(N, v)``.

    Parameters
    ----------
    worth : callable frozenset -> float, or dict frozenset -> float
        ``v(S)``; ``v(∅)`` is taken as 0 when not given. Each coalition is evaluated once (cached).
    players : sequence of hashable ids
    method : {"auto", "exact", "sample"}
        ``exact`` enumerates the ``2^n`` coalitions (``n ≤`` :data:`EXACT_LIMIT`, else
        :class:`ModelInputError`); ``sample`` averages marginal contributions over ``samples``
        random orderings drawn with ``numpy.random.default_rng(seed)`` and reports the standard
        error of the mean; ``auto`` is exact up to :data:`EXACT_LIMIT` players, sampled above.
    """
    players = tuple(players)
    n = len(players)
    if n == 0:
        raise ModelInputError("players", players, "at least one player")
    if len(set(players)) != n:
        raise ModelInputError("players", players, "distinct players")
    if method not in ("auto", "exact", "sample"):
        raise ModelInputError("method", method, "'auto', 'exact' or 'sample'")
    if method == "exact" and n > EXACT_LIMIT:
        raise ModelInputError("method", method, f"'sample' for more than {EXACT_LIMIT} players "
                              f"({n} players: 2^{n} coalitions)")
    if method == "auto":
        method = "exact" if n <= EXACT_LIMIT else "sample"
    lookup = worth if isinstance(worth, dict) else None
    cache: dict[frozenset, float] = {}

    def v(coalition: frozenset) -> float:
        hit = cache.get(coalition)
        if hit is None:
            if lookup is not None:
                hit = float(lookup.get(coalition, 0.0))
            else:
                hit = 0.0 if not coalition else float(worth(coalition))
            if not np.isfinite(hit):
                raise ModelInputError(f"worth({sorted(coalition, key=str)})", hit, "a finite number")
            cache[coalition] = hit
        return hit

    index = pd.Index(players, name="player")
    if method == "exact":
        size = 1 << n
        values = np.empty(size)
        for mask in range(size):
            values[mask] = v(frozenset(players[i] for i in range(n) if mask >> i & 1))
        masks = np.arange(size)
        popcount = np.zeros(size, dtype=int)
        for i in range(n):
            popcount += (masks >> i) & 1
        fact = [math.factorial(k) for k in range(n + 1)]
        weight = np.array([fact[s] * fact[n - s - 1] / fact[n] if s < n else 0.0 for s in range(n + 1)])
        phi = np.empty(n)
        for i in range(n):
            without = masks[((masks >> i) & 1) == 0]
            phi[i] = float((weight[popcount[without]] * (values[without | (1 << i)] - values[without])).sum())
        return ShapleyResult(pd.Series(phi, index=index, name="shapley"),
                             pd.Series(0.0, index=index, name="std_error"), "exact", len(cache))
    if int(samples) != samples or samples < 2:
        raise ModelInputError("samples", samples, "an integer of at least 2")
    rng = np.random.default_rng(seed)
    contrib = np.zeros((int(samples), n))
    for t in range(int(samples)):
        order = rng.permutation(n)
        coalition: frozenset = frozenset()
        before = 0.0
        for i in order:
            coalition = coalition | {players[i]}
            after = v(coalition)
            contrib[t, i] = after - before
            before = after
    phi = contrib.mean(axis=0)
    se = contrib.std(axis=0, ddof=1) / np.sqrt(samples)
    return ShapleyResult(pd.Series(phi, index=index, name="shapley"),
                         pd.Series(se, index=index, name="std_error"), "sample", len(cache), int(samples))


def bill_split(game: RosterGame, members, weights: dict[str, pd.Series] | None = None, *,
               method: str = "auto", samples: int = 2000, seed: int = 0) -> pd.DataFrame:
    """How the bloc's net bill would split under the Shapley value, and under other keys.

    The game: players are ``members``, ``v(S) = game.joint_worth(S)``. Each member's gross gain
    in the full bloc is ``g_i = ΔW_i^private(N)`` (before the stockpile's account); the Shapley
    rule gives it a net gain ``φ_i``, so its contribution to the bill is ``c_i = g_i − φ_i``, and
    ``Σ c_i`` = the bloc's net bill (outlay minus inventory value, USD million / yr). A negative
    ``c_i`` is a transfer *to* the member.

    Columns: ``gross_gain``, ``shapley``, ``contribution``, ``share`` (``c_i / Σ c``), and
    ``<key>_share`` for each entry of ``weights`` (e.g. GDP, consumption: the member's share of
    the members' total). ``df.attrs``: ``net_bill``, ``method``, ``std_error`` (Series).
    """
    members = check_roster(members, game.regions)
    result = shapley_value(lambda S: game.joint_worth(tuple(S)), members, method=method,
                           samples=samples, seed=seed)
    gross = game.private_gains(members).loc[list(members)]
    contribution = gross - result.values.reindex(list(members)).to_numpy()
    net_bill = float(contribution.sum())
    table = pd.DataFrame({"gross_gain": gross.to_numpy(), "shapley": result.values.to_numpy(),
                          "contribution": contribution.to_numpy()}, index=pd.Index(members, name="region"))
    table["share"] = table["contribution"] / net_bill if abs(net_bill) > WELFARE_TOL else 0.0
    for key, w in (weights or {}).items():
        w = pd.Series(w, dtype=float).reindex(list(members)).fillna(0.0)
        table[f"{key}_share"] = w / w.sum() if w.sum() > 0 else 0.0
    table.attrs.update(net_bill=net_bill, method=result.method, std_error=result.std_error,
                       n_worths=result.n_worths)
    return table
