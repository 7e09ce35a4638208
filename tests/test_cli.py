"""The command line and scenario files: every shipped scenario runs; bad files give named errors."""
from pathlib import Path

import pytest

from models import PreferentialFloor, Scenario
from models.cli import main
from models.data import load_dataset
from models.errors import ScenarioError
from models.scenario_file import load_scenario_file

SCENARIOS = sorted((Path(__file__).resolve().parents[1] / "scenarios").glob("*.yaml"))


@pytest.fixture(scope="module")
def dataset():
    return load_dataset()


def test_data_command(capsys):
    assert main(["data"]) == 0
    assert "all files valid" in capsys.readouterr().out


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_shipped_scenarios_run(path, tmp_path, capsys):
    assert main(["run", str(path), "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Welfare change against the benchmark" in out
    assert (tmp_path / "regions.csv").exists() and (tmp_path / "welfare_change.csv").exists()
    assert "nan" not in (tmp_path / "regions.csv").read_text().lower()


def test_preferential_scenario_reads_the_plans_floor(dataset):
    spec = load_scenario_file(SCENARIOS[[p.stem for p in SCENARIOS].index("preferential_floor_ndpr")])
    scenario = spec.scenario(Scenario(), dataset)
    assert scenario.bloc.members == dataset.roster("core")
    assert isinstance(scenario.floors[0], PreferentialFloor) and scenario.floors[0].level == 100


def test_preferential_scenario_run_reports_the_zone(capsys):
    path = SCENARIOS[[p.stem for p in SCENARIOS].index("preferential_floor_ndpr")]
    assert main(["run", str(path)]) == 0
    out = capsys.readouterr().out
    assert "## Preferential floor" in out and "tariff" in out


BAD = {
    "unknown_key.yaml": ("mineral: ndpr\npolicy: {}\n", "scenario.policy"),
    "missing_mineral.yaml": ("name: x\n", "scenario.mineral"),
    "wrong_sign.yaml": ("mineral: ndpr\nelasticities: {demand: 0.5}\n", "elasticities.demand"),
    "bad_instrument.yaml": ("mineral: ndpr\npolicies:\n  floors: [{instrument: tax, regions: [USA], level: 1}]\n",
                            "instrument"),
    "bad_sweep.yaml": ("mineral: ndpr\nsweep: {parameter: elasticity, values: [1]}\n", "sweep.parameter"),
    "not_yaml.yaml": ("mineral: [ndpr\n", "not valid YAML"),
    "negative_floor.yaml": ("mineral: ndpr\npolicies:\n  floors: [{instrument: guaranteed, regions: [USA], level: -5}]\n",
                            "policies.floors[0].level"),
    "preferential_without_level.yaml": ("mineral: ndpr\npolicies:\n  bloc: {members: [USA]}\n  floors: "
                                        "[{instrument: preferential}]\n", "level"),
    "negative_budget.yaml": ("mineral: ndpr\npolicies:\n  floors: [{instrument: stockpile, location: USA, "
                             "level: 90, budget: -1}]\n", "policies.floors[0].budget"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_scenario_files_name_the_key(name, tmp_path, dataset):
    text, expected = BAD[name]
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ScenarioError, match=str(path).replace(".", r"\.")) as info:
        spec = load_scenario_file(path)
        spec.scenario(Scenario(), dataset)
    assert expected in str(info.value)


def test_unknown_region_is_reported_by_the_cli(tmp_path, capsys):
    path = tmp_path / "unknown_region.yaml"
    path.write_text("mineral: ndpr\npolicies:\n  floors: [{instrument: guaranteed, regions: [ATLANTIS], level: 90}]\n")
    assert main(["run", str(path)]) == 2
    err = capsys.readouterr().err
    assert "ATLANTIS" in err and "region ids" in err


def test_unknown_mineral_is_reported(tmp_path, capsys):
    path = tmp_path / "unknown_mineral.yaml"
    path.write_text("mineral: unobtainium\n")
    assert main(["run", str(path)]) == 2
    assert "unobtainium" in capsys.readouterr().err
