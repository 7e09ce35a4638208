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
_VARS = ("mine_production", "refined_production", "secondary_production", "reserves", "consumption")
#: The base year: every quantity and every price of the dataset is of this year (issue 11).
BASE_YEAR = 2024
_ARTICLES = ("000_e2e2e05d78e00c11.txt", "001_3b187ffe0f3e724a.txt", "002_ae9a4e444b260f65.txt",
             "003_bd42f45a952dbe8c.txt", "004_165f506897d6577c.txt")
_MODELS = ("data", "equilibrium", "floors", "stockpile", "coalition", "strategic", "investment",
           "learning", "out_of_scope")

# column spec: (type, allowed values | foreign key (file, column) | None, sign | None, required)
SCHEMA: dict[str, dict] = {
    "regions": {"key": ["region"], "cols": {"region": ("str", None, None, True), "name": ("str", None, None, True),
                                            "zone": ("str", None, None, True), "former_region": ("str", None, None, False)}},
    "region_countries": {"key": ["iso3"], "cols": {"iso3": ("str", None, None, True), "country": ("str", None, None, True),
                                                   "region": ("str", _REG, None, True)}},
    "minerals": {"key": ["mineral"], "cols": {
        "mineral": ("str", None, None, True), "name": ("str", None, None, True), "stage": ("str", None, None, True),
        "unit": ("str", ("kt",), None, True), "reference_region": ("str", _REG, None, True),
        "production_variable": ("str", ("mine_production", "refined_production"), None, True)}},
    "prices": {"key": ["mineral", "market"], "cols": {
        "mineral": ("str", _MIN, None, True), "market": ("str", ("reference", "china_domestic", "ex_china"), None, True),
        "price_usd_per_kg": ("float", None, "pos", True), "year": ("int", None, "pos", True),
        "basis": ("str", ("annual", "annual, bridged"), None, True),
        "wedge_instrument": ("str", ("", "export_tax", "licence_quota"), None, False)}},
    "quantities": {"key": ["region", "mineral", "variable"], "cols": {
        "region": ("str", _REG, None, True), "mineral": ("str", _MIN, None, True), "variable": ("str", _VARS, None, True),
        "value_kt": ("float", None, "nonneg", True), "year": ("int", None, "pos", True), "method": ("str", None, None, False)}},
    "world_totals": {"key": ["mineral", "variable"], "cols": {
        "mineral": ("str", _MIN, None, True), "variable": ("str", _VARS, None, True),
        "value_kt": ("float", None, "nonneg", True), "year": ("int", None, "pos", True)}},
    "elasticities": {"key": ["mineral", "side", "horizon"], "cols": {
        "mineral": ("str", _MIN, None, True), "side": ("str", ("demand", "supply", "secondary"), None, True),
        "horizon": ("str", ("short", "long"), None, True), "central": ("float", None, None, True),
        "low": ("float", None, None, True), "high": ("float", None, None, True)}},
    "trade_costs": {"key": ["mineral", "origin_zone", "destination_zone"], "cols": {
        "mineral": ("str", _MIN, None, True), "origin_zone": ("str", ("zones", "zone"), None, True),
        "destination_zone": ("str", ("zones", "zone"), None, True), "usd_per_kg": ("float", None, "nonneg", True)}},
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
    "claims": {"key": ["id"], "source": False, "cols": {
        "id": ("str", None, None, True), "article": ("str", _ARTICLES, None, True), "quote": ("str", None, None, True),
        "kind": ("str", ("factual", "causal", "forecast", "political"), None, True),
        "model": ("str", _MODELS, None, True),
        "chapter": ("str", ("", "claims", "market_today", "model", "price_floors", "stockpile", "membership"), None, False),
        "verdict": ("str", None, None, False), "verdict_detail": ("str", None, None, False),
        "flips_when": ("str", None, None, False)}},
}
_ORDER = ("regions", "minerals", "region_countries", "prices", "quantities", "world_totals", "elasticities",
          "trade_costs", "subsidies", "export_controls", "floors", "rosters", "roster_regions", "gdp", "claims")
_CITATION = re.compile(r"(19|20)\d\d")


class _Lines(tuple):
    """CSV line numbers of a frame's rows, kept in ``DataFrame.attrs``; immutable, so pandas need not
    deep-copy it on every operation (that copy once took most of the loading time)."""

    def __deepcopy__(self, memo):
        return self


def _read(path: Path) -> tuple[pd.DataFrame, list[int]]:
    """Read a CSV strictly with :mod:`csv`; return the frame (all strings) and each row's line."""
    name = path.stem
    if not path.is_file():
        raise DataValidationError(name, None, None, f"file {path} is missing")
    rows, lines = [], []
    with path.open(newline="", encoding="utf-8") as fh:
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
                try:
                    val = float(raw) if typ == "float" else int(raw)
                except ValueError:
                    raise err(f"not a number ({typ})") from None
                if val != val or (sign == "pos" and val <= 0) or (sign == "nonneg" and val < 0):
                    raise err("must be positive" if sign == "pos" else "must be non-negative")
                raw = val
            if typ == "date" and not re.fullmatch(r"\d{4}-\d\d-\d\d", raw):
                raise err("not an ISO date YYYY-MM-DD")
            if typ == "regionlist" and raw != "ALL":
                bad = [r for r in raw.split(";") if r not in known["regions"]]
                if bad:
                    raise err(f"unknown region(s) {bad}")
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
    out.attrs["lines"] = _Lines(lines)
    return out


def _line(df: pd.DataFrame, mask) -> int | None:
    idx = np.asarray(mask).nonzero()[0]
    return df.attrs["lines"][int(idx[0])] if len(idx) else None


def _check_triangle(tc: pd.DataFrame, mineral: str, zones: list[str]) -> None:
    """Trade costs must satisfy ``c_ik <= c_ij + c_jk`` over zones, and the within-zone cost (what two
    regions of one zone pay) must be no more than any cost out of that zone; otherwise shipping
    through a third region would be cheaper and the base export wedge could not be calibrated."""
    sub = tc[tc["mineral"] == mineral]
    c = sub.pivot(index="origin_zone", columns="destination_zone", values="usd_per_kg").reindex(index=zones, columns=zones)
    a = c.to_numpy(dtype=float)
    via = np.min(a[:, :, None] + a[None, :, :], axis=1)
    bad = np.argwhere(a > via + 1e-9)
    if len(bad):
        o, d = zones[bad[0][0]], zones[bad[0][1]]
        mask = (tc["mineral"] == mineral) & (tc["origin_zone"] == o) & (tc["destination_zone"] == d)
        raise DataValidationError("trade_costs", _line(tc, mask), "usd_per_kg",
                                  f"{mineral} {o}->{d}: {a[bad[0][0], bad[0][1]]:.4g} exceeds the cost through a "
                                  f"third zone ({via[bad[0][0], bad[0][1]]:.4g}): breaks the triangle inequality")


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
        if not {(s_, h) for s_ in ("demand", "supply") for h in ("short", "long")} <= have:
            raise DataValidationError("elasticities", None, "mineral", f"{m}: need demand/supply x short/long")
        if not ((t["prices"]["mineral"] == m) & (t["prices"]["market"] == "reference")).any():
            raise DataValidationError("prices", None, "market", f"no reference price for {m}")
        tc = t["trade_costs"][t["trade_costs"]["mineral"] == m]
        zones = sorted(set(t["regions"]["zone"]))
        have = set(zip(tc["origin_zone"], tc["destination_zone"]))
        missing = [(o, d) for o in zones for d in zones if (o, d) not in have]
        if missing:
            raise DataValidationError("trade_costs", None, "origin_zone", f"{m}: zone matrix incomplete, missing {missing[:3]}")
        _check_triangle(t["trade_costs"], m, zones)
    q, wt = t["quantities"], t["world_totals"]
    prodvar = dict(zip(t["minerals"]["mineral"], t["minerals"]["production_variable"]))
    bad_year = q[q["year"] != BASE_YEAR]
    if len(bad_year):
        raise DataValidationError("quantities", _line(q, q.index.isin(bad_year.index)), "year",
                                  f"{bad_year['year'].iloc[0]}: every quantity must be of the base year {BASE_YEAR}")
    p = t["prices"]
    for i, r in p.iterrows():
        if r["year"] != BASE_YEAR:
            raise DataValidationError("prices", p.attrs["lines"][i], "year", f"{r['year']}: prices must be annual "
                                      f"averages of the base year {BASE_YEAR} (bridge a missing series and say how)")
        if r["wedge_instrument"] and r["market"] != "china_domestic":
            raise DataValidationError("prices", p.attrs["lines"][i], "wedge_instrument",
                                      "only a china_domestic price defines an export wedge")
    for m in minerals:
        sums = {}
        for var in (prodvar[m], "consumption"):
            sub = q[(q["mineral"] == m) & (q["variable"] == var)]
            absent = [r for r in regions if r not in set(sub["region"])]
            if absent:
                raise DataValidationError("quantities", None, "region", f"{m}/{var}: no row for {absent}")
        for var in _VARS:
            sub = q[(q["mineral"] == m) & (q["variable"] == var)]
            if set(sub["region"]) == set(regions) or (var == "secondary_production" and len(sub)):
                sums[var] = float(sub["value_kt"].sum())
                row = wt[(wt["mineral"] == m) & (wt["variable"] == var)]
                if len(row) and abs(sums[var] - row["value_kt"].iloc[0]) > TOLERANCE * row["value_kt"].iloc[0]:
                    raise DataValidationError("world_totals", _line(wt, (wt["mineral"] == m) & (wt["variable"] == var)),
                                              "value_kt", f"{m}/{var}: regions sum to {sums[var]:.4g}, "
                                              f"world {row['value_kt'].iloc[0]:.4g} (tolerance {TOLERANCE:.0%})")
        supply = sums[prodvar[m]] + sums.get("secondary_production", 0.0)
        if abs(sums["consumption"] - supply) > TOLERANCE * supply:
            raise DataValidationError("quantities", None, "value_kt", f"{m}: world consumption {sums['consumption']:.4g}"
                                      f" != primary + secondary supply {supply:.4g}")
        if sums.get("secondary_production", 0.0) > 0:
            have = set(e.loc[(e["mineral"] == m) & (e["side"] == "secondary"), "horizon"])
            if have != {"short", "long"}:
                raise DataValidationError("elasticities", None, "side", f"{m}: secondary supply needs short and long "
                                          "elasticities (side 'secondary')")
    ro = t["rosters"]
    where = dict(zip(t["region_countries"]["iso3"], t["region_countries"]["region"]))
    for i, r in ro.iterrows():
        if r["iso3"] not in where:
            raise DataValidationError("rosters", ro.attrs["lines"][i], "iso3", f"unknown iso3 {r['iso3']!r}")
        if where[r["iso3"]] != r["region"]:
            raise DataValidationError("rosters", ro.attrs["lines"][i], "region", f"{r['iso3']} maps to "
                                      f"{where[r['iso3']]!r} in region_countries.csv, not {r['region']!r}")
    rr = t["roster_regions"]
    for name, group in ro.groupby("roster"):
        derived = set(group["region"])
        listed = set(rr.loc[rr["roster"] == name, "region"])
        if derived != listed:
            raise DataValidationError("roster_regions", _line(rr, rr["roster"] == name), "region",
                                      f"{name}: regions {sorted(listed ^ derived)} disagree with its countries in rosters.csv")
    missing = set(ro["roster"]) - set(t["roster_regions"]["roster"])
    if missing:
        raise DataValidationError("roster_regions", None, "roster", f"no rows for roster(s) {sorted(missing)}")
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
    roster_regions: pd.DataFrame; gdp: pd.DataFrame; claims: pd.DataFrame  # noqa: E702

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
        zone = self.regions.set_index("region")["zone"]
        by_zone = tc.pivot(index="origin_zone", columns="destination_zone", values="usd_per_kg")
        z = zone.loc[ids].to_numpy()
        cost = np.array(by_zone.loc[z, z], dtype=float)      # a copy: regions of one zone pay its within-zone cost
        np.fill_diagonal(cost, 0.0)                          # ... and nothing to themselves
        return pd.DataFrame(cost, index=pd.Index(ids, name="origin"), columns=pd.Index(ids, name="destination"))

    def secondary_supply(self, mineral: str) -> pd.Series:
        """Secondary (recycled) supply in kt by region, in region order; zero where no row is given."""
        q = self.quantities
        s = q[(q["mineral"] == mineral) & (q["variable"] == "secondary_production")].set_index("region")["value_kt"]
        return s.reindex(list(self.region_ids)).fillna(0.0).astype(float).rename(f"{mineral}/secondary_production")

    def wedge_instrument(self, mineral: str) -> str | None:
        """How China's quoted price gap enters the benchmark: ``"export_tax"`` (a price wedge),
        ``"licence_quota"`` (a quantity limit whose rent is the gap) or None (no China-domestic price)."""
        p = self.prices
        row = p[(p["mineral"] == mineral) & (p["market"] == "china_domestic")]
        return (str(row["wedge_instrument"].iloc[0]) or "export_tax") if len(row) else None

    def group(self, name: str) -> tuple[str, ...]:
        """Regions that made up a former aggregate (``former_region`` in ``regions.csv``: e.g. ``"SEA"``,
        ``"AFR"``, ``"ROW"``) or that lie in a trade-cost ``zone``, in region order."""
        r = self.regions
        hit = r[(r["former_region"] == name) | (r["zone"] == name)]["region"]
        if hit.empty:
            raise KeyError(f"regions: no former region or zone {name!r}")
        return tuple(hit)

    def region_of(self, iso3: str) -> str:
        """The model region of a country (ISO 3166 alpha-3, or ``EUU`` for the EU as a body)."""
        rc = self.region_countries
        row = rc[rc["iso3"] == iso3]
        if row.empty:
            raise KeyError(f"region_countries: no country {iso3!r}")
        return str(row["region"].iloc[0])

    def roster(self, name: str) -> tuple[str, ...]:
        """Region ids a roster covers (from ``roster_regions.csv``), in region order."""
        covered = set(self.roster_regions.loc[self.roster_regions["roster"] == name, "region"])
        if not covered:
            raise KeyError(f"roster_regions: no roster {name!r}")
        return tuple(r for r in self.region_ids if r in covered)


def load_dataset(directory: str | Path | None = None, package: bool = True) -> Dataset:
    """Load and validate every data file.

    The loader's own checks (:data:`SCHEMA` and the cross-file checks) run first; then, when the folder
    holds a ``datapackage.json``, the files are validated against that Frictionless descriptor with the
    ``frictionless`` library (:func:`models.datapackage.validate_package`).

    Parameters
    ----------
    directory : str or Path, optional
        Folder holding the CSV files; defaults to the repository's ``data/``.
    package : bool, default True
        Also validate against ``datapackage.json`` (about a second); False skips it.

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
        if name == "regions":
            known["zones"] = set(tables[name]["zone"])
    _cross_checks(tables)
    if package and (folder / "datapackage.json").is_file():
        from models.datapackage import validate_package
        validate_package(folder)
    return Dataset(**tables)
