"""Solving a built :class:`~models.equilibrium.EquilibriumModel` (the stage after its parameters are
set): one call of the solver, cvxpy's statuses turned into the package's typed errors, and the
retries that a status calls for (Clarabel's own tolerances after a failure at the tightened ones;
tighter infeasibility tolerances after a false "unbounded" on a badly scaled linear market).
"""
from __future__ import annotations

import warnings

import cvxpy as cp

from .errors import InaccurateSolutionError, InfeasibleError, SolverError, UnboundedError

#: Clarabel's infeasibility tolerances for the one re-solve of a linear market reported unbounded.
UNBOUNDED_RETRY_OPTIONS = {"tol_infeas_abs": 1e-12, "tol_infeas_rel": 1e-12}
#: Clarabel settings that buy speed with robustness (data equilibration; iterative refinement of
#: each KKT solve). A sweep may turn them off; every retry turns them back on (Clarabel's defaults).
SPEED_SETTINGS = ("equilibrate_enable", "iterative_refinement_enable")


def robust(options: dict) -> dict:
    """``options`` with the :data:`SPEED_SETTINGS` back at Clarabel's defaults (on), for a retry."""
    return {k: v for k, v in options.items() if k not in SPEED_SETTINGS}


class SolverStage:
    """Mixin of :class:`~models.equilibrium.EquilibriumModel`: solve the built problem or raise."""

    def _solve_raw(self) -> tuple[float, float]:
        """Solve the built problem; raise a typed error unless the solution is optimal and accurate.

        With Clarabel at the tightened tolerances, a failure or an inaccurate stop is retried
        once at Clarabel's own defaults; ``self.last_tolerance`` records which one was used.
        """
        try:
            self.last_tolerance = "tight" if self._tightened else "solver default"
            return self._attempt(self.solver_options)
        except UnboundedError:
            if self.solver != "CLARABEL" or self.market.curve_family != "linear":
                raise
            # Valid linear curves make the programme bounded (strictly concave in D and S, flows
            # bounded by supply): an "unbounded" status is Clarabel's infeasibility test firing
            # at its 1e-8 tolerance on a badly scaled market (the curves' coefficients are
            # Parameters, see LinearCurveParameters). Retry once with that test tightened.
            return self._attempt({**robust(self.solver_options), **UNBOUNDED_RETRY_OPTIONS})
        except (InaccurateSolutionError, SolverError) as exc:
            if isinstance(exc, (InfeasibleError, UnboundedError)) or (
                    not self._tightened and robust(self.solver_options) == self.solver_options):
                raise
            self.last_tolerance = "solver default"
            relaxed = {**robust(self.solver_options), **{k: 1e-8 for k in self._tightened}}
            return self._attempt(relaxed)

    def _attempt(self, options: dict) -> tuple[float, float]:
        hint = "try solver='SCS' or check that curves and costs are scaled in USD/kg and kt"
        solve_time = solve_once(self.problem, self.solver, options, hint)
        return float(self.problem.value), solve_time


#: What each non-optimal status of cvxpy means for this package's programmes.
_STATUS_HINTS = {
    cp.INFEASIBLE: "no feasible point: check that floor bounds, quotas and bans are compatible",
    cp.INFEASIBLE_INACCURATE: "probably infeasible: check floor bounds, quotas and bans",
    cp.UNBOUNDED: "unbounded: a demand curve may slope upward or a supply curve downward",
    cp.UNBOUNDED_INACCURATE: "probably unbounded: check the curves' slopes",
    cp.OPTIMAL_INACCURATE: "the solver stopped short of its tolerance: rescale the inputs (kt, USD/kg) or try another solver",
}
_STATUS_ERRORS = {cp.INFEASIBLE: InfeasibleError, cp.INFEASIBLE_INACCURATE: InfeasibleError,
                  cp.UNBOUNDED: UnboundedError, cp.UNBOUNDED_INACCURATE: UnboundedError,
                  cp.OPTIMAL_INACCURATE: InaccurateSolutionError}


def solve_once(problem, solver: str, options: dict, failure_hint: str) -> float:
    """One call of ``problem.solve``; the solver's time (s) if optimal, else the typed error.

    cvxpy warns on inaccurate and infeasible-or-unbounded statuses; those become typed errors
    here instead (a warning would escape, or under ``-W error`` pre-empt the typed error).
    ``failure_hint`` is the advice given when the solver itself fails.
    """
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Solution may be inaccurate", category=UserWarning)
            warnings.filterwarnings("ignore", message="(?s).*infeasible or unbounded", category=UserWarning)
            problem.solve(solver=solver, **options)
    except cp.error.SolverError as exc:
        raise SolverError("solver_error", f"the solver failed ({exc}); {failure_hint}", solver) from exc
    status = problem.status
    if status == cp.OPTIMAL:
        return float(problem.solver_stats.solve_time or 0.0)
    hint = _STATUS_HINTS.get(status, "the solver stopped without a solution: try another solver")
    raise _STATUS_ERRORS.get(status, SolverError)(str(status), hint, solver)
