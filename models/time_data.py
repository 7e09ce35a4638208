"""Loaders of the data behind the time chapters: price history, dynamic parameters, project cases.

Each file has a source on every row (a publication with its address, or ``assumption: reason``);
a breach raises :class:`~models.errors.DataValidationError` naming the file, the CSV line (the
header is line 1) and the column.

=============================  ===============================================================
file                           contents
=============================  ===============================================================
``price_history.csv``          dated price quotes (USD/kg) per mineral, the basis of each quote
``dynamics_parameters.csv``    lead times, learning rates, recycling, substitution, costs: a
                               low, central and high value per parameter
``time_projects.csv``          named projects: host region, stage, capacity, capex, start year
=============================  ===============================================================
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .errors import DataValidationError, ModelInputError

DATA = Path(__file__).resolve().parents[1] / "data"

_SCHEMAS = {
    "price_history.csv": {"text": ["mineral", "basis", "source"], "number": ["date", "price_usd_per_kg"],
                          "positive": ["price_usd_per_kg"]},
    "dynamics_parameters.csv": {"text": ["parameter", "unit", "source"], "number": ["low", "central", "high"],
                                "positive": []},
    "time_projects.csv": {"text": ["project", "host", "stage", "source"],
                          "number": ["capacity_kt_ndpr", "capex_musd", "decision_year", "start_year",
                                     "full_cost_usd_per_kg"],
                          "positive": ["capacity_kt_ndpr", "full_cost_usd_per_kg"]},
}


def _check_source(name: str, line: int, value: str) -> None:
    text = str(value).strip()
    if not text:
        raise DataValidationError(name, line, "source", "empty source: cite a publication or write 'assumption: reason'")
    if text.lower().startswith("assumption"):
        if len(text.split(":", 1)) < 2 or not text.split(":", 1)[1].strip():
            raise DataValidationError(name, line, "source", "an assumption must state its reason ('assumption: ...')")
        return
    if not any(str(y) in text for y in range(1930, 2031)):
        raise DataValidationError(name, line, "source", "a citation must carry a year")


def load_table(name: str, directory: str | Path | None = None) -> pd.DataFrame:
    """Read and validate one of the time chapters' data files.

    Raises
    ------
    DataValidationError
        With the file, the CSV line (header = 1) and the column at fault.
    """
    if name not in _SCHEMAS:
        raise ModelInputError("file", name, f"one of {sorted(_SCHEMAS)}")
    path = Path(directory or DATA) / name
    if not path.exists():
        raise DataValidationError(name, None, None, f"file not found at {path}")
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    schema = _SCHEMAS[name]
    for column in [*schema["text"], *schema["number"]]:
        if column not in table.columns:
            raise DataValidationError(name, 1, column, "missing column")
    for i, row in table.iterrows():
        line = int(i) + 2
        for column in schema["text"]:
            if column == "source":
                _check_source(name, line, row[column])
            elif not str(row[column]).strip():
                raise DataValidationError(name, line, column, "empty value")
        for column in schema["number"]:
            try:
                value = float(row[column])
            except ValueError:
                raise DataValidationError(name, line, column, f"not a number: {row[column]!r}") from None
            if not np.isfinite(value):
                raise DataValidationError(name, line, column, f"not finite: {row[column]!r}")
            if column in schema["positive"] and value <= 0:
                raise DataValidationError(name, line, column, f"must be positive, got {value}")
    for column in schema["number"]:
        table[column] = table[column].astype(float)
    if name == "dynamics_parameters.csv":
        for i, row in table.iterrows():
            if not row["low"] <= row["central"] <= row["high"]:
                raise DataValidationError(name, int(i) + 2, "central", "expected low <= central <= high")
        if table["parameter"].duplicated().any():
            dup = table.index[table["parameter"].duplicated()][0]
            raise DataValidationError(name, int(dup) + 2, "parameter", "duplicate parameter")
    return table


def parameter(name: str, which: str = "central", directory: str | Path | None = None) -> float:
    """One value of ``dynamics_parameters.csv``: ``which`` in ``{"low", "central", "high"}``."""
    if which not in ("low", "central", "high"):
        raise ModelInputError("which", which, "'low', 'central' or 'high'")
    table = load_table("dynamics_parameters.csv", directory).set_index("parameter")
    if name not in table.index:
        raise ModelInputError("parameter", name, f"one of {list(table.index)}")
    return float(table.loc[name, which])


def parameters(which: str = "central", directory: str | Path | None = None) -> dict[str, float]:
    """All parameters of ``dynamics_parameters.csv`` at ``which`` as a dict."""
    table = load_table("dynamics_parameters.csv", directory).set_index("parameter")
    return {k: float(v) for k, v in table[which].items()}


def price_history(mineral: str = "ndpr", directory: str | Path | None = None) -> pd.DataFrame:
    """Dated quotes of ``mineral`` (columns ``date`` in fractional years, ``price_usd_per_kg``), sorted."""
    table = load_table("price_history.csv", directory)
    out = table[table["mineral"] == mineral].sort_values("date").reset_index(drop=True)
    if len(out) < 4:
        raise ModelInputError("mineral", mineral, "a mineral with at least four quotes in price_history.csv")
    return out


def projects(directory: str | Path | None = None) -> pd.DataFrame:
    """The named projects of ``time_projects.csv``, indexed by project id."""
    return load_table("time_projects.csv", directory).set_index("project")
