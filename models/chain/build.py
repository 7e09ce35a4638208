"""The value chain as one convex programme, built once and re-solved with cvxpy Parameters.

For stages ``s = 0…K−1`` and regions ``r`` (MODEL.md §4)::

    maximise   Σ_s [ Σ_j A^d_{s,j}(D_{s,j}) − Σ_i C_{s,i}(Y_{s,i}) − Σ_ij (t^s_ij + τ^s_ij) x^s_ij ]
               + Σ_policies (their own terms)
    subject to Σ_j x^s_ij (+ policy outflows)            ≤ Y_{s,i}     (w_{s,i}: ex-works price)
               D_{s,j} + a_{s+1} Y_{s+1,j} (+ policy uses) ≤ Σ_i x^s_ij  (p_{s,j}: delivered price)
               Y_{s,i} ≤ K_{s,i}                                         (capacity rent, the kink)
               policy constraints                                        (their wedges)
               D, Y, x ≥ 0

``A^d`` is the area under final demand, ``C_{s,i}`` the area under the stage's cost curve: the
extraction supply curve at ``s = 0``, the marginal processing cost (value added, inputs
excluded) at ``s ≥ 1``. The input ``a_{s+1} Y_{s+1,j}`` is drawn from stage ``s`` *delivered*
to ``j``, so at an optimum with ``Y_{s,i} > 0``

    w_{s,i} = c_{s,i}(Y_{s,i}) + a_s p_{s−1,i}   (+ capacity rent − subsidy − top-up),

the ex-works price is the processing cost plus the input bought at home: value added adds up
along the chain (:mod:`models.chain.result` checks it on every solution). Only arcs that can
carry goods are variables: from regions with a cost curve at ``s`` to regions that use stage
``s`` (final demand at ``s`` or a cost curve at ``s+1``). Prices are the balances' duals.

Each policy (:mod:`models.chain.policies`, :mod:`models.chain.floors`, :mod:`models.chain.routes`) compiles itself into the
programme: it adds variables, objective terms, uses and outflows at a stage's balances, arcs of
its own (a stockpile buying from eligible origins: arcs ``i → L`` that end at the stockpile, not
at ``L``'s delivered balance, so freight, tariffs, quotas and the zone cover them like any arc),
and constraints, holds its numbers in cvxpy Parameters, and reads its own wedges back from the
duals. The bloc's roster (``members``: which regions the floors cover, the zone, a stockpile's
``MEMBERS`` eligibility, the arcs a :class:`~models.chain.StageBloc` frees of import tariffs and
charges its external tariff) is set at a solve without a rebuild: policies read ``model.roster``
and set their Parameters from it. Arc costs are set in two passes, so that a bloc's removal of
members' mutual tariffs does not depend on the order of the policies: first every policy's
``tariff_free_arcs`` (``model.tariff_free``), then every policy's ``apply`` (which adds to
``model.tau_next``). This module knows no policy by name except the preferential
floor's search, which re-solves the built programme (:mod:`models.chain.search`).
"""
from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass

import cvxpy as cp
import numpy as np
import scipy.sparse as sp

from ..curves import total_area
from ..errors import ModelInputError, SolverError
from ..market import check_regions
from ..solving import SPEED_SETTINGS, robust, solve_once
from .floors import StageFloor
from .policies import ChainPolicy
from .spec import ChainMarket


#: The :meth:`ChainModel.solve` keyword that sets the bloc's roster (``None``: the model's ``members``).
ROSTER = "members"
#: Clarabel tolerances tried in turn, on a fresh set-up, when a solve fails or is not certified.
RETRY_TOLERANCES = (1e-12, 1e-9, 1e-8)


@dataclass
class StageBlock:
    """The variables and index sets of one stage in the built programme."""

    index: int
    name: str
    supply_rows: np.ndarray      # region index of each entry of Y
    demand_rows: np.ndarray      # region index of each entry of D
    user_rows: np.ndarray        # region index of each delivered balance
    origin: np.ndarray           # region index of each arc's origin
    destination: np.ndarray      # region index of each arc's destination (a policy's location on its own arcs)
    out_of: sp.csr_matrix        # (#supply × #arcs): arcs leaving each producer
    into: sp.csr_matrix          # (#users × #arcs): arcs entering each user (policies' own arcs: none)
    transport: np.ndarray        # t^s per arc
    Y: cp.Variable
    D: cp.Variable | None
    x: cp.Variable
    tau: cp.Parameter            # policy cost per arc (tariffs, export taxes), set at each solve
    capacity_pos: np.ndarray     # positions in Y with a capacity
    capacity: np.ndarray

    def supply_pos(self, region_idx: int) -> int | None:
        hit = np.flatnonzero(self.supply_rows == region_idx)
        return int(hit[0]) if hit.size else None

    def user_pos(self, region_idx: int) -> int | None:
        hit = np.flatnonzero(self.user_rows == region_idx)
        return int(hit[0]) if hit.size else None


class ChainModel:
    """A value chain under a list of policies, built once and re-solvable.

    Parameters
    ----------
    chain : ChainMarket
    policies : sequence of ChainPolicy
        Each compiles itself into the programme (see :mod:`models.chain.policies`).
    solver_options : dict, optional
        Clarabel settings; tolerances default to 1e-10 (prices are duals).
    members : sequence of region ids, optional
        The bloc's roster (``model.roster``); ``None``: each policy covers its own regions. Set
        at a solve with ``solve(members=...)`` (:data:`ROSTER`).

    Examples
    --------
    >>> model = ChainModel(chain, [StageFloor("oxide", ("USA", "EU", "JPN"), 70.0)])  # doctest: +SKIP
    >>> model.solve(floor_oxide=80.0).stages                                         # doctest: +SKIP
    """

    def __init__(self, chain: ChainMarket, policies=(), solver_options: dict | None = None, members=None):
        if not isinstance(chain, ChainMarket):
            raise ModelInputError("chain", type(chain).__name__, "a models.chain.ChainMarket")
        self.chain = chain
        self.members = None if members is None else self._roster(members)
        self.roster = self.members
        self.policies: list[ChainPolicy] = list(policies)
        keys = []
        for k, pol in enumerate(self.policies):
            if not isinstance(pol, ChainPolicy):
                raise ModelInputError(f"policies[{k}]", type(pol).__name__, "a models.chain policy object")
            pol.validate(chain, f"policies[{k}]")
            keys.append(pol.key)
        if len(set(keys)) != len(keys):
            raise ModelInputError("policies (keys)", keys, "distinct keys (give each policy its own key=)")
        self.solver_options = {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10,
                               **dict(solver_options or {})}
        self.solver = "CLARABEL"
        self.overrides: dict[str, object] = {}
        self._build()

    # ------------------------------------------------------------------ build
    def _build(self) -> None:
        ch = self.chain
        n, K = ch.n, len(ch.stages)
        self.idx = {r: k for k, r in enumerate(ch.regions)}
        self.blocks: list[StageBlock] = []
        extra_users: dict[int, set[int]] = {}
        own_arcs: dict[int, list] = {}
        for pol in self.policies:
            for s, rows in pol.users(ch).items():
                extra_users.setdefault(s, set()).update(rows)
            for s, (location, origins) in pol.own_arcs(ch).items():
                own_arcs.setdefault(s, []).append((pol.key, location, origins))
        self.own_arc_positions: dict[str, np.ndarray] = {}
        for s, st in enumerate(ch.stages):
            m = st.market
            sup = np.array([k for k, r in enumerate(ch.regions) if m.supply_curve(r) is not None], dtype=int)
            dem = np.array([k for k, r in enumerate(ch.regions) if m.demand_curve(r) is not None], dtype=int)
            nxt = ch.stages[s + 1].market if s + 1 < K else None
            users = sorted(set(dem.tolist()) | ({k for k, r in enumerate(ch.regions)
                                                  if nxt.supply_curve(r) is not None} if nxt else set())
                           | extra_users.get(s, set()))
            users = np.array(users, dtype=int)
            origin = np.repeat(sup, len(users))
            dest = np.tile(users, len(sup))
            delivered = len(origin)
            for key, location, origins in own_arcs.get(s, []):
                mine = sup[np.isin(sup, origins)]
                self.own_arc_positions[key] = np.arange(len(origin), len(origin) + len(mine))
                origin = np.concatenate([origin, mine])
                dest = np.concatenate([dest, np.full(len(mine), location, dtype=int)])
            na = len(origin)
            out_of = sp.csr_matrix((np.ones(na), (np.searchsorted(sup, origin), np.arange(na))),
                                   shape=(len(sup), na))
            into = sp.csr_matrix((np.ones(delivered), (np.tile(np.arange(len(users)), len(sup)), np.arange(delivered))),
                                 shape=(len(users), na))
            t = m.transport_cost.to_numpy()[origin, dest] if na else np.zeros(0)
            cap_pos = np.array([k for k, r in enumerate(sup) if ch.regions[r] in st.capacity], dtype=int)
            caps = np.array([st.capacity[ch.regions[sup[k]]] for k in cap_pos], dtype=float)
            self.blocks.append(StageBlock(
                s, st.name, sup, dem, users, origin, dest, out_of, into, t,
                cp.Variable(len(sup), nonneg=True, name=f"Y[{st.name}]"),
                cp.Variable(len(dem), nonneg=True, name=f"D[{st.name}]") if len(dem) else None,
                cp.Variable(na, nonneg=True, name=f"x[{st.name}]"),
                cp.Parameter(na, name=f"tau[{st.name}]"), cap_pos, caps))

        # what policies add: per stage, extra outflows at producers and extra uses at users
        self.extra_out = [[] for _ in range(K)]
        self.extra_use = [[] for _ in range(K)]
        self.terms: list[cp.Expression] = []
        self.handles: dict[str, object] = {}
        self.constraints: dict[str, cp.Constraint] = {}
        for pol in self.policies:
            pol.compile(self)

        welfare = 0
        bills = []
        for s, b in enumerate(self.blocks):
            m = ch.stages[s].market
            if b.D is not None:
                welfare = welfare + total_area(b.D, [m.demand_curve(ch.regions[k]) for k in b.demand_rows])
            if len(b.supply_rows):
                welfare = welfare - total_area(b.Y, [m.supply_curve(ch.regions[k]) for k in b.supply_rows])
            if b.x.size:
                bills.append((b.transport + b.tau) @ b.x)
            out = b.out_of @ b.x if b.x.size else 0
            for e in self.extra_out[s]:
                out = out + e
            if len(b.supply_rows):
                self.constraints[f"supply[{b.name}]"] = out <= b.Y
            if len(b.user_rows):
                use = 0
                if b.D is not None:
                    use = use + sp.csr_matrix((np.ones(len(b.demand_rows)),
                                               (np.searchsorted(b.user_rows, b.demand_rows),
                                                np.arange(len(b.demand_rows)))),
                                              shape=(len(b.user_rows), len(b.demand_rows))) @ b.D
                if s + 1 < K:
                    nb = self.blocks[s + 1]
                    a = ch.stages[s + 1].coefficient
                    use = use + sp.csr_matrix((np.full(len(nb.supply_rows), a),
                                               (np.searchsorted(b.user_rows, nb.supply_rows),
                                                np.arange(len(nb.supply_rows)))),
                                              shape=(len(b.user_rows), len(nb.supply_rows))) @ nb.Y
                for e in self.extra_use[s]:
                    use = use + e
                self.constraints[f"delivered[{b.name}]"] = use <= b.into @ b.x
            if len(b.capacity_pos):
                self.constraints[f"capacity[{b.name}]"] = b.Y[b.capacity_pos] <= b.capacity
        # freight and tariffs enter through one variable fixed by an equality, so that the
        # Parameter τ sits in a constraint row, not in the objective (cheaper canonicalisation)
        self.trade_bill = cp.Variable(name="trade_bill")
        if bills:
            self.constraints["trade_bill"] = self.trade_bill == cp.sum(cp.hstack(bills))
        else:
            self.constraints["trade_bill"] = self.trade_bill == 0
        welfare = welfare - self.trade_bill
        for term in self.terms:
            welfare = welfare + term
        self.objective = welfare
        self.problem = cp.Problem(cp.Maximize(welfare), list(self.constraints.values()))
        self._built = self.problem
        if not self.problem.is_dcp(dpp=True):
            raise ModelInputError("problem", "not DPP", "a disciplined parametrised convex programme")
        self.floors = [p for p in self.policies if isinstance(p, StageFloor)]

    # ------------------------------------------------------------------ parameters
    def parameter_keys(self) -> list[str]:
        """The keys :meth:`solve` accepts: one per policy (its level, rate, quota or budget), and
        :data:`ROSTER`."""
        return [p.key for p in self.policies] + [ROSTER]

    def _roster(self, value) -> tuple[str, ...]:
        members = check_regions(ROSTER, value, self.chain.regions)
        if not members or len(set(members)) != len(members):
            raise ModelInputError(ROSTER, value, "a non-empty list of distinct region ids")
        return tuple(members)

    def _apply(self, updates: dict) -> None:
        known = self.parameter_keys()
        for key in updates:
            if key not in known:
                raise ModelInputError("solve() keyword", key, f"a policy key among {known}")
        if updates.get(ROSTER) is not None:
            updates = {**updates, ROSTER: self._roster(updates[ROSTER])}
        previous = dict(self.overrides)
        self.overrides.update(updates)
        try:
            self._set_parameters()
        except ModelInputError:     # a refused value does not stay on the model: the last good ones do
            self.overrides = previous
            with contextlib.suppress(ModelInputError):
                self._set_parameters()
            raise

    def _set_parameters(self) -> None:
        """Every policy's Parameters from its own values, the overrides and the roster."""
        roster = self.overrides.get(ROSTER)
        self.roster = self.members if roster is None else roster
        self.tau_next = [np.zeros(b.x.size) for b in self.blocks]    # policies add their arc costs here
        # arcs whose import tariffs a bloc removes at this roster, known before any tariff is set
        self.tariff_free = [np.zeros(b.x.size, dtype=bool) for b in self.blocks]
        for pol in self.policies:
            for s, free in pol.tariff_free_arcs(self).items():
                self.tariff_free[s] |= free
        for pol in self.policies:
            pol.apply(self, self.overrides.get(pol.key))
        for b, tau in zip(self.blocks, self.tau_next):
            if b.tau.value is None or not np.array_equal(b.tau.value, tau):
                b.tau.value = tau

    # ------------------------------------------------------------------ solve
    def _attempt(self, options: dict) -> float:
        return solve_once(self.problem, self.solver, options, "check that curves and costs are in USD/kg and kt")

    def _solve_once(self):
        """Solve at the current parameters, read and certify.

        If the solver fails, reports the problem infeasible or unbounded, or the solution fails the
        certificate (a nearly degenerate equilibrium: a region producing a few tonnes at a margin
        of cents), the step is re-solved by a fresh Clarabel set-up (the cvxpy path) at each
        tolerance of :data:`RETRY_TOLERANCES` in turn, with the :data:`SPEED_SETTINGS` back at
        Clarabel's defaults; the first certified solution is returned, else the last error is raised.
        """
        from .result import read_solution
        spent = 0.0
        try:
            spent += self._attempt(self.solver_options)
            return read_solution(self, spent)
        except SolverError as exc:      # an in-place update can also misreport (in)feasibility
            error = exc
        stand_in, self.problem = self.problem, self._built
        try:
            lean_off = robust(self.solver_options)
            for tol in RETRY_TOLERANCES:
                options = {**lean_off, "tol_gap_abs": tol, "tol_gap_rel": tol, "tol_feas": tol}
                try:
                    spent += self._attempt(options)
                    return read_solution(self, spent)
                except SolverError as exc:
                    error = exc
        finally:
            self.problem = stand_in
        raise error

    @contextlib.contextmanager
    def parametric(self, fast: bool = True):
        """Within the block, re-solves go through Clarabel's fast path (:mod:`models.fastpath`:
        the compiled programme's data updated in place); yields the stand-in (``None`` where the
        fast path does not apply, and then cvxpy solves)."""
        from ..fastpath import fast_problem
        problem = self.problem
        stand_in = None
        if fast:
            if any(p.value is None for p in self.problem.parameters()):
                self._apply({})
            stand_in = fast_problem(self)
        self.problem = stand_in or problem
        try:
            yield stand_in
        finally:
            self.problem = problem

    def _solve_current(self):
        if not self.floors:
            return self._solve_once()
        from .search import solve_floors
        return solve_floors(self)

    def solve(self, **updates):
        """Solve with the policies' values, or with overrides keyed by policy key, and the roster
        (``members=(...)``: the regions the floors and the zone cover, without a rebuild).

        Overrides persist until changed (``None`` restores the policy's own value). Returns a
        :class:`~models.chain.result.ChainResult`.
        """
        self._apply(updates)
        if not self.floors:
            return self._solve_current()
        with self.parametric():     # the floors' search re-solves many times
            return self._solve_current()

    def sweep(self, key: str, values, fast: bool = True):
        """Re-solve the built programme for each value of the policy ``key``.

        Returns a :class:`~models.chain.result.ChainSweep` (prices and quantities by value, stage
        and region, plus wall and solver times). With ``fast``, re-solves go through the Clarabel
        fast path of :mod:`models.fastpath` (the cvxpy problem stays the single source of truth).
        """
        from .result import ChainSweep
        values = np.asarray(list(values), dtype=float)
        if values.ndim != 1 or not values.size or not np.all(np.isfinite(values)):
            raise ModelInputError("values", values, "a non-empty list of finite numbers")
        saved = self.overrides.get(key)
        results, solver_time = [], 0.0
        start = time.perf_counter()
        with self.parametric(fast) as stand_in:
            try:
                for v in values:
                    self._apply({key: float(v)})
                    res = self._solve_current()
                    solver_time += res.solve_time
                    results.append(res)
            finally:
                self._apply({key: saved})
        wall = time.perf_counter() - start
        measured = getattr(stand_in, "clarabel_wall", None)
        counts = {"solves": sum(r.wedges.get(self.floors[0].key, {}).get("solves", 1) for r in results)
                  if self.floors else len(values), "fast_path": stand_in is not None}
        return ChainSweep(key, values, results, wall, solver_time, measured, counts)
