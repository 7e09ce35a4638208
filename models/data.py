"""Load and validate the book's data (``data/*.csv``).

Every file is checked on load against its resource in ``data/datapackage.json``, the data package
that is the one schema of ``data/`` (required columns, types, units, allowed values, bounds, unique
keys, foreign keys to other files and a mandatory ``source``; see :mod:`models.datapackage`, which
has ``frictionless`` validate each file). Cross-file checks follow: elasticity signs and ranges, a complete trade-cost matrix,
complete production/consumption rows, regions summing to the published world totals and a closed
world balance, both within :data:`TOLERANCE`. Any breach raises
:class:`~models.errors.DataValidationError` naming the file, the CSV line (header = line 1) and the
column.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from models.datapackage import read_table
from models.errors import DataValidationError

#: Relative tolerance for regions-sum-to-world and world-balance checks. USGS world totals are
#: rounded: its graphite country rows sum 1.9% above the rounded 1,600 kt, rare earths 1.0%.
TOLERANCE = 0.02

_VARS = ("mine_production", "refined_production", "reserves", "consumption")
#: The tables of :class:`Dataset`, in reading order: a table's foreign keys point to earlier ones.
TABLES = ("regions", "minerals", "region_countries", "prices", "quantities", "world_totals", "elasticities",
          "trade_costs", "subsidies", "export_controls", "floors", "rosters", "roster_regions", "gdp", "disruptions",
          "downstream_exposure", "claims")


def _line(df: pd.DataFrame, mask) -> int | None:
    idx = np.asarray(mask).nonzero()[0]
    return df.attrs["lines"][int(idx[0])] if len(idx) else None


def _cross_checks(t: dict[str, pd.DataFrame]) -> None:
    """Checks that span rows or files."""
    regions, minerals = list(t["regions"]["region"]), list(t["minerals"]["mineral"])
    e = t["elasticities"]
    for i, r in e.iterrows():
        line = e.attrs["lines"][i]
        if (r["side"] == "demand" and r["central"] >= 0) or (r["side"] == "supply" and r["central"] <= 0):
            raise DataValidationError("elasticities", line, "central", f"{r['side']} elasticity has the wrong sign")
        if not r["low"] <= r["central"] <= r["high"]:
            raise DataValidationError("elasticities", line, "low", "need low <= central <= high")
    s = t["subsidies"]
    for i, r in s.iterrows():
        if not r["low"] <= r["usd_per_kg"] <= r["high"]:
            raise DataValidationError("subsidies", s.attrs["lines"][i], "low", "need low <= usd_per_kg <= high")
    for m in minerals:
        have = set(zip(e.loc[e["mineral"] == m, "side"], e.loc[e["mineral"] == m, "horizon"]))
        if have != {(s_, h) for s_ in ("demand", "supply") for h in ("short", "long")}:
            raise DataValidationError("elasticities", None, "mineral", f"{m}: need demand/supply x short/long")
        if not ((t["prices"]["mineral"] == m) & (t["prices"]["market"] == "reference")).any():
            raise DataValidationError("prices", None, "market", f"no reference price for {m}")
        tc = t["trade_costs"][t["trade_costs"]["mineral"] == m]
        have = set(zip(tc["origin"], tc["destination"]))
        missing = [(o, d) for o in regions for d in regions if (o, d) not in have]
        if missing:
            raise DataValidationError("trade_costs", None, "origin", f"{m}: matrix incomplete, missing {missing[:3]}")
        diag = tc[(tc["origin"] == tc["destination"]) & (tc["usd_per_kg"] != 0)]
        if len(diag):
            raise DataValidationError("trade_costs", _line(t["trade_costs"], t["trade_costs"].index.isin(diag.index)),
                                      "usd_per_kg", "origin == destination must cost 0")
    q, wt = t["quantities"], t["world_totals"]
    prodvar = dict(zip(t["minerals"]["mineral"], t["minerals"]["production_variable"]))
    for m in minerals:
        sums = {}
        for var in (prodvar[m], "consumption"):
            sub = q[(q["mineral"] == m) & (q["variable"] == var)]
            absent = [r for r in regions if r not in set(sub["region"])]
            if absent:
                raise DataValidationError("quantities", None, "region", f"{m}/{var}: no row for {absent}")
        for var in _VARS:
            sub = q[(q["mineral"] == m) & (q["variable"] == var)]
            if set(sub["region"]) == set(regions):
                sums[var] = float(sub["value_kt"].sum())
                row = wt[(wt["mineral"] == m) & (wt["variable"] == var)]
                if len(row) and abs(sums[var] - row["value_kt"].iloc[0]) > TOLERANCE * row["value_kt"].iloc[0]:
                    raise DataValidationError("world_totals", _line(wt, (wt["mineral"] == m) & (wt["variable"] == var)),
                                              "value_kt", f"{m}/{var}: regions sum to {sums[var]:.4g}, "
                                              f"world {row['value_kt'].iloc[0]:.4g} (tolerance {TOLERANCE:.0%})")
        if abs(sums["consumption"] - sums[prodvar[m]]) > TOLERANCE * sums[prodvar[m]]:
            raise DataValidationError("quantities", None, "value_kt", f"{m}: world consumption {sums['consumption']:.4g}"
                                      f" != production {sums[prodvar[m]]:.4g}")
    ro = t["rosters"]
    iso = set(t["region_countries"]["iso3"]) | {"*"}
    for i, r in ro.iterrows():
        if r["iso3"] not in iso:
            raise DataValidationError("rosters", ro.attrs["lines"][i], "iso3", f"unknown iso3 {r['iso3']!r}")
    missing = set(ro["roster"]) - set(t["roster_regions"]["roster"])
    if missing:
        raise DataValidationError("roster_regions", None, "roster", f"no rows for roster(s) {sorted(missing)}")
    dis = t["disruptions"]
    for i, r in dis.iterrows():
        line = dis.attrs["lines"][i]
        if r["destinations"] != "ALL" and r["origin"] in r["destinations"].split(";"):
            raise DataValidationError("disruptions", line, "destinations", "must not include the origin")
        for column, ok in (("probability_low", r["probability_low"] <= r["annual_probability"]),
                           ("probability_high", r["annual_probability"] <= r["probability_high"])):
            if not ok:
                raise DataValidationError("disruptions", line, column,
                                          "need probability_low <= annual_probability <= probability_high")
    for column in ("annual_probability", "probability_high"):
        if len(dis) and dis[column].sum() > 1:
            raise DataValidationError("disruptions", None, column,
                                      f"probabilities sum to {dis[column].sum():.4g}, more than 1")
    c = t["claims"]
    for i, r in c.iterrows():
        if r["model"] == "out_of_scope" and (r["verdict"] != "out of scope" or not r["verdict_detail"]):
            raise DataValidationError("claims", c.attrs["lines"][i], "verdict",
                                      "out_of_scope rows need verdict 'out of scope' and a verdict_detail")


@dataclass(frozen=True)
class Dataset:
    """All data files as DataFrames, validated. One attribute per ``data/<name>.csv``."""

    regions: pd.DataFrame; region_countries: pd.DataFrame; minerals: pd.DataFrame  # noqa: E702
    prices: pd.DataFrame; quantities: pd.DataFrame; world_totals: pd.DataFrame  # noqa: E702
    elasticities: pd.DataFrame; trade_costs: pd.DataFrame; subsidies: pd.DataFrame  # noqa: E702
    export_controls: pd.DataFrame; floors: pd.DataFrame; rosters: pd.DataFrame  # noqa: E702
    roster_regions: pd.DataFrame; gdp: pd.DataFrame; disruptions: pd.DataFrame  # noqa: E702
    downstream_exposure: pd.DataFrame; claims: pd.DataFrame  # noqa: E702

    @property
    def region_ids(self) -> tuple[str, ...]:
        """Region ids in ``regions.csv`` order."""
        return tuple(self.regions["region"])

    @property
    def mineral_ids(self) -> tuple[str, ...]:
        """Mineral ids in ``minerals.csv`` order."""
        return tuple(self.minerals["mineral"])

    def quantity(self, mineral: str, variable: str) -> pd.Series:
        """Quantity in kt by region, in region order; KeyError if any region lacks a row."""
        q = self.quantities
        s = q[(q["mineral"] == mineral) & (q["variable"] == variable)].set_index("region")["value_kt"]
        missing = [r for r in self.region_ids if r not in s.index]
        if missing:
            raise KeyError(f"quantities: no {mineral}/{variable} row for regions {missing}")
        return s.reindex(list(self.region_ids)).astype(float).rename(f"{mineral}/{variable}")

    def price(self, mineral: str, market: str = "reference") -> float:
        """Price in USD/kg for ``market`` in {reference, china_domestic, ex_china}."""
        p = self.prices
        row = p[(p["mineral"] == mineral) & (p["market"] == market)]
        if row.empty:
            raise KeyError(f"prices: no {market} price for {mineral}")
        return float(row["price_usd_per_kg"].iloc[0])

    def elasticity(self, mineral: str, side: str, horizon: str = "long", which: str = "central") -> float:
        """Elasticity for ``side`` in {demand, supply}; ``which`` in {central, low, high}."""
        if which not in ("central", "low", "high"):
            raise KeyError(f"which must be central, low or high, not {which!r}")
        e = self.elasticities
        row = e[(e["mineral"] == mineral) & (e["side"] == side) & (e["horizon"] == horizon)]
        if row.empty:
            raise KeyError(f"elasticities: no row {mineral}/{side}/{horizon}")
        return float(row[which].iloc[0])

    def trade_cost_matrix(self, mineral: str) -> pd.DataFrame:
        """USD/kg trade costs: origin index x destination columns, both in region order."""
        tc = self.trade_costs[self.trade_costs["mineral"] == mineral]
        if tc.empty:
            raise KeyError(f"trade_costs: no rows for {mineral}")
        ids = list(self.region_ids)
        return tc.pivot(index="origin", columns="destination", values="usd_per_kg").reindex(index=ids, columns=ids)

    def roster(self, name: str) -> tuple[str, ...]:
        """Region ids a roster covers (from ``roster_regions.csv``), in region order."""
        covered = set(self.roster_regions.loc[self.roster_regions["roster"] == name, "region"])
        if not covered:
            raise KeyError(f"roster_regions: no roster {name!r}")
        return tuple(r for r in self.region_ids if r in covered)


def load_dataset(directory: str | Path | None = None) -> Dataset:
    """Load and validate every data file.

    Parameters
    ----------
    directory : str or Path, optional
        Folder holding the CSV files; defaults to the repository's ``data/``.

    Returns
    -------
    Dataset

    Raises
    ------
    DataValidationError
        On any breach of the file's schema in ``data/datapackage.json`` or of the cross-file checks.
    """
    folder = Path(directory) if directory is not None else Path(__file__).resolve().parents[1] / "data"
    tables: dict[str, pd.DataFrame] = {}
    for name in TABLES:
        tables[name] = read_table(name, folder, tables)
    _cross_checks(tables)
    return Dataset(**tables)
