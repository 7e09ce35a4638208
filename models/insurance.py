r"""The insurance value of a stockpile (MODEL.md §4 "Stockpile" (b)): world and bloc optimum.

Notation: minerals ``m``, regions ``r``, disruption scenarios ``ω`` (annual probability ``π_ω``,
duration ``T_ω`` years, :mod:`models.insurance_data`), stockpile location ``L``, purchase years
``N``, holding horizon ``H``. All money is USD million summed, undiscounted, over the purchase
years and the horizon.

**Stage 1, the purchase moves the price.** The inventory ``I_m`` is bought over ``N`` years,
``I_m / N`` a year, as an extra demand at ``L`` in the benchmark market; the price it pays is that
equilibrium's price at ``L``, ``p^0_{Lm}``, and every other buyer pays more too.

**Stage 2, release.** Disruption ``ω`` (the first within the horizon, weight ``q_ω``; see
:func:`~models.insurance_data.scenario_weights`) caps the origin's exports to its destinations at
``(1 − s_ω) X0`` for ``T_ω`` consecutive identical years; the stockpile releases ``R_{mω}`` a year,
``T_ω R_{mω} ≤ I_m``. Identical years and no discounting make the equal split optimal (the
welfare of a year is concave in its release), so one year is solved and counted ``T_ω`` times.

**World optimum** (one convex programme, what competitive storage would hold)::

    max  Σ_m [ N W^0_m(I_m/N) − c h̄ P0_m I_m + v_m I_m
               + Σ_ω q_ω T_ω (W_{mω}(R_{mω}) − v_m R_{mω}) ]
    W^0_m(k) = max Σ_r A^d(D_r) − Σ_r A^s(S_r) − Σ_ij (t_ij + τ_ij) x_ij
               s.t. D_j + 1[j=L] k ≤ Σ_i x_ij,  Σ_j x_ij ≤ S_i                (N p^0_j, N w^0_i)
    W_{mω}(R) = the same with Σ_j x_ij ≤ S_i + 1[i=L] R                  (q_ω T_ω p_j, … w_i)
               and Σ_{j∈J_ω} x_{o_ω j} ≤ (1 − s_ω) X0_{o_ω J_ω}             (q_ω T_ω ρ_ω)
    s.t. T_ω R_{mω} ≤ I_m,  budget: Σ_m P0_m I_m ≤ B  (or P0_m I_m ≤ B_m per mineral)

``c`` is the carrying cost a year (share of ``P0``), ``h̄`` the expected years held, ``v_m`` the
value of inventory left at the end of the horizon (default 0: inventory never released is not
valued, MODEL.md §3). **Budget convention**: the constraint prices the inventory at the benchmark
``P0`` (the cost at the first-stage price, ``p^0_L(I/N) I``, is bilinear and would make the
programme non-convex); the actual outlay is reported beside it, with their gap
(:attr:`InsuranceResult.budget_gap`).

**Bloc optimum** (a bilevel problem solved by search): with ``I_m`` fixed (a ``cp.Parameter``) the
same programme, less the budget, gives the competitive equilibrium of both stages; the members'
expected welfare is their consumer and producer surplus, tax and licence revenue in both stages,
plus the stockpile's account, which they pay::

    ΔB_m(I) = Σ_{r∈M} ΔU_{rm}(I) − p^0_{Lm} I − c h̄ P0_m I + Σ_ω q_ω T_ω w_{Lmω} R_{mω}
              + v_m (I − Σ_ω q_ω T_ω R_{mω})

Each mineral is evaluated on a grid of ``K + 1`` levels from 0 to its budget at ``P0`` (step
``B_m / (K P0_m)``, capped at :data:`GRID_CAP` years of world consumption) plus the world
optimum's level; the allocation across minerals under a total
budget is exact on the grid (a Pareto merge of (cost, welfare) pairs). The grid is then refined:
``K`` steps over the two coarse steps around each mineral's choice (step ``2 B_m / (K² P0_m)``), and
the allocation is redone on the union. Between grid points the search can miss at most
``grid_error`` (reported: the change of bloc welfare to the neighbouring levels, a bound if bloc
welfare is single-peaked in ``I_m``).

**Certification.** After every solve, each market block is checked from its primal values and
curves: market clearing and no spatial arbitrage (``p_j ≤ w_i + t_ij + τ_ij + ρ`` on every arc,
equality on arcs that carry flow), with prices read off the curves where quantities are positive.
A breach beyond :data:`~models.insurance_report.PRICE_TOL` (relative to the benchmark price) or
:data:`~models.insurance_report.QUANTITY_TOL`
(relative to world output) raises :class:`~models.errors.InaccurateSolutionError` naming it.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Mapping, Sequence

import cvxpy as cp
import numpy as np
import pandas as pd
import scipy.sparse as sp

from .calibration import Benchmark
from .curves import total_area
from .equilibrium import policy_trade_costs
from .validate import nonneg_number
from .errors import InaccurateSolutionError, InfeasibleError, ModelInputError, SolverError, UnboundedError
from .insurance_data import (BLOC_CORE, HOLDING_YEARS, PURCHASE_YEARS, Disruption, default_disruptions,
                             scenario_weights)
from .insurance_report import evaluate_mineral, pareto_allocation, read_block, result_tables
from .market import check_regions
from .policies import ALL

#: The bloc search stops at this many years of world consumption per year of the longest
#: disruption (or the budget, if smaller). assumption: a larger stock than the world uses in the
#: disruption is beyond what any bloc would hold; the world optimum's level is always searched.
GRID_CAP = 1.0
#: Inventories worth less than this at the benchmark price (USD million) are solver noise.
VALUE_NOISE = 1.0e-2


@dataclass
class Block:
    """One market inside the programme: the purchase years (``scenario = None``) or a disruption."""

    mineral: str
    scenario: int | None
    scale: cp.Parameter | float      # the weight on this block's welfare (N or q_ω T_ω)
    D: cp.Variable
    S: cp.Variable
    x: cp.Variable
    R: cp.Variable | None
    demand_balance: cp.Constraint
    supply_balance: cp.Constraint
    quota: cp.Constraint | None
    quota_mask: np.ndarray | None
    extra_demand: cp.Expression | None  # I/N at L in the purchase years


class InsuranceModel:
    """The stockpile's insurance model (see the module docstring for the equations).

    Parameters
    ----------
    benchmarks : mapping mineral -> Benchmark
        Calibrated markets on the same regions (short-run elasticities for a disruption).
    disruptions : sequence of Disruption, optional
        Default: ``data/disruptions.csv``.
    budget : float or mapping mineral -> float
        USD million over the purchase years. A float is one total the model allocates; a mapping
        (e.g. ``vault_budgets(ds)["budget_musd"]``) caps each mineral (missing minerals get 0).
    location : str
    members : sequence of str
        The bloc whose welfare the bloc optimum maximises and who pays for the stockpile.
    carrying_cost : float
        ``c``, share of ``P0`` a year (financing and storage).
    residual_value : float
        ``v_m / P0_m`` for inventory left at the end of the horizon (default 0, MODEL.md §3).
    purchase_years, holding_years : int
        ``N`` and ``H``.
    purchase_benchmarks : mapping mineral -> Benchmark, optional
        Markets for the purchase years (e.g. long-run elasticities); default ``benchmarks``.
    grid_points : int
        ``K``, levels of the bloc search per mineral besides 0.
    solver : str
    solver_options : mapping, optional
        Passed to every solve (e.g. Clarabel's ``tol_feas``); default: the solver's own defaults.
    """

    def __init__(self, benchmarks: Mapping[str, Benchmark], disruptions: Sequence[Disruption] | None = None,
                 budget: float | Mapping[str, float] = 12_000.0, location: str = "USA",
                 members: Sequence[str] = BLOC_CORE, carrying_cost: float = 0.05, residual_value: float = 0.0,
                 purchase_years: int = PURCHASE_YEARS, holding_years: int = HOLDING_YEARS,
                 purchase_benchmarks: Mapping[str, Benchmark] | None = None, grid_points: int = 20,
                 solver: str = "CLARABEL", solver_options: Mapping | None = None):
        if not isinstance(benchmarks, Mapping) or not benchmarks:
            raise ModelInputError("benchmarks", type(benchmarks).__name__, "a non-empty mapping mineral -> Benchmark")
        purchase_benchmarks = benchmarks if purchase_benchmarks is None else purchase_benchmarks
        for label, group in (("benchmarks", benchmarks), ("purchase_benchmarks", purchase_benchmarks)):
            for m, b in group.items():
                if not isinstance(b, Benchmark):
                    raise ModelInputError(f"{label}[{m}]", type(b).__name__, "a models.Benchmark")
                if b.market.mineral != m:
                    raise ModelInputError(f"{label}[{m}]", b.market.mineral, f"the benchmark of {m!r}")
        self.benchmarks = dict(benchmarks)
        self.minerals = list(self.benchmarks)
        if set(purchase_benchmarks) != set(self.minerals):
            raise ModelInputError("purchase_benchmarks", sorted(purchase_benchmarks), f"the minerals {self.minerals}")
        self.purchase_benchmarks = dict(purchase_benchmarks)
        self.regions = tuple(self.benchmarks[self.minerals[0]].market.regions)
        for m in self.minerals:
            for b in (self.benchmarks[m], self.purchase_benchmarks[m]):
                if tuple(b.market.regions) != self.regions:
                    raise ModelInputError(f"benchmarks[{m}].regions", b.market.regions, f"the regions {self.regions}")
            if not np.allclose(self.benchmarks[m].prices, self.purchase_benchmarks[m].prices, rtol=1e-9):
                raise ModelInputError(f"purchase_benchmarks[{m}].prices", "differ", "the same benchmark prices")
        self.location = check_regions("location", location, self.regions)[0]
        self.members = check_regions("members", members, self.regions)
        self.disruptions = tuple(default_disruptions() if disruptions is None else disruptions)
        if not self.disruptions:
            raise ModelInputError("disruptions", self.disruptions, "at least one Disruption")
        names = [getattr(d, "name", d) for d in self.disruptions]
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
        self.durations = np.array([d.duration_years for d in self.disruptions], dtype=float)
        self._check_probabilities(np.array([d.probability for d in self.disruptions]))
        self.carrying_cost = nonneg_number("carrying_cost", carrying_cost, "a share of P0 per year")
        self.residual_share = nonneg_number("residual_value", residual_value, "a share of P0")
        if self.residual_share > 1:
            raise ModelInputError("residual_value", residual_value, "at most 1 (a later sale at the benchmark price)")
        for name, val in (("purchase_years", purchase_years), ("holding_years", holding_years),
                          ("grid_points", grid_points)):
            if isinstance(val, bool) or not float(val).is_integer() or int(val) < 1:
                raise ModelInputError(name, val, "a whole number >= 1")
        self.N, self.H, self.K = int(purchase_years), int(holding_years), int(grid_points)
        self.solver = str(solver).upper()
        if self.solver not in cp.installed_solvers():
            raise ModelInputError("solver", solver, f"an installed solver among {cp.installed_solvers()}")
        if solver_options is not None and not isinstance(solver_options, Mapping):
            raise ModelInputError("solver_options", type(solver_options).__name__, "a mapping of solver settings")
        self.solver_options = dict(solver_options or {})
        loc = self.regions.index(self.location)
        self.P0 = pd.Series({m: float(b.prices.iloc[loc]) for m, b in self.benchmarks.items()}, name="P0")
        self.v = self.P0 * self.residual_share
        self.per_mineral = isinstance(budget, (Mapping, pd.Series))
        self.default_budget = self._check_budget(budget)
        self.q = cp.Parameter(len(self.disruptions), nonneg=True, name="q")
        self.carry = cp.Parameter(nonneg=True, name="carry")
        self.budget = cp.Parameter(len(self.minerals) if self.per_mineral else (), nonneg=True, name="budget")
        self.pi = None
        self._set_probabilities(np.array([d.probability for d in self.disruptions]))
        self._build()

    # ------------------------------------------------------------------ validation
    def _check_budget(self, budget):
        if self.per_mineral:
            budget = dict(budget.items())
            extra = [m for m in budget if m not in self.minerals]
            if extra:
                raise ModelInputError("budget", extra, f"minerals among {self.minerals}")
            return np.array([nonneg_number(f"budget[{m}]", budget.get(m, 0.0), "USD million") for m in self.minerals])
        return nonneg_number("budget", budget, "USD million")

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

    def _set_probabilities(self, probabilities) -> np.ndarray:
        names = [d.name for d in self.disruptions]
        if isinstance(probabilities, Mapping):
            unknown = [k for k in probabilities if k not in names]
            if unknown:
                raise ModelInputError("probabilities", unknown, f"scenario names among {names}")
            p = np.array([float(probabilities.get(n, self.pi[k])) for k, n in enumerate(names)])
        else:
            p = np.asarray(probabilities, dtype=float)
        self.pi = self._check_probabilities(p)
        q, hbar = scenario_weights(self.pi, self.H)
        self.q.value, self.carry.value, self.hbar = q, self.carrying_cost * hbar, hbar
        return self.pi

    # ------------------------------------------------------------------ build
    def _market(self, m: str, bench: Benchmark, scale, scenario: int | None, inv) -> tuple[Block, cp.Expression, list]:
        """One market block and its weighted welfare ``scale · W``::

            W = Σ_r A^d_r(D_r) − Σ_r A^s_r(S_r) − Σ_ij (t_ij + τ_ij) x_ij
            D_j + 1[j=L] I/N ≤ Σ_i x_ij,  Σ_j x_ij ≤ S_i                 (purchase years)
            D_j ≤ Σ_i x_ij,  Σ_j x_ij ≤ S_i + 1[i=L] R,  T R ≤ I,
            Σ_{j∈J} x_{oj} ≤ (1 − s) X0_{oJ}                              (disruption)
        """
        n, loc = len(self.regions), self.regions.index(self.location)
        market = bench.market
        idx = {r: i for i, r in enumerate(self.regions)}
        dreg = [r for r in self.regions if market.demand_curve(r) is not None]
        sreg = [r for r in self.regions if market.supply_curve(r) is not None]
        Md = sp.csr_matrix((np.ones(len(dreg)), ([idx[r] for r in dreg], range(len(dreg)))), shape=(n, len(dreg)))
        Ms = sp.csr_matrix((np.ones(len(sreg)), ([idx[r] for r in sreg], range(len(sreg)))), shape=(n, len(sreg)))
        eL = np.zeros(n)
        eL[loc] = 1.0
        tag = "purchase" if scenario is None else self.disruptions[scenario].name
        D = cp.Variable(len(dreg), nonneg=True, name=f"D[{m},{tag}]")
        S = cp.Variable(len(sreg), nonneg=True, name=f"S[{m},{tag}]")
        x = cp.Variable((n, n), nonneg=True, name=f"x[{m},{tag}]")
        welfare = (total_area(D, [market.demand_curve(r) for r in dreg])
                   - total_area(S, [market.supply_curve(r) for r in sreg])
                   - cp.sum(cp.multiply(self.trade_cost[m], x)))
        cons, R, quota, mask, extra = [], None, None, None, None
        if scenario is None:
            extra = inv / self.N
            db = Md @ D + eL * extra <= cp.sum(x, axis=0)
            sb = cp.sum(x, axis=1) <= Ms @ S
        else:
            d = self.disruptions[scenario]
            R = cp.Variable(nonneg=True, name=f"R[{m},{tag}]")
            db = Md @ D <= cp.sum(x, axis=0)
            sb = cp.sum(x, axis=1) <= Ms @ S + eL * R
            o = idx[d.origin]
            dests = [j for j in (range(n) if d.destinations == ALL else [idx[r] for r in d.destinations]) if j != o]
            mask = np.zeros((n, n))
            mask[o, dests] = 1.0
            quota = cp.sum(cp.multiply(mask, x)) <= (1.0 - d.cut_share) * float((mask * self.base_exports[m]).sum())
            cons += [quota, d.duration_years * R <= inv]
        cons += [db, sb]
        block = Block(m, scenario, scale, D, S, x, R, db, sb, quota, mask, extra)
        block.dreg, block.sreg, block.bench = dreg, sreg, bench
        return block, scale * welfare, cons

    def _mineral(self, k: int, inv, fixed: bool = False) -> tuple[list[Block], cp.Expression, list]:
        """The blocks of mineral ``k`` given its inventory ``inv`` (a variable, or a parameter when
        ``fixed``: then the terms in ``I`` alone, ``(v − c h̄ P0) I``, are left out of the objective)::

            N W^0(I/N) − c h̄ P0 I + v I + Σ_{ω hits m} q_ω T_ω (W_ω(R_ω) − v R_ω)
        """
        m = self.minerals[k]
        p0, v = float(self.P0[m]), float(self.v[m])
        block, obj, cons = self._market(m, self.purchase_benchmarks[m], float(self.N), None, inv)
        blocks = [block]
        if not fixed:
            obj = obj - self.carry * p0 * inv + v * inv
        for w, d in enumerate(self.disruptions):
            if not d.hits(m):
                continue
            scale = self.q[w] * float(d.duration_years)
            block, wobj, wcons = self._market(m, self.benchmarks[m], scale, w, inv)
            blocks.append(block)
            obj = obj + wobj - v * scale * block.R
            cons += wcons
        return blocks, obj, cons

    def _build(self) -> None:
        self.trade_cost, self.policy_matrix, self.base_exports = {}, {}, {}
        for m in self.minerals:
            bench = self.benchmarks[m]
            sc = bench.base_scenario
            if sc.quotas or sc.floors or sc.subsidies:
                raise ModelInputError(f"benchmarks[{m}].base_scenario", sc.name,
                                      "a base scenario of tariffs and export taxes only")
            imp, exp = policy_trade_costs(bench.market, sc, bench.prices)
            self.trade_cost[m] = bench.market.transport_cost.to_numpy() + imp + exp
            self.policy_matrix[m] = (imp, exp)
            flows = bench.flows.to_numpy().copy()
            np.fill_diagonal(flows, 0.0)
            self.base_exports[m] = flows
        nm = len(self.minerals)
        self.I = cp.Variable(nm, nonneg=True, name="I")
        self.world_blocks, objective, cons = [], 0, []
        for k in range(nm):
            blocks, obj, c = self._mineral(k, self.I[k])
            self.world_blocks += blocks
            objective, cons = objective + obj, cons + c
        p0 = self.P0.to_numpy()
        cons.append(cp.multiply(p0, self.I) <= self.budget if self.per_mineral else p0 @ self.I <= self.budget)
        self.problem = cp.Problem(cp.Maximize(objective), cons)
        self.fixed = {}
        for k, m in enumerate(self.minerals):    # the same markets with the inventory fixed
            level = cp.Parameter(nonneg=True, name=f"I[{m}]")
            blocks, obj, c = self._mineral(k, level, fixed=True)
            self.fixed[m] = (level, blocks, cp.Problem(cp.Maximize(obj), c))
        for prob in [self.problem] + [f[2] for f in self.fixed.values()]:
            if not prob.is_dcp(dpp=True):  # pragma: no cover - a construction error
                raise ModelInputError("problem", "not DPP", "a disciplined parametrised convex programme")

    # ------------------------------------------------------------------ solve and certify
    def _solve(self, problem: cp.Problem) -> float:
        try:
            problem.solve(solver=self.solver, **self.solver_options)
        except cp.error.SolverError as exc:
            raise SolverError("solver_error", f"the solver failed ({exc}); try solver='SCS'", self.solver) from exc
        if problem.status == cp.OPTIMAL:
            return float(problem.value)
        kind = {cp.INFEASIBLE: InfeasibleError, cp.INFEASIBLE_INACCURATE: InfeasibleError,
                cp.UNBOUNDED: UnboundedError, cp.UNBOUNDED_INACCURATE: UnboundedError,
                cp.OPTIMAL_INACCURATE: InaccurateSolutionError}.get(problem.status, SolverError)
        raise kind(str(problem.status), "check budget, probabilities and the benchmarks' curves", self.solver)

    def read_block(self, b: Block) -> dict:
        """Primal values, prices and per-region welfare of one block, certified
        (:func:`~models.insurance_report.read_block`)."""
        return read_block(self, b)

    def evaluate(self, mineral: str, level: float) -> dict:
        """Solve mineral ``mineral``'s markets with the inventory fixed at ``level`` kt (parametric
        re-solve) and return its certified blocks and accounts (:func:`~models.insurance_report.evaluate_mineral`)."""
        param, blocks, problem = self.fixed[mineral]
        param.value = nonneg_number(f"inventory[{mineral}]", level, "kt")
        obj = self._solve(problem)
        return evaluate_mineral(self, mineral, float(param.value), [self.read_block(b) for b in blocks], blocks, obj)

    def solve(self, budget=None, probabilities=None, bloc: bool = True) -> "InsuranceResult":
        """Solve the world optimum and (``bloc=True``) search for the bloc optimum.

        ``budget`` (float, or mapping when built with one) and ``probabilities`` (array in scenario
        order or mapping name -> annual probability) persist on the model until changed.
        """
        start = time.perf_counter()
        if budget is not None:
            if isinstance(budget, (Mapping, pd.Series)) != self.per_mineral:
                raise ModelInputError("budget", budget, "the same kind (total or per mineral) the model was built with")
            self.default_budget = self._check_budget(budget)
        if probabilities is not None:
            self._set_probabilities(probabilities)
        self.budget.value = self.default_budget
        self._solve(self.problem)
        raw = np.asarray(self.I.value, dtype=float)
        world = pd.Series(np.where(raw * self.P0.to_numpy() > VALUE_NOISE, np.maximum(raw, 0.0), 0.0),
                          index=pd.Index(self.minerals, name="mineral"), name="inventory_kt")
        base = {m: self.evaluate(m, 0.0) for m in self.minerals}
        at_world = {m: self.evaluate(m, world[m]) for m in self.minerals}
        grid, choice = None, world.copy()
        if bloc:
            grid, choice = self._bloc_search(world, base, at_world)
        at_bloc = {m: (at_world[m] if choice[m] == world[m] else self.evaluate(m, choice[m])) for m in self.minerals}
        return result_tables(self, world, choice, base, at_world, at_bloc, grid, time.perf_counter() - start)

    def _bloc_search(self, world: pd.Series, base: dict, at_world: dict):
        caps = (self.default_budget if self.per_mineral
                else np.full(len(self.minerals), float(self.default_budget))) / self.P0.to_numpy()
        # no grid beyond a year of world consumption per disruption year (GRID_CAP)
        longest = float(self.durations.max())
        world_use = np.array([float(self.benchmarks[m].consumption.sum()) for m in self.minerals])
        caps = np.minimum(caps, GRID_CAP * longest * world_use)
        cache = {m: {0.0: base[m], float(world[m]): at_world[m]} for m in self.minerals}

        def rows_for(k, m, levels):
            out = []
            for lv in levels:
                if lv not in cache[m]:
                    cache[m][lv] = self.evaluate(m, lv)
                ev = cache[m][lv]
                out.append({"mineral": m, "inventory_kt": lv, "cost_at_benchmark_musd": lv * self.P0[m],
                            "d_world": ev["d_world"] - base[m]["d_world"], "d_bloc": ev["d_bloc"] - base[m]["d_bloc"]})
            return out

        budget = None if self.per_mineral else float(self.default_budget)
        step = caps / self.K
        rows = []
        for k, m in enumerate(self.minerals):      # coarse: K steps from 0 to the cap
            rows += rows_for(k, m, sorted(set(np.linspace(0.0, caps[k], self.K + 1).tolist()) | {float(world[m])}))
        choice = pareto_allocation(pd.DataFrame(rows), self.minerals, budget)
        for k, m in enumerate(self.minerals):      # fine: K steps over the two coarse steps around the choice
            lo, hi = max(0.0, choice[k] - step[k]), min(caps[k], choice[k] + step[k])
            rows += rows_for(k, m, [lv for lv in np.linspace(lo, hi, self.K + 1).tolist() if lv not in cache[m]])
        grid = pd.DataFrame(rows).drop_duplicates(["mineral", "inventory_kt"]).sort_values(["mineral", "inventory_kt"])
        choice = pareto_allocation(grid, self.minerals, budget)
        grid.attrs["step_kt"] = pd.Series(2 * step / self.K, index=self.minerals)
        return grid.reset_index(drop=True), pd.Series(choice, index=pd.Index(self.minerals, name="mineral"),
                                                      name="inventory_kt")

    def sweep(self, name: str, values, scenario: str | None = None, bloc: bool = False) -> pd.DataFrame:
        """Re-solve for each value of ``"budget"`` (a total, USD million, or a multiple of the
        per-mineral budgets) or ``"probability"`` (annual, of ``scenario``); one row per value:
        inventory by mineral (kt), cost at ``P0``, world value and bloc welfare change (USD million)."""
        if name not in ("budget", "probability"):
            raise ModelInputError("sweep parameter", name, "'budget' or 'probability'")
        names = [d.name for d in self.disruptions]
        if name == "probability" and scenario not in names:
            raise ModelInputError("scenario", scenario, f"one of {names}")
        saved_b, saved_p = np.copy(self.default_budget), self.pi.copy()
        rows = []
        try:
            for val in values:
                if name == "budget":
                    b = (dict(zip(self.minerals, saved_b * float(val))) if self.per_mineral else float(val))
                    res = self.solve(budget=b, probabilities=saved_p, bloc=bloc)
                else:
                    res = self.solve(probabilities={scenario: float(val)}, bloc=bloc)
                row = {name: float(val), "value": res.value,
                       "bloc_welfare": float(res.summary.loc["world", "d_bloc"]),
                       "inventory_cost": float(res.inventory_cost.sum())}
                row.update({f"I[{m}]": float(res.inventory[m]) for m in self.minerals})
                rows.append(row)
        finally:
            self.default_budget = saved_b if self.per_mineral else float(saved_b)
            self._set_probabilities(saved_p)
        return pd.DataFrame(rows)


from .insurance_result import InsuranceResult  # noqa: E402  (re-export)
