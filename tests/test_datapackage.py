"""The data package data/datapackage.json: complete, documented, valid, and the schema the loaders use."""
from __future__ import annotations

import copy
import csv
import json
import re
import shutil
import tomllib
from pathlib import Path

import frictionless
import pytest

from models.chain.data import load_chain_data
from models.data import load_dataset
from models.datapackage import DESCRIPTOR, gaps
from models.errors import DataValidationError
from data_fixtures import copy_chain_data, copy_data, set_cell  # noqa: E402  (tests/ is on the path)

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
URL = re.compile(r"https?://[^\s,;\"]+")


@pytest.fixture(scope="module")
def package() -> dict:
    return json.loads((DATA / DESCRIPTOR).read_text(encoding="utf-8"))


def test_every_csv_is_a_resource_and_every_resource_a_csv(package):
    files = sorted(p.name for p in DATA.glob("*.csv"))
    assert sorted(r["path"] for r in package["resources"]) == files
    assert all(r["path"] == f"{r['name']}.csv" for r in package["resources"])


def test_fields_are_the_files_columns_in_order(package):
    for res in package["resources"]:
        with (DATA / res["path"]).open(newline="", encoding="utf-8") as fh:
            header = next(csv.reader(fh))
        assert [f["name"] for f in res["schema"]["fields"]] == header, res["name"]


def test_every_field_has_a_unit_and_every_resource_sources_and_licences(package):
    assert gaps(package) == []


def test_the_gap_check_fails_on_what_it_must_find(package):
    broken = copy.deepcopy(package)
    res = broken["resources"][0]
    del res["schema"]["fields"][0]["unit"]
    res["schema"]["fields"][1]["unit"] = " "
    broken["resources"][1]["sources"] = []
    del broken["resources"][2]["licenses"]
    broken["resources"][3]["licenses"][0] = {"title": "no name, no path"}
    del broken["resources"][4]["schema"]["primaryKey"]
    found = gaps(broken)
    names = [r["name"] for r in broken["resources"]]
    f0, f1 = (res["schema"]["fields"][k]["name"] for k in (0, 1))
    assert f"{names[0]}.{f0}: no unit" in found and f"{names[0]}.{f1}: no unit" in found
    assert f"{names[1]}: no sources" in found and f"{names[2]}: no licenses" in found
    assert any(g.startswith(f"{names[3]}: licence 0") for g in found)
    assert f"{names[4]}: no primaryKey" in found and len(found) == 6


def test_units_follow_the_column_names(package):
    """A column named for its unit carries that unit, so the two cannot drift apart."""
    suffix = {"_kt": "kt", "_usd_per_kg": "USD/kg", "_usd_bn": "USD bn", "_musd": "USD million"}
    for res in package["resources"]:
        for field in res["schema"]["fields"]:
            for end, unit in suffix.items():
                if field["name"].endswith(end) and field["type"] == "number":
                    assert field["unit"].startswith(unit), (res["name"], field["name"], field["unit"])
            if field["type"] == "string":
                assert field["unit"] == "none", (res["name"], field["name"])


def test_every_address_cited_on_a_row_is_a_source_of_its_resource(package):
    for res in package["resources"]:
        listed = {s.get("path") for s in res["sources"]}
        cols = [f["name"] for f in res["schema"]["fields"] if f["name"] in ("source", "value_added_source")]
        with (DATA / res["path"]).open(newline="", encoding="utf-8") as fh:
            cited = {u.rstrip(".,;)") for row in csv.DictReader(fh) for c in cols for u in URL.findall(row[c])}
        assert cited <= listed, (res["name"], sorted(cited - listed)[:3])


def test_licences_name_the_repository_licence_and_public_domain_for_us_government_works(package):
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["license"]["text"]
    assert package["licenses"][0]["name"] == project
    us = "US-Government-Works"
    for res in package["resources"]:
        assert res["licenses"][0]["name"] == project, res["name"]
        cols = [f["name"] for f in res["schema"]["fields"] if f["name"] in ("source", "value_added_source")]
        with (DATA / res["path"]).open(newline="", encoding="utf-8") as fh:
            text = " ".join(row[c] for row in csv.DictReader(fh) for c in cols)
        if "USGS" in text or "Census Bureau" in text:
            assert us in {lic["name"] for lic in res["licenses"]}, res["name"]


def test_the_package_validates_clean_with_frictionless():
    report = frictionless.Package(str(DATA / DESCRIPTOR)).validate()
    assert report.valid, report.flatten(["resourceName", "rowNumber", "fieldName", "note"])[:5]


@pytest.mark.parametrize("name,line,column,value", [
    ("quantities", 3, "value_kt", "-1"), ("prices", 2, "market", "spot"), ("gdp", 2, "year", "2024.5"),
    ("floors", 2, "since", "2025-02-30"), ("quantities", 2, "region", "XXX"), ("trade_costs", 2, "source", "web"),
])
def test_the_library_and_the_loader_refuse_the_same_cell(tmp_path, name, line, column, value):
    """The descriptor is the schema: frictionless on its own and load_dataset name the same cell."""
    folder = copy_data(tmp_path)
    set_cell(folder, name, line, column, value)
    report = frictionless.Package(str(folder / DESCRIPTOR)).validate()
    found = [(task.name, getattr(e, "row_number", None)) for task in report.tasks for e in task.errors]
    assert found == [(name, line)], found
    with pytest.raises(DataValidationError) as info:
        load_dataset(folder)
    assert (info.value.file, info.value.row, info.value.column) == (name, line, column)
    assert repr(value) in str(info.value) and "expected" in str(info.value)


def test_the_loader_reads_its_constraints_from_the_descriptor(tmp_path):
    folder = copy_data(tmp_path)
    pkg = json.loads((folder / DESCRIPTOR).read_text(encoding="utf-8"))
    gdp = next(r for r in pkg["resources"] if r["name"] == "gdp")
    field = next(f for f in gdp["schema"]["fields"] if f["name"] == "gdp_usd_bn")
    field["constraints"]["maximum"] = 20000
    (folder / DESCRIPTOR).write_text(json.dumps(pkg), encoding="utf-8")
    with pytest.raises(DataValidationError, match=r"gdp, row 3, column 'gdp_usd_bn': '29184.89' is not allowed: "
                                                  r"expected a number in \(0, 20000\] in USD bn"):
        load_dataset(folder)


def test_a_broken_descriptor_is_named_not_a_library_traceback(tmp_path):
    folder = copy_data(tmp_path)
    pkg = json.loads((folder / DESCRIPTOR).read_text(encoding="utf-8"))
    next(r for r in pkg["resources"] if r["name"] == "gdp")["schema"]["fields"][1]["type"] = "numbr"
    (folder / DESCRIPTOR).write_text(json.dumps(pkg), encoding="utf-8")
    with pytest.raises(DataValidationError, match=r"datapackage.json: the schema of resource 'gdp' is not a valid Table Schema"):
        load_dataset(folder)
    (folder / DESCRIPTOR).write_text("{not json", encoding="utf-8")
    with pytest.raises(DataValidationError, match=r"datapackage.json: not a readable JSON descriptor"):
        load_dataset(folder)


# ------------------------------------------------------------------ the value chain's files
@pytest.fixture
def chain_copy(tmp_path):
    return copy_chain_data(tmp_path)


def _rewrite(path: Path, edit) -> None:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    edit(rows)
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


def _chain_error(folder: Path) -> DataValidationError:
    with pytest.raises(DataValidationError) as info:
        load_chain_data(folder)
    return info.value


@pytest.mark.parametrize("file,column,value,message", [
    ("chain_quantities", "value_kt", "lots", "expected a non-negative number in kt"),
    ("chain_quantities", "value_kt", "inf", "expected a non-negative number in kt"),
    ("chain_quantities", "value_kt", "1,234", "digit-group separators"),
    ("chain_quantities", "variable", "exports", "expected one of ['production', 'final_demand']"),
    ("chain_quantities", "year", "2024.5", "expected a whole number >= 1 in year"),
    ("chain_prices", "price_usd_per_kg", "0", "expected a positive number in USD/kg"),
    ("chain_prices", "source", "a website", "'assumption: <reason>' or a publication with its year"),
    ("chain_stages", "order", "first", "expected a non-negative whole number"),
    ("chain_elasticities", "side", "both", "expected one of ['demand', 'supply']"),
    ("chain_elasticities", "mineral", "copper", "expected a mineral in chain_stages.csv, one of"),
    ("chain_capacity", "region", "MARS", "expected a region in regions.csv"),
])
def test_hostile_chain_cells_name_file_line_column_value_and_what_is_allowed(chain_copy, file, column, value, message):
    _rewrite(chain_copy / f"{file}.csv", lambda rows: rows[1].__setitem__(rows[0].index(column), value))
    err = _chain_error(chain_copy)
    assert (err.file, err.row, err.column) == (file, 2, column), str(err)
    assert repr(value) in str(err) and message in str(err), str(err)


def test_hostile_chain_structure(chain_copy):
    path = chain_copy / "chain_prices.csv"
    original = path.read_bytes()
    k = next(csv.reader(original.decode("utf-8").splitlines())).index("region")
    _rewrite(path, lambda rows: [r.pop(k) for r in rows])
    err = _chain_error(chain_copy)
    assert (err.file, err.row, err.column) == ("chain_prices", 1, "region")
    path.write_bytes(original)
    _rewrite(path, lambda rows: rows[2].append("extra"))
    err = _chain_error(chain_copy)
    assert (err.file, err.row, err.column) == ("chain_prices", 3, None) and "ragged" in str(err)
    path.write_bytes(original)
    _rewrite(path, lambda rows: rows.append(list(rows[1])))
    err = _chain_error(chain_copy)
    assert (err.file, err.column) == ("chain_prices", "stage") and "duplicate key" in str(err)
    path.write_bytes(original)
    (chain_copy / "chain_elasticities.csv").write_bytes(b"\xff\xfe" + b"mineral")
    err = _chain_error(chain_copy)
    assert err.file == "chain_elasticities" and "not UTF-8" in str(err)


def test_hostile_chain_rules_that_span_rows(chain_copy):
    path = chain_copy / "chain_stages.csv"
    _rewrite(path, lambda rows: rows[2].__setitem__(rows[0].index("order"), "5"))
    err = _chain_error(chain_copy)
    assert (err.file, err.column) == ("chain_stages", "order") and "expected 0, 1" in str(err)
    shutil.copy(DATA / "chain_stages.csv", path)
    path = chain_copy / "chain_elasticities.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    line = next(k for k, r in enumerate(rows, 1) if r[rows[0].index("side")] == "demand")
    _rewrite(path, lambda rows: rows[line - 1].__setitem__(rows[0].index("central"), "0.5"))
    err = _chain_error(chain_copy)
    assert (err.file, err.row, err.column) == ("chain_elasticities", line, "central")


def test_an_empty_capacity_file_means_no_kinks(chain_copy):
    _rewrite(chain_copy / "chain_capacity.csv", lambda rows: rows.__delitem__(slice(1, None)))
    assert load_chain_data(chain_copy).capacity.empty
