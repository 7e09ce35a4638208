"""Downstream losses of a cut-off: production that stops when a mineral runs short (MODEL.md §4).

A mineral market's surplus cannot measure an economy-wide loss: the most a calibrated demand curve
can lose is the area under it, bounded by its choke price. In the short run a magnet maker or a
chip fab cannot substitute: its mineral input is a fixed requirement per unit of output (a
Leontief technology), so a physical shortfall stops output in proportion. For region ``r``
with base-year use ``D0_r`` (kt a year), mineral-using downstream output ``Y_sr`` (USD million a
year, sector ``s``) and value-added shares ``v_s``::

    σ_r = max(0, D0_r − D_r − R_r)            shortfall after a release R_r (kt a year)
    φ_r = min(1, σ_r / D0_r)                  share of the mineral's use that is missing
    L_r = φ_r Σ_s v_s Y_sr · m / 12           value added lost over a control of m months

``D_r`` is the demand the equilibrium leaves in ``r`` under the control (read from an
:class:`~models.result.EquilibriumResult`); ``R_r`` a stockpile's release into ``r``, which can
only add supply, so it never raises a price. ``L_r`` is zero without a shortfall and increases
with it; it is an upper bound in the short run (no substitution, no inventories beyond ``R``)
and the market surplus, which allows substitution along the demand curve, a lower one.

The exposure ``Y_sr`` and ``v_s`` come from sourced output and value-added data
(``data/downstream_exposure.csv``, a source or a stated assumption on every row, validated with the
dataset by :mod:`models.data`); :func:`value_added_at_risk` sums ``Σ_s v_s Y_sr`` by region and
:func:`exposure_table` shows the rows with the implied input requirement ``a_r = D0_r / Σ_s Y_sr``
(kt of the mineral per USD million of output). :func:`load_anchors` reads the published estimates
of such losses the chapters compare with (``data/downstream_anchors.csv``).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .csvfile import read_rows
from .errors import DataValidationError, ModelInputError

ANCHORS = Path(__file__).resolve().parents[1] / "data" / "downstream_anchors.csv"


def shortfall(result, baseline, regions=None, release=None) -> pd.Series:
    """``σ_r = max(0, D0_r − D_r − R_r)`` in kt a year, by region.

    Parameters
    ----------
    result, baseline : EquilibriumResult
        The market under the control and without it (same regions).
    regions : sequence of str, optional
        Regions to report (default: all).
    release : mapping region -> kt a year, optional
        A stockpile's release into each region (``R_r``, default 0).
    """
    d0 = baseline.regions["demand"].astype(float)
    d1 = result.regions["demand"].astype(float).reindex(d0.index)
    if d1.isna().any():
        raise ModelInputError("result.regions", list(d1.index[d1.isna()]), "the baseline's regions")
    rel = pd.Series(release or {}, dtype=float).reindex(d0.index).fillna(0.0)
    if (rel < 0).any():
        raise ModelInputError("release", dict(rel[rel < 0]), "non-negative releases (kt a year)")
    out = (d0 - d1 - rel).clip(lower=0.0)
    out[out < 1e-9] = 0.0            # solver noise is not a shortfall
    return out if regions is None else out.loc[list(regions)]


def downstream_loss(shortfall_kt, use_kt, exposure_musd, value_added_share=1.0, months: float = 12.0) -> pd.Series:
    """``L_r = min(1, σ_r / D0_r) · v · Y_r · m / 12`` in USD million, by region.

    Parameters
    ----------
    shortfall_kt : pandas.Series
        ``σ_r``, kt a year (see :func:`shortfall`).
    use_kt : pandas.Series
        ``D0_r``, the region's base-year use of the mineral (kt a year).
    exposure_musd : pandas.Series
        ``Σ_s Y_sr``: the region's downstream output that uses the mineral (USD million a year).
    value_added_share : float or pandas.Series
        ``v``: the value added per unit of that output (1 reports output, not value added).
    months : float
        Duration of the control (the loss of an annual flow for ``m`` months).
    """
    s = pd.Series(shortfall_kt, dtype=float)
    d0 = pd.Series(use_kt, dtype=float).reindex(s.index)
    y = pd.Series(exposure_musd, dtype=float).reindex(s.index).fillna(0.0)
    v = value_added_share if np.isscalar(value_added_share) else \
        pd.Series(value_added_share, dtype=float).reindex(s.index).fillna(0.0)
    if (s < 0).any() or (d0.fillna(0) < 0).any() or (y < 0).any():
        raise ModelInputError("downstream_loss", "negative input", "non-negative shortfalls, uses and exposures")
    if not np.all((np.asarray(v) >= 0) & (np.asarray(v) <= 1)):
        raise ModelInputError("value_added_share", value_added_share, "shares in [0, 1]")
    if not (np.isfinite(months) and months >= 0):
        raise ModelInputError("months", months, "a non-negative duration")
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = np.where(d0.fillna(0) > 0, np.minimum(1.0, s / d0), 0.0)
    return pd.Series(phi, index=s.index) * v * y * (months / 12.0)


def side_by_side(result, baseline, use_kt, exposure_musd, value_added_share=1.0, months: float = 12.0,
                 release=None) -> pd.DataFrame:
    """The mineral market's welfare change beside the downstream loss, by region (USD million).

    Columns: ``price_change`` (USD/kg, consumer price), ``shortfall_kt``, ``market_welfare_change``
    (over ``months``), ``downstream_loss`` (over ``months``).
    """
    s = shortfall(result, baseline, release=release)
    loss = downstream_loss(s, use_kt, exposure_musd, value_added_share, months)
    dw = result.welfare_change(baseline)["total"] * (months / 12.0)
    dp = result.regions["consumer_price"] - baseline.regions["consumer_price"]
    return pd.DataFrame({"price_change": dp, "shortfall_kt": s, "market_welfare_change": dw,
                         "downstream_loss": loss})


def load_anchors(path: str | Path | None = None) -> pd.DataFrame:
    """Published estimates of downstream losses (``data/downstream_anchors.csv``), strictly read.

    Columns ``id, mineral, country, scenario, months, loss_usd_bn, low_usd_bn, high_usd_bn,
    gdp_share_pct, source``; numbers may be empty where the publication gives none, never
    negative; every row has a source with a year. Errors name the file, line and column.
    """
    path = Path(path or ANCHORS)
    name = path.stem
    numeric = ("months", "loss_usd_bn", "low_usd_bn", "high_usd_bn", "gdp_share_pct")
    need = ("id", "mineral", "country", "scenario", *numeric, "source")
    rows = []
    for line, row in read_rows(path, need):
        if not any(str(y) in row["source"] for y in range(1990, 2031)):
            raise DataValidationError(name, line, "source", f"{row['source']!r}: a citation with a year")
        for col in numeric:
            if row[col] == "":
                row[col] = np.nan
                continue
            try:
                row[col] = float(row[col])
            except ValueError:
                raise DataValidationError(name, line, col, f"{row[col]!r}: not a number") from None
            if row[col] < 0:
                raise DataValidationError(name, line, col, f"{row[col]}: must be non-negative")
        rows.append(row)
    return pd.DataFrame(rows, columns=list(rows[0]) if rows else list(need)).set_index("id")


def _exposure_rows(dataset, mineral: str) -> pd.DataFrame:
    if mineral not in dataset.mineral_ids:
        raise ModelInputError("mineral", mineral, f"one of {list(dataset.mineral_ids)}")
    table = dataset.downstream_exposure
    return table[table["mineral"] == mineral]


def value_added_at_risk(dataset, mineral: str, value_added_share: float | None = None) -> pd.Series:
    """``VA_r = Σ_s v_s Y_sr``: the value added a year that needs ``mineral`` (USD million), by region.

    Parameters
    ----------
    dataset : models.data.Dataset
        Its ``downstream_exposure`` table (``data/downstream_exposure.csv``).
    mineral : str
    value_added_share : float, optional
        Replaces every row's ``v_s`` (a sensitivity); must lie in (0, 1].

    Returns
    -------
    pandas.Series
        Indexed by the dataset's regions, 0 where the table has no row (not measured, not safe).
    """
    rows = _exposure_rows(dataset, mineral)
    if value_added_share is not None:
        if isinstance(value_added_share, bool) or not np.isscalar(value_added_share) \
                or not np.isfinite(float(value_added_share)) or not 0 < float(value_added_share) <= 1:
            raise ModelInputError("value_added_share", value_added_share, "a share of output in (0, 1]")
        v = pd.Series(float(value_added_share), index=rows.index)
    else:
        v = rows["value_added_share"].astype(float)
    va = (v * rows["output_musd"].astype(float)).groupby(rows["region"]).sum()
    return va.reindex(list(dataset.region_ids)).fillna(0.0).rename("value_added_at_risk_musd")


def exposure_table(dataset, mineral: str, use_kt: pd.Series | None = None) -> pd.DataFrame:
    """The exposure rows of ``mineral`` with ``value_added_musd = v_s Y_sr`` and, given the regions'
    base-year use ``D0_r`` (kt), the implied Leontief input requirement ``a_r = D0_r / Σ_s Y_sr`` in
    tonnes per USD million of output (``requirement_t_per_musd``)."""
    rows = _exposure_rows(dataset, mineral)
    out = rows[["region", "sector", "year", "output_musd", "value_added_share"]].copy()
    out["value_added_musd"] = out["output_musd"] * out["value_added_share"]
    if use_kt is not None:
        use = pd.Series(use_kt, dtype=float)
        total = out.groupby("region")["output_musd"].transform("sum")
        out["requirement_t_per_musd"] = 1000.0 * out["region"].map(use).fillna(0.0) / total
    return out.reset_index(drop=True)


#: :func:`exposure_table`'s columns as a reader sees them, with their units.
EXPOSURE_HEADERS = {"region": "region", "sector": "sector", "year": "data year (calendar year)",
                    "output_musd": "output (USD million/yr)", "value_added_share": "value added (fraction of output)",
                    "value_added_musd": "value added (USD million/yr)",
                    "requirement_t_per_musd": "input requirement (t per USD million of output)"}


def exposure_shown(table: pd.DataFrame) -> pd.DataFrame:
    """An :func:`exposure_table` (or a selection of its columns, index levels included) with headers
    that say what each column is and its unit (:data:`EXPOSURE_HEADERS`)."""
    return table.rename(columns=EXPOSURE_HEADERS).rename_axis(
        index=[EXPOSURE_HEADERS.get(n, n) for n in table.index.names])

