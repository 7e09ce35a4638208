"""Copies of data/ to break on purpose (test_data, test_chain, test_datapackage)."""
from __future__ import annotations

import csv
import shutil
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data"


def copy_data(tmp_path: Path) -> Path:
    """All of data/ (the package descriptor included) in ``tmp_path / "data"``."""
    dst = tmp_path / "data"
    shutil.copytree(DATA, dst)
    return dst


def copy_chain_data(tmp_path: Path) -> Path:
    """The value chain's files and regions.csv in ``tmp_path`` (the repository's descriptor applies)."""
    for f in DATA.glob("chain_*.csv"):
        shutil.copy(f, tmp_path / f.name)
    shutil.copy(DATA / "regions.csv", tmp_path / "regions.csv")
    return tmp_path


def set_cell(folder: Path, name: str, line: int, column: str, value: str) -> None:
    """Set ``column`` on CSV line ``line`` (header = 1) of ``name``.csv."""
    path = folder / f"{name}.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    rows[line - 1][rows[0].index(column)] = value
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
