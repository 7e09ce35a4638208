"""``data/`` as a Frictionless Data Package (``data/datapackage.json``).

The descriptor is generated from :data:`models.data.SCHEMA` plus the units, descriptions and
provenance declared here, so the loader's checks and the published package cannot drift apart
(a test compares the committed file with :func:`descriptor`). Every field carries a ``unit`` and a
``source``: where its values come from (for most fields, the row's own ``source`` column).

:func:`validate_package` checks the CSV files against the descriptor with the ``frictionless``
library (types, required values, allowed values, bounds, primary and foreign keys) and turns the
first error into a :class:`~models.errors.DataValidationError` naming file, CSV line and column.
"""
from __future__ import annotations

import json
from pathlib import Path

from models.errors import DataValidationError

#: Licence of the compilation. Each cited publication keeps its own terms (see ``source`` columns).
LICENSE = {"name": "CC-BY-4.0", "title": "Creative Commons Attribution 4.0",
           "path": "https://creativecommons.org/licenses/by/4.0/"}

_ROW_SOURCE = "column 'source' of the same row"
_DEFINED = "model definition (models/data.py SCHEMA and data/README.md)"

#: unit of each field; a field not listed here takes the unit of its name in _BY_NAME
_UNITS: dict[tuple[str, str], str] = {
    ("elasticities", "central"): "1 (dimensionless elasticity)",
    ("elasticities", "low"): "1 (dimensionless elasticity)",
    ("elasticities", "high"): "1 (dimensionless elasticity)",
    ("subsidies", "low"): "USD/kg", ("subsidies", "high"): "USD/kg",
}
_BY_NAME = {
    "value_kt": "kt", "price_usd_per_kg": "USD/kg", "usd_per_kg": "USD/kg", "level_usd_per_kg": "USD/kg",
    "gdp_usd_bn": "USD bn (current prices)", "year": "calendar year", "since": "date (ISO 8601)",
    "unit": "none (names the unit of the mineral's quantities)", "iso3": "none (ISO 3166-1 alpha-3 code)",
    "source": "none (citation)", "note": "none (text)", "method": "none (text)", "quote": "none (text)",
}
_DESCRIPTIONS = {
    "region": "model region id (regions.csv)", "mineral": "mineral id (minerals.csv)",
    "zone": "trade-cost zone of the region (trade_costs.csv)", "former_region": "the 13-region id the region belonged to before issue 11",
    "variable": "quantity: mine, refined or secondary (recycled) production, reserves or consumption",
    "value_kt": "quantity in thousand metric tonnes of the modelled material",
    "price_usd_per_kg": "annual average price of the base year", "basis": "annual average as published, or bridged (the note says how)",
    "wedge_instrument": "how China's price gap enters the benchmark: export_tax (price wedge) or licence_quota (quantity limit)",
    "side": "demand, supply (primary) or secondary (recycled) supply", "source": "publication (with year) or 'assumption: <reason>'",
}


def _unit(table: str, field: str, typ: str) -> str:
    if (table, field) in _UNITS:
        return _UNITS[(table, field)]
    if field in _BY_NAME:
        return _BY_NAME[field]
    if typ in ("float", "int"):
        raise KeyError(f"no unit declared for numeric field {table}.{field}")
    return "none (identifier or category)"


def _source(table: str, field: str, has_source: bool) -> str:
    if field == "source":
        return "the publication it names"
    if table == "claims":
        return "the article named in column 'article' (quotes are verbatim)"
    if field in ("region", "mineral", "zone", "former_region", "roster", "iso3", "market", "side", "horizon",
                 "variable", "instrument", "measure", "status", "basis", "wedge_instrument", "kind", "model"):
        return _DEFINED if not has_source else f"{_DEFINED}; values chosen per row with {_ROW_SOURCE}"
    return _ROW_SOURCE if has_source else _DEFINED


def _field(table: str, name: str, spec: tuple, has_source: bool) -> dict:
    typ, allowed, sign, required = spec
    f = {"name": name, "type": {"float": "number", "int": "integer", "date": "date"}.get(typ, "string"),
         "unit": _unit(table, name, typ), "source": _source(table, name, has_source)}
    if name in _DESCRIPTIONS:
        f["description"] = _DESCRIPTIONS[name]
    cons: dict = {"required": True} if required else {}
    if isinstance(allowed, tuple) and not (len(allowed) == 2 and allowed[0] in _TABLES()):
        if "" not in allowed:
            cons["enum"] = list(allowed)
    if sign == "pos":
        cons["exclusiveMinimum"] = 0
    elif sign == "nonneg":
        cons["minimum"] = 0
    if typ == "source":
        cons["pattern"] = r"(assumption: \S.*|(?s:.*)(19|20)\d\d(?s:.*))"
    if typ == "regionlist":
        cons["pattern"] = r"ALL|[A-Z]{2,3}(;[A-Z]{2,3})*"
    if cons:
        f["constraints"] = cons
    return f


def _TABLES() -> tuple[str, ...]:
    from models.data import SCHEMA
    return tuple(SCHEMA) + ("zones",)


def descriptor() -> dict:
    """The Data Package descriptor of ``data/`` (a dict, as written to ``datapackage.json``)."""
    from models.data import _ORDER, BASE_YEAR, SCHEMA
    resources = []
    for name in _ORDER:
        spec = SCHEMA[name]
        has_source = spec.get("source", True)
        cols = dict(spec["cols"])
        if has_source:
            cols["source"] = ("source", None, None, True)
        fields = [_field(name, c, s, has_source) for c, s in cols.items()]
        header = _header(name)
        extra = [c for c in header if c not in cols]           # free-text columns outside SCHEMA
        fields += [{"name": c, "type": "string", "unit": _unit(name, c, "str"), "source": _source(name, c, has_source)}
                   for c in extra]
        fields.sort(key=lambda f: header.index(f["name"]) if f["name"] in header else len(header))
        schema = {"fields": fields, "primaryKey": list(spec["key"]), "missingValues": [""]}
        fks = []
        for c, (_, allowed, _, _) in cols.items():
            if isinstance(allowed, tuple) and len(allowed) == 2 and allowed[0] in SCHEMA and allowed[0] != name:
                fks.append({"fields": c, "reference": {"resource": allowed[0], "fields": allowed[1]}})
        if fks:
            schema["foreignKeys"] = fks
        resources.append({"name": name, "path": f"{name}.csv", "type": "table", "format": "csv",
                          "mediatype": "text/csv", "encoding": "utf-8",
                          "dialect": {"$schema": "https://datapackage.org/profiles/2.0/tabledialect.json",
                                      "delimiter": ",", "quoteChar": '"', "header": True, "headerRows": [1]},
                          "schema": schema,
                          "sources": [{"title": "per row: " + _ROW_SOURCE if has_source else
                                       "the five articles in the claims register"}],
                          "licenses": [LICENSE]})
    return {"$schema": "https://datapackage.org/profiles/2.0/datapackage.json", "name": "critical-minerals-bloc-data", "title": "Data of the critical-minerals trade bloc book",
            "description": f"Quantities (kt) and prices (USD/kg) of the base year {BASE_YEAR} at country resolution, "
                           "elasticities, trade costs, policies and rosters. Units are declared per field; every row "
                           "names its source or is marked 'assumption: <reason>'.",
            "version": "2.0.0", "licenses": [LICENSE],
            "sources": [{"title": "USGS Mineral Commodity Summaries 2025 (data year 2024)",
                         "path": "https://pubs.usgs.gov/periodicals/mcs2025/"},
                        {"title": "IEA Global Critical Minerals Outlook 2024", "path": "https://www.iea.org/reports/global-critical-minerals-outlook-2024"},
                        {"title": "Further publications cited per row; see data/references.bib"}],
            "resources": resources}


def _header(name: str) -> list[str]:
    path = Path(__file__).resolve().parents[1] / "data" / f"{name}.csv"
    with path.open(encoding="utf-8") as fh:
        return [h.strip() for h in fh.readline().rstrip("\n").split(",")]


def undocumented_fields(desc: dict) -> list[str]:
    """``table.field`` of every field lacking a ``unit`` or a ``source``, and of every numeric field
    whose unit is not a unit (``none (...)``)."""
    bad = []
    for res in desc["resources"]:
        for f in res["schema"]["fields"]:
            unit, source = str(f.get("unit", "")).strip(), str(f.get("source", "")).strip()
            if not unit or not source or (f["type"] in ("number", "integer") and unit.startswith("none")):
                bad.append(f"{res['name']}.{f['name']}")
    return bad


def write_descriptor(directory: str | Path | None = None) -> Path:
    """Write ``datapackage.json`` into ``directory`` (default: the repository's ``data/``)."""
    folder = Path(directory) if directory is not None else Path(__file__).resolve().parents[1] / "data"
    path = folder / "datapackage.json"
    path.write_text(json.dumps(descriptor(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def validate_package(directory: str | Path | None = None) -> None:
    """Validate the CSV files of ``directory`` against its ``datapackage.json`` with ``frictionless``.

    Raises
    ------
    DataValidationError
        For the first error found: file (resource name), CSV line (header = 1) and column.
    """
    from frictionless import Package, system

    folder = Path(directory) if directory is not None else Path(__file__).resolve().parents[1] / "data"
    path = folder / "datapackage.json"
    if not path.is_file():
        raise DataValidationError("datapackage", None, None, f"file {path} is missing")
    with system.use_context(trusted=True):
        report = Package(str(path)).validate()
    if report.valid:
        return
    for task in report.tasks:
        for err in task.errors:
            row = getattr(err, "row_number", None)
            col = getattr(err, "field_name", None)
            raise DataValidationError(task.name, row, col, f"{err.type}: {err.note}")
    raise DataValidationError("datapackage", None, None, "; ".join(e.message for e in report.errors))
