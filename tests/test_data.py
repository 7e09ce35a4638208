"""Tests for data/ and its loader (models/data.py)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from models.data import TABLES, TOLERANCE, Dataset, load_dataset
from models.datapackage import resource
from models.errors import DataValidationError
from data_fixtures import copy_data as _copy, set_cell as _edit  # noqa: E402  (tests/ is on the path)

DATA = Path(__file__).resolve().parents[1] / "data"
BAD = Path(__file__).resolve().parent / "data_bad"
ARTICLES = {"000_e2e2e05d78e00c11.txt", "001_3b187ffe0f3e724a.txt", "002_ae9a4e444b260f65.txt",
            "003_bd42f45a952dbe8c.txt", "004_165f506897d6577c.txt"}


@pytest.fixture(scope="module")
def ds() -> Dataset:
    return load_dataset()


# ------------------------------------------------------------------ the real dataset
def test_real_dataset_loads(ds):
    assert len(ds.region_ids) == 13 and ds.region_ids[0] == "CHN" and ds.region_ids[-1] == "ROW"
    assert {"rare_earths", "gallium", "graphite", "tungsten", "ndpr"} <= set(ds.mineral_ids)


def test_default_directory_is_repo_data():
    assert load_dataset(DATA).region_ids == load_dataset().region_ids


@pytest.mark.parametrize("name", [n for n in TABLES if any(f["name"] == "source" for f in resource(n)["schema"]["fields"])])
def test_every_row_has_a_source(ds, name):
    df: pd.DataFrame = getattr(ds, name)
    assert len(df) > 0
    src = df["source"].str.strip()
    assert (src != "").all()
    assumption = src.str.startswith("assumption: ")
    assert (assumption | src.str.contains(r"(?:19|20)\d\d")).all()


def test_world_totals_close(ds):
    for _, row in ds.world_totals.iterrows():
        q = ds.quantities[(ds.quantities.mineral == row.mineral) & (ds.quantities.variable == row.variable)]
        if set(q.region) == set(ds.region_ids):
            assert abs(q.value_kt.sum() - row.value_kt) <= TOLERANCE * row.value_kt, (row.mineral, row.variable)


def test_balance_closes_exactly_for_calibration(ds):
    for m, var in zip(ds.minerals.mineral, ds.minerals.production_variable):
        assert ds.quantity(m, var).sum() == pytest.approx(ds.quantity(m, "consumption").sum(), rel=1e-9)


def test_claims_register(ds):
    c = ds.claims
    assert len(c) >= 20 and set(c.article) == ARTICLES
    assert c.id.is_unique
    assert set(c.kind) <= {"factual", "causal", "forecast", "political"}
    assert set(c.model) <= set(next(f for f in resource("claims")["schema"]["fields"] if f["name"] == "model")["constraints"]["enum"])
    oos = c[c.model == "out_of_scope"]
    assert (oos.verdict == "out of scope").all() and (oos.verdict_detail != "").all() and (oos.chapter == "").all()


def test_claim_quotes_are_verbatim(ds):
    arts = Path("/work/shared/articles")
    if not arts.is_dir():
        pytest.skip("articles not available")
    for _, r in ds.claims.iterrows():
        text = " ".join((arts / r.article).read_text(encoding="utf-8").split())
        assert " ".join(r.quote.split()) in text, r.id


def test_accessors(ds):
    s = ds.quantity("rare_earths", "mine_production")
    assert list(s.index) == list(ds.region_ids) and s["CHN"] == 270
    with pytest.raises(KeyError):
        ds.quantity("tungsten", "reserves")  # partial: reserves are not given for every region
    assert ds.price("ndpr", "china_domestic") < ds.price("ndpr", "ex_china")
    assert ds.elasticity("graphite", "demand") < 0 < ds.elasticity("graphite", "supply", "short", "high")
    with pytest.raises(KeyError):
        ds.elasticity("graphite", "demand", which="median")
    m = ds.trade_cost_matrix("gallium")
    assert list(m.index) == list(ds.region_ids) == list(m.columns) and (m.values.diagonal() == 0).all()
    assert not m.isna().any().any()
    assert ds.roster("core") == ("USA", "EU", "JPN")
    assert "AUS" in ds.roster("trade_club")
    with pytest.raises(KeyError):
        ds.roster("no_such_roster")


def test_floor_and_controls(ds):
    f = ds.floors
    assert ((f.region == "USA") & (f.mineral == "ndpr") & (f.level_usd_per_kg == 110)).any()
    assert {"rare_earths", "gallium", "graphite", "tungsten"} <= set(ds.export_controls.mineral)


# ------------------------------------------------------------------ broken copies
def _expect(folder: Path, file: str, row, column) -> DataValidationError:
    with pytest.raises(DataValidationError) as info:
        load_dataset(folder)
    err = info.value
    assert (err.file, err.row, err.column) == (file, row, column), str(err)
    return err


@pytest.mark.parametrize("value", ["", "   ", "somewhere on the web", "assumption:"])
def test_missing_or_bad_source(tmp_path, value):
    d = _copy(tmp_path)
    _edit(d, "quantities", 5, "source", value)
    _expect(d, "quantities", 5, "source")


def test_negative_quantity(tmp_path):
    d = _copy(tmp_path)
    _edit(d, "quantities", 3, "value_kt", "-1")
    _expect(d, "quantities", 3, "value_kt")


def test_non_numeric_price(tmp_path):
    d = _copy(tmp_path)
    _edit(d, "prices", 2, "price_usd_per_kg", "about sixty")
    _expect(d, "prices", 2, "price_usd_per_kg")


def test_wrong_signed_elasticity(tmp_path):
    d = _copy(tmp_path)
    _edit(d, "elasticities", 2, "central", "0.1")  # rare_earths demand short
    _expect(d, "elasticities", 2, "central")


def test_elasticity_range_order(tmp_path):
    d = _copy(tmp_path)
    _edit(d, "elasticities", 4, "low", "0.9")  # supply short, central 0.15
    _expect(d, "elasticities", 4, "low")


def test_unknown_region(tmp_path):
    d = _copy(tmp_path)
    _edit(d, "quantities", 2, "region", "XXX")
    _expect(d, "quantities", 2, "region")


def test_unknown_mineral_in_prices(tmp_path):
    d = _copy(tmp_path)
    _edit(d, "prices", 3, "mineral", "unobtainium")
    _expect(d, "prices", 3, "mineral")


def test_missing_column(tmp_path):
    d = _copy(tmp_path)
    df = pd.read_csv(d / "prices.csv", dtype=str, keep_default_na=False).drop(columns=["price_usd_per_kg"])
    df.to_csv(d / "prices.csv", index=False)
    _expect(d, "prices", 1, "price_usd_per_kg")


def test_duplicate_key(tmp_path):
    d = _copy(tmp_path)
    path = d / "gdp.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(lines + [lines[1]]) + "\n", encoding="utf-8")
    _expect(d, "gdp", len(lines) + 1, "region")


def test_incomplete_trade_cost_matrix(tmp_path):
    d = _copy(tmp_path)
    path = d / "trade_costs.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(lines[:5] + lines[6:]) + "\n", encoding="utf-8")
    _expect(d, "trade_costs", None, "origin")


def test_nonzero_diagonal_trade_cost(tmp_path):
    d = _copy(tmp_path)
    _edit(d, "trade_costs", 2, "usd_per_kg", "0.5")  # rare_earths CHN->CHN
    _expect(d, "trade_costs", 2, "usd_per_kg")


def test_totals_do_not_close(tmp_path):
    d = _copy(tmp_path)
    q = pd.read_csv(d / "quantities.csv", dtype=str, keep_default_na=False)
    line = int(q.index[(q.region == "CHN") & (q.mineral == "graphite") & (q.variable == "mine_production")][0]) + 2
    _edit(d, "quantities", line, "value_kt", "2270")
    wt = pd.read_csv(d / "world_totals.csv", dtype=str, keep_default_na=False)
    wline = int(wt.index[(wt.mineral == "graphite") & (wt.variable == "mine_production")][0]) + 2
    _expect(d, "world_totals", wline, "value_kt")


def test_missing_consumption_row(tmp_path):
    d = _copy(tmp_path)
    path = d / "quantities.csv"
    keep = [ln for ln in path.read_text(encoding="utf-8").splitlines() if not ln.startswith("JPN,tungsten,consumption")]
    path.write_text("\n".join(keep) + "\n", encoding="utf-8")
    _expect(d, "quantities", None, "region")


def test_out_of_scope_claim_needs_verdict(tmp_path):
    d = _copy(tmp_path)
    c = pd.read_csv(d / "claims.csv", dtype=str, keep_default_na=False)
    line = int(c.index[c.model == "out_of_scope"][0]) + 2
    _edit(d, "claims", line, "verdict", "")
    _expect(d, "claims", line, "verdict")


@pytest.mark.parametrize("fixture,file,row,column", [
    ("empty.csv", "gdp", 1, None),
    ("truncated.csv", "gdp", 4, None),
    ("ragged.csv", "gdp", 3, None),
    ("unclosed_quote.csv", "gdp", None, None),
])
def test_malformed_csv(tmp_path, fixture, file, row, column):
    d = _copy(tmp_path)
    shutil.copy(BAD / fixture, d / "gdp.csv")
    err = _expect(d, file, row, column) if row is not None else None
    if row is None:
        with pytest.raises(DataValidationError) as info:
            load_dataset(d)
        assert info.value.file == "gdp" and "malformed" in str(info.value)
    else:
        assert err is not None


def test_missing_file(tmp_path):
    d = _copy(tmp_path)
    (d / "floors.csv").unlink()
    _expect(d, "floors", None, None)


@pytest.mark.parametrize("column,value", [("cut_share", "1.5"), ("annual_probability", "2"),
                                          ("minerals", "cobalt"), ("destinations", "CHN;USA"),
                                          ("duration_years", "0"), ("source", "assumption:"),
                                          ("probability_low", "0.5"), ("probability_high", "0.01"),
                                          ("probability_high", "0")])
def test_bad_disruption(tmp_path, column, value):
    """disruptions.csv: shares and probabilities in (0, 1], known minerals, no origin among the
    destinations, whole positive durations, a source on every row, a probability inside its range."""
    d = _copy(tmp_path)
    _edit(d, "disruptions", 2, column, value)
    _expect(d, "disruptions", 2, column)


def test_disruption_ranges_that_sum_above_one_are_refused(tmp_path):
    """The high ends of the probabilities are drawn together: they must sum to at most 1, as the central ones."""
    d = _copy(tmp_path)
    for line in (2, 3, 4):
        _edit(d, "disruptions", line, "probability_high", "0.5")
    err = _expect(d, "disruptions", None, "probability_high")
    assert "sum to 1.5" in str(err)


@pytest.mark.parametrize("column,value", [("value_added_share", "1.5"), ("value_added_share", "0"),
                                          ("output_musd", "-5"), ("output_musd", "478,000"),
                                          ("region", "Japan"), ("mineral", "cobalt"), ("year", "2022.5"),
                                          ("source", "the automotive industry"),
                                          ("value_added_source", "assumption:"), ("value_added_source", "")])
def test_bad_downstream_exposure(tmp_path, column, value):
    """downstream_exposure.csv: known regions and minerals, positive output in plain digits, a
    value-added share in (0, 1], and a source (or a stated assumption) for the output and for the share."""
    d = _copy(tmp_path)
    _edit(d, "downstream_exposure", 2, column, value)
    _expect(d, "downstream_exposure", 2, column)


def test_downstream_exposure_rows(ds):
    dx = ds.downstream_exposure
    assert {("JPN", "ndpr"), ("USA", "gallium")} <= set(zip(dx.region, dx.mineral))
    assert ((dx.value_added_share > 0) & (dx.value_added_share <= 1)).all()


@pytest.mark.parametrize("value", ["1.2", "-0.1", "most"])
def test_claims_share_of_draws_outside_zero_one_is_refused(tmp_path, value):
    folder = _copy(tmp_path)
    _edit(folder, "claims", 2, "share_holds", value)
    err = _expect(folder, "claims", 2, "share_holds")
    assert value in str(err)
