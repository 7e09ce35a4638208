"""The data package ``data/datapackage.json``: the one schema of every CSV in ``data/``, and its validation.

The descriptor is a Frictionless Data Package (v2): each resource names its file, its sources and
licences, and a Table Schema whose fields carry a type, a description, a ``unit`` (``"1"`` for a
pure number, ``"none"`` for an id or text) and the constraints the project enforces (required,
enum, bounds, the ``source`` pattern), a primary key and foreign keys. Two custom properties:
``unit`` on every field, and ``listOf`` on a ``;``-separated list of ids (``ALL`` for all of them),
naming the resource and field its items must be found in.

:func:`read_table` reads one file strictly (UTF-8, no ragged row, no broken quote), has
``frictionless`` validate it against its resource's schema (types, constraints, primary key), then
checks what the library cannot check file by file: numbers written plainly and finite, foreign keys
and ``listOf`` items against the tables already read. The first breach raises
:class:`~models.errors.DataValidationError` naming the file, the CSV line (header = line 1), the
column, the value and what is allowed; a library report never reaches the reader. The same package
validates from the shell: ``frictionless validate data/datapackage.json``.
"""
from __future__ import annotations

import csv
import io
import json
import re
from functools import lru_cache
from pathlib import Path

import frictionless
import pandas as pd

from .errors import DataValidationError

DATA = Path(__file__).resolve().parents[1] / "data"
DESCRIPTOR = "datapackage.json"
#: Numbers as the files write them: no digit-group separators, no underscores, no inf or nan.
_FLOAT = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_INT = re.compile(r"[+-]?\d+")
_GROUPED = re.compile(r"[+-]?\d{1,3}([,_ ']\d{3})+(\.\d*)?")
_UNITLESS = ("1", "none")
_TYPE_WORDS = {"number": "a number", "integer": "a whole number", "date": "a date"}


@lru_cache(maxsize=8)
def _parse(path: str, mtime_ns: int) -> dict:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataValidationError(DESCRIPTOR, None, None, f"not a readable JSON descriptor: {exc}") from None


def _located(directory: str | Path | None) -> tuple[str, int]:
    """Path and modification time of the descriptor that applies to ``directory``."""
    path = Path(directory or DATA) / DESCRIPTOR
    if not path.is_file():
        path = DATA / DESCRIPTOR
    return str(path), path.stat().st_mtime_ns


def descriptor(directory: str | Path | None = None) -> dict:
    """The package descriptor of ``directory`` (its own ``datapackage.json``, else the repository's)."""
    return _parse(*_located(directory))


def resource(name: str, directory: str | Path | None = None) -> dict:
    """The resource descriptor of ``data/<name>.csv``."""
    for res in descriptor(directory)["resources"]:
        if res["name"] == name:
            return res
    raise DataValidationError(name, None, None, f"no resource {name!r} in {DESCRIPTOR}: describe the file there first")


def allowed(field: dict) -> str:
    """What a field accepts, in words, from its type, constraints and unit."""
    c, unit = field.get("constraints", {}), field.get("unit", "none")
    if "enum" in c:
        return f"one of {c['enum']}"
    if "pattern" in c:
        return field["description"][:1].lower() + field["description"][1:]
    if field["type"] == "date":
        return "an ISO date YYYY-MM-DD"
    if field["type"] not in ("number", "integer"):
        return field.get("description", "text")
    kind = "number" if field["type"] == "number" else "whole number"
    lo = c.get("exclusiveMinimum", c.get("minimum"))
    open_lo, hi = "exclusiveMinimum" in c, c.get("maximum")
    if lo is not None and hi is not None:
        text = f"a {kind} in {'(' if open_lo else '['}{lo}, {hi}]"
    elif lo == 0:
        text = f"a {'positive' if open_lo else 'non-negative'} {kind}"
    elif lo is not None:
        text = f"a {kind} {'>' if open_lo else '>='} {lo}"
    else:
        text = f"a {kind}"
    if unit not in _UNITLESS:
        text += f" in {unit}"
    return text + (" (plain digits, '.' as the decimal point)" if kind == "number" else "")


def _read(path: Path, empty_ok: bool = False) -> tuple[list[str], list[list[str]], list[int]]:
    """Read a CSV strictly with :mod:`csv`: header, rows (stripped strings) and each row's line."""
    name = path.stem
    if not path.is_file():
        raise DataValidationError(name, None, None, f"file {path} is missing")
    data = path.read_bytes()
    try:
        # a UTF-8 byte-order mark (spreadsheet exports) is unambiguous: read it and drop it
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DataValidationError(name, line, None, f"byte {data[exc.start]:#04x} is not UTF-8 text (the file "
                                  "was saved in another encoding, e.g. latin-1): save it as UTF-8") from None
    rows, lines = [], []
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
                rows.append([v.strip() for v in rec])
                lines.append(reader.line_num)
        except csv.Error as exc:
            raise DataValidationError(name, reader.line_num, None, f"malformed CSV: {exc}") from exc
    if not rows and not empty_ok:
        raise DataValidationError(name, 2, None, "no data rows (the file holds a header only)")
    return [h.strip() for h in header], rows, lines


class Lines(tuple):
    """Each row's CSV line (header = 1), kept in ``DataFrame.attrs``: immutable, so pandas' deep copy
    of ``attrs`` on every operation can hand back the same object instead of copying each int."""

    def __deepcopy__(self, memo):
        return self


@lru_cache(maxsize=64)
def _library_schema(path: str, mtime_ns: int, name: str) -> frictionless.Schema:
    """The resource's Table Schema as a ``frictionless`` object (built once per descriptor version)."""
    schema = next(r["schema"] for r in _parse(path, mtime_ns)["resources"] if r["name"] == name)
    table = {k: schema[k] for k in ("fields", "primaryKey") if k in schema}
    try:
        return frictionless.Schema.from_descriptor(table, datapackage_version="v2")
    except frictionless.FrictionlessException as exc:
        raise DataValidationError(DESCRIPTOR, None, None, f"the schema of resource {name!r} is not a valid Table "
                                  f"Schema: {exc.error.note or exc.error.message}") from None


def _library_check(name: str, header: list[str], rows: list[list[str]], lines: list[int], fields: dict,
                   library_schema: frictionless.Schema) -> None:
    """Have ``frictionless`` read every cell of a declared field (its type and constraints:
    required, enum, minimum/maximum, pattern) and raise its first objection as a DataValidationError.

    The cells go through the library's own field readers (:meth:`frictionless.Field.create_cell_reader`),
    the code behind ``Resource.validate``, without the per-resource overhead of a full validation
    run (about 0.3 s for the 17 tables of the dataset, against 0.01 s this way); the primary key is
    checked on the frame by :func:`_unique_key`.
    """
    readers = [(k, field, field.create_cell_reader()) for field in library_schema.fields
               for k in [header.index(field.name)] if field.name in header]
    for line, row in zip(lines, rows):
        for k, field, reader in readers:
            _, notes = reader(row[k])
            if not notes:
                continue
            raw, spec = row[k], fields[field.name]
            if raw == "":
                raise DataValidationError(name, line, field.name, f"'': empty, a value is required: {allowed(spec)}")
            hint = (": digit-group separators are not allowed, write 1234.5, not 1,234.5"
                    if _GROUPED.fullmatch(raw) else "")
            what = f"not {_TYPE_WORDS.get(field.type, 'a ' + field.type)}; " if "type" in notes else ""
            raise DataValidationError(name, line, field.name,
                                      f"{raw!r} is not allowed: {what}expected {allowed(spec)}{hint}")


def _unique_key(name: str, frame: pd.DataFrame, lines: list[int], key: list[str]) -> None:
    """One row per value of the primary key."""
    if not key or not all(k in frame.columns for k in key):
        return
    dup = frame.duplicated(subset=key, keep="first").to_numpy().nonzero()[0]
    if len(dup):
        i = int(dup[0])
        raise DataValidationError(name, lines[i], key[-1], f"duplicate key {tuple(frame.iloc[i][key])}: "
                                  f"expected one row per ({', '.join(key)})")


def _plain_numbers(name: str, frame: pd.DataFrame, lines: list[int], fields: dict) -> None:
    """Numbers the library accepts but the files must not hold: ``inf``, ``nan``, ``1_000``."""
    for col in frame.columns:
        typ = fields.get(col, {}).get("type")
        if typ not in ("number", "integer"):
            continue
        pattern = _FLOAT if typ == "number" else _INT
        for line, raw in zip(lines, frame[col]):
            if raw and not pattern.fullmatch(raw):
                raise DataValidationError(name, line, col, f"{raw!r} is not allowed: not a plain finite number; "
                                          f"expected {allowed(fields[col])}")


def _references(name: str, frame: pd.DataFrame, lines: list[int], schema: dict, known: dict) -> None:
    """Foreign keys and ``listOf`` items, against the referenced tables in ``known``."""
    def table(ref: str) -> pd.DataFrame:
        if ref not in known:
            raise DataValidationError(name, None, None, f"refers to {ref}.csv, which must be read first")
        return known[ref]

    for fk in schema.get("foreignKeys", []):
        mine, ref = fk["fields"], fk["reference"]
        theirs = [ref["fields"]] if isinstance(ref["fields"], str) else ref["fields"]
        mine = [mine] if isinstance(mine, str) else mine
        target = table(ref["resource"])
        for k in range(len(mine)):
            have = set(zip(*(target[c] for c in theirs[:k + 1])))
            for line, values in zip(lines, zip(*(frame[c] for c in mine[:k + 1]))):
                if values in have or values[-1] == "":
                    continue
                of = f" of {'/'.join(values[:-1])}" if k else ""
                choices = sorted(v[-1] for v in have if v[:-1] == values[:-1])
                raise DataValidationError(name, line, mine[k], f"{values[-1]!r} is not allowed: expected a {theirs[k]}"
                                          f"{of} in {ref['resource']}.csv, one of {choices}")
    for field in schema["fields"]:
        spec = field.get("listOf")
        if spec is None or field["name"] not in frame.columns:
            continue
        have = set(table(spec["resource"])[spec["field"]])
        for line, raw in zip(lines, frame[field["name"]]):
            bad = [v for v in raw.split(spec["separator"]) if v not in have] if raw and raw != spec["all"] else []
            if bad:
                raise DataValidationError(name, line, field["name"], f"{raw!r} is not allowed: unknown "
                                          f"{spec['field']}(s) {bad}; expected {field['description']}")


def read_table(name: str, directory: str | Path | None = None, known: dict[str, pd.DataFrame] | None = None,
               empty_ok: bool = False) -> pd.DataFrame:
    """Read ``<directory>/<name>.csv`` and validate it against its resource in ``datapackage.json``.

    Parameters
    ----------
    name : str
        The resource (file stem), e.g. ``"quantities"``.
    directory : str or Path, optional
        Folder of the CSV files (and of the descriptor, if it holds one); defaults to ``data/``.
    known : dict, optional
        Tables already read, by resource name: the targets of the foreign keys and ``listOf`` fields.
    empty_ok : bool
        Accept a file with a header and no rows (an optional table); otherwise that is an error.

    Returns
    -------
    pandas.DataFrame
        The file's columns: numbers as numbers (``''`` where an optional number is empty, as
        :func:`pandas.to_numeric` leaves it), everything else as stripped text; ``attrs["lines"]``
        holds each row's CSV line.

    Raises
    ------
    DataValidationError
        The first breach, naming the file, the line, the column, the value and what is allowed.
    """
    folder = Path(directory or DATA)
    schema = resource(name, folder)["schema"]
    library_schema = _library_schema(*_located(folder), name)
    header, rows, lines = _read(folder / f"{name}.csv", empty_ok)
    fields = {f["name"]: f for f in schema["fields"]}
    for col, field in fields.items():
        if field.get("constraints", {}).get("required") and col not in header:
            raise DataValidationError(name, 1, col, f"required column is missing: expected {field['description']}")
    _library_check(name, header, rows, lines, fields, library_schema)
    frame = pd.DataFrame(rows, columns=header, dtype=object)
    _plain_numbers(name, frame, lines, fields)
    _unique_key(name, frame, lines, schema.get("primaryKey", []))
    _references(name, frame, lines, schema, known or {})
    for col in frame.columns:
        typ = fields.get(col, {}).get("type")
        if typ in ("number", "integer"):
            cast = float if typ == "number" else int
            frame[col] = [cast(v) if v else v for v in frame[col]]
            frame[col] = pd.to_numeric(frame[col])
        elif typ is not None:
            frame[col] = list(frame[col])
    frame.attrs["lines"] = Lines(lines)
    return frame


def gaps(package: dict) -> list[str]:
    """What the descriptor leaves undocumented: fields without a unit, type or description, resources
    without sources, licences or a primary key, licences without a name or path and a title."""
    out = []
    licences = lambda where, items: [f"{where}: licence {k} needs a name or path and a title"  # noqa: E731
                                     for k, lic in enumerate(items)
                                     if not (lic.get("name") or lic.get("path")) or not lic.get("title")]
    if not package.get("licenses"):
        out.append("package: no licenses")
    out += licences("package", package.get("licenses", []))
    for res in package.get("resources", []):
        name = res.get("name", "?")
        for key in ("path", "title", "sources", "licenses"):
            if not res.get(key):
                out.append(f"{name}: no {key}")
        out += licences(name, res.get("licenses", []))
        out += [f"{name}: source {k} needs a title" for k, s in enumerate(res.get("sources", [])) if not s.get("title")]
        schema = res.get("schema", {})
        if not schema.get("primaryKey"):
            out.append(f"{name}: no primaryKey")
        for field in schema.get("fields", []):
            for key in ("type", "description", "unit"):
                if not str(field.get(key, "")).strip():
                    out.append(f"{name}.{field.get('name', '?')}: no {key}")
    return out
