"""How a Monte Carlo sweep treats every claim of the register: graded, unmoved, out of scope, or not yet.

:func:`coverage` returns one row per claim of ``data/claims.csv``, so that no claim is silently
left out of the robustness chapter:

* ``graded``: a registered verdict rule (:data:`~models.uncertainty.rules.RULES`) grades it per
  draw; the row names the rule(s) and their family.
* ``no drawn input moves it``: the verdict reads data that no draw changes (a count of the State
  Department's list, a date in ``data/rosters.csv``, base-year quantities, a share in the data):
  re-drawing the elasticities, China's subsidy, the price gap or a family's own inputs leaves it
  where it is, so its share of draws is 1 by construction and is not computed.
* ``out of scope``: the register finds no model or data that can test it.
* ``not yet graded``: a model-graded claim with no rule registered; the reason says why.

The data-only claims are listed in :data:`NOT_MOVED` with the reason; a claim whose register
``model`` is ``data`` is data-only too. A rule registered later for any of them takes precedence.
"""
from __future__ import annotations

import pandas as pd

from ..errors import ModelInputError
from .rules import RULES

GRADED, NOT_MOVED_LABEL, OUT_OF_SCOPE, NOT_YET = ("graded", "no drawn input moves it", "out of scope",
                                                  "not yet graded")
#: The treatments, in the order the table sorts them.
TREATMENTS = (GRADED, NOT_MOVED_LABEL, NOT_YET, OUT_OF_SCOPE)

_LIST = "a count of the State Department's list of participants (data/rosters.csv); no drawn input enters it"
#: Model-side claims whose verdict reads data alone, and why (claims with ``model == data`` are added).
NOT_MOVED = {
    "C01": _LIST,
    "C15": _LIST,
    "C22": _LIST,
    "C07": "complementarity of the members' base-year production and consumption (data/quantities.csv): "
           "a draw re-calibrates the curves through the same base year, so the quantities it reads do not move",
    "C03": "arithmetic on the reported size of Project Vault and its financing (data/ files); the months of "
           "use the budget buys read base-year quantities and prices, which no draw changes",
    "C40": "graded at the shortest deep-sea lead time of its range (data/dynamics_parameters.csv): first "
           "output cannot come before 2028 anywhere inside the range, so no draw can move it",
}
#: Why a model-graded claim has no rule yet (by claim; otherwise :data:`NOT_YET_DEFAULT`).
NOT_YET_REASONS: dict[str, str] = {}
NOT_YET_DEFAULT = ("graded by its chapter on a model, but no rule of models.uncertainty grades it yet "
                   "(the {chapter} chapter's rule family is not registered)")


def coverage(register: pd.DataFrame) -> pd.DataFrame:
    """One row per claim of ``register`` (``data/claims.csv`` as :func:`models.claims.load_register`
    or ``Dataset.claims`` give it): ``claim``, ``chapter``, ``verdict`` (the register's),
    ``treatment`` (:data:`TREATMENTS`), ``rules`` (``C25 (floors)``, ...) and ``reason``.
    """
    table = register.reset_index() if "id" not in register.columns and register.index.name == "id" else register
    missing = [c for c in ("id", "chapter", "verdict") if c not in table.columns]
    if missing:
        raise ModelInputError("register columns", missing, "a register with id, chapter, verdict (data/claims.csv)")
    if table["id"].duplicated().any():
        raise ModelInputError("register.id", sorted(table.loc[table["id"].duplicated(), "id"]), "unique claim ids")
    by_claim: dict[str, list] = {}
    for rule in RULES.values():
        by_claim.setdefault(rule.claim, []).append(rule)
    rows = []
    for _, c in table.iterrows():
        cid, chapter, verdict = str(c["id"]), str(c.get("chapter", "") or ""), str(c["verdict"])
        rules = by_claim.get(cid, [])
        if rules:
            treatment, reason = GRADED, "; ".join(r.description for r in rules if r.description)
        elif verdict == "out of scope":
            treatment, reason = OUT_OF_SCOPE, str(c.get("verdict_detail", "") or "no model or data can test it")
        elif cid in NOT_MOVED or str(c.get("model", "")) == "data":
            treatment = NOT_MOVED_LABEL
            reason = NOT_MOVED.get(cid, "a claim about the data (data/ files), which no draw changes")
        else:
            treatment = NOT_YET
            reason = NOT_YET_REASONS.get(cid, NOT_YET_DEFAULT.format(chapter=chapter or "its"))
        rows.append({"claim": cid, "chapter": chapter, "verdict": verdict, "treatment": treatment,
                     "rules": ", ".join(f"{r.name} ({r.family})" for r in rules), "reason": reason})
    out = pd.DataFrame(rows).set_index("claim")
    return out
