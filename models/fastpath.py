"""Fast parametric re-solve of a built :class:`~models.equilibrium.EquilibriumModel` with Clarabel.

A sweep re-solves one built programme for many values of one parameter. Through
``cvxpy.Problem.solve`` each step re-applies every parameter (the constraint matrix ``A`` too, which
a floor sweep never changes), rebuilds the solver's data and unpacks the solution through the whole
reduction chain; on a dozen regions that costs about as much again as Clarabel's own solve. This
module keeps the cvxpy problem as the single source of truth and removes that overhead:

1. **Compile once.** ``problem.get_problem_data(CLARABEL)`` gives the compiled ``ParamConeProg``,
   whose data are affine in the parameter vector ``θ`` (the cvxpy Parameters' values, flattened,
   plus a constant 1): ``c = Q θ`` and ``[A | b]`` = ``R θ`` entry by entry (``P`` must not depend
   on ``θ``). ``Q`` and ``R`` are exact sparse maps, read from the compiled programme, not
   estimated; the data they give at the current ``θ`` are checked against cvxpy's own.
2. **One Clarabel solver**, set up once per set of solver options. Each step recomputes ``θ`` from
   the Parameters (the model's ``_apply`` sets them, as on the cvxpy path), then ``b`` and ``c``
   (and ``A`` only if a parameter entering ``A`` changed, e.g. the tariff matrix), calls
   ``solver.update(q=c, b=b)`` and ``solve()``. Exception: a programme with cones other than
   zero and non-negative ones (the power cones of isoelastic curves) gets a fresh Clarabel setup
   at every step (``setup_each_solve``): it is solved to ~1e-5 only, and an in-place update,
   which keeps the first step's cost scaling, moves the answer by that much; a fresh setup gives
   what a fresh cvxpy solve gives.
3. **Map the solution back** through a map built once: each variable entry is ``± x_k`` and each
   constraint's dual ``± z_k``, read off by sending a probe solution (``x_k = k``, ``z_k = n + k``)
   through cvxpy's own inversion chain (``chain.invert``). cvxpy's sign conventions (a ``≤``
   constraint of a maximisation has a non-negative dual, ...) are therefore cvxpy's, not
   re-derived. Any map that is not of that form (scaled or summed duals) makes the fast path
   unavailable and the sweep stays on cvxpy.

:class:`FastProblem` stands in for ``model.problem`` during a sweep: its ``solve(solver=..., **opts)``
sets ``status``, ``value`` and ``solver_stats`` as cvxpy would (same status strings, same
``cvxpy.error.SolverError`` for solver failures), and stores the primal values and duals in the
cvxpy Variables and Constraints, so the model's own ``_solve_raw`` (typed errors, the retry at
default tolerances) and ``_raw`` (prices from duals) run unchanged on either path.

The fast path is not used (``fast_problem`` returns ``None``; :func:`unavailable_reason` says why)
when the solver is not Clarabel, when a solver option is a cvxpy compilation option (``gp``,
``qcp``, ``requires_grad``, DPP switches, ``canon_backend``), when ``P`` depends on a parameter,
when the compiled programme has variable bounds or direct cones, when Clarabel's presolve removed
rows (``is_data_update_allowed()`` false), or when the solution map is not a signed selection.
:func:`disabled` forces the cvxpy path (tests and benchmarks compare the two).

Timing. ``solver_stats.solve_time`` is Clarabel's own ``solve_time``, as on the cvxpy path. On a
solver that is updated and re-solved it is not the time of that solve: it includes the setup time
of the first step and a "post-process" timer that accumulates over solves (Clarabel 0.11;
Clarabel.rs issue #233): on 13 regions the excess over the measured time grew from 0.2 ms to
0.6 ms per solve over the first 1,200 solves, and a stall, once counted, stays in every later
report. Both paths reuse one solver, so both over-report alike; :attr:`FastProblem.clarabel_wall`
is the time measured around Clarabel's ``solve()`` calls.
"""
from __future__ import annotations

import contextlib
import time
import types
from typing import Iterator

import cvxpy as cp
import numpy as np
import scipy.sparse as sp
from cvxpy import settings as cvxpy_settings
from cvxpy.cvxcore.python import canonInterface
from cvxpy.lin_ops import lin_op as lo
from cvxpy.reductions.reduction import Reduction
from cvxpy.reductions.solvers.conic_solvers.clarabel_conif import CLARABEL, dims_to_solver_cones

#: Set to False (or use :func:`disabled`) to keep every sweep on the cvxpy path.
ENABLED = True

#: ``Problem.solve`` keywords that change compilation: the fast path does not reproduce them.
_COMPILATION_OPTIONS = frozenset({"gp", "qcp", "requires_grad", "enforce_dpp", "ignore_dpp", "canon_backend"})
#: ``Problem.solve`` keywords that are not Clarabel settings and do not change the solution.
_IGNORED_OPTIONS = frozenset({"warm_start", "bibtex"})
#: cvxpy's message when a solver fails (``Problem.unpack_results``), reproduced word for word.
_FAILED = "Solver 'CLARABEL' failed. Try another solver, or solve with verbose=True for more information."


class FastPathUnavailable(Exception):
    """The fast path cannot reproduce the cvxpy path for this problem (the message says why)."""


@contextlib.contextmanager
def disabled() -> Iterator[None]:
    """Within the block, sweeps use cvxpy's ``Problem.solve`` for every step."""
    global ENABLED
    previous, ENABLED = ENABLED, False
    try:
        yield
    finally:
        ENABLED = previous


def fast_problem(model) -> "FastProblem | None":
    """The stand-in for ``model.problem`` that re-solves with Clarabel directly, or ``None``.

    Built once per model (and per built problem: if ``model.problem`` is replaced, a new one is
    compiled) and cached on the model as ``model._fastpath``.
    """
    if not ENABLED:
        return None
    cached = getattr(model, "_fastpath", None)
    if cached is not None and cached[0] is model.problem:
        return cached[1]
    try:
        if model.solver != "CLARABEL":
            raise FastPathUnavailable(f"solver {model.solver} (the fast path drives Clarabel only)")
        fast, reason = FastProblem(model.problem, model.solver_options), None
    except FastPathUnavailable as exc:
        fast, reason = None, str(exc)
    except Exception as exc:  # noqa: BLE001 - e.g. a cvxpy internal that changed: stay on cvxpy
        fast, reason = None, f"the fast path could not be built ({type(exc).__name__}: {exc})"
    model._fastpath = (model.problem, fast, reason)
    return fast


def pin(model) -> None:
    """Set up ``model``'s fast path at its current data and pin its solver
    (:meth:`FastProblem.pin`); nothing if the fast path does not apply."""
    fast = fast_problem(model)
    if fast is not None:
        fast.pin()


def rewind(model) -> None:
    """Return ``model``'s fast path to its pinned solver (:meth:`FastProblem.rewind`), so that the
    next solve does not depend on the solves before it; nothing if the fast path does not apply."""
    fast = fast_problem(model)
    if fast is not None:
        fast.rewind()


def unavailable_reason(model) -> str | None:
    """Why the last sweep of ``model`` used the cvxpy path (``None`` if it used the fast path)."""
    if not ENABLED:
        return "disabled"
    cached = getattr(model, "_fastpath", None)
    if cached is None or cached[0] is not model.problem:
        fast_problem(model)
        cached = model._fastpath
    return cached[2]


def _split_options(options: dict) -> tuple[bool, dict]:
    """``(verbose, clarabel_options)`` from ``Problem.solve`` keywords, as cvxpy splits them."""
    opts = dict(options)
    compile_opts = sorted(_COMPILATION_OPTIONS.intersection(opts))
    if compile_opts:
        raise FastPathUnavailable(f"cvxpy compilation options {compile_opts}")
    verbose = bool(opts.pop("verbose", False))
    for key in _IGNORED_OPTIONS:
        opts.pop(key, None)
    return verbose, opts


class _SolverStats(types.SimpleNamespace):
    """What the model reads of ``problem.solver_stats`` (cvxpy's ``SolverStats`` fields)."""


class FastProblem:
    """Stands in for a built ``cvxpy.Problem``: :meth:`solve` re-solves it with Clarabel directly.

    Other attributes (``variables()``, ``constraints``, ``objective``, ...) are the wrapped
    problem's.

    Raises
    ------
    FastPathUnavailable
        If the compiled programme is outside what the fast path reproduces exactly.
    """

    def __init__(self, problem: cp.Problem, solver_options: dict | None = None):
        self._problem = problem
        _, opts = _split_options(solver_options or {})
        try:
            data, chain, inverse = problem.get_problem_data(cp.CLARABEL, solver_opts=opts)
        except cp.error.SolverError as exc:  # pragma: no cover - the cvxpy path raises the same
            raise FastPathUnavailable(f"cvxpy cannot compile the problem for Clarabel ({exc})") from exc
        prog = data.get(cvxpy_settings.PARAM_PROB)
        if prog is None or not getattr(prog, "formatted", False):
            raise FastPathUnavailable("the compiled programme is not a cached parametric cone programme")
        if prog.lower_bounds is not None or prog.upper_bounds is not None or getattr(prog, "dir_cones", None):
            raise FastPathUnavailable("the compiled programme has variable bounds or direct cones")
        if prog.total_param_size == 0 or prog.param_id_to_col.get(lo.CONSTANT_ID) != prog.total_param_size:
            raise FastPathUnavailable("the programme has no parameters (or an unexpected parameter layout)")
        self._prog, self._chain = prog, chain
        # Reductions that rewrite parameter values (e.g. CvxAttr2Constr) update theirs on each step.
        self._param_reductions = [r for r in chain.reductions
                                  if type(r).update_parameters is not Reduction.update_parameters]
        nx = prog.x.size
        self._nx = nx

        # --- the affine maps theta -> (c, A, b), read from the compiled tensors
        self._Q = sp.csr_array(prog.q)[:nx]                               # c = Q theta
        if prog.P is not None:
            p_tensor = sp.csc_array(prog.P)
            if p_tensor[:, :-1].count_nonzero():
                raise FastPathUnavailable("the quadratic objective P depends on a parameter")
        reduced, indices, indptr, shape = canonInterface.reduce_problem_data_tensor(
            sp.coo_matrix(prog.A).copy(), nx)                              # rows: entries of [A | b]
        reduced = sp.csr_array(reduced)
        m = shape[0]
        nnz_a = int(indptr[nx])
        self._m = m
        self._A_map = reduced[:nnz_a]                                      # A.data (CSC) = R_A theta
        self._A_indices, self._A_indptr = np.asarray(indices[:nnz_a]), np.asarray(indptr[:nx + 1])
        self._B_map = reduced[nnz_a:]                                      # b[b_rows] = R_b theta
        self._b_rows = np.asarray(indices[nnz_a:])
        a_params = sp.csc_array(self._A_map)[:, :-1]
        self._A_cols = np.unique(a_params.nonzero()[1])                    # theta entries in A
        theta = self._theta()
        c, b = self._data(theta)
        a_data = self._A_data(theta)

        # --- check the maps against cvxpy's own data at the current parameter values
        cvx_a = sp.csc_array(data[cvxpy_settings.A])
        ours_a = sp.csc_array((-a_data, self._A_indices, self._A_indptr), shape=(m, nx))
        scale = max(1.0, float(np.max(np.abs(cvx_a.data), initial=0.0)))
        if (cvx_a.shape != ours_a.shape or abs(ours_a - cvx_a).max() > 1e-12 * scale
                or not np.allclose(b, data[cvxpy_settings.B], rtol=1e-12, atol=1e-12 * max(1.0, np.abs(b).max(initial=0)))
                or not np.allclose(c, data[cvxpy_settings.C], rtol=1e-12, atol=1e-12 * max(1.0, np.abs(c).max(initial=0)))):
            raise FastPathUnavailable("the affine parameter maps do not reproduce cvxpy's data")
        P = sp.csc_array(data[cvxpy_settings.P]) if cvxpy_settings.P in data else sp.csc_array((nx, nx))
        self._P_full = P
        self._P = sp.triu(P).tocsc()                                       # as cvxpy passes it
        self._d_map = sp.csr_array(prog.q)[[nx]].toarray().ravel()         # objective offset d = q_d theta
        self._cones = dims_to_solver_cones(data[CLARABEL.DIMS])

        # --- the solution map: each variable entry is +-x_k, each dual +-z_k (probed through cvxpy)
        self._build_solution_map(chain, inverse, theta)

        # --- one Clarabel solver per set of options; the first one is set up now to check that
        # its data can be updated (presolve or chordal decomposition would forbid it)
        self._solvers: dict = {}
        self._pinned: dict = {}                                # options -> solver kept by pin()
        self._parsed: dict = {}                                # options -> (Clarabel settings, status map)
        self._last: tuple[dict, _Entry] | None = None          # the options of the last solve
        # Cones other than zero and non-negative (the power cones of isoelastic curves): Clarabel
        # is then set up afresh at every step, because updating q in place keeps the cost scaling
        # of the first step and moves the solution by ~1e-5 (that programme is solved only to
        # about that accuracy); a fresh setup reproduces a fresh cvxpy solve.
        dims = data[CLARABEL.DIMS]
        self.setup_each_solve = bool(dims.soc or dims.psd or dims.exp or dims.p3d or dims.pnd)
        try:
            entry, _ = self._solver_for(dict(solver_options or {}), c, b, theta)
        except TypeError as exc:
            raise FastPathUnavailable(f"solver options: {exc}") from exc
        if not entry.solver.is_data_update_allowed():
            raise FastPathUnavailable("Clarabel does not allow data updates for this programme (presolve)")
        self.status: str | None = None
        self.value: float | None = None
        self.solver_stats: _SolverStats | None = None
        self.n_solves = 0
        self.clarabel_wall = 0.0      # seconds inside Clarabel's solve() (see Timing in the module docstring)

    # ------------------------------------------------------------------ maps
    def _theta(self) -> np.ndarray:
        """The parameter vector theta (the Parameters' values, then 1), as cvxpy builds it."""
        for reduction in self._param_reductions:
            reduction.update_parameters(self._problem)
        prog = self._prog
        return canonInterface.get_parameter_vector(
            prog.total_param_size, prog.param_id_to_col, prog.param_id_to_size,
            lambda pid: np.asarray(prog.id_to_param[pid].value, dtype=float))

    def _data(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(c, b)`` in Clarabel's form at ``theta``."""
        c = self._Q @ theta
        b = np.zeros(self._m)
        b[self._b_rows] = self._B_map @ theta
        return c, b

    def _A_data(self, theta: np.ndarray) -> np.ndarray:
        """The values of cvxpy's ``A`` (CSC order) at ``theta``; Clarabel's ``A`` is minus that."""
        return self._A_map @ theta

    def _build_solution_map(self, chain, inverse, theta) -> None:
        nx, m = self._nx, self._m
        probe = types.SimpleNamespace(status="Solved", x=np.arange(1.0, nx + 1.0),
                                      z=np.arange(nx + 1.0, nx + m + 1.0), s=np.zeros(m),
                                      obj_val=0.0, solve_time=0.0, iterations=0)
        solution = chain.invert(probe, inverse)
        # The programme's value is sense * (solver objective + d): sense -1 for a maximisation.
        probe.obj_val = 1.0
        sense = chain.invert(probe, inverse).opt_val - solution.opt_val
        d = float(self._d_map @ theta)
        if sense not in (1.0, -1.0) or abs(solution.opt_val - sense * d) > 1e-9 * max(1.0, abs(d)):
            raise FastPathUnavailable("the objective's value is not +-(solver objective + offset)")
        self._sense = sense

        def signed_selection(value, lo: int, hi: int, what: str) -> tuple[np.ndarray, np.ndarray]:
            arr = np.asarray(value, dtype=float)
            mag = np.abs(arr)
            k = np.rint(mag).astype(np.int64)
            if arr.size and (np.any(mag != k) or k.min() < lo or k.max() > hi):
                raise FastPathUnavailable(f"{what} is not a signed entry of Clarabel's solution")
            return k - lo, np.sign(arr)

        self._var_maps = []
        for var in self._problem.variables():
            if var.id not in solution.primal_vars:
                raise FastPathUnavailable(f"variable {var.name()} is not in cvxpy's solution")
            idx, sign = signed_selection(solution.primal_vars[var.id], 1, nx, f"variable {var.name()}")
            self._var_maps.append((var, idx, sign))
        self._dual_maps = []
        for con in self._problem.constraints:
            if con.id not in solution.dual_vars:
                raise FastPathUnavailable(f"constraint {con} has no dual in cvxpy's solution")
            idx, sign = signed_selection(solution.dual_vars[con.id], nx + 1, nx + m, f"the dual of {con}")
            self._dual_maps.append((con, idx, sign))

    def _solver_for(self, options: dict, c, b, theta) -> tuple["_Entry", bool]:
        """``(entry, new)``: the solver for ``options``, set up at ``(c, b, theta)`` if new."""
        if self._last is not None and self._last[0] == options:
            return self._last[1], False
        verbose, opts = _split_options(options)
        key = tuple(sorted((k, repr(v)) for k, v in {**opts, "verbose": verbose}.items()))
        entry = self._solvers.get(key)
        if entry is not None:
            self._last = (dict(options), entry)
            return entry, False
        parsed = self._parsed.get(key)
        if parsed is None:                  # kept across reset(): the options' meaning does not change
            settings = CLARABEL.parse_solver_opts(verbose, opts)      # TypeError, as on cvxpy's path
            status_map = dict(CLARABEL.STATUS_MAP)
            if CLARABEL.ACCEPT_UNKNOWN in opts:
                status_map[CLARABEL.INSUFFICIENT_PROGRESS] = cvxpy_settings.OPTIMAL_INACCURATE
            parsed = self._parsed[key] = (settings, status_map)
        entry = _Entry(None, *parsed, None)
        self._setup(entry, c, b, theta)
        self._solvers[key] = entry
        self._last = (dict(options), entry)
        return entry, True

    def _setup(self, entry: "_Entry", c, b, theta) -> None:
        """A new Clarabel solver for ``entry`` at the data ``(c, b)`` and ``A`` at ``theta``."""
        import clarabel
        A = sp.csc_array((-self._A_data(theta), self._A_indices, self._A_indptr), shape=(self._m, self._nx))
        entry.solver = clarabel.DefaultSolver(self._P, c, A, b, self._cones, entry.settings)
        entry.theta_A = theta[self._A_cols].copy()

    def reset(self) -> None:
        """Drop the Clarabel solvers: the next solve sets one up afresh, so that its answer does
        not depend on the solves before it (a Monte Carlo draw is then history-free)."""
        self._solvers.clear()
        self._pinned = {}
        self._last = None

    def pin(self) -> None:
        """Keep the solvers set up so far as the ones :meth:`rewind` returns to.

        A Monte Carlo builds its models, pins their solvers at the build's data (the central
        values) and rewinds before every draw: the draw then costs an update of Clarabel's data,
        not a new setup (about 0.7 ms on NdPr's 13 regions), and stays history-free.
        """
        self._pinned = dict(self._solvers)

    def rewind(self) -> None:
        """Return to the solvers of :meth:`pin`, each to have its data (``A``, ``q``, ``b``) replaced
        whole at its next solve; solvers set up since (a retry's other settings) are dropped.

        Clarabel does not warm-start: a solve reads only the problem's data and the equilibration
        scaling computed at setup (kept by ``update``). After a rewind both are fixed, the data
        by the Parameters and the scaling by the pinned setup, so a solve's answer does not depend
        on what the solver solved before (``tests/test_uncertainty.py`` checks it bit for bit).
        Without a pin this is :meth:`reset`.
        """
        if self.setup_each_solve or not self._pinned:
            self.reset()
            return
        for entry in self._pinned.values():
            entry.theta_A = None                                # A rewritten at the next solve
        self._solvers = dict(self._pinned)
        self._last = None

    # ------------------------------------------------------------------ solve
    def solve(self, solver: str | None = None, **options) -> float | None:
        """Re-solve at the Parameters' current values; set ``status``, ``value``, ``solver_stats``.

        Mirrors ``cvxpy.Problem.solve``: raises ``cvxpy.error.SolverError`` when Clarabel fails
        (statuses cvxpy maps to ``solver_error``); otherwise sets ``status`` to cvxpy's status
        string and, when a solution is present, stores the primal values and duals in the cvxpy
        Variables and Constraints and ``value`` to the objective's value.
        """
        if solver is not None and str(solver).upper() != "CLARABEL":
            raise FastPathUnavailable(f"solver {solver} (the fast path drives Clarabel only)")
        theta = self._theta()
        c, b = self._data(theta)
        entry, new = self._solver_for(options, c, b, theta)
        if new:
            pass                                               # set up at these data already
        elif self.setup_each_solve:
            self._setup(entry, c, b, theta)
        else:
            theta_a = theta[self._A_cols]
            if entry.theta_A is None or not np.array_equal(theta_a, entry.theta_A):   # rewound, or tariffs moved
                entry.solver.update(A=-self._A_data(theta))
                entry.theta_A = theta_a.copy()
            entry.solver.update(q=c, b=b)
        start = time.perf_counter()
        result = entry.solver.solve()
        self.clarabel_wall += time.perf_counter() - start
        self.n_solves += 1
        status = entry.status_map.get(str(result.status), cvxpy_settings.SOLVER_ERROR)
        self.solver_stats = _SolverStats(solver_name="CLARABEL", solve_time=float(result.solve_time),
                                         num_iters=int(result.iterations), setup_time=None, extra_stats=result)
        self.status, self.value = status, None
        if status in cvxpy_settings.ERROR:
            raise cp.error.SolverError(_FAILED)
        if status in cvxpy_settings.SOLUTION_PRESENT:
            x = np.asarray(result.x)
            z = np.asarray(result.z)
            for var, idx, sign in self._var_maps:
                var.save_value(sign * x[idx])
            for con, idx, sign in self._dual_maps:
                con.save_dual_value(sign * z[idx])
            if self.setup_each_solve:
                # epigraph variables stand for the power terms: evaluate the expression as cvxpy does
                self.value = float(self._problem.objective.value)
            else:
                # a QP's objective at x is the expression's value (cvxpy evaluates it atom by atom)
                objective = 0.5 * float(x @ (self._P_full @ x)) + float(c @ x) + float(self._d_map @ theta)
                self.value = self._sense * objective
        return self.value

    def __getattr__(self, name):
        # Everything but solve/status/value/solver_stats is the wrapped problem's.
        if name == "_problem":
            raise AttributeError(name)
        return getattr(self._problem, name)


class _Entry:
    """One Clarabel solver, its status map, and the values of the parameters in ``A`` it holds."""

    __slots__ = ("solver", "settings", "status_map", "theta_A")

    def __init__(self, solver, settings, status_map: dict, theta_A: np.ndarray):
        self.solver, self.settings, self.status_map, self.theta_A = solver, settings, status_map, theta_A
