"""Reading a sweep: partial rank correlations, shares of draws, and the register's share column."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models.claims import load_register, record_shares
from models.errors import ModelInputError
from models.uncertainty import get_rules
from models.uncertainty.sensitivity import flip_drivers, input_columns, prcc, robustness

REGISTER = Path(__file__).resolve().parents[1] / "data" / "claims.csv"


def synthetic(n=400, seed=3):
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({"a": rng.uniform(size=n), "b": rng.uniform(size=n), "c": rng.uniform(size=n),
                      "fixed": np.full(n, 2.0)})
    return x


def test_prcc_finds_a_monotone_driver_and_ignores_noise():
    x = synthetic()
    y = pd.Series(np.exp(3 * x["a"]) - x["b"], index=x.index)     # monotone in a, decreasing in b
    r = prcc(x, y)
    assert r["a"] > 0.95 and r["b"] < -0.5
    assert abs(r["c"]) < 2 / np.sqrt(len(x)) * 1.5                 # unrelated: within noise
    assert np.isnan(r["fixed"])                                      # not drawn


def test_prcc_removes_a_confounding_input():
    # y depends on a only; b is correlated with a. The simple rank correlation of b with y is
    # large, the partial one is not.
    rng = np.random.default_rng(0)
    a = rng.uniform(size=500)
    b = a + 0.3 * rng.uniform(size=500)
    x = pd.DataFrame({"a": a, "b": b})
    y = pd.Series(a ** 3, index=x.index)
    assert x["b"].rank().corr(y.rank()) > 0.8
    r = prcc(x, y)
    assert r["a"] > 0.99 and abs(r["b"]) < 0.2


def test_prcc_errors():
    x = synthetic(n=5)
    with pytest.raises(ModelInputError, match="at least"):
        prcc(x, pd.Series([1.0, 2, 3, 4, 5], index=x.index))
    with pytest.raises(ModelInputError, match="same rows"):
        prcc(x, pd.Series([1.0, 2, 3, 4, 5]).set_axis(range(10, 15)))


def test_robustness_counts_and_standard_errors():
    rule = get_rules(["C25"])[0]
    table = pd.DataFrame({"draw": range(5), "x": [0.1, 0.2, 0.3, 0.4, 0.5],
                          "C25_verdict": ["supported", "supported", "not supported", None, "supported"],
                          "C25_zone_supply_change_kt": [1.0, 2.0, -1.0, None, 3.0],
                          "error": ["", "", "", "SolverError: x", ""]})
    out = robustness(table, [rule], pd.Series({"C25": "supported"}))
    row = out.loc["C25"]
    assert row["draws"] == 4 and row["failed"] == 1
    assert row["share_holds"] == pytest.approx(0.75)
    assert row["se"] == pytest.approx(np.sqrt(0.75 * 0.25 / 4))
    assert input_columns(table) == ["x"]
    top = flip_drivers(pd.concat([table] * 3, ignore_index=True).assign(z=lambda t: np.arange(len(t)) % 7),
                       rule, "zone_supply_change_kt", top=1)
    assert list(top.index) == ["x"]


def test_record_shares_round_trip_and_validation(tmp_path):
    path = tmp_path / "claims.csv"
    shutil.copy(REGISTER, path)
    record_shares({"C25": 0.875, "C09": 1.0}, path)
    reg = load_register(path)
    assert reg.loc["C25", "share_holds"] == "0.8750" and reg.loc["C09", "share_holds"] == "1.0000"
    assert reg.loc["C25", "verdict"] == load_register(REGISTER).loc["C25", "verdict"]   # nothing else moved
    for bad in (1.5, -0.1, "often"):
        with pytest.raises(ModelInputError, match="between 0 and 1"):
            record_shares({"C25": bad}, path)
    with pytest.raises(ModelInputError, match="C99"):
        record_shares({"C99": 0.5}, path)
