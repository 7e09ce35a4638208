"""Tables a reader can take away: a table shown in a chapter, with a link that downloads it as CSV.

The link carries the CSV inside itself (a ``data:`` address, base64), so it works in the built
book with no server and no network, and the file the reader gets is exactly the table shown
(index included, full precision). Used as the last expression of a cell::

    downloadable(table, "floor_sweep.csv")
"""
from __future__ import annotations

import base64
import html
import re

import pandas as pd

from .errors import ModelInputError

#: Tables larger than this (bytes of CSV) are not embedded: the page would grow by that much.
MAX_EMBED_BYTES = 200_000


def csv_link(table: pd.DataFrame, filename: str, label: str | None = None) -> str:
    """An ``<a download>`` element whose target is ``table`` as CSV (UTF-8)."""
    if not isinstance(table, (pd.DataFrame, pd.Series)):
        raise ModelInputError("table", type(table).__name__, "a pandas DataFrame or Series")
    if not isinstance(filename, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+\.csv", filename):
        raise ModelInputError("filename", filename, "a plain file name ending in .csv (letters, digits, _ . -)")
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

