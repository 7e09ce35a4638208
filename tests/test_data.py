"""Tests for data/ and its loader (models/data.py)."""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from models.data import BASE_YEAR, SCHEMA, TOLERANCE, Dataset, load_dataset
from models.errors import DataValidationError

DATA = Path(__file__).resolve().parents[1] / "data"
BAD = Path(__file__).resolve().parent / "data_bad"
ARTICLES = {"000_e2e2e05d78e00c11.txt", "001_3b187ffe0f3e724a.txt", "002_ae9a4e444b260f65.txt",
            "003_bd42f45a952dbe8c.txt", "004_165f506897d6577c.txt"}


@pytest.fixture(scope="module")
def ds() -> Dataset:
    return load_dataset()


# ------------------------------------------------------------------ the real dataset
def test_real_dataset_loads(ds):
    assert 30 <= len(ds.region_ids) <= 70 and ds.region_ids[0] == "CHN"
    # the ids chapters use for the countries that stay
    assert {"USA", "EU", "JPN", "CHN", "KOR", "AUS", "CAN", "IND", "BRA", "RUS"} <= set(ds.region_ids)
    assert {"rare_earths", "gallium", "graphite", "tungsten", "ndpr"} <= set(ds.mineral_ids)


def test_countries_are_the_unit(ds):
    """Producers named by USGS and every non-EU ministerial country are regions of their own;
    only the rest of the world is grouped, by continent."""
    for iso in ("MMR", "THA", "NGA", "MDG", "MOZ", "TZA", "VNM", "MYS", "SAU", "GBR", "NOR", "COD", "IDN"):
        assert ds.region_of(iso) == iso
    eu = ds.region_countries.loc[ds.region_countries["region"] == "EU", "iso3"]
    assert len(eu) == 28 and "DEU" in set(eu) and "EUU" in set(eu)     # 27 member states + the Commission
    ministers = ds.rosters[ds.rosters["roster"] == "ministerial_2026"]
    assert all(ds.region_of(i) in (i, "EU") for i in ministers["iso3"])
    groups = [r for r in ds.region_ids if r.startswith("X")]
    assert set(groups) == {"XAF", "XAS", "XEU", "XAM", "XOC"}


def test_every_roster_country_maps_to_exactly_one_region(ds):
    rc = ds.region_countries
    assert rc["iso3"].is_unique and set(rc["region"]) <= set(ds.region_ids)
    where = dict(zip(rc["iso3"], rc["region"]))
    for _, r in ds.rosters.iterrows():
        assert where[r["iso3"]] == r["region"], (r["roster"], r["iso3"])
    for name in set(ds.rosters["roster"]):
        assert set(ds.roster(name)) == set(ds.rosters.loc[ds.rosters["roster"] == name, "region"])


def test_ministerial_bloc_excludes_non_attendees(ds):
    """The defect the country resolution fixes: Africa's graphite producers and Myanmar did not attend."""
    bloc = set(ds.roster("ministerial_2026"))
    assert not {"MDG", "MOZ", "TZA", "MMR", "NGA", "CHN", "RUS"} & bloc
    assert {"USA", "EU", "JPN", "KOR", "AUS", "IND", "COD", "THA"} <= bloc


def test_former_regions_are_groups(ds):
    """A chapter's old region ids map mechanically to the new regions."""
    assert ds.group("SEA") == ("IDN", "THA", "PHL", "VNM", "MYS", "SGP", "MMR")
    assert "XAF" in ds.group("AFR") and "NGA" in ds.group("AFR")
    assert {"GBR", "SAU", "XAS", "XEU", "XAM", "XOC"} <= set(ds.group("ROW"))
    every = [r for g in ("CHN", "USA", "EU", "JPN", "KOR", "AUS", "CAN", "IND", "BRA", "RUS", "SEA", "AFR", "ROW")
             for r in ds.group(g)]
    assert sorted(every) == sorted(ds.region_ids)
    with pytest.raises(KeyError):
        ds.group("ATLANTIS")


def test_prices_and_quantities_are_of_one_year(ds):
    for m in ds.mineral_ids:
        years = set(ds.prices.loc[ds.prices["mineral"] == m, "year"]) | set(
            ds.quantities.loc[ds.quantities["mineral"] == m, "year"])
        assert years == {BASE_YEAR}, m
    bridged = ds.prices[ds.prices["basis"] == "annual, bridged"]
    assert (bridged["note"].str.contains("bridge")).all()


def test_wedge_instrument_is_data(ds):
    assert ds.wedge_instrument("gallium") == "licence_quota"      # MOFCOM licences since Aug 2023
    assert ds.wedge_instrument("ndpr") == "export_tax"            # unrefunded VAT, no licence in 2024
    assert ds.wedge_instrument("graphite") is None


def test_default_directory_is_repo_data():
    assert load_dataset(DATA).region_ids == load_dataset().region_ids


@pytest.mark.parametrize("name", [n for n, s in SCHEMA.items() if s.get("source", True)])
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
    """World consumption = primary + secondary supply, for every mineral."""
    for m, var in zip(ds.minerals.mineral, ds.minerals.production_variable):
        supply = ds.quantity(m, var).sum() + ds.secondary_supply(m).sum()
        assert supply == pytest.approx(ds.quantity(m, "consumption").sum(), rel=1e-9)


def test_world_totals_close_with_secondary_supply(ds):
    wt = ds.world_totals.set_index(["mineral", "variable"])["value_kt"]
    rec = ds.secondary_supply("ndpr")
    assert rec["CHN"] == pytest.approx(26.504) and rec.sum() == pytest.approx(wt["ndpr", "secondary_production"])
    total = wt["ndpr", "refined_production"] + wt["ndpr", "secondary_production"]
    assert ds.quantity("ndpr", "consumption").sum() == pytest.approx(total, rel=TOLERANCE)
    assert ds.secondary_supply("tungsten").sum() == 0      # no sourced figure: none assumed


def test_claims_register(ds):
    c = ds.claims
    assert len(c) >= 20 and set(c.article) == ARTICLES
    assert c.id.is_unique
    assert set(c.kind) <= {"factual", "causal", "forecast", "political"}
    assert set(c.model) <= set(SCHEMA["claims"]["cols"]["model"][1])
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


# ------------------------------------------------------------------ the data package
def test_datapackage_is_current_and_documented():
    from models.datapackage import descriptor, undocumented_fields
    committed = json.loads((DATA / "datapackage.json").read_text(encoding="utf-8"))
    assert committed == descriptor(), "regenerate with models.datapackage.write_descriptor()"
    assert undocumented_fields(committed) == []
    names = {r["name"] for r in committed["resources"]}
    assert names == set(SCHEMA) and all(r["licenses"] for r in committed["resources"])


def test_a_field_without_unit_or_source_is_flagged():
    from models.datapackage import descriptor, undocumented_fields
    desc = descriptor()
    fields = next(r for r in desc["resources"] if r["name"] == "prices")["schema"]["fields"]
    next(f for f in fields if f["name"] == "price_usd_per_kg").pop("unit")
    next(f for f in fields if f["name"] == "year")["source"] = ""
    assert undocumented_fields(desc) == ["prices.price_usd_per_kg", "prices.year"]


def test_frictionless_validation_names_file_row_column(tmp_path):
    from models.datapackage import validate_package
    validate_package(DATA)
    d = _copy(tmp_path)
    _edit(d, "gdp", 3, "gdp_usd_bn", "lots")
    with pytest.raises(DataValidationError) as info:
        validate_package(d)
    assert (info.value.file, info.value.row, info.value.column) == ("gdp", 3, "gdp_usd_bn")


# ------------------------------------------------------------------ broken copies
def _copy(tmp_path: Path) -> Path:
    dst = tmp_path / "data"
    shutil.copytree(DATA, dst)
    return dst


def _edit(folder: Path, name: str, line: int, column: str, value: str) -> None:
    """Set ``column`` on CSV line ``line`` (header = 1) of ``name``.csv."""
    path = folder / f"{name}.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    rows[line - 1][rows[0].index(column)] = value
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


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
    _expect(d, "trade_costs", None, "origin_zone")


def test_trade_costs_break_triangle_inequality(tmp_path):
    """Zone costs must not exceed the route through a third zone (the wedge calibration needs it)."""
    d = _copy(tmp_path)
    _edit(d, "trade_costs", 2, "usd_per_kg", "5")  # rare_earths east_asia -> east_asia
    _expect(d, "trade_costs", 2, "usd_per_kg")


def test_unknown_zone(tmp_path):
    d = _copy(tmp_path)
    _edit(d, "trade_costs", 3, "destination_zone", "atlantis")
    _expect(d, "trade_costs", 3, "destination_zone")


def test_price_of_another_year(tmp_path):
    d = _copy(tmp_path)
    _edit(d, "prices", 3, "year", "2025")
    _expect(d, "prices", 3, "year")


def test_roster_country_in_the_wrong_region(tmp_path):
    d = _copy(tmp_path)
    r = pd.read_csv(d / "rosters.csv", dtype=str, keep_default_na=False)
    line = int(r.index[(r.roster == "ministerial_2026") & (r.iso3 == "DEU")][0]) + 2
    _edit(d, "rosters", line, "region", "USA")
    _expect(d, "rosters", line, "region")


def test_roster_regions_must_follow_the_countries(tmp_path):
    d = _copy(tmp_path)
    rr = pd.read_csv(d / "roster_regions.csv", dtype=str, keep_default_na=False)
    line = int(rr.index[(rr.roster == "trade_club") & (rr.region == "THA")][0]) + 2
    _edit(d, "roster_regions", line, "region", "MMR")
    _expect(d, "roster_regions", int(rr.index[rr.roster == "trade_club"][0]) + 2, "region")


def test_secondary_supply_needs_its_elasticity(tmp_path):
    d = _copy(tmp_path)
    path = d / "elasticities.csv"
    keep = [ln for ln in path.read_text(encoding="utf-8").splitlines() if not ln.startswith("ndpr,secondary,short")]
    path.write_text("\n".join(keep) + "\n", encoding="utf-8")
    _expect(d, "elasticities", None, "side")


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
