"""The spatial price equilibrium (Takayama–Judge) with trade-bloc policies, as one convex programme.

Built once by :class:`EquilibriumModel`; every policy number that a sweep may change is a
``cvxpy.Parameter``, so a sweep re-solves the same built problem. The programme (MODEL.md §1–2)::

    maximise   Σ_r A^d_r(D_r) − Σ_r [A^s_r(S_r) − s_r S_r] − Σ_ij (t_ij + τ_ij) x_ij
               + f_K K − Σ_{i∈E} (t_iL + τ_iL) y_i
    subject to D_j ≤ Σ_i x_ij                         (p_j, the border price at j)
               Σ_j x_ij + y_i ≤ S_i                     (w_i, the supply price at i)
               Σ_{j∈J_q} x_ij (+ y_i) ≤ Q_q               (ρ_q, licence rent of quota q)
               Σ_{i∉S, j∈S} x_ij + Σ_{i∉S} y_i 1[L∈S] ≤ Q  (τ: preferential floor's tariff)
               D_j ≤ D_j(f),  S_j ≥ S_j(f)               (λ_j levy, μ_j top-up: guaranteed price)
               S_i ≥ S_i(f)                              (μ_i top-up: contract for difference)
               K = Σ_i y_i ≤ B / f_K,  y_i ≤ ȳ_i          (stockpile at L buying at f_K; ȳ_i = 0
                                                           for origins that may not sell to it)
               Σ_ij b_ij x_ij + Σ_i b_iL y_i ≤ 0           (routes barred by ``banned_routes``)
               D, S, x, y ≥ 0

``A`` is the area under a curve, ``t`` transport cost, ``τ`` tariffs plus export taxes, ``s``
producer subsidies. Prices are the constraint duals, never re-derived by hand
(:mod:`models.readback`). The preferential floor's cap ``Q`` is found by a search
(:mod:`models.zone`).

**Public parameters.** Everything a sweep or a roster changes is a ``cvxpy.Parameter`` of the
one built problem, set through :meth:`EquilibriumModel.solve` (and ``sweep``) by name: the
numbers of :data:`SWEEPABLE`, and :data:`SETTABLE`: ``members`` (the bloc's roster: its tariffs,
the coverage of every floor, the preferential zone and a stockpile's ``MEMBERS`` eligibility),
``banned_routes`` and ``export_discounts``. Linear curves are Parameters too (their intercepts
and slopes, :class:`~models.curves.LinearCurveParameters`): :meth:`EquilibriumModel.set_market`
puts new curves (e.g. :meth:`models.calibration.Benchmark.recalibrated` at drawn elasticities)
into the built problem; constant-elasticity curves are built in as numbers.
"""
from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass

import cvxpy as cp
import numpy as np
import pandas as pd
import scipy.sparse as sp

from .curves import curve_welfare
from .errors import InaccurateSolutionError, ModelInputError
from .market import Market, check_regions
from .policies import (ALL, MEMBERS, CfdFloor, GuaranteedPrice, PreferentialFloor, Scenario,
                       StockpileFloor)
from .parameters import SETTABLE, SWEEPABLE, ParameterStage
from .readback import read_solution
from .solving import SolverStage, robust
from .result import EquilibriumResult, RawSolution
from .trade_costs import _expand, policy_trade_costs
from .validate import sweep_arguments
from .zone import solve_zone

SOLVERS = ("CLARABEL", "OSQP", "SCS", "ECOS", "HIGHS")
#: Clarabel's tolerances for the one re-solve of a solution that fails the certificate.
CERTIFY_RETRY_TOLERANCE = 1e-12
#: Clarabel's static regularisation in the last retry of an uncertified solve (its default is 1e-8).
LAST_RESORT_REGULARISATION = 1e-10


@dataclass
class _FloorBounds:
    """Index arrays and parameters of one levy or CfD floor's bounds."""

    key: int                    # position of the floor in scenario.floors
    floor: GuaranteedPrice | CfdFloor
    demand_pos: np.ndarray      # positions in the D vector
    supply_pos: np.ndarray      # positions in the S vector
    demand_cap: cp.Parameter | None
    supply_min: cp.Parameter | None


class EquilibriumModel(ParameterStage, SolverStage):
    """A spatial price equilibrium under a scenario, built once and re-solvable.

    Parameters
    ----------
    market : Market
        Curves and transport costs of one mineral.
    scenario : Scenario, optional
        Policies; the default is free trade with no policy.
    benchmark_prices : pandas.Series, optional
        Benchmark border prices by region, used to convert ad valorem rates.
    solver : str
        ``"CLARABEL"`` (default), ``"OSQP"`` or ``"SCS"`` (any installed cvxpy solver).
    solver_options : dict, optional
        Passed to the solver.
    parametric_routes : bool
        Build the constraint that ``banned_routes`` sets (default ``False``: a constraint with no
        route barred is a degenerate ``0 ≤ 0`` row that costs interior-point accuracy, so it is
        built only for models that need it, such as the roster model).

    Examples
    --------
    >>> model = EquilibriumModel(market, Scenario(floors=(GuaranteedPrice(("USA",), 80.0),)))
    >>> result = model.solve()                    # doctest: +SKIP
    >>> result = model.solve(floor_level=90.0)    # same built problem, new parameter value
    """

    def __init__(self, market: Market, scenario: Scenario | None = None,
                 benchmark_prices: pd.Series | None = None, solver: str = "CLARABEL",
                 solver_options: dict | None = None, parametric_routes: bool = False):
        if not isinstance(market, Market):
            raise ModelInputError("market", type(market).__name__, "a models.Market")
        self.market = market
        self.scenario = scenario if scenario is not None else Scenario()
        if not isinstance(self.scenario, Scenario):
            raise ModelInputError("scenario", type(scenario).__name__, "a models.Scenario")
        if benchmark_prices is not None and not isinstance(benchmark_prices, pd.Series):
            raise ModelInputError("benchmark_prices", type(benchmark_prices).__name__, "a pandas Series or None")
        if solver_options is not None and not isinstance(solver_options, dict):
            raise ModelInputError("solver_options", type(solver_options).__name__, "a dict or None")
        if not isinstance(solver, str):
            raise ModelInputError("solver", solver, f"a solver name among {cp.installed_solvers()}")
        self.benchmark_prices = benchmark_prices
        solver = str(solver).upper()
        if solver not in cp.installed_solvers():
            raise ModelInputError("solver", solver, f"an installed solver among {cp.installed_solvers()}")
        self.solver = solver
        self.solver_options = dict(solver_options or {})
        self.parametric_routes = bool(parametric_routes)
        self._tightened: list[str] = []
        if solver == "CLARABEL" and market.curve_family == "linear":
            # Prices are duals: steep short-run curves turn quantity errors at the default 1e-8
            # into price errors of ~1e-4; tighter tolerances cost no measurable time on the QP.
            # (Power-cone programmes of isoelastic curves keep Clarabel's defaults: at 1e-10
            # some stop as "almost solved".)
            # If Clarabel cannot reach them (it then fails outright on some short-run markets),
            # _solve_raw retries once at its own defaults (1e-8) before giving up.
            self._tightened = [k for k in ("tol_gap_abs", "tol_gap_rel", "tol_feas")
                               if k not in self.solver_options]
            for key in self._tightened:
                self.solver_options[key] = 1e-10
        if solver == "OSQP":
            self.solver_options.setdefault("eps_abs", 1e-9)
            self.solver_options.setdefault("eps_rel", 1e-9)
            self.solver_options.setdefault("max_iter", 200_000)
            self.solver_options.setdefault("polishing", True)
        if solver == "SCS":
            # at SCS's defaults (1e-4) the solution fails the certificate (models/certificate.py)
            self.solver_options.setdefault("eps_abs", 1e-9)
            self.solver_options.setdefault("eps_rel", 1e-9)
            self.solver_options.setdefault("max_iters", 200_000)
        self._validate_scenario()
        self._current = {key: None for key in SETTABLE}
        self._build()
        self._apply()

    # ------------------------------------------------------------------ validate
    def _validate_scenario(self) -> None:
        regions, sc = self.market.regions, self.scenario
        for k, s in enumerate(sc.subsidies):
            check_regions(f"subsidies[{k}].region", s.region, regions)
        for k, q in enumerate(sc.quotas):
            check_regions(f"quotas[{k}].origin", q.origin, regions)
            if q.destinations != ALL:
                check_regions(f"quotas[{k}].destinations", q.destinations, regions)
        for kind, name in ((StockpileFloor, "StockpileFloor"), (PreferentialFloor, "PreferentialFloor")):
            count = sum(isinstance(f, kind) for f in sc.floors)
            if count > 1:
                raise ModelInputError("scenario.floors", count, f"at most one {name}")
        for k, floor in enumerate(sc.floors):
            if isinstance(floor, StockpileFloor):
                check_regions(f"floors[{k}].location", floor.location, regions)
                if floor.eligible_origins == MEMBERS and sc.bloc is None:
                    raise ModelInputError(f"floors[{k}].eligible_origins", MEMBERS,
                                          "ALL or a list of region ids unless the scenario has a bloc")
                if floor.eligible_origins not in (ALL, MEMBERS):
                    check_regions(f"floors[{k}].eligible_origins", floor.eligible_origins, regions)
                continue
            if isinstance(floor, PreferentialFloor):
                if sc.bloc is None:
                    raise ModelInputError(f"floors[{k}]", "PreferentialFloor without a bloc",
                                          "a scenario with a Bloc (the zone whose members trade freely)")
                if floor.reference is not None and floor.reference not in sc.bloc.members:
                    raise ModelInputError(f"floors[{k}].reference", floor.reference,
                                          f"None or one of the bloc's members {list(sc.bloc.members)}")
                continue
            if floor.regions == ALL:
                raise ModelInputError(f"floors[{k}].regions", ALL, "an explicit list of region ids")
            check_regions(f"floors[{k}].regions", floor.regions, regions)
            for r in floor.regions:
                if self.market.demand_curve(r) is None and self.market.supply_curve(r) is None:
                    raise ModelInputError(f"floors[{k}].regions", r, "regions with a demand or supply curve")
        # make sure tariffs are well-formed before any solve
        policy_trade_costs(self.market, sc, self.benchmark_prices)

    # ------------------------------------------------------------------ build
    def _build(self) -> None:
        m, sc = self.market, self.scenario
        n, regions = m.n, m.regions
        self.idx = {r: k for k, r in enumerate(regions)}
        self.demand_regions = [r for r in regions if m.demand_curve(r) is not None]
        self.supply_regions = [r for r in regions if m.supply_curve(r) is not None]
        self.has_demand = np.array([m.demand_curve(r) is not None for r in regions])
        nd, ns = len(self.demand_regions), len(self.supply_regions)
        d_rows = [self.idx[r] for r in self.demand_regions]
        s_rows = [self.idx[r] for r in self.supply_regions]
        self._no_demand = [k for k in range(n) if k not in d_rows]
        self._no_supply = [k for k in range(n) if k not in s_rows]
        self.Md = sp.csr_matrix((np.ones(nd), (d_rows, range(nd))), shape=(n, nd))
        self.Ms = sp.csr_matrix((np.ones(ns), (s_rows, range(ns))), shape=(n, ns))

        self.D = cp.Variable(nd, nonneg=True, name="D")
        self.S = cp.Variable(ns, nonneg=True, name="S")
        self.x = cp.Variable((n, n), nonneg=True, name="x")
        self.transport = m.transport_cost.to_numpy()
        self.policy_cost = cp.Parameter((n, n), name="tau")
        self.subsidy = cp.Parameter(ns, nonneg=True, name="s")
        self.subsidy_rates = np.zeros(ns)
        self.subsidised = np.zeros(ns, dtype=bool)   # regions a `subsidy=` override applies to
        for s in sc.subsidies:
            if s.region in self.supply_regions:
                self.subsidy_rates[self.supply_regions.index(s.region)] += s.rate
                self.subsidised[self.supply_regions.index(s.region)] = True

        # Linear curves enter as Parameters (a new draw of elasticities is a re-solve: `set_market`)
        welfare, self.curve_params, curvature = curve_welfare(m, self.D, self.S, self.demand_regions,
                                                              self.supply_regions)
        welfare += self.subsidy @ self.S
        # Freight and policy costs enter as one variable fixed by an equality (the last constraint):
        # with the n×n Parameter τ in the quadratic objective, cvxpy's canonicalisation builds a
        # dense (#variables × #parameters) matrix, n⁴ entries (~45 s at 200 regions); in a
        # constraint, τ takes one sparse row.
        bill = cp.vec(self.transport + self.policy_cost, order="F") @ cp.vec(self.x, order="F")

        inflow = cp.sum(self.x, axis=0)
        outflow = cp.sum(self.x, axis=1)
        cons: dict[str, cp.Constraint] = {}

        # stockpile (buyer of last resort): y_i from every producing region, ȳ_i = 0 where i may
        # not sell (a region without a supply curve has nothing to sell: no y_i at all)
        self.stockpile = next((f for f in sc.floors if isinstance(f, StockpileFloor)), None)
        self.y = None
        self.y_rows = s_rows        # region index of each entry of y
        if self.stockpile is not None:
            loc = self.idx[self.stockpile.location]
            self.y = cp.Variable(ns, nonneg=True, name="y")
            self.y_cap = cp.Parameter(ns, nonneg=True, name="stockpile_origin_cap")
            self.stock_level = cp.Parameter(nonneg=True, name="stockpile_level")
            self.stock_cap = cp.Parameter(nonneg=True, name="stockpile_cap")
            y_cost = self.Ms.T @ (self.transport[:, loc] + self.policy_cost[:, loc])
            welfare += self.stock_level * cp.sum(self.y)
            bill = bill + y_cost @ self.y
            outflow = outflow + self.Ms @ self.y
            cons["stockpile_cap"] = cp.sum(self.y) <= self.stock_cap
            cons["stockpile_origins"] = self.y <= self.y_cap

        cons["demand_balance"] = self.Md @ self.D <= inflow
        cons["supply_balance"] = outflow <= self.Ms @ self.S

        # routes barred by a solve's `banned_routes` (only in a model built with parametric_routes)
        self.ban_mask = self.ban_y = None
        if self.parametric_routes:
            self.ban_mask = cp.Parameter((n, n), nonneg=True, name="banned_routes")
            barred = cp.sum(cp.multiply(self.ban_mask, self.x))
            if self.y is not None:
                self.ban_y = cp.Parameter(ns, nonneg=True, name="banned_stockpile_routes")
                barred = barred + self.ban_y @ self.y
            cons["banned_routes"] = barred <= 0

        # export quotas and bans
        self.quota_params, self.quota_masks = [], []
        for k, q in enumerate(sc.quotas):
            o = self.idx[q.origin]
            dests = [self.idx[d] for d in _expand(regions, q.destinations, exclude=q.origin)]
            mask = np.zeros((n, n))
            mask[o, dests] = 1.0
            shipped = cp.sum(cp.multiply(mask, self.x))
            if self.stockpile is not None and self.idx[self.stockpile.location] in dests and o in self.y_rows:
                shipped = shipped + self.y[self.y_rows.index(o)]
            param = cp.Parameter(nonneg=True, name=f"quota_{k}")
            self.quota_params.append(param)
            self.quota_masks.append(mask)
            cons[f"quota[{k}]"] = shipped <= param

        # the preferential floor: a cap on the zone's imports from non-members (dual: τ)
        self.zone = next((f for f in sc.floors if isinstance(f, PreferentialFloor)), None)
        self.zone_y = None
        if self.zone is not None:
            self.zone_mask = cp.Parameter((n, n), nonneg=True, name="zone_arcs")
            self.zone_cap = cp.Parameter(nonneg=True, name="zone_cap")
            imports = cp.sum(cp.multiply(self.zone_mask, self.x))
            if self.y is not None:
                self.zone_y = cp.Parameter(ns, nonneg=True, name="zone_stockpile_arcs")
                imports = imports + self.zone_y @ self.y
            cons["zone_imports"] = imports <= self.zone_cap
            self.zone_reference_idx = None if self.zone.reference is None else self.idx[self.zone.reference]

        # guaranteed-price and CfD floors: bounds on every region a floor names; `_apply` opens
        # the bounds of regions it does not cover at a solve (non-members)
        self.floor_bounds: list[_FloorBounds] = []
        for k, floor in enumerate(sc.floors):
            if not isinstance(floor, (GuaranteedPrice, CfdFloor)):
                continue
            covers_demand = isinstance(floor, GuaranteedPrice)
            dpos = np.array([self.demand_regions.index(r) for r in floor.regions
                             if covers_demand and r in self.demand_regions], dtype=int)
            spos = np.array([self.supply_regions.index(r) for r in floor.regions
                             if r in self.supply_regions], dtype=int)
            cap = cp.Parameter(len(dpos), nonneg=True, name=f"demand_cap_{k}") if len(dpos) else None
            smin = cp.Parameter(len(spos), nonneg=True, name=f"supply_min_{k}") if len(spos) else None
            if cap is not None:
                cons[f"floor_demand[{k}]"] = self.D[dpos] <= cap
            if smin is not None:
                cons[f"floor_supply[{k}]"] = self.S[spos] >= smin
            self.floor_bounds.append(_FloorBounds(k, floor, dpos, spos, cap, smin))

        self.trade_bill = cp.Variable(name="trade_bill")
        welfare -= self.trade_bill
        cons["trade_bill"] = self.trade_bill == bill
        cons.update(curvature)          # u = √|b| ∘ q of parametric linear curves (last, no price)

        self.constraints = cons
        self.objective = welfare
        self.problem = cp.Problem(cp.Maximize(welfare), list(cons.values()))
        if not self.problem.is_dcp(dpp=True):
            raise ModelInputError("problem", "not DPP", "a disciplined parametrised convex programme")

    # ------------------------------------------------------------------ solve
    def _read(self, objective: float, solve_time: float) -> RawSolution:
        return read_solution(self, objective, solve_time)

    def _solve_and_read(self) -> RawSolution:
        """Solve, read and certify the current parameters.

        An interior-point solution at Clarabel's tightened tolerance can leave complementarity
        residuals just above the certificate's tolerance where the equilibrium is nearly
        degenerate (a floor within cents of the market price on a market of a few tonnes): a
        purchase of 2e-5 kt at a margin of 0.02 USD/kg. Such a solution is re-solved once at
        :data:`CERTIFY_RETRY_TOLERANCE`, then (inside the fast path) once more through cvxpy; if it
        still fails, the certificate's error is raised.
        """
        objective, solve_time = self._solve_raw()
        try:
            return self._read(objective, solve_time)
        except InaccurateSolutionError:
            if self.solver != "CLARABEL":
                raise
            tighter = {**robust(self.solver_options), **{k: CERTIFY_RETRY_TOLERANCE for k in
                                                 ("tol_gap_abs", "tol_gap_rel", "tol_feas")}}
            objective, retry_time = self._attempt(tighter)
            try:
                return self._read(objective, solve_time + retry_time)
            except InaccurateSolutionError as error:
                return self._solve_afresh(tighter, solve_time + retry_time, error)

    def _solve_afresh(self, options: dict, spent: float, error: InaccurateSolutionError) -> RawSolution:
        """Last resort inside the fast path (models/fastpath.py): the same parameters solved through
        cvxpy's own ``Problem.solve`` (a fresh set-up) with Clarabel's static regularisation cut
        from 1e-8 to :data:`LAST_RESORT_REGULARISATION`, certified like any solve; outside the fast
        path, the certificate's error. Very steep curves (short-run, low elasticities) under a
        large export discount leave the cap's complementarity residual just above the tolerance
        at the default regularisation, whatever the gap tolerance (measured on the flooding
        chapter's sensitivity grid)."""
        original = getattr(self, "_fastpath", (None,))[0]
        if original is None or self.problem is original:
            raise error
        fast, self.problem = self.problem, original
        try:
            objective, solve_time = self._attempt({**options, "static_regularization_constant": LAST_RESORT_REGULARISATION})
            return self._read(objective, spent + solve_time)
        finally:
            self.problem = fast

    def _solve_current(self) -> tuple[RawSolution, dict]:
        """Solve at the current parameter values; with a preferential floor, search its cap.

        Returns the raw solution and the zone's record (empty without a preferential floor).
        """
        if self.zone is None:
            return self._solve_and_read(), {}
        level = self.zone.level if self._current["floor_level"] is None else float(self._current["floor_level"])
        raw = solve_zone(self, level, self._open)
        raw.zone.update(reference=self.zone.reference or "lowest member price", members=tuple(self.members))
        return raw, raw.zone

    @contextlib.contextmanager
    def _fast_path(self):
        """Within the block, ``self.problem`` is the Clarabel fast path's stand-in for the built
        problem (models/fastpath.py: the solver's q and b updated in place), where it applies;
        otherwise every solve goes through cvxpy's ``Problem.solve``."""
        from .fastpath import FastProblem, fast_problem
        if isinstance(self.problem, FastProblem):       # already inside a fast-path block
            yield
            return
        problem = self.problem
        self.problem = fast_problem(self) or problem
        try:
            yield
        finally:
            self.problem = problem

    def solve(self, **updates) -> EquilibriumResult:
        """Solve with the scenario's values, or with the overrides ``updates``.

        Numeric overrides (:data:`SWEEPABLE`): ``floor_level`` (USD/kg, every floor), ``budget``
        (USD million), ``external_tariff`` (USD/kg), ``quota`` (kt, every quota), ``subsidy``
        (USD/kg, every subsidised region). Others (:data:`SETTABLE`):

        ``members`` : tuple of region ids
            The bloc's roster (the scenario must have a bloc): members' mutual tariffs removed and
            the common external tariff on non-members; guaranteed-price and CfD floors cover the
            regions they name that are members; a preferential floor's zone is the roster; a
            stockpile with ``eligible_origins=MEMBERS`` buys from members only.
        ``banned_routes`` : dict origin -> destinations
            Shipments (and sales to the stockpile at its location) on those routes are barred.
        ``export_discounts`` : dict (origin, destination) -> USD/kg
            A price cut the origin pays on that route: a negative export tax in its accounts.

        Overrides persist on the model until changed again (``None`` restores the scenario's
        value). An override of a policy the scenario does not hold (``budget`` without a
        stockpile floor, ``external_tariff`` without a bloc, ``quota`` without a quota,
        ``subsidy`` without a subsidised region, ``floor_level`` without a floor) has no effect,
        so that one set of values can drive models of different instruments side by side.
        """
        self._apply(**updates)
        if self.zone is None:
            raw, _ = self._solve_current()
        else:       # the cap's search re-solves many times: through the fast path where it applies
            with self._fast_path():
                raw, _ = self._solve_current()
        return EquilibriumResult(self.market, self.effective_scenario(), raw,
                                 solver=self.solver, parameters=dict(self._current))

    def solve_raw(self, **updates) -> tuple[RawSolution, "callable"]:
        """:meth:`solve` without the labelled result: the certified raw solution (numpy arrays),
        and a function that builds the :class:`EquilibriumResult` from it when called (pandas
        tables cost more than the solve on a small market; a Monte Carlo reads them only when a
        rule needs them)."""
        self._apply(**updates)
        with self._fast_path():
            raw, _ = self._solve_current()
        market, scenario, parameters = self.market, self.effective_scenario(), dict(self._current)
        solver = self.solver
        return raw, lambda: EquilibriumResult(market, scenario, raw, solver=solver, parameters=parameters)

    def sweep(self, name: str, values, fields=("border_price", "consumer_price", "producer_price",
                                                 "demand", "supply", "net_exports")) -> "SweepResult":
        """Re-solve the built problem for each value of parameter ``name``.

        Returns a :class:`SweepResult` whose ``table`` is a long DataFrame with columns
        ``value, region, <fields>``, plus per-step totals (objective, stockpile purchases, and
        with a preferential floor its tariff and status) and the wall and solver times.
        """
        values, fields = sweep_arguments(name, values, fields, SWEEPABLE)
        saved = self._current[name]
        rows, totals, solver_time = [], [], 0.0
        start = time.perf_counter()
        try:
            with self._fast_path():
                for v in values:
                    self._apply(**{name: v})
                    raw, zone = self._solve_current()
                    solver_time += raw.solve_time
                    table = raw.region_arrays()
                    rows.append(np.column_stack([table[f] for f in fields]))
                    totals.append((raw.objective, raw.stockpile_purchases.sum(), raw.stockpile_price,
                                   raw.zone_tariff, zone.get("status", "")))
        finally:
            self._apply(**{name: saved})
        wall = time.perf_counter() - start
        n = self.market.n
        data = np.vstack(rows)
        table = pd.DataFrame(data, columns=list(fields))
        table.insert(0, "region", np.tile(self.market.regions, len(values)))
        table.insert(0, name, np.repeat(values, n))
        tot = pd.DataFrame(totals, columns=["objective", "stockpile_purchases", "stockpile_price",
                                            "zone_tariff", "zone_status"])
        tot.insert(0, name, values)
        return SweepResult(name, table, tot, wall, solver_time)


@dataclass(frozen=True)
class SweepResult:
    """A parametric sweep: ``table`` (value × region), ``totals`` (per value), and timings in seconds."""

    parameter: str
    table: pd.DataFrame
    totals: pd.DataFrame
    wall_time: float
    solver_time: float

    def pivot(self, field: str) -> pd.DataFrame:
        """``field`` as a DataFrame with one row per swept value and one column per region."""
        if field not in self.table.columns or field in (self.parameter, "region"):
            raise ModelInputError("field", field, f"one of the swept fields {list(self.table.columns[2:])}")
        return self.table.pivot(index=self.parameter, columns="region", values=field)


def solve_equilibrium(market: Market, scenario: Scenario | None = None, **kwargs) -> EquilibriumResult:
    """Build and solve once: ``EquilibriumModel(market, scenario, **kwargs).solve()``."""
    return EquilibriumModel(market, scenario, **kwargs).solve()
