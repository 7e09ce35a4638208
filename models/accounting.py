"""One account of a stockpile's inventory, for every chapter (MODEL.md §3).

An annual equilibrium counts the stockpile's purchases as an outlay of the government that holds
it. Inventory that is never sold is worth nothing in that year's welfare: it is shown *beside* the
welfare table as an asset (kt held, and what it cost), never inside it. Inventory has a value only
in a model that releases it (the insurance model), and there its value is the expected release
benefit net of the carrying cost::

    value_m = Σ_ω π_ω B_{mω}(I_m) − c · cost_m            (USD million)

where ``B_{mω}`` is the welfare the release adds in disruption ``ω`` and ``c`` the carrying cost
(financing and storage) as a share of the purchase cost. :func:`inventory_account` is the one
function that builds this table; :meth:`models.result.EquilibriumResult.inventory` and the
insurance model's result both call it.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import ModelInputError

#: Columns of the inventory account, all per stockpile (row).
ACCOUNT_COLUMNS = ("held_kt", "cost_musd", "expected_release_benefit_musd", "carrying_cost_musd",
                   "value_musd", "basis")

NOT_RELEASED = "never released in this model: outlay counted, inventory not valued"
RELEASED = "expected release benefit net of carrying cost"


def _series(name: str, value, index) -> pd.Series:
    s = pd.Series(value, index=index, dtype=float) if np.ndim(value) == 0 else pd.Series(value, dtype=float)
    if not s.index.equals(pd.Index(index)):
        s = s.reindex(index)
    if s.isna().any() or not np.all(np.isfinite(s.to_numpy())):
        raise ModelInputError(name, s.to_dict(), "finite numbers for every stockpile")
    return s


def inventory_account(held_kt, cost_musd, expected_release_benefit_musd=None,
                      carrying_cost_musd=None) -> pd.DataFrame:
    """The inventory account: one row per stockpile (or mineral), beside the welfare table.

    Parameters
    ----------
    held_kt : pandas.Series or float
        Inventory held at the end of the period (kt), indexed by stockpile or mineral.
    cost_musd : pandas.Series or float
        What it cost (USD million): the outlay already counted in the government's welfare.
    expected_release_benefit_musd : pandas.Series, optional
        ``Σ_ω π_ω B_ω``, only from a model that releases inventory. ``None`` (an annual
        equilibrium that never sells): the inventory is not valued, ``value_musd = 0``.
    carrying_cost_musd : pandas.Series, optional
        Financing and storage over the holding period (USD million); only with a release benefit.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`ACCOUNT_COLUMNS`. ``value_musd`` is the benefit net of carrying cost where
        the model releases inventory, else 0 (with ``basis`` saying which).
    """
    held = pd.Series(held_kt, dtype=float) if not np.ndim(held_kt) == 0 else pd.Series({"stockpile": held_kt},
                                                                                        dtype=float)
    index = held.index
    held = _series("held_kt", held, index)
    cost = _series("cost_musd", cost_musd, index)
    if (held < 0).any() or (cost < 0).any():
        raise ModelInputError("inventory", held.to_dict(), "non-negative holdings and costs")
    out = pd.DataFrame({"held_kt": held, "cost_musd": cost}, index=index)
    if expected_release_benefit_musd is None:
        if carrying_cost_musd is not None:
            raise ModelInputError("carrying_cost_musd", carrying_cost_musd,
                                  "None unless a release benefit is given (only released inventory is valued)")
        out["expected_release_benefit_musd"] = 0.0
        out["carrying_cost_musd"] = 0.0
        out["value_musd"] = 0.0
        out["basis"] = NOT_RELEASED
    else:
        benefit = _series("expected_release_benefit_musd", expected_release_benefit_musd, index)
        carrying = _series("carrying_cost_musd", 0.0 if carrying_cost_musd is None else carrying_cost_musd, index)
        out["expected_release_benefit_musd"] = benefit
        out["carrying_cost_musd"] = carrying
        out["value_musd"] = benefit - carrying
        out["basis"] = RELEASED
    return out
