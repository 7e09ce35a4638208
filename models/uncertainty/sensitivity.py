"""Reading a sweep (the last stage): how often each verdict holds, and which inputs move it.

:func:`robustness` turns the table of :func:`models.uncertainty.run_serial` (a row per draw) into
one row per rule: the share of draws whose verdict equals the register's, its standard error,
the draws that failed to solve, and the verdicts met. :func:`prcc` ranks the drawn inputs by
their partial rank correlation with a rule's outcome.

Partial rank correlation coefficient (PRCC) of input ``x_j`` with outcome ``y``: replace every
input and ``y`` by its ranks, regress the ranks of ``x_j`` and of ``y`` on the ranks of all the
other inputs (ordinary least squares with an intercept), and correlate the two residuals::

    PRCC_j = corr( r(x_j) − r̂(x_j | x_−j),  r(y) − r̂(y | x_−j) )

It measures a monotone association of ``x_j`` with ``y`` with the other inputs' linear (in ranks)
effects removed, in [−1, 1]; an input drawn independently of the others and unrelated to ``y``
gives about 0 (within ±2/√n). It is a ranking device, not a decomposition of variance.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from ..errors import ModelInputError


def prcc(inputs: pd.DataFrame, outcome: pd.Series) -> pd.Series:
    """Partial rank correlation of each column of ``inputs`` with ``outcome`` (same rows).

    Columns that do not vary (a single value) get NaN: they were not drawn; a column equal to an
    earlier one (one elasticity draw shared by every region) gets NaN too, the earlier column
    standing for the shared draw. Rows where the outcome
    is missing (a failed draw) are dropped first; fewer than ``k + 3`` rows for ``k`` varying
    inputs is an error, since the partial correlations would be undetermined.
    """
    if not isinstance(inputs, pd.DataFrame) or not isinstance(outcome, pd.Series):
        raise ModelInputError("prcc", type(inputs).__name__, "a DataFrame of inputs and a Series outcome")
    if not inputs.index.equals(outcome.index):
        raise ModelInputError("prcc.outcome.index", "differs", "the same rows as the inputs")
    keep = outcome.notna().to_numpy()
    x = inputs.loc[keep].astype(float)
    y = outcome.loc[keep].astype(float).to_numpy()
    varying = []
    for c in x.columns:        # a draw shared by several columns (one elasticity for every region) is one input
        if x[c].nunique() > 1 and not any(np.array_equal(x[c].to_numpy(), x[k].to_numpy()) for k in varying):
            varying.append(c)
    out = pd.Series(np.nan, index=inputs.columns, name="prcc", dtype=float)
    if not varying or np.unique(y).size < 2:
        return out
    if len(y) < len(varying) + 3:
        raise ModelInputError("prcc draws", len(y), f"at least {len(varying) + 3} draws for {len(varying)} inputs")
    ranks = np.column_stack([rankdata(x[c]) for c in varying])
    ry = rankdata(y)
    for j, name in enumerate(varying):
        others = np.column_stack([np.ones(len(ry)), np.delete(ranks, j, axis=1)])
        res_x = ranks[:, j] - others @ np.linalg.lstsq(others, ranks[:, j], rcond=None)[0]
        res_y = ry - others @ np.linalg.lstsq(others, ry, rcond=None)[0]
        denom = np.sqrt((res_x @ res_x) * (res_y @ res_y))
        out[name] = float(res_x @ res_y / denom) if denom > 0 else np.nan
    return out


def input_columns(table: pd.DataFrame) -> list[str]:
    """The drawn inputs of a sweep table: every column before the first rule's verdict."""
    first = next((i for i, c in enumerate(table.columns) if c.endswith("_verdict")), len(table.columns))
    return [c for c in table.columns[:first] if c != "draw"]


def robustness(table: pd.DataFrame, rules, register: pd.Series) -> pd.DataFrame:
    """One row per rule of a sweep ``table``: how often its verdict is the register's.

    Columns: ``claim``, ``register_verdict``, ``draws`` (solved), ``failed``, ``share_holds``
    (share of solved draws whose verdict equals the register's), ``se`` (its binomial standard
    error ``√(s(1−s)/n)``), ``verdicts`` (each verdict met and its share).
    """
    rows = []
    for rule in rules:
        verdicts = table[f"{rule.name}_verdict"]
        solved = verdicts.notna() & (verdicts != "")
        n = int(solved.sum())
        expected = register.get(rule.claim, "")
        share = float((verdicts[solved] == expected).mean()) if n else np.nan
        met = verdicts[solved].value_counts(normalize=True)
        rows.append({"rule": rule.name, "claim": rule.claim, "register_verdict": expected, "draws": n,
                     "failed": int(len(table) - n), "share_holds": share,
                     "se": float(np.sqrt(share * (1 - share) / n)) if n else np.nan,
                     "verdicts": "; ".join(f"{v} {100 * s:.0f}%" for v, s in met.items())})
    return pd.DataFrame(rows).set_index("rule")


def ranked_number(table: pd.DataFrame, rule) -> str | None:
    """The number of ``rule`` to rank inputs against when none is named: the first number the rule
    reports (a column ``<rule>_<number>``) that varies across the solved draws; ``None`` when none
    varies (rank against whether the verdict holds)."""
    prefix = f"{rule.name}_"
    for column in table.columns:
        if not column.startswith(prefix) or column[len(prefix):] in ("verdict", "holds"):
            continue
        values = pd.to_numeric(table[column], errors="coerce").dropna()
        if values.nunique() > 1:
            return column[len(prefix):]
    return None


def flip_drivers(table: pd.DataFrame, rule, number: str | None = None, top: int = 3) -> pd.Series:
    """The inputs most associated with ``rule``'s outcome, by |PRCC|, strongest first.

    The outcome is the rule's number ``number`` (a column ``<rule>_<number>``) when given, which
    ranks better than a 0/1 outcome; else whether the verdict equals the register's
    (``<rule>_holds``). Returns at most ``top`` inputs with their signed PRCC.
    """
    column = f"{rule.name}_{number}" if number else f"{rule.name}_holds"
    if column not in table:
        raise ModelInputError("flip_drivers.number", number, f"a number the rule reports ({rule.name}_...)")
    outcome = pd.to_numeric(table[column].map(lambda v: np.nan if v is None or v == "" else float(v)))
    coeffs = prcc(table[input_columns(table)], outcome).dropna()
    return coeffs.reindex(coeffs.abs().sort_values(ascending=False).index).head(top)
