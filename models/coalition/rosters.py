"""One mineral's equilibrium under a bloc whose roster is a parameter (:class:`RosterModel`), and
roster validation. See :mod:`models.coalition` for the definitions."""
from __future__ import annotations

import itertools
from typing import Iterable, Sequence

import pandas as pd

from ..calibration import Benchmark
from ..equilibrium import EquilibriumModel
from ..fastpath import pin, rewind
from ..validate import nonneg_number as _nonneg, positive_number as _positive
from ..errors import ModelInputError
from ..policies import ALL, MEMBERS, Bloc, CfdFloor, GuaranteedPrice, PreferentialFloor, Scenario, StockpileFloor
from ..result import EquilibriumResult

#: The bloc's founders: the US–EU–Japan partnership of 4 Feb 2026 (``data/rosters.csv``: core).
CORE = ("USA", "EU", "JPN")
INSTRUMENTS = ("preferential", "guaranteed", "cfd", "stockpile")
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
    instrument : {"preferential", "guaranteed", "cfd", "stockpile", "none"}
        How the bloc holds its floor (``"preferential"``, the plan's, is the default;
        ``"none"``: the bloc's tariffs only).
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
    baseline : EquilibriumResult, optional
        ``bench.solve()`` when already at hand (models of one benchmark can share it); solved at
        first use otherwise.

    Examples
    --------
    >>> rm = RosterModel(bench, "preferential", 110.0)                       # doctest: +SKIP
    >>> res = rm.solve_roster(("USA", "EU", "JPN"))                  # doctest: +SKIP
    >>> dw = rm.welfare_change(("USA", "EU", "JPN", "KOR"), level=90)  # doctest: +SKIP
    """

    def __init__(self, bench: Benchmark, instrument: str = "preferential", level: float = 100.0, *,
                 external_tariff: float = 0.0, budget: float = 12_000.0, location: str = "USA",
                 eligible: str = "members", supplier: str = "CHN", solver: str = "CLARABEL",
                 baseline: EquilibriumResult | None = None):
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

        floor = self._floor(self.active, self.level)
        scenario = bench.base_scenario.extend(
            name=f"roster model ({instrument})", bloc=Bloc(self.regions, self.external_tariff),
            floors=() if floor is None else (floor,))
        self.model: EquilibriumModel = bench.model(scenario, solver=solver, parametric_routes=True)
        pin(self.model)                # Clarabel set up once; every roster's solve updates its data
        self.n_solves = 0
        if baseline is not None and not isinstance(baseline, EquilibriumResult):
            raise ModelInputError("baseline", type(baseline).__name__, "an EquilibriumResult of bench.solve()")
        self._baseline: EquilibriumResult | None = baseline

    # ------------------------------------------------------------------ scenario of a roster
    def _floor(self, members, level):
        if self.instrument == NO_FLOOR:
            return None
        if self.instrument == "preferential":
            return PreferentialFloor(level)
        if self.instrument == "guaranteed":
            covered = tuple(r for r in members if r in self.active)
            return GuaranteedPrice(covered, level) if covered else None
        if self.instrument == "cfd":
            covered = tuple(r for r in members if r in self.supply_regions)
            return CfdFloor(covered, level) if covered else None
        origins = MEMBERS if self.eligible == "members" else ALL
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
        rewind(self.model)             # history-free: the answer does not depend on earlier rosters
        _, read = self.model.solve_raw(
            members=members, floor_level=level, external_tariff=tariff, budget=budget,
            banned_routes={self.supplier: ban} if ban else None,
            export_discounts={(self.supplier, r): float(a) for r, a in discounts.items()} or None)
        result = read()
        self.n_solves += 1
        result.parameters.update({"members": members, "ban": ban, "discounts": discounts})
        return result

    def welfare_change(self, members, **kwargs) -> pd.Series:
        """``ΔW_i(S)``: total welfare change by region against the benchmark (USD million / yr)."""
        res = self.solve_roster(members, **kwargs)
        return (res.welfare["total"] - self.baseline.welfare["total"]).rename("welfare_change")
