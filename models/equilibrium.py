"""The spatial price equilibrium (Takayama–Judge) with trade-bloc policies, as one convex programme.

Built once by :class:`EquilibriumModel`; every policy number that a sweep may change is a
``cvxpy.Parameter``, so a sweep re-solves the same built problem. The programme (MODEL.md §1–2)::

    maximise   Σ_r A^d_r(D_r) − Σ_r [A^s_r(S_r) − s_r S_r] − Σ_ij (t_ij + τ_ij) x_ij
               + f_K K − Σ_{i∈E} (t_iL + τ_iL) y_i
    subject to D_j ≤ Σ_i x_ij                         (p_j, the border price at j)
               Σ_j x_ij + y_i ≤ S_i                     (w_i, the supply price at i)
               Σ_{j∈J_q} x_ij (+ y_i) ≤ Q_q               (ρ_q, licence rent of quota q)
               D_j ≤ D_j(f),  S_j ≥ S_j(f)               (λ_j levy, μ_j top-up: levy floor)
               S_i ≥ S_i(f)                              (μ_i top-up: contract for difference)
               K = Σ_{i∈E} y_i ≤ B / f_K                 (stockpile at L buying at f_K)
               D, S, x, y ≥ 0

``A`` is the area under a curve, ``t`` transport cost, ``τ`` tariffs plus export taxes, ``s``
producer subsidies. Prices are the constraint duals, never re-derived by hand.
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import cvxpy as cp
import numpy as np
import pandas as pd
import scipy.sparse as sp

from . import certificate
from .curves import total_area
from .errors import InaccurateSolutionError, InfeasibleError, ModelInputError, SolverError, UnboundedError
from .market import Market, check_regions
from .policies import ALL, CfdFloor, LevyFloor, Scenario, StockpileFloor
from .result import EquilibriumResult, RawSolution
from .validate import as_number, sweep_arguments

SOLVERS = ("CLARABEL", "OSQP", "SCS", "ECOS", "HIGHS")
SWEEPABLE = ("floor_level", "budget", "external_tariff", "quota", "subsidy")


def _expand(regions: tuple[str, ...], value, exclude: str | None = None) -> list[str]:
    chosen = list(regions) if value == ALL else list(value)
    return [r for r in chosen if r != exclude]


def policy_trade_costs(market: Market, scenario: Scenario, benchmark_prices: pd.Series | None,
                       external_tariff: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Tariff and export-tax matrices ``(τ^imp, τ^exp)`` in USD/kg, origin rows × destination columns.

    Order of application: the scenario's tariffs; then the bloc removes tariffs between members
    and adds its common external tariff on imports into members from non-members. Export taxes
    are the exporter's and are not removed by the bloc. Ad valorem rates are converted to
    specific ones at benchmark prices: ``rate × (P0_i + t_ij)``.
    """
    regions, n = market.regions, market.n
    idx = {r: k for k, r in enumerate(regions)}
    transport = market.transport_cost.to_numpy()
    imp = np.zeros((n, n))
    for k, tariff in enumerate(scenario.tariffs):
        for o in _expand(regions, tariff.origin):
            check_regions(f"tariffs[{k}].origin", o, regions)
            for d in _expand(regions, tariff.destination, exclude=o):
                check_regions(f"tariffs[{k}].destination", d, regions)
                rate = tariff.specific
                if tariff.ad_valorem:
                    if benchmark_prices is None:
                        raise ModelInputError(f"tariffs[{k}].ad_valorem", tariff.ad_valorem,
                                              "0 unless benchmark prices are given to convert it")
                    rate += tariff.ad_valorem * (float(benchmark_prices[o]) + transport[idx[o], idx[d]])
                imp[idx[o], idx[d]] += rate
    bloc = scenario.bloc
    if bloc is not None:
        members = [idx[m] for m in check_regions("bloc.members", bloc.members, regions)]
        outsiders = [k for k in range(n) if k not in members]
        imp[np.ix_(members, members)] = 0.0
        rate = bloc.external_tariff if external_tariff is None else float(external_tariff)
        imp[np.ix_(outsiders, members)] += rate
    exp = np.zeros((n, n))
    for k, tax in enumerate(scenario.export_taxes):
        check_regions(f"export_taxes[{k}].origin", tax.origin, regions)
        for d in _expand(regions, tax.destinations, exclude=tax.origin):
            check_regions(f"export_taxes[{k}].destinations", d, regions)
            exp[idx[tax.origin], idx[d]] += tax.rate
    np.fill_diagonal(imp, 0.0)
    np.fill_diagonal(exp, 0.0)
    return imp, exp


@dataclass
class _FloorBounds:
    """Index arrays and parameters of one levy or CfD floor's bounds."""

    key: int                    # position of the floor in scenario.floors
    floor: LevyFloor | CfdFloor
    demand_pos: np.ndarray      # positions in the D vector
    supply_pos: np.ndarray      # positions in the S vector
    demand_cap: cp.Parameter | None
    supply_min: cp.Parameter | None


class EquilibriumModel:
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

    Examples
    --------
    >>> model = EquilibriumModel(market, Scenario(floors=(LevyFloor(("USA",), 80.0),)))
    >>> result = model.solve()                    # doctest: +SKIP
    >>> result = model.solve(floor_level=90.0)    # same built problem, new parameter value
    """

    def __init__(self, market: Market, scenario: Scenario | None = None,
                 benchmark_prices: pd.Series | None = None, solver: str = "CLARABEL",
                 solver_options: dict | None = None):
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
        self._current = {"floor_level": None, "budget": None, "external_tariff": None,
                         "quota": None, "subsidy": None}
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
        stockpiles = [f for f in sc.floors if isinstance(f, StockpileFloor)]
        if len(stockpiles) > 1:
            raise ModelInputError("scenario.floors", len(stockpiles), "at most one StockpileFloor")
        for k, floor in enumerate(sc.floors):
            if isinstance(floor, StockpileFloor):
                check_regions(f"floors[{k}].location", floor.location, regions)
                if floor.eligible_origins != ALL:
                    check_regions(f"floors[{k}].eligible_origins", floor.eligible_origins, regions)
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

        welfare = total_area(self.D, [m.demand_curve(r) for r in self.demand_regions])
        welfare -= total_area(self.S, [m.supply_curve(r) for r in self.supply_regions])
        welfare += self.subsidy @ self.S
        # Freight and policy costs enter as one variable fixed by an equality (the last constraint):
        # with the n×n Parameter τ in the quadratic objective, cvxpy's canonicalisation builds a
        # dense (#variables × #parameters) matrix, n⁴ entries (~45 s at 200 regions); in a
        # constraint, τ takes one sparse row.
        bill = cp.vec(self.transport + self.policy_cost, order="F") @ cp.vec(self.x, order="F")

        inflow = cp.sum(self.x, axis=0)
        outflow = cp.sum(self.x, axis=1)
        cons: dict[str, cp.Constraint] = {}

        # stockpile (buyer of last resort)
        self.stockpile = next((f for f in sc.floors if isinstance(f, StockpileFloor)), None)
        self.y = None
        if self.stockpile is not None:
            loc = self.idx[self.stockpile.location]
            elig = _expand(regions, self.stockpile.eligible_origins)
            self.y_origins = [self.idx[r] for r in elig]
            self.y = cp.Variable(len(elig), nonneg=True, name="y")
            self.stock_level = cp.Parameter(nonneg=True, name="stockpile_level")
            self.stock_cap = cp.Parameter(nonneg=True, name="stockpile_cap")
            self.My = sp.csr_matrix((np.ones(len(elig)), (self.y_origins, range(len(elig)))), shape=(n, len(elig)))
            y_cost = self.transport[self.y_origins, loc] + self.policy_cost[self.y_origins, loc]
            welfare += self.stock_level * cp.sum(self.y)
            bill = bill + y_cost @ self.y
            outflow = outflow + self.My @ self.y
            cons["stockpile_cap"] = cp.sum(self.y) <= self.stock_cap

        cons["demand_balance"] = self.Md @ self.D <= inflow
        cons["supply_balance"] = outflow <= self.Ms @ self.S

        # export quotas and bans
        self.quota_params, self.quota_masks = [], []
        for k, q in enumerate(sc.quotas):
            o = self.idx[q.origin]
            dests = [self.idx[d] for d in _expand(regions, q.destinations, exclude=q.origin)]
            mask = np.zeros((n, n))
            mask[o, dests] = 1.0
            shipped = cp.sum(cp.multiply(mask, self.x))
            if self.stockpile is not None and self.idx[self.stockpile.location] in dests and o in self.y_origins:
                shipped = shipped + self.y[self.y_origins.index(o)]
            param = cp.Parameter(nonneg=True, name=f"quota_{k}")
            self.quota_params.append(param)
            self.quota_masks.append(mask)
            cons[f"quota[{k}]"] = shipped <= param

        # levy and CfD floors
        self.floor_bounds: list[_FloorBounds] = []
        for k, floor in enumerate(sc.floors):
            if isinstance(floor, StockpileFloor):
                continue
            covers_demand = isinstance(floor, LevyFloor)
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

        self.constraints = cons
        self.objective = welfare
        self.problem = cp.Problem(cp.Maximize(welfare), list(cons.values()))
        if not self.problem.is_dcp(dpp=True):
            raise ModelInputError("problem", "not DPP", "a disciplined parametrised convex programme")

    # ------------------------------------------------------------------ parameters
    def _apply(self, **updates) -> None:
        """Set every parameter from the scenario and the overrides ``updates``."""
        for key, value in updates.items():
            if key not in SWEEPABLE:
                raise ModelInputError("parameter", key, f"one of {SWEEPABLE}")
            if value is not None:
                allowed = {"floor_level": "a positive price (USD/kg)", "budget": "a non-negative budget (USD million)",
                           "external_tariff": "a non-negative tariff (USD/kg)", "quota": "a non-negative quantity (kt)",
                           "subsidy": "a non-negative subsidy (USD/kg)"}[key]
                v = as_number(key, value, allowed)
                if v < 0 or (key == "floor_level" and v == 0):
                    raise ModelInputError(key, value, allowed)
            self._current[key] = value
        cur = self._current
        if not updates or "external_tariff" in updates:
            imp, exp = policy_trade_costs(self.market, self.scenario, self.benchmark_prices,
                                          cur["external_tariff"])
            self.tariff_matrix, self.export_tax_matrix = imp, exp
            self.policy_cost.value = imp + exp
            self._trade_cost = self.transport + imp + exp
        rates = self.subsidy_rates if cur["subsidy"] is None else np.where(self.subsidised, cur["subsidy"], 0.0)
        self.subsidy.value = rates
        for k, q in enumerate(self.scenario.quotas):
            self.quota_params[k].value = q.quantity if cur["quota"] is None else float(cur["quota"])
        for fb in self.floor_bounds:
            level = fb.floor.level if cur["floor_level"] is None else float(cur["floor_level"])
            if fb.demand_cap is not None:
                fb.demand_cap.value = np.array([
                    self.market.demand_curve(self.demand_regions[p]).quantity_at(level) for p in fb.demand_pos])
            if fb.supply_min is not None:
                fb.supply_min.value = np.array([
                    self.market.supply_curve(self.supply_regions[p]).quantity_at(level + rates[p])
                    for p in fb.supply_pos])
        if self.stockpile is not None:
            level = self.stockpile.level if cur["floor_level"] is None else float(cur["floor_level"])
            budget = self.stockpile.budget if cur["budget"] is None else float(cur["budget"])
            self.stock_level.value = level
            self.stock_cap.value = budget / level

    # ------------------------------------------------------------------ solve
    def _solve_raw(self) -> tuple[float, float]:
        """Solve the built problem; raise a typed error unless the solution is optimal and accurate.

        With Clarabel at the tightened tolerances, a failure or an inaccurate stop is retried
        once at Clarabel's own defaults; ``self.last_tolerance`` records which one was used.
        """
        try:
            self.last_tolerance = "tight" if self._tightened else "solver default"
            return self._attempt(self.solver_options)
        except (InaccurateSolutionError, SolverError) as exc:
            if not self._tightened or isinstance(exc, (InfeasibleError, UnboundedError)):
                raise
            self.last_tolerance = "solver default"
            relaxed = {**self.solver_options, **{k: 1e-8 for k in self._tightened}}
            return self._attempt(relaxed)

    def _attempt(self, options: dict) -> tuple[float, float]:
        try:
            with warnings.catch_warnings():
                # cvxpy warns on inaccurate / infeasible-or-unbounded statuses; we raise a typed
                # error for those below instead (a warning would escape, or under -W error
                # pre-empt the typed error).
                warnings.filterwarnings("ignore", message="Solution may be inaccurate", category=UserWarning)
                warnings.filterwarnings("ignore", message="(?s).*infeasible or unbounded", category=UserWarning)
                self.problem.solve(solver=self.solver, **options)
        except cp.error.SolverError as exc:
            raise SolverError("solver_error", f"the solver failed ({exc}); try solver='SCS' or check "
                              "that curves and costs are scaled in USD/kg and kt", self.solver) from exc
        status = self.problem.status
        if status == cp.OPTIMAL:
            stats = self.problem.solver_stats
            return float(self.problem.value), float(stats.solve_time or 0.0)
        hint = {
            cp.INFEASIBLE: "no feasible point: check that floor bounds, quotas and bans are compatible",
            cp.INFEASIBLE_INACCURATE: "probably infeasible: check floor bounds, quotas and bans",
            cp.UNBOUNDED: "unbounded: a demand curve may slope upward or a supply curve downward",
            cp.UNBOUNDED_INACCURATE: "probably unbounded: check the curves' slopes",
            cp.OPTIMAL_INACCURATE: "the solver stopped short of its tolerance: rescale the inputs (kt, USD/kg) or try another solver",
        }.get(status, "the solver stopped without a solution: try another solver")
        kind = {cp.INFEASIBLE: InfeasibleError, cp.INFEASIBLE_INACCURATE: InfeasibleError,
                cp.UNBOUNDED: UnboundedError, cp.UNBOUNDED_INACCURATE: UnboundedError,
                cp.OPTIMAL_INACCURATE: InaccurateSolutionError}.get(status, SolverError)
        raise kind(str(status), hint, self.solver)

    def _raw(self, objective: float, solve_time: float) -> RawSolution:
        n = self.market.n
        levy = np.zeros(n)
        topup = np.zeros(n)
        cfd_topup = np.zeros(n)
        for fb in self.floor_bounds:
            k = fb.key
            if fb.demand_cap is not None:
                dual = self.constraints[f"floor_demand[{k}]"].dual_value
                for p, v in zip(fb.demand_pos, np.atleast_1d(dual)):
                    levy[self.idx[self.demand_regions[p]]] += v
            if fb.supply_min is not None:
                dual = self.constraints[f"floor_supply[{k}]"].dual_value
                target = topup if isinstance(fb.floor, LevyFloor) else cfd_topup
                for p, v in zip(fb.supply_pos, np.atleast_1d(dual)):
                    target[self.idx[self.supply_regions[p]]] += v
        quota_rent = np.array([float(self.constraints[f"quota[{k}]"].dual_value)
                               for k in range(len(self.quota_params))])
        y = np.zeros(n)
        stock_price = 0.0
        if self.stockpile is not None:
            y[self.y_origins] = self.y.value
            stock_price = float(self.stock_level.value - self.constraints["stockpile_cap"].dual_value)
        border = np.asarray(self.constraints["demand_balance"].dual_value, dtype=float).copy()
        supply_price = np.asarray(self.constraints["supply_balance"].dual_value, dtype=float).copy()
        # A region without a curve on one side has an indeterminate dual there; report the
        # tightest no-arbitrage value: the landed price (no demand) or the best netback (no supply).
        cost = self._trade_cost
        binding = certificate.binding_quotas(self)
        demand, supply, subsidy = self.Md @ self.D.value, self.Ms @ self.S.value, self.Ms @ self.subsidy.value
        certificate.settle_indeterminate_prices(self.market, cost, certificate.open_arcs(self, binding), demand,
                                                supply, np.asarray(self.x.value), border, supply_price, subsidy)
        sellers = [self.idx[r] for r in self.supply_regions] or list(range(self.market.n))
        for k in self._no_demand:          # landed from a region that can ship (one with supply)
            border[k] = float(np.min(supply_price[sellers] + cost[sellers, k]))
        for k in self._no_supply:
            supply_price[k] = float(np.max(border - cost[k, :]))
        # Where two bounds on one quantity bind together (a ban: x <= 0 with x >= 0; a zero
        # stockpile budget; a floor whose quantity bound is zero), a policy constraint's dual is
        # anywhere above the smallest value that supports the equilibrium, and the solver returns
        # arbitrary numbers (thousands of USD/kg). Report that smallest value; where the dual is
        # determined, this changes nothing (to solver tolerance).
        margin = border[None, :] - supply_price[:, None] - cost          # p_j - w_i - c_ij
        loc = self.idx[self.stockpile.location] if self.stockpile is not None else -1
        for k, mask in enumerate(self.quota_masks):
            gaps = margin[mask > 0]
            if self.stockpile is not None:
                rows = [o for o in self.y_origins if mask[o, loc] > 0]
                gaps = np.append(gaps, stock_price - supply_price[rows] - cost[rows, loc])
            smallest = max(0.0, float(np.max(gaps, initial=0.0)))
            # a binding quota's rent is exactly the widest price gap it holds open, whatever dual
            # an inaccurate solver returns; a slack one's is zero (to tolerance)
            quota_rent[k] = smallest if binding[k] else min(quota_rent[k], smallest)
        if self.stockpile is not None:
            landed = supply_price[self.y_origins] + cost[self.y_origins, loc]
            for mask, rho in zip(self.quota_masks, quota_rent):
                landed = landed + rho * mask[self.y_origins, loc]
            stock_price = max(stock_price, min(float(self.stock_level.value), float(landed.min())))
            # a region without supply could sell to the stockpile too: its best netback includes it
            closed = getattr(self, "closed_stockpile_origins", np.zeros(len(self.y_origins), dtype=bool))
            for k, o in enumerate(self.y_origins):
                if o in self._no_supply and not closed[k]:
                    supply_price[o] = max(supply_price[o], stock_price - (landed[k] - supply_price[o]))
        level = self._current["floor_level"]
        for fb in self.floor_bounds:
            f = fb.floor.level if level is None else float(level)
            for r in fb.floor.regions:
                k = self.idx[r]
                if isinstance(fb.floor, LevyFloor):
                    levy[k] = min(levy[k], max(0.0, f - border[k]))
                    topup[k] = min(topup[k], max(0.0, f - supply_price[k]))
                else:
                    cfd_topup[k] = min(cfd_topup[k], max(0.0, f - supply_price[k]))
                # A floor whose quantity bound is zero (above the choke price, below the entry
                # price) leaves its dual anywhere above a threshold: report the wedge that makes
                # the region's buyers or sellers face the floor, max(p, f) or max(w, f).
                d, c = self.market.demand_curve(r), self.market.supply_curve(r)
                if isinstance(fb.floor, LevyFloor) and d is not None and d.quantity_at(f) == 0:
                    levy[k] = max(0.0, f - border[k])
                if c is not None and c.quantity_at(f) == 0:
                    target = topup if isinstance(fb.floor, LevyFloor) else cfd_topup
                    target[k] = max(0.0, f - supply_price[k])
        raw = RawSolution(
            demand=demand, supply=supply, flows=np.array(self.x.value),
            border_price=border, supply_price=supply_price,
            levy=levy, levy_topup=topup, cfd_topup=cfd_topup,
            subsidy=subsidy, tariff=self.tariff_matrix,
            export_tax=self.export_tax_matrix, transport=self.transport,
            quota_rent=quota_rent, quota_masks=list(self.quota_masks),
            stockpile_purchases=y, stockpile_price=stock_price,
            stockpile_level=float(self.stock_level.value) if self.stockpile is not None else 0.0,
            stockpile_cap=float(self.stock_cap.value) if self.stockpile is not None else 0.0,
            stockpile_location=self.stockpile.location if self.stockpile is not None else None,
            objective=objective, solve_time=solve_time,
            _loc_index=self.idx[self.stockpile.location] if self.stockpile is not None else -1)
        raw.check_finite()
        if certificate.ENABLED:
            raw.certificate = certificate.certify(self.market, self._trade_cost, raw,
                                                  certificate.policy_checks(self, raw), solver=self.solver,
                                                  closed_arcs=getattr(self, "closed_arcs", None))
        return raw

    def solve(self, **updates) -> EquilibriumResult:
        """Solve with the scenario's values, or with the overrides ``updates`` (see ``SWEEPABLE``).

        Overrides persist on the model until changed again. An override of a policy the scenario
        does not hold (``budget`` without a stockpile floor, ``external_tariff`` without a bloc,
        ``quota`` without a quota, ``subsidy`` without a subsidised region, ``floor_level``
        without a floor) has no effect, so that one set of values can drive models of different
        instruments side by side.
        """
        self._apply(**updates)
        objective, solve_time = self._solve_raw()
        return EquilibriumResult(self.market, self.scenario, self._raw(objective, solve_time),
                                 solver=self.solver, parameters=dict(self._current))

    def sweep(self, name: str, values, fields=("border_price", "consumer_price", "producer_price",
                                                 "demand", "supply", "net_exports")) -> "SweepResult":
        """Re-solve the built problem for each value of parameter ``name``.

        Returns a :class:`SweepResult` whose ``table`` is a long DataFrame with columns
        ``value, region, <fields>``, plus per-step totals (objective, stockpile purchases) and the
        wall and solver times.
        """
        values, fields = sweep_arguments(name, values, fields, SWEEPABLE)
        saved = self._current[name]
        rows, totals, solver_time = [], [], 0.0
        from .fastpath import fast_problem
        problem = self.problem
        start = time.perf_counter()
        try:
            # With Clarabel, a stand-in for the problem re-solves it by updating only the solver's
            # q and b (models/fastpath.py); None: every step goes through cvxpy's Problem.solve.
            self.problem = fast_problem(self) or problem
            for v in values:
                self._apply(**{name: v})
                objective, st = self._solve_raw()
                solver_time += st
                raw = self._raw(objective, st)
                table = raw.region_arrays()
                rows.append(np.column_stack([table[f] for f in fields]))
                totals.append((objective, raw.stockpile_purchases.sum(), raw.stockpile_price))
        finally:
            self.problem = problem
            self._apply(**{name: saved})
        wall = time.perf_counter() - start
        n = self.market.n
        data = np.vstack(rows)
        table = pd.DataFrame(data, columns=list(fields))
        table.insert(0, "region", np.tile(self.market.regions, len(values)))
        table.insert(0, name, np.repeat(values, n))
        tot = pd.DataFrame(totals, columns=["objective", "stockpile_purchases", "stockpile_price"])
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
