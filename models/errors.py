"""The exceptions the package raises.

Bad input raises a subclass of :class:`ValueError` that names the field, the value and what is
allowed, before anything is solved. A solver that does not return an optimal, accurate solution
raises a subclass of :class:`SolverError` carrying the solver's status and a hint on what to
change. Nothing in the package returns NaN silently.
"""
from __future__ import annotations


class ModelInputError(ValueError):
    """An input to a model is invalid.

    Parameters
    ----------
    field : str
        The name of the offending field, e.g. ``"demand_elasticity[JPN]"``.
    value : object
        The value that was given.
    allowed : str
        What would have been accepted, e.g. ``"a negative number"``.
    """

    def __init__(self, field: str, value: object, allowed: str):
        self.field, self.value, self.allowed = field, value, allowed
        super().__init__(f"{field} = {value!r} is not allowed: expected {allowed}")


class DataValidationError(ValueError):
    """A data file breaks its schema. Names the file, the row (1-based, header is row 1) and the column."""

    def __init__(self, file: str, row: int | None, column: str | None, message: str):
        self.file, self.row, self.column = file, row, column
        where = file
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column {column!r}"
        super().__init__(f"{where}: {message}")


class ScenarioError(ValueError):
    """A scenario file is malformed: names the file, the key and what is allowed."""


class SolverError(RuntimeError):
    """The solver did not return an optimal, accurate solution.

    Attributes
    ----------
    status : str
        The status string reported by cvxpy / the solver.
    hint : str
        What to change to get a solution.
    """

    def __init__(self, status: str, hint: str, solver: str | None = None):
        self.status, self.hint, self.solver = status, hint, solver
        who = f" ({solver})" if solver else ""
        super().__init__(f"solver{who} returned status {status!r}: {hint}")


class InfeasibleError(SolverError):
    """The programme has no feasible point (e.g. floors whose bounds contradict a quota)."""


class UnboundedError(SolverError):
    """The programme is unbounded (e.g. a curve with the wrong slope)."""


class InaccurateSolutionError(SolverError):
    """The solver stopped with an inaccurate solution; treated as a failure, never a warning."""


class RerunError(RuntimeError):
    """A chapter re-run with injected parameters failed in one of its cells."""
