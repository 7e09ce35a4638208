"""Strict reading of a small sourced CSV table, row by row, for the modules that keep their own data
files (entrants, downstream anchors): every problem is a :class:`DataValidationError` naming the
file, the CSV line (header = line 1) and the column."""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Iterator, Sequence

from .errors import DataValidationError


def read_rows(path: str | Path, required: Sequence[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """``(line, {column: stripped text})`` for each non-empty row of ``path``.

    Raises ``DataValidationError`` for a missing file, a missing required column, or a ragged row.
    """
    path = Path(path)
    name = path.stem
    if not path.is_file():
        raise DataValidationError(name, None, None, f"file {path} is missing")
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh, strict=True)
        header = [h.strip() for h in next(reader, [])]
        for col in required:
            if col not in header:
                raise DataValidationError(name, 1, col, "required column is missing")
        for rec in reader:
            if not rec:
                continue
            line = reader.line_num
            if len(rec) != len(header):
                raise DataValidationError(name, line, None, f"ragged row: {len(rec)} fields, header has {len(header)}")
            yield line, dict(zip(header, (v.strip() for v in rec)))
