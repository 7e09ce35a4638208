"""Tables a reader can take away: a table shown in a chapter, with a link that downloads it as CSV.

The link carries the CSV inside itself (a ``data:`` address, base64), so it works in the built
book with no server and no network, and the file the reader gets is exactly the table shown
(index included, full precision). Used as the last expression of a cell::

    downloadable(table, "floor_sweep.csv")

Every number a reader downloads says what it is measured in. :func:`missing_units` lists the
headers under which a table holds numbers with no unit, and :func:`csv_link` (so
:class:`downloadable`) refuses such a table with a :class:`~models.errors.ModelInputError`: a
chapter whose table lost a unit fails to build. A unit is a parenthesised part of a header with a
unit word (:data:`UNIT_WORDS`) or ``%`` or ``×`` in it: ``price (USD/kg)``, ``output (kt)``,
``gain (USD m/yr)``, ``share (%)``; numbers without a dimension say so, ``(fraction)``,
``(count)``, ``(rank)``, ``(ratio)``, ``(× reference price)``. Text and true/false values are
labels and need none. A number's unit may sit in its column's header, in the name of the columns
(one unit for all of them) or in its row's label (a table whose rows are the variables,
``"members: production (kt)"``, and whose columns are cases, ``"benchmark"``, ``"CfD"``).
"""
from __future__ import annotations

import base64
import html
import re

import numpy as np
import pandas as pd

from .errors import ModelInputError

#: A unit word inside parentheses (``%`` and ``×`` anywhere inside them).
UNIT_WORDS = ("USD", "EUR", "kt", "t", "kg", "tonnes", "share", "fraction", "probability", "count", "rank", "ratio",
              "index", "year", "years", "yr", "months", "days", "seconds", "s", "ms", "pp", "bn", "x", "elasticity",
              "weight")
_UNIT = re.compile(r"\(([^()]*\b(?:" + "|".join(re.escape(w) for w in UNIT_WORDS) + r")\b[^()]*|[^()]*[%×][^()]*)\)")

#: Tables larger than this (bytes of CSV) are not embedded: the page would grow by that much.
MAX_EMBED_BYTES = 200_000


def has_unit(header) -> bool:
    """Whether ``header`` (a string, or a tuple of a multi-level header) names a unit in parentheses."""
    parts = header if isinstance(header, tuple) else (header,)
    return any(isinstance(p, str) and _UNIT.search(p) is not None for p in parts)


def _is_number(value) -> bool:
    return (isinstance(value, (int, float, complex, np.number)) and not isinstance(value, (bool, np.bool_))
            and not pd.isna(value))


def missing_units(table: pd.DataFrame | pd.Series) -> list:
    """Headers of ``table`` whose numbers name no unit (see the module docstring).

    A number needs a unit in its column's header, in the name of the columns (one unit for all,
    ``table.rename_axis(columns="share of the world (%)")``) or in its row's label (a table of
    variables by cases); a column is listed when one of its numbers has none. A numeric index level needs a
    unit in its name, except an unnamed ``RangeIndex`` (row numbers).
    """
    frame = table.to_frame() if isinstance(table, pd.Series) else table
    labelled = [has_unit(r) for r in frame.index]
    missing = []
    for i, column in enumerate(frame.columns):
        if has_unit(column) or has_unit(frame.columns.name):
            continue
        values = frame.iloc[:, i]
        if values.dtype == bool:
            continue
        if any(_is_number(v) and not ok for v, ok in zip(values.to_numpy(dtype=object), labelled)):
            missing.append(column)
    if not isinstance(frame.index, pd.RangeIndex) or frame.index.name is not None:
        for i, name in enumerate(frame.index.names):
            level = frame.index.get_level_values(i)
            if any(_is_number(v) for v in level) and not has_unit(name):
                missing.append(name)
    return missing


def csv_link(table: pd.DataFrame, filename: str, label: str | None = None) -> str:
    """An ``<a download>`` element whose target is ``table`` as CSV (UTF-8).

    Raises :class:`~models.errors.ModelInputError` when a numeric column of ``table`` names no
    unit (:func:`missing_units`).
    """
    if not isinstance(table, (pd.DataFrame, pd.Series)):
        raise ModelInputError("table", type(table).__name__, "a pandas DataFrame or Series")
    if not isinstance(filename, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+\.csv", filename):
        raise ModelInputError("filename", filename, "a plain file name ending in .csv (letters, digits, _ . -)")
    missing = missing_units(table)
    if missing:
        raise ModelInputError(f"{filename}: headers of numeric columns", missing,
                              "each with its unit in parentheses, e.g. 'price (USD/kg)', 'output (kt)', "
                              "'gain (USD m/yr)', 'share (%)', or '(share)', '(count)', '(rank)' for numbers "
                              "without a dimension; or the unit in the label of each row that holds a number")
    data = table.to_csv().encode("utf-8")
    if len(data) > MAX_EMBED_BYTES:
        raise ModelInputError(f"{filename} (CSV bytes)", len(data), f"at most {MAX_EMBED_BYTES} bytes to embed in a page")
    href = "data:text/csv;charset=utf-8;base64," + base64.b64encode(data).decode("ascii")
    text = html.escape(label or f"Download this table as CSV ({filename})")
    return f'<a class="table-download" download="{html.escape(filename)}" href="{href}">{text}</a>'


class downloadable:  # noqa: N801 - used like a function in a cell's last line
    """``table`` as the notebook shows it, followed by its CSV download link (HTML only)."""

    def __init__(self, table: pd.DataFrame, filename: str, label: str | None = None):
        self.table = table
        self.link = csv_link(table, filename, label)

    def _repr_html_(self) -> str:
        shown = self.table.to_frame() if isinstance(self.table, pd.Series) else self.table
        return shown._repr_html_() + f"<p>{self.link}</p>"

    def __repr__(self) -> str:
        return repr(self.table)

