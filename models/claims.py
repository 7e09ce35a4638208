"""The register of the articles' claims (``data/claims.csv``) and the chapters' verdicts on them.

A chapter computes a verdict for each claim it tests and shows it with :func:`verdict_table`,
which sets it beside the verdict recorded in the register. The register is the book's record:
``register_agrees`` is ``True`` when the chapter, run with its default parameters, finds what
the register says (nbval checks that cell), and ``False`` when a reader's own parameters change
the verdict, which the table then shows rather than hides.
"""
from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .errors import ModelInputError

VERDICTS = ("supported", "supported with conditions", "not supported", "contradicted", "out of scope")
REGISTER = Path(__file__).resolve().parents[1] / "data" / "claims.csv"


@dataclass(frozen=True)
class Verdict:
    """A chapter's verdict on one claim.

    Parameters
    ----------
    claim_id : str
        The register's id, e.g. ``"C07"``.
    verdict : str
        One of :data:`VERDICTS`.
    conditions : str
        The conditions under which the verdict holds, and where it flips.
    evidence : dict
        The numbers behind it (name -> value), shown beside the verdict.
    flips_when : str
        Where the verdict flips inside the plausible range of its inputs (elasticity row, floor
        level, instrument, ...), written by the chapter from its sensitivity table; ``""`` when it
        does not flip anywhere the chapter looked. Recorded in the register's ``flips_when``.
    """

    claim_id: str
    verdict: str
    conditions: str
    evidence: dict = field(default_factory=dict)
    flips_when: str = ""

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ModelInputError(f"verdict[{self.claim_id}]", self.verdict, f"one of {VERDICTS}")


def load_register(path: str | Path | None = None) -> pd.DataFrame:
    """The claims register, indexed by claim id, verdict columns as strings ('' when empty)."""
    table = pd.read_csv(path or REGISTER, dtype=str, keep_default_na=False)
    return table.set_index("id")


def verdict_table(verdicts: list[Verdict], path: str | Path | None = None, record: bool = True) -> pd.DataFrame:
    """The chapter's verdicts beside the register's: one row per claim.

    Columns: ``article``, ``quote``, ``verdict``, ``conditions``, ``flips_when``,
    ``register_verdict``, ``register_agrees``.

    With the environment variable ``CMBLOC_RECORD_VERDICTS=1`` (a maintainer re-running every
    chapter after a data change: ``CMBLOC_RECORD_VERDICTS=1 jupyter execute book/*.ipynb``), the
    verdicts are first written into the register, so the register follows the computation.
    One chapter records each claim (the register's ``chapter``); another chapter that re-tests it
    passes ``record=False`` and shows its verdict beside the recorded one, so that the register
    never depends on the order in which chapters run.
    """
    if record and os.environ.get("CMBLOC_RECORD_VERDICTS") == "1":
        record_verdicts(verdicts, path)
    register = load_register(path)
    rows = []
    for v in verdicts:
        if v.claim_id not in register.index:
            raise ModelInputError("claim_id", v.claim_id, f"an id of the register ({REGISTER.name})")
        entry = register.loc[v.claim_id]
        rows.append({"claim": v.claim_id, "article": entry["article"], "quote": entry["quote"],
                     "verdict": v.verdict, "conditions": v.conditions, "flips_when": v.flips_when,
                     "register_verdict": entry["verdict"],
                     "register_agrees": entry["verdict"] == v.verdict})
    return pd.DataFrame(rows).set_index("claim")


def record_verdicts(verdicts: list[Verdict], path: str | Path | None = None) -> None:
    """Write ``verdicts`` into the register (a maintainer's step after re-running a chapter).

    Only the ``verdict``, ``verdict_detail`` and ``flips_when`` columns of the named rows change; the file is
    locked while it is rewritten so that chapters run in parallel do not overwrite each other.
    """
    def update(table):
        for v in verdicts:
            hit = _row(table, v.claim_id, path)
            table.loc[hit, "verdict"] = v.verdict
            table.loc[hit, "verdict_detail"] = v.conditions
            table.loc[hit, "flips_when"] = v.flips_when
    _rewrite_register(update, path)


def record_shares(shares: dict[str, float], path: str | Path | None = None) -> None:
    """Write each claim's share of Monte Carlo draws in which its verdict holds (``share_holds``,
    in [0, 1]) into the register; the robustness chapter calls it with ``CMBLOC_RECORD_VERDICTS=1``."""
    for claim_id, share in shares.items():
        if not isinstance(share, (int, float)) or not 0 <= float(share) <= 1:
            raise ModelInputError(f"share_holds[{claim_id}]", share, "a share between 0 and 1")

    def update(table):
        for claim_id, share in shares.items():
            table.loc[_row(table, claim_id, path), "share_holds"] = f"{float(share):.4f}"
    _rewrite_register(update, path)


def _row(table: pd.DataFrame, claim_id: str, path) -> pd.Series:
    hit = table["id"] == claim_id
    if not hit.any():
        raise ModelInputError("claim_id", claim_id, f"an id of the register ({Path(path or REGISTER).name})")
    return hit


def _rewrite_register(update, path) -> None:
    """Apply ``update(table)`` to the register under a file lock; write a temporary file, then rename."""
    target = Path(path or REGISTER)
    with open(str(target) + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        table = pd.read_csv(target, dtype=str, keep_default_na=False)
        for column in ("flips_when", "share_holds"):
            if column not in table.columns:
                table[column] = ""
        update(table)
        tmp = str(target) + ".tmp"
        table.to_csv(tmp, index=False)
        os.replace(tmp, target)
    try:
        os.remove(str(target) + ".lock")
    except FileNotFoundError:
        pass


def describe_flips(table: pd.DataFrame, claim_id: str, default: str, columns: list[str]) -> str:
    """Where ``claim_id``'s verdict differs from ``default`` in a sensitivity ``table``.

    ``table`` has one row per setting, the settings in ``columns`` (e.g. mineral, horizon,
    elasticities, subsidy) and a column named ``claim_id`` with the verdict there. Returns ``""``
    when it never flips, else e.g. ``"not supported at mineral=ndpr, horizon=short, ...; ..."``:
    the text the register's ``flips_when`` column records.
    """
    if claim_id not in table.columns:
        raise ModelInputError("claim_id", claim_id, f"a column of the sensitivity table {list(table.columns)}")
    flipped = table[table[claim_id] != default]
    parts = []
    for verdict, rows in flipped.groupby(claim_id, sort=True):
        where = "; ".join(", ".join(f"{c}={r[c]}" for c in columns) for _, r in rows.iterrows())
        parts.append(f"{verdict} at {where}")
    return " | ".join(parts)
