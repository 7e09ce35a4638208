"""Hostile and unusual inputs, one table per entry point: each must raise the package's own error
naming the file (or argument), the key and the value; never a traceback, never a silent answer.

Tables: scenario files, chapter re-runs (through the CLI, refused before any kernel starts),
output paths of ``cmbloc run``, data files, and the Python API. Each row is
``(id, input, error class, substrings the message must contain)``.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models import (Bloc, EquilibriumModel, ExportQuota, ExportTax, IsoelasticCurve, GuaranteedPrice, LinearCurve,
                    Market, ProducerSubsidy, Scenario, StockpileFloor, Tariff, calibrate_curve)
from models.cli import main
from models.data import load_dataset
from models.errors import DataValidationError, ModelInputError, ScenarioError
from models.scenario_file import load_scenario_file
from models.synthetic import synthetic_benchmark

DATA = Path(__file__).resolve().parents[1] / "data"

# ----------------------------------------------------------------------------- scenario files
FLOOR = "mineral: ndpr\npolicies:\n  floors: [{instrument: guaranteed, regions: [USA], level: %s}]\n"
BOMB = ("mineral: ndpr\na: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
        "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n")
SCENARIO_FILES = [
    ("bool_for_number", (FLOOR % "true").encode(), ["scenario.policies.floors[0].level", "True", "a number"]),
    ("numeric_string", (FLOOR % '"100"').encode(), ["floors[0].level", "'100'", "a number"]),
    ("infinite_level", (FLOOR % ".inf").encode(), ["floors[0].level", "inf"]),
    ("nan_level", (FLOOR % ".nan").encode(), ["floors[0].level", "nan"]),
    ("negative_level", (FLOOR % "-5").encode(), ["floors[0].level", "-5", "greater than 0"]),
    ("zero_level", (FLOOR % "0").encode(), ["floors[0].level", "0"]),
    ("duplicate_key", b"mineral: ndpr\nmineral: gallium\n", ["duplicate key 'mineral'", "line 2", "line 1"]),
    ("duplicate_nested_key", b"mineral: ndpr\npolicies:\n  bloc: {members: [USA]}\n  bloc: {members: [EU]}\n",
     ["duplicate key 'bloc'"]),
    ("alias_bomb", BOMB.encode(), ["expands", "aliases"]),
    ("too_large", b"mineral: ndpr\n" + b"# padding\n" * 8000, ["too large", "bytes"]),
    ("binary", bytes(range(256)) * 4, ["not UTF-8"]),
    ("latin1", "mineral: ndpr\nname: Réunion\n".encode("latin-1"), ["not UTF-8", "byte"]),
    ("nul_bytes", b"mineral: ndpr\x00\n", ["NUL"]),
    ("empty_file", b"", ["scenario = None", "mineral"]),
    ("top_level_list", b"- mineral: ndpr\n", ["scenario = ", "mapping"]),
    ("not_yaml", b"mineral: [ndpr\n", ["not valid YAML"]),
    ("unknown_top_key", b"mineral: ndpr\npolicy: {}\n", ["scenario.policy", "no such key"]),
    ("unknown_policy_key", b"mineral: ndpr\npolicies: {floor: []}\n", ["scenario.policies.floor"]),
    ("unknown_instrument", b"mineral: ndpr\npolicies:\n  floors: [{instrument: tax, regions: [USA], level: 1}]\n",
     ["floors[0]", "'tax'", "preferential"]),
    ("missing_instrument", b"mineral: ndpr\npolicies:\n  floors: [{regions: [USA], level: 1}]\n",
     ["floors[0]", "instrument"]),
    ("missing_level", b"mineral: ndpr\npolicies:\n  floors: [{instrument: cfd, regions: [USA]}]\n",
     ["scenario.policies.floors[0].level", "missing"]),
    ("extra_floor_key", b"mineral: ndpr\npolicies:\n  floors: [{instrument: cfd, regions: [USA], level: 9, "
     b"budget: 1}]\n", ["floors[0].budget", "no such key"]),
    ("regions_number", b"mineral: ndpr\npolicies:\n  floors: [{instrument: guaranteed, regions: 7, level: 9}]\n",
     ["floors[0].regions", "7", "region id"]),
    ("regions_empty", b"mineral: ndpr\npolicies:\n  bloc: {members: []}\n", ["bloc.members", "[]"]),
    ("regions_repeated", b"mineral: ndpr\npolicies:\n  bloc: {members: [USA, USA]}\n",
     ["bloc.members", "distinct"]),
    ("sweep_repeated", b"mineral: ndpr\nsweep: {parameter: floor_level, values: [80, 90, 80]}\n",
     ["sweep.values", "repeated: [80.0]"]),
    ("sweep_empty", b"mineral: ndpr\nsweep: {parameter: floor_level, values: []}\n", ["sweep.values", "[]"]),
    ("sweep_string_value", b"mineral: ndpr\nsweep: {parameter: budget, values: [1, '2']}\n",
     ["sweep.values[1]", "'2'"]),
    ("sweep_parameter", b"mineral: ndpr\nsweep: {parameter: elasticity, values: [1]}\n",
     ["sweep.parameter", "'elasticity'", "floor_level"]),
    ("demand_sign", b"mineral: ndpr\nelasticities: {demand: 0.5}\n", ["elasticities.demand", "0.5"]),
    ("horizon", b"mineral: ndpr\nelasticities: {horizon: medium}\n", ["elasticities.horizon", "'medium'"]),
    ("curve", b"mineral: ndpr\ncurve: cubic\n", ["scenario.curve", "'cubic'", "linear"]),
    ("mineral_number", b"mineral: 5\n", ["scenario.mineral", "5", "string"]),
    ("two_problems_at_once", b"mineral: ndpr\ncurve: cubic\nelasticities: {which: best}\n",
     ["2 problems", "scenario.curve", "elasticities.which"]),
]


@pytest.mark.parametrize("name, content, expected", SCENARIO_FILES, ids=[r[0] for r in SCENARIO_FILES])
def test_hostile_scenario_files(name, content, expected, tmp_path):
    path = tmp_path / f"{name}.yaml"
    path.write_bytes(content)
    with pytest.raises(ScenarioError) as info:
        load_scenario_file(path)
    message = str(info.value)
    assert str(path) in message
    for part in expected:
        assert part in message, (part, message)


def test_directory_and_missing_scenario_files(tmp_path):
    with pytest.raises(ScenarioError, match="not a regular file"):
        load_scenario_file(tmp_path)
    with pytest.raises(ScenarioError, match="no such scenario file"):
        load_scenario_file(tmp_path / "absent.yaml")


@pytest.fixture(scope="module")
def dataset():
    return load_dataset()


def test_unknown_regions_are_named_at_the_files_own_position(tmp_path, dataset):
    """The base scenario has policies of its own; the message names the file's floors[0], and
    every unknown region at once."""
    path = tmp_path / "regions.yaml"
    path.write_text("mineral: ndpr\npolicies:\n  quotas: [{origin: ATLANTIS}]\n"
                    "  floors: [{instrument: guaranteed, regions: [USA, MU], level: 90}]\n")
    base = Scenario(floors=(GuaranteedPrice(("USA",), 50.0),), quotas=(ExportQuota("CHN", "ALL", 1.0),))
    with pytest.raises(ScenarioError) as info:
        load_scenario_file(path).scenario(base, dataset)
    message = str(info.value)
    assert str(path) in message and "2 problems" in message
    assert "policies.quotas[0].origin = 'ATLANTIS'" in message
    assert "policies.floors[0].regions = 'MU'" in message


# ----------------------------------------------------------------------------- CLI outputs
def _existing(tmp_path):
    out = tmp_path / "done.ipynb"
    out.write_text("{}")
    return out


CHAPTER_ARGS = [
    ("unknown_chapter", lambda t: ["chapter", "no_such_chapter"], ["no_such_chapter", "price_floors"]),
    ("path_as_chapter", lambda t: ["chapter", "../models/cli"], ["chapter", "file stem"]),
    ("unknown_parameter", lambda t: ["chapter", "price_floors", "-p", "flor_level=1", "-o", str(t / "a.ipynb")],
     ["flor_level"]),
    ("bad_literal", lambda t: ["chapter", "price_floors", "-p", "floor_level=abc"], ["floor_level", "abc"]),
    ("no_equals", lambda t: ["chapter", "price_floors", "-p", "floor_level"], ["NAME=VALUE"]),
    ("bad_name", lambda t: ["chapter", "price_floors", "-p", "1x=3"], ["1x=3", "Python name"]),
    ("existing_output", lambda t: ["chapter", "price_floors", "-o", str(_existing(t))], ["exists", "--force"]),
    ("output_is_folder", lambda t: ["chapter", "price_floors", "-o", str(t / "d.ipynb")], ["is a folder"]),
    ("output_parent_missing", lambda t: ["chapter", "price_floors", "-o", str(t / "no" / "x.ipynb")],
     ["does not exist"]),
    ("output_not_notebook", lambda t: ["chapter", "price_floors", "-o", str(t / "x.txt")], [".ipynb"]),
    ("output_is_source", lambda t: ["chapter", "price_floors", "--force", "-o",
                                    str(Path(__file__).resolve().parents[1] / "book" / "price_floors.ipynb")],
     ["chapter's own source"]),
    ("run_out_is_file", lambda t: ["run", "scenarios/cfd_floor_ndpr.yaml", "--out", str(_existing(t))],
     ["--out", "is a file"]),
    ("run_out_not_empty", lambda t: ["run", "scenarios/cfd_floor_ndpr.yaml", "--out", str(_full(t))],
     ["--out", "regions.csv", "--force"]),
    ("run_out_foreign_files", lambda t: ["run", "scenarios/cfd_floor_ndpr.yaml", "--out", str(_foreign(t)),
                                         "--force"], ["notes.txt", "another folder"]),
    ("run_out_parent_missing", lambda t: ["run", "scenarios/cfd_floor_ndpr.yaml", "--out", str(t / "a" / "b")],
     ["--out", "parent"]),
    ("run_scenario_is_folder", lambda t: ["run", str(t)], ["not a regular file"]),
]


def _full(tmp_path):
    out = tmp_path / "full"
    out.mkdir()
    (out / "regions.csv").write_text("old")
    return out


def _foreign(tmp_path):
    out = _full(tmp_path)
    (out / "notes.txt").write_text("mine")
    return out


@pytest.mark.parametrize("name, argv, expected", CHAPTER_ARGS, ids=[r[0] for r in CHAPTER_ARGS])
def test_hostile_command_lines(name, argv, expected, tmp_path, capsys, monkeypatch):
    import papermill

    def refuse(*args, **kwargs):
        raise AssertionError("a notebook was executed before its arguments were checked")
    monkeypatch.setattr(papermill, "execute_notebook", refuse)
    monkeypatch.chdir(Path(__file__).resolve().parents[1])
    (tmp_path / "d.ipynb").mkdir()
    assert main(argv(tmp_path)) == 2
    err = capsys.readouterr().err
    for part in expected:
        assert part in err, (part, err)
    if name == "run_out_foreign_files":
        assert (tmp_path / "full" / "notes.txt").read_text() == "mine"


def test_force_replaces_earlier_results_and_removes_stale_tables(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(Path(__file__).resolve().parents[1])
    out = tmp_path / "out"
    assert main(["run", "scenarios/preferential_floor_ndpr.yaml", "--out", str(out)]) == 0
    assert (out / "sweep.csv").exists()
    assert main(["run", "scenarios/cfd_floor_ndpr.yaml", "--out", str(out)]) == 2
    assert main(["run", "scenarios/cfd_floor_ndpr.yaml", "--out", str(out), "--force"]) == 0
    assert not (out / "sweep.csv").exists() and (out / "regions.csv").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


# ----------------------------------------------------------------------------- data files
def _price_row(value: str) -> str:
    return f'ndpr,reference,{value},2025,"assumption: test",x'


DATA_FILES = [
    ("latin1", lambda text: text.replace("USGS", "USGS é", 1).encode("latin-1", errors="replace"),
     ["prices", "row 2", "not UTF-8", "latin-1"]),
    ("infinite", lambda text: _replace_price(text, "inf").encode(), ["prices", "column 'price_usd_per_kg'", "'inf'"]),
    ("nan", lambda text: _replace_price(text, "nan").encode(), ["prices", "column 'price_usd_per_kg'", "'nan'"]),
    ("grouped_digits", lambda text: _replace_price(text, '"1,234.5"').encode(),
     ["prices", "'1,234.5'", "digit-group separators"]),
    ("underscore_digits", lambda text: _replace_price(text, "1_234").encode(), ["prices", "'1_234'"]),
    ("header_only", lambda text: text.splitlines()[0].encode() + b"\n", ["prices", "header only"]),
    ("word_for_number", lambda text: _replace_price(text, "eighty").encode(), ["prices", "'eighty'", "not a number"]),
]


def _replace_price(text: str, value: str) -> str:
    lines = text.splitlines()
    fields = lines[1].split(",")
    fields[2] = value
    lines[1] = ",".join(fields)
    return "\n".join(lines) + "\n"


@pytest.fixture()
def data_copy(tmp_path):
    folder = tmp_path / "data"
    shutil.copytree(DATA, folder)
    return folder


@pytest.mark.parametrize("name, corrupt, expected", DATA_FILES, ids=[r[0] for r in DATA_FILES])
def test_hostile_data_files(name, corrupt, expected, data_copy):
    path = data_copy / "prices.csv"
    path.write_bytes(corrupt(path.read_text(encoding="utf-8")))
    with pytest.raises(DataValidationError) as info:
        load_dataset(data_copy)
    for part in expected:
        assert part in str(info.value), (part, str(info.value))


def test_a_byte_order_mark_is_read(data_copy):
    path = data_copy / "prices.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert load_dataset(data_copy).price("ndpr") == load_dataset().price("ndpr")


# ----------------------------------------------------------------------------- the API
def _market():
    regions = ("A", "B")
    t = pd.DataFrame([[0.0, 1.0], [1.0, 0.0]], index=regions, columns=regions)
    return Market("m", regions, {"A": LinearCurve("demand", 100.0, -1.0), "B": LinearCurve("demand", 90.0, -1.0)},
                  {"A": LinearCurve("supply", 10.0, 1.0)}, t)


def _model():
    return EquilibriumModel(_market(), Scenario(floors=(GuaranteedPrice(("B",), 60.0),)))


def _other_result():
    m = _market()
    other = Market("m", m.regions, dict(m.demand), {"A": LinearCurve("supply", 20.0, 1.0)}, m.transport_cost)
    return EquilibriumModel(other).solve()


API = [
    ("market_regions_int", lambda: Market("m", 5, {}, {}, pd.DataFrame()), "regions", "5"),
    ("market_mineral_none", lambda: Market(None, ("A",), {}, {}, pd.DataFrame()), "mineral", "None"),
    ("market_demand_list", lambda: Market("m", ("A",), [1], {}, pd.DataFrame()), "demand", "list"),
    ("market_curve_is_number", lambda: Market("m", ("A",), {"A": 3}, {}, pd.DataFrame([[0.0]], ["A"], ["A"])),
     "demand[A]", "3"),
    ("market_costs_text", lambda: Market("m", ("A", "B"), {}, {}, pd.DataFrame(
        [["0", "x"], ["1", "0"]], ["A", "B"], ["A", "B"])), "transport_cost", "non-numeric"),
    ("curve_side_number", lambda: LinearCurve(5, 1.0, 1.0), "side", "5"),
    ("curve_intercept_text", lambda: LinearCurve("demand", "a", -1.0), "demand.intercept", "'a'"),
    ("curve_slope_bool", lambda: LinearCurve("supply", 1.0, True), "supply.slope", "True"),
    ("curve_elasticity_text", lambda: calibrate_curve("linear", "demand", 80.0, 10.0, "-0.5"),
     "demand.elasticity", "'-0.5'"),
    ("curve_near_vertical", lambda: calibrate_curve("linear", "supply", 80.0, 10.0, 1e-6),
     "supply.elasticity", "0.001 and 1000"),
    ("curve_near_flat", lambda: calibrate_curve("linear", "demand", 80.0, 10.0, -1e5),
     "demand.elasticity", "0.001 and 1000"),
    ("isoelastic_near_vertical", lambda: IsoelasticCurve("supply", 80.0, 10.0, 1e-3),
     "supply.elasticity", "0.01 and 1000"),
    ("curve_price_none", lambda: calibrate_curve("linear", "demand", None, 10.0, -0.5), "demand.price", "None"),
    ("levy_level_bool", lambda: GuaranteedPrice(("A",), True), "guaranteed_price.level", "True"),
    ("levy_level_text", lambda: GuaranteedPrice(("A",), "100"), "guaranteed_price.level", "'100'"),
    ("levy_regions_int", lambda: GuaranteedPrice(5, 100.0), "guaranteed_price.regions", "5"),
    ("levy_regions_mixed", lambda: GuaranteedPrice(("A", 3), 100.0), "guaranteed_price.regions", "3"),
    ("tariff_origin_int", lambda: Tariff(5, "A"), "tariff.origin", "5"),
    ("tariff_rate_text", lambda: Tariff("A", "B", "1"), "tariff.specific", "'1'"),
    ("export_tax_origin", lambda: ExportTax(None, 1.0), "export_tax.origin", "None"),
    ("quota_origin_list", lambda: ExportQuota(["A"], "B", 1.0), "quota.origin", "['A']"),
    ("subsidy_rate_none", lambda: ProducerSubsidy("A", None), "subsidy.rate", "None"),
    ("stockpile_location", lambda: StockpileFloor(7, 50.0, 10.0), "stockpile_floor.location", "7"),
    ("stockpile_budget_inf", lambda: StockpileFloor("A", 50.0, float("inf")), "stockpile_floor.budget", "inf"),
    ("bloc_members_int", lambda: Bloc(3), "bloc.members", "3"),
    ("scenario_tariffs_int", lambda: Scenario(tariffs=5), "scenario.tariffs", "5"),
    ("scenario_name_int", lambda: Scenario(name=5), "scenario.name", "5"),
    ("scenario_extend_unknown", lambda: Scenario().extend(tarifs=()), "Scenario.extend", "tarifs"),
    ("scenario_with_unknown", lambda: Scenario().with_policies(flors=()), "Scenario.with_policies", "flors"),
    ("model_market_str", lambda: EquilibriumModel("market"), "market", "str"),
    ("model_solver_int", lambda: EquilibriumModel(_market(), solver=5), "solver", "5"),
    ("model_solver_unknown", lambda: EquilibriumModel(_market(), solver="gurobo"), "solver", "GUROBO"),
    ("model_options_list", lambda: EquilibriumModel(_market(), solver_options=[1]), "solver_options", "list"),
    ("model_prices_list", lambda: EquilibriumModel(_market(), benchmark_prices=[1.0]), "benchmark_prices", "list"),
    ("solve_unknown_option", lambda: _model().solve(flor_level=1.0), "parameter", "flor_level"),
    ("solve_level_text", lambda: _model().solve(floor_level="abc"), "floor_level", "'abc'"),
    ("solve_level_bool", lambda: _model().solve(floor_level=True), "floor_level", "True"),
    ("sweep_unknown_parameter", lambda: _model().sweep("elasticity", [1.0]), "sweep parameter", "elasticity"),
    ("sweep_repeated_values", lambda: _model().sweep("floor_level", [50.0, 60.0, 50.0]), "sweep values", "50.0"),
    ("sweep_no_values", lambda: _model().sweep("floor_level", []), "sweep values", "[]"),
    ("sweep_values_string", lambda: _model().sweep("floor_level", "80"), "sweep values", "'80'"),
    ("sweep_value_text", lambda: _model().sweep("floor_level", [50.0, "x"]), "floor_level", "'x'"),
    ("sweep_unknown_field", lambda: _model().sweep("floor_level", [50.0], fields=("price",)), "sweep fields",
     "price"),
    ("pivot_unknown_field", lambda: _model().sweep("floor_level", [50.0]).pivot("welfare"), "field", "welfare"),
    ("welfare_change_other_market", lambda: EquilibriumModel(_market()).solve().welfare_change(_other_result()),
     "baseline", "same market"),
    ("welfare_change_not_result", lambda: EquilibriumModel(_market()).solve().welfare_change(3), "baseline", "int"),
]


@pytest.mark.parametrize("name, call, field, value", API, ids=[r[0] for r in API])
def test_hostile_api_calls(name, call, field, value):
    with pytest.raises(ModelInputError) as info:
        call()
    assert info.value.field == field, info.value.field
    assert value in str(info.value), str(info.value)


def test_calibration_refuses_near_vertical_curves_up_front():
    bench = synthetic_benchmark(4, seed=7)
    from models import calibrate_benchmark
    m = bench.market
    with pytest.raises(ModelInputError, match="0.001 and 1000"):
        calibrate_benchmark("s", m.regions, bench.production, bench.consumption, 80.0, m.regions[1],
                            m.transport_cost, -0.5, 1e-6)
    assert np.isfinite(bench.prices).all()


def test_model_errors_name_the_files_own_position(tmp_path):
    """The model numbers floors in the extended scenario (the base scenario's first); the message
    names the file's own position."""
    path = tmp_path / "shifted.yaml"
    path.write_text("mineral: ndpr\npolicies:\n  floors: [{instrument: cfd, regions: [USA], level: 90}]\n")
    spec = load_scenario_file(path)
    base = Scenario(floors=(GuaranteedPrice(("EU",), 50.0), GuaranteedPrice(("JPN",), 50.0)))
    error = spec.explain(ModelInputError("floors[2].regions", "USA", "regions with a demand or supply curve"),
                         base)
    assert isinstance(error, ScenarioError)
    assert f"{path}: scenario.policies.floors[0].regions = 'USA'" in str(error)
    own = spec.explain(ModelInputError("floors[1].regions", "JPN", "x"), base)
    assert "floors[1].regions" in str(own) and str(path) in str(own)
