"""Load and validate the book's data (``data/*.csv``).

Every file is checked on load against :data:`SCHEMA`, a schema declared once as data: required
columns, types, allowed values, foreign keys to other files, signs, unique keys and a mandatory
``source``. Cross-file checks follow: elasticity signs and ranges, a complete trade-cost matrix,
complete production/consumption rows, regions summing to the published world totals and a closed
world balance, both within :data:`TOLERANCE`. Any breach raises
:class:`~models.errors.DataValidationError` naming the file, the CSV line (header = line 1) and the
column.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from models.errors import DataValidationError

#: Relative tolerance for regions-sum-to-world and world-balance checks. USGS world totals are
#: rounded: its graphite country rows sum 1.9% above the rounded 1,600 kt, rare earths 1.0%.
TOLERANCE = 0.02

_REG = ("regions", "region")
_MIN = ("minerals", "mineral")
_VARS = ("mine_production", "refined_production", "reserves", "consumption")
_ARTICLES = ("000_e2e2e05d78e00c11.txt", "001_3b187ffe0f3e724a.txt", "002_ae9a4e444b260f65.txt",
             "003_bd42f45a952dbe8c.txt", "004_165f506897d6577c.txt")
_MODELS = ("data", "equilibrium", "floors", "stockpile", "coalition", "strategic", "investment",
           "learning", "out_of_scope")

# column spec: (type, allowed values | foreign key (file, column) | None, sign | None, required)
SCHEMA: dict[str, dict] = {
    "regions": {"key": ["region"], "cols": {"region": ("str", None, None, True), "name": ("str", None, None, True)}},
    "region_countries": {"key": ["iso3"], "cols": {"iso3": ("str", None, None, True), "country": ("str", None, None, True),
                                                   "region": ("str", _REG, None, True)}},
    "minerals": {"key": ["mineral"], "cols": {
        "mineral": ("str", None, None, True), "name": ("str", None, None, True), "stage": ("str", None, None, True),
        "unit": ("str", ("kt",), None, True), "reference_region": ("str", _REG, None, True),
        "production_variable": ("str", ("mine_production", "refined_production"), None, True)}},
    "prices": {"key": ["mineral", "market"], "cols": {
        "mineral": ("str", _MIN, None, True), "market": ("str", ("reference", "china_domestic", "ex_china"), None, True),
        "price_usd_per_kg": ("float", None, "pos", True), "year": ("int", None, "pos", True)}},
    "quantities": {"key": ["region", "mineral", "variable"], "cols": {
        "region": ("str", _REG, None, True), "mineral": ("str", _MIN, None, True), "variable": ("str", _VARS, None, True),
        "value_kt": ("float", None, "nonneg", True), "year": ("int", None, "pos", True), "method": ("str", None, None, False)}},
    "world_totals": {"key": ["mineral", "variable"], "cols": {
        "mineral": ("str", _MIN, None, True), "variable": ("str", _VARS, None, True),
        "value_kt": ("float", None, "nonneg", True), "year": ("int", None, "pos", True)}},
    "elasticities": {"key": ["mineral", "side", "horizon"], "cols": {
        "mineral": ("str", _MIN, None, True), "side": ("str", ("demand", "supply"), None, True),
        "horizon": ("str", ("short", "long"), None, True), "central": ("float", None, None, True),
        "low": ("float", None, None, True), "high": ("float", None, None, True)}},
    "trade_costs": {"key": ["mineral", "origin", "destination"], "cols": {
        "mineral": ("str", _MIN, None, True), "origin": ("str", _REG, None, True),
        "destination": ("str", _REG, None, True), "usd_per_kg": ("float", None, "nonneg", True)}},
    "subsidies": {"key": ["region", "mineral"], "cols": {
        "region": ("str", _REG, None, True), "mineral": ("str", _MIN, None, True),
        "usd_per_kg": ("float", None, "nonneg", True), "low": ("float", None, "nonneg", True),
        "high": ("float", None, "nonneg", True)}},
    "export_controls": {"key": ["origin", "mineral", "destinations", "since"], "cols": {
        "origin": ("str", _REG, None, True), "mineral": ("str", _MIN, None, True),
        "destinations": ("regionlist", None, None, True), "measure": ("str", ("licence", "ban"), None, True),
        "since": ("date", None, None, True), "status": ("str", ("in_force", "suspended"), None, False)}},
    "floors": {"key": ["region", "mineral", "instrument"], "cols": {
        "region": ("str", _REG, None, True), "mineral": ("str", _MIN, None, True),
        "instrument": ("str", ("preferential", "guaranteed", "stockpile", "cfd"), None, True),
        "level_usd_per_kg": ("float", None, "pos", True), "since": ("date", None, None, True)}},
    "rosters": {"key": ["roster", "iso3", "region"], "cols": {
        "roster": ("str", None, None, True), "iso3": ("str", None, None, True),
        "country": ("str", None, None, True), "region": ("str", _REG, None, True)}},
    "roster_regions": {"key": ["roster", "region"], "cols": {
        "roster": ("str", ("rosters", "roster"), None, True), "region": ("str", _REG, None, True),
        "basis": ("str", ("named_country", "derived"), None, True)}},
    "gdp": {"key": ["region"], "cols": {"region": ("str", _REG, None, True), "gdp_usd_bn": ("float", None, "pos", True),
                                        "year": ("int", None, "pos", True)}},
    "disruptions": {"key": ["name"], "cols": {
        "name": ("str", None, None, True), "origin": ("str", _REG, None, True),
        "destinations": ("regionlist", None, None, True), "minerals": ("minerallist", None, None, True),
        "cut_share": ("float", None, "pos", True), "duration_years": ("int", None, "pos", True),
        "annual_probability": ("float", None, "pos", True)}},
    "downstream_exposure": {"key": ["region", "mineral", "sector"], "cols": {
        "region": ("str", _REG, None, True), "mineral": ("str", _MIN, None, True), "sector": ("str", None, None, True),
        "year": ("int", None, "pos", True), "output_musd": ("float", None, "pos", True),
        "value_added_share": ("float", None, "pos", True), "value_added_source": ("source", None, None, True),
        "note": ("str", None, None, False)}},
    "claims": {"key": ["id"], "source": False, "cols": {
        "id": ("str", None, None, True), "article": ("str", _ARTICLES, None, True), "quote": ("str", None, None, True),
        "kind": ("str", ("factual", "causal", "forecast", "political"), None, True),
        "model": ("str", _MODELS, None, True),
        "chapter": ("str", ("", "claims", "market_today", "model", "price_floors", "stockpile", "membership",
                             "investment", "independence", "flooding", "export_controls"), None, False),
        "verdict": ("str", None, None, False), "verdict_detail": ("str", None, None, False),
        "flips_when": ("str", None, None, False), "share_holds": ("float", None, "share", False)}},
}
_ORDER = ("regions", "minerals", "region_countries", "prices", "quantities", "world_totals", "elasticities",
          "trade_costs", "subsidies", "export_controls", "floors", "rosters", "roster_regions", "gdp", "disruptions",
          "downstream_exposure", "claims")
_CITATION = re.compile(r"(19|20)\d\d")
#: Numbers as the files write them: no digit-group separators, no underscores, no inf or nan.
_FLOAT = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_INT = re.compile(r"[+-]?\d+")
_GROUPED = re.compile(r"[+-]?\d{1,3}([,_ ']\d{3})+(\.\d*)?")


def _read(path: Path) -> tuple[pd.DataFrame, list[int]]:
    """Read a CSV strictly with :mod:`csv`; return the frame (all strings) and each row's line."""
    name = path.stem
    if not path.is_file():
        raise DataValidationError(name, None, None, f"file {path} is missing")
    rows, lines = [], []
    data = path.read_bytes()
    try:
        # a UTF-8 byte-order mark (spreadsheet exports) is unambiguous: read it and drop it
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DataValidationError(name, line, None, f"byte {data[exc.start]:#04x} is not UTF-8 text (the file "
                                  "was saved in another encoding, e.g. latin-1): save it as UTF-8") from None
    with io.StringIO(text, newline="") as fh:
        reader = csv.reader(fh, strict=True)
        try:
            header = next(reader, None)
            if not header or not any(h.strip() for h in header):
                raise DataValidationError(name, 1, None, "empty file or missing header")
            for rec in reader:
                if not rec:
                    continue
                if len(rec) != len(header):
                    raise DataValidationError(name, reader.line_num, None,
                                              f"ragged row: {len(rec)} fields, header has {len(header)}")
                rows.append(rec)
                lines.append(reader.line_num)
        except csv.Error as exc:
            raise DataValidationError(name, reader.line_num, None, f"malformed CSV: {exc}") from exc
    if not rows:
        raise DataValidationError(name, 2, None, "no data rows (the file holds a header only)")
    return pd.DataFrame(rows, columns=[h.strip() for h in header], dtype=object), lines


def _check_file(name: str, df: pd.DataFrame, lines: list[int], known: dict[str, set]) -> pd.DataFrame:
    """Validate one file against :data:`SCHEMA` and return it with typed columns."""
    spec = SCHEMA[name]
    cols = dict(spec["cols"])
    if spec.get("source", True):
        cols["source"] = ("source", None, None, True)
    for col, (_, _, _, required) in cols.items():
        if required and col not in df.columns:
            raise DataValidationError(name, 1, col, "required column is missing")
    out = df.copy()
    for col, (typ, allowed, sign, required) in cols.items():
        if col not in df.columns:
            continue
        values = []
        for line, raw in zip(lines, df[col]):
            raw = (raw or "").strip()
            err = lambda msg: DataValidationError(name, line, col, f"{raw!r}: {msg}")  # noqa: E731
            if raw == "":
                if required:
                    raise err("empty value")
                values.append(raw)
                continue
            if typ == "source" and not (_CITATION.search(raw) if not raw.lower().startswith("assumption")
                                        else re.match(r"assumption: \S", raw)):
                raise err("source must be 'assumption: <reason>' or a citation with a year")
            if typ in ("float", "int"):
                if _GROUPED.fullmatch(raw):
                    raise err("digit-group separators are not allowed: write 1234.5, not 1,234.5")
                if not (_INT if typ == "int" else _FLOAT).fullmatch(raw):
                    raise err(f"not a number ({typ}; plain digits with '.' as the decimal point)")
                val = float(raw) if typ == "float" else int(raw)
                if not np.isfinite(val):
                    raise err("not a finite number")
                if (sign == "pos" and val <= 0) or (sign == "nonneg" and val < 0):
                    raise err("must be positive" if sign == "pos" else "must be non-negative")
                if sign == "share" and not 0 <= val <= 1:
                    raise err("must be a share between 0 and 1")
                raw = val
            if typ == "date" and not re.fullmatch(r"\d{4}-\d\d-\d\d", raw):
                raise err("not an ISO date YYYY-MM-DD")
            if typ == "regionlist" and raw != "ALL":
                bad = [r for r in raw.split(";") if r not in known["regions"]]
                if bad:
                    raise err(f"unknown region(s) {bad}")
            if typ == "minerallist" and raw != "ALL":
                bad = [m for m in raw.split(";") if m not in known["minerals"]]
                if bad:
                    raise err(f"unknown mineral(s) {bad}")
            if isinstance(allowed, tuple) and len(allowed) == 2 and allowed[0] in known:
                if raw not in known[allowed[0]]:
                    raise err(f"unknown {allowed[1]} (not in {allowed[0]}.csv)")
            elif allowed is not None and raw not in allowed:
                raise err(f"not one of {list(allowed)}")
            values.append(raw)
        out[col] = values
    dup = out.duplicated(subset=spec["key"], keep="first")
    if dup.any():
        i = int(dup.to_numpy().nonzero()[0][0])
        raise DataValidationError(name, lines[i], spec["key"][-1], f"duplicate key {tuple(out.iloc[i][spec['key']])}")
    for col in out.columns:
        if cols.get(col, ("str",))[0] in ("float", "int"):
            out[col] = pd.to_numeric(out[col])
    out.attrs["lines"] = lines
    return out


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
        if r["cut_share"] > 1:
            raise DataValidationError("disruptions", line, "cut_share", f"{r['cut_share']}: a share in (0, 1]")
        if r["annual_probability"] > 1:
            raise DataValidationError("disruptions", line, "annual_probability",
                                      f"{r['annual_probability']}: a probability in (0, 1]")
        if r["destinations"] != "ALL" and r["origin"] in r["destinations"].split(";"):
            raise DataValidationError("disruptions", line, "destinations", "must not include the origin")
    dx = t["downstream_exposure"]
    for i, r in dx.iterrows():
        if r["value_added_share"] > 1:
            raise DataValidationError("downstream_exposure", dx.attrs["lines"][i], "value_added_share",
                                      f"{r['value_added_share']}: a share of output in (0, 1]")
    if len(dis) and dis["annual_probability"].sum() > 1:
        raise DataValidationError("disruptions", None, "annual_probability",
                                  f"probabilities sum to {dis['annual_probability'].sum():.4g}, more than 1")
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
        On any breach of :data:`SCHEMA` or of the cross-file checks.
    """
    folder = Path(directory) if directory is not None else Path(__file__).resolve().parents[1] / "data"
    tables: dict[str, pd.DataFrame] = {}
    known: dict[str, set] = {}
    for name in _ORDER:
        df, lines = _read(folder / f"{name}.csv")
        tables[name] = _check_file(name, df, lines, known)
        for col in SCHEMA[name]["key"][:1]:
            known[name] = set(tables[name][col])
    _cross_checks(tables)
    return Dataset(**tables)
