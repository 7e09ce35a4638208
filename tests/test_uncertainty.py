"""The Monte Carlo engine (models/uncertainty) and curves as Parameters of the built problem.

Small numbers of draws throughout: what is tested is reproducibility, ranges, the rules' logic
and the plumbing (Dask, the command line), not the verdicts' shares.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models import Bloc, ModelInputError, PreferentialFloor, benchmark_from_dataset
from models.cli import main as cli
from models.data import load_dataset
from models.synthetic import synthetic_benchmark
from models.uncertainty import (RULES, Evaluator, Rule, RuleContext, RuleOutcome, SweepSpec, draw_inputs,
                                get_rules, register, run_serial)
from models.uncertainty.scaleout import run_sweep


@pytest.fixture(scope="module")
def ds():
    return load_dataset()


@pytest.fixture(scope="module")
def c25(ds):
    return Evaluator(SweepSpec(rules=("C25",)), ds)


# ----------------------------------------------------------------------------- curves as parameters
def test_new_curves_are_a_resolve_equal_to_a_fresh_build(ds):
    bench = benchmark_from_dataset(ds, "ndpr")
    scenario = bench.base_scenario.extend(bloc=Bloc(("USA", "EU", "JPN")), floors=PreferentialFloor(110.0))
    model = bench.model(scenario)
    model.solve()
    problem = model.problem
    short = bench.recalibrated(ds.elasticity("ndpr", "demand", "short", "low"),
                               ds.elasticity("ndpr", "supply", "short", "low"))
    model.set_market(short.market)
    again = model.solve()
    assert model.problem is problem                      # not rebuilt
    fresh = benchmark_from_dataset(ds, "ndpr", horizon="short", which="low").model(scenario).solve()
    for col in ("border_price", "supply_price", "demand", "supply"):
        scale = max(1.0, float(fresh.regions[col].abs().max()))
        assert np.abs(again.regions[col] - fresh.regions[col]).max() <= 1e-8 * scale, col


def test_recalibrated_benchmark_still_replicates_the_base_year(ds):
    bench = benchmark_from_dataset(ds, "ndpr")
    moved = bench.recalibrated(-0.3, 0.5, export_wedge={"CHN": 0.5 * bench.export_wedge["CHN"]})
    base = moved.solve()
    assert np.allclose(base.regions["supply"], moved.production, atol=1e-6)
    assert np.allclose(base.regions["demand"], moved.consumption, atol=1e-6)
    assert base.regions.loc["CHN", "supply_price"] == pytest.approx(moved.prices["CHN"], rel=1e-7)
    with pytest.raises(ModelInputError, match="export_wedge"):
        bench.recalibrated(export_wedge={"CHN": 2 * bench.export_wedge["CHN"]})


def test_isoelastic_curves_cannot_be_changed_in_a_built_model():
    bench = synthetic_benchmark(5, seed=3, curve="isoelastic")
    model = bench.model()
    with pytest.raises(ModelInputError, match="constant-elasticity"):
        model.set_market(bench.market)


# ----------------------------------------------------------------------------- draws
def test_draws_are_seeded_and_reproducible(c25):
    a = draw_inputs(c25.ranges, 50, seed=7)
    pd.testing.assert_frame_equal(a, draw_inputs(c25.ranges, 50, seed=7), check_exact=True)
    assert not a.equals(draw_inputs(c25.ranges, 50, seed=8))


def test_draws_stay_within_the_ranges_of_the_data(c25, ds):
    r = c25.ranges
    d = draw_inputs(r, 3000, seed=1)
    el = ds.elasticities.set_index(["mineral", "side", "horizon"]).loc[("ndpr", "demand", "long")]
    for col in [c for c in d if c.startswith("ed_")]:
        assert d[col].between(el["low"], el["high"]).all(), col
    es = ds.elasticities.set_index(["mineral", "side", "horizon"]).loc[("ndpr", "supply", "long")]
    for col in [c for c in d if c.startswith("es_")]:
        assert d[col].between(es["low"], es["high"]).all(), col
    sub = ds.subsidies.set_index(["region", "mineral"]).loc[("CHN", "ndpr")]
    assert d["subsidy"].between(sub["low"], sub["high"]).all()
    assert d["price_gap_share"].between(0.0, 1.0).all()
    # triangular: the mean is (low + central + high) / 3
    assert d["subsidy"].mean() == pytest.approx((sub["low"] + sub["usd_per_kg"] + sub["high"]) / 3, rel=0.05)


def test_the_price_gap_share_is_drawn_uniform_as_documented(c25):
    """The share of today's gap kept is uniform on [0, 1] (draws.py, the robustness chapter's
    table); the elasticities stay triangular; a shape takes one number a draw from the generator,
    so it does not move the draws of the inputs after it."""
    from scipy import stats
    from models.uncertainty.draws import Range
    d = draw_inputs(c25.ranges, 4000, seed=2)
    assert c25.ranges.price_gap.shape == "uniform"
    assert stats.kstest(d["price_gap_share"], "uniform").pvalue > 0.01
    tri = c25.ranges.supply["CHN"]
    assert stats.kstest(d["es_CHN"], "triang", args=((tri.mode - tri.low) / (tri.high - tri.low), tri.low,
                                                      tri.high - tri.low)).pvalue > 0.01
    u = Range(0.0, 1.0, 1.0, shape="uniform")
    assert u.cdf(0.25) == pytest.approx(0.25) and u.quantile(0.25) == pytest.approx(0.25)
    t = Range(0.0, 1.0, 1.0)
    assert t.cdf(0.5) == pytest.approx(0.25) and t.quantile(0.25) == pytest.approx(0.5)
    with pytest.raises(ModelInputError, match="shape"):
        Range(0.0, 0.5, 1.0, shape="normal")


def test_inputs_not_varied_stay_central_and_one_draw_per_side_is_shared(c25):
    d = draw_inputs(c25.ranges, 20, seed=2, vary=("subsidy",))
    assert (d["ed_USA"] == c25.ranges.demand["USA"].mode).all()
    assert (d["price_gap_share"] == 1.0).all()
    shared = draw_inputs(c25.ranges, 20, seed=2, by_region=False)
    assert (shared["ed_USA"] == shared["ed_EU"]).all() and (shared["es_CHN"] == shared["es_USA"]).all()
    with pytest.raises(ModelInputError, match="vary"):
        draw_inputs(c25.ranges, 5, seed=1, vary=("disruptions",))


# ----------------------------------------------------------------------------- rules
def test_central_draw_gives_the_chapters_c25_numbers(c25, ds):
    row = draw_inputs(c25.ranges, 1, seed=0, vary=()).iloc[0]
    out = c25.evaluate(row)
    bench = benchmark_from_dataset(ds, "ndpr")
    members = ("USA", "EU", "JPN")
    pref = bench.model(bench.base_scenario.extend(bloc=Bloc(members), floors=PreferentialFloor(110.0))).solve()
    base = bench.solve()
    change = float(pref.regions.loc[list(members), "supply"].sum() - base.regions.loc[list(members), "supply"].sum())
    assert out["C25_zone_supply_change_kt"] == pytest.approx(change, rel=1e-6)
    assert out["C25_verdict"] == ds.claims.set_index("id").loc["C25", "verdict"]


def test_central_draw_gives_the_registers_verdicts_for_every_rule_of_the_chapter(ds):
    ev = Evaluator(SweepSpec(rules=("C09", "C12", "C13", "C25")), ds)
    out = ev.evaluate(draw_inputs(ev.ranges, 1, seed=0, vary=()).iloc[0])
    register_ = ds.claims.set_index("id")["verdict"]
    assert out["error"] == ""
    for claim in ("C09", "C12", "C13", "C25"):
        assert out[f"{claim}_verdict"] == register_[claim], claim


def test_a_drawn_draw_equals_a_fresh_build_at_the_same_inputs(ds, c25):
    row = draw_inputs(c25.ranges, 1, seed=4).iloc[0]
    assert 0 < row["price_gap_share"] < 1
    out = c25.evaluate(row)
    regions = c25.bench.market.regions
    moved = c25.bench.recalibrated(
        {r: row[f"ed_{r}"] for r in regions if f"ed_{r}" in row},
        {r: row[f"es_{r}"] for r in regions if f"es_{r}" in row},
        export_wedge={"CHN": row["price_gap_share"] * c25.ranges.observed_gap})
    members = ("USA", "EU", "JPN")
    pref = moved.model(moved.base_scenario.extend(bloc=Bloc(members), floors=PreferentialFloor(110.0))).solve()
    base = moved.solve()
    change = float(pref.regions.loc[list(members), "supply"].sum() - base.regions.loc[list(members), "supply"].sum())
    assert out["C25_zone_supply_change_kt"] == pytest.approx(change, rel=1e-6, abs=1e-9)
    usa = 100 * (pref.regions.loc["USA", "demand"] / base.regions.loc["USA", "demand"] - 1)
    assert out["C25_usa_demand_change_pct"] == pytest.approx(usa, rel=1e-6, abs=1e-9)


def test_a_chapter_can_call_a_rule_on_results_it_holds(ds, c25):
    bench = benchmark_from_dataset(ds, "ndpr")
    members = ("USA", "EU", "JPN")
    pref = bench.model(bench.base_scenario.extend(bloc=Bloc(members), floors=PreferentialFloor(110.0))).solve()
    ctx = RuleContext.from_results(c25.setting, {"baseline": bench.solve(), "pref@floor": pref})
    outcome = RULES["C25"](ctx)
    row = c25.evaluate(draw_inputs(c25.ranges, 1, seed=0, vary=()).iloc[0])
    assert outcome.verdict == row["C25_verdict"]
    assert outcome.numbers["zone_supply_change_kt"] == pytest.approx(row["C25_zone_supply_change_kt"], rel=1e-6)


def test_a_rule_that_can_fail_does_fail(ds):
    # a bloc that produces nothing: the floor cannot expand production across the zone
    ev = Evaluator(SweepSpec(rules=("C25",), members=("JPN", "KOR")), ds)
    out = ev.evaluate(draw_inputs(ev.ranges, 1, seed=0, vary=()).iloc[0])
    assert out["C25_verdict"] == "not supported" and out["C25_zone_supply_change_kt"] <= 1e-9
    # no flood (China's extra subsidy 0): nothing for the floor to stop, C13 is not supported
    ev13 = Evaluator(SweepSpec(rules=("C13",)), ds)
    row = draw_inputs(ev13.ranges, 1, seed=0, vary=()).iloc[0].copy()
    row["subsidy"] = 0.0
    out = ev13.evaluate(row)
    assert out["C13_verdict"] == "not supported" and out["C13_problem"] == 0.0


def test_rule_registry_is_public_and_checked():
    assert {"C09", "C12", "C13", "C25"} <= set(RULES)
    rule = Rule("test_zone_output", "C25", ("pref@floor",),
                lambda ctx: RuleOutcome("supported", {"n": 1.0}))
    assert register(rule) is rule and get_rules(["test_zone_output"]) == [rule]
    RULES.pop("test_zone_output")
    with pytest.raises(ModelInputError, match="rules"):
        get_rules(["C99"])
    with pytest.raises(ModelInputError, match="needs"):
        register(Rule("bad", "C25", ("pref@nowhere",), lambda ctx: None))
    with pytest.raises(ModelInputError, match="verdict"):
        RuleOutcome("probably")


# ----------------------------------------------------------------------------- serial and Dask
def test_serial_run_is_reproducible_and_equals_two_dask_workers(ds):
    spec = SweepSpec(draws=6, seed=11, rules=("C25",))
    serial = run_serial(spec, ds)
    assert list(serial["draw"]) == list(range(6)) and (serial["error"] == "").all()
    pd.testing.assert_frame_equal(serial, run_serial(spec, ds), check_exact=True)
    timings = {}
    dask = run_sweep(spec, n_workers=2, batch_size=2, progress=False, timings=timings)
    pd.testing.assert_frame_equal(serial, dask, check_exact=True)
    assert timings["compute"] > 0


def test_a_draw_does_not_depend_on_the_draws_solved_before_it(ds):
    """Each model's Clarabel solver is set up once, at the build's central data, and every draw
    replaces its data (``FastProblem.rewind``): the same draws in the reverse order, on a fresh
    evaluator, give the same rows bit for bit, and a solver set up for a retry's other settings
    does not survive into the next draw."""
    from models.fastpath import fast_problem
    spec = SweepSpec(draws=12, seed=5, rules=("C25", "C09", "C13"))
    first = Evaluator(spec, ds)
    rows = draw_inputs(first.ranges, spec.draws, spec.seed).to_dict("records")
    forward = [first.evaluate(r) for r in rows]
    backward = [Evaluator(spec, ds).evaluate(r) for r in rows[::-1]][::-1]
    pd.testing.assert_frame_equal(pd.DataFrame(forward), pd.DataFrame(backward), check_exact=True)
    model = next(iter(first.states["floors"].models.values()))
    fast = fast_problem(model)
    pinned = dict(fast._pinned)
    assert pinned and not fast.setup_each_solve
    model.solve(subsidy=0.5)                          # a retry's settings: a second solver
    fast._solver_for({"max_iter": 300}, *fast._data(fast._theta()), fast._theta())
    assert len(fast._solvers) == len(pinned) + 1
    fast.rewind()
    assert fast._solvers == pinned and all(e.theta_A is None for e in fast._solvers.values())
    again = first.evaluate(rows[3])
    assert again == forward[3]


def test_the_same_sweep_runs_unchanged_on_an_existing_cluster(ds):
    from distributed import LocalCluster
    spec = SweepSpec(draws=4, seed=3, rules=("C25",))
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        table = run_sweep(spec, scheduler=cluster.scheduler_address, batch_size=1, progress=False)
    pd.testing.assert_frame_equal(run_serial(spec, ds), table, check_exact=True)


# ----------------------------------------------------------------------------- command line
def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_cli_sweep_writes_once_and_replaces_only_with_force(tmp_path, capsys):
    out = tmp_path / "draws.csv"
    f = _write(tmp_path / "s.yaml", f"mineral: ndpr\ndraws: 2\nseed: 1\nrules: [C25]\noutput: {out}\n")
    assert cli(["sweep", f, "--workers", "0", "--no-progress"]) == 0
    first = pd.read_csv(out)
    assert len(first) == 2 and "C25_verdict" in first and "C25_holds" in first
    assert cli(["sweep", f, "--workers", "0", "--no-progress"]) == 2
    assert "give --force" in capsys.readouterr().err
    assert cli(["sweep", f, "--workers", "0", "--no-progress", "--force"]) == 0
    pd.testing.assert_frame_equal(first, pd.read_csv(out))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["draws.csv", "s.yaml"]    # no temporary left


def test_shipped_sweep_files_are_valid(ds):
    from pathlib import Path

    from models.uncertainty.sweep_file import load_sweep_file
    files = sorted((Path(__file__).resolve().parents[1] / "scenarios" / "sweeps").glob("*.yaml"))
    assert files
    for path in files:
        sweep = load_sweep_file(path, ds)
        assert sweep.spec.draws >= 1 and sweep.output.suffix == ".csv"
        get_rules(sweep.spec.rules)


@pytest.mark.parametrize("body, field, shown", [
    ("mineral: ndpr\noutput: a.csv\ndraws: 'ten'\n", "sweep.draws", "'ten'"),
    ("mineral: ndpr\noutput: a.csv\ndraw: 10\n", "sweep.draw", "no such key"),
    ("mineral: unobtainium\noutput: a.csv\n", "sweep.mineral", "'unobtainium'"),
    ("mineral: ndpr\noutput: a.csv\nrules: [C99]\n", "sweep.rules", "C25"),
    ("mineral: ndpr\noutput: a.csv\nvary: [disruptions]\n", "sweep.vary[0]", "'disruptions'"),
    ("mineral: ndpr\noutput: a.txt\n", "sweep.output", ".csv"),
    ("mineral: ndpr\noutput: a.csv\nbloc: {roster: nobody}\n", "sweep.bloc.roster", "'nobody'"),
    ("mineral: ndpr\n", "sweep.output", "missing"),
])
def test_cli_sweep_reports_bad_files_without_a_traceback(tmp_path, capsys, body, field, shown):
    f = _write(tmp_path / "bad.yaml", body)
    assert cli(["sweep", f, "--workers", "0", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cmbloc: error:") and "Traceback" not in err
    assert str(tmp_path / "bad.yaml") in err and field in err and shown in err


def test_cli_sweep_refuses_an_unreachable_scheduler_and_a_missing_file(tmp_path, capsys):
    f = _write(tmp_path / "s.yaml", f"mineral: ndpr\ndraws: 2\noutput: {tmp_path / 'x.csv'}\n")
    assert cli(["sweep", f, "--scheduler", "tcp://127.0.0.1:9", "--no-progress"]) == 2
    assert "scheduler" in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()
    assert cli(["sweep", str(tmp_path / "none.yaml")]) == 2
    assert "no such sweep file" in capsys.readouterr().err
    for bad in (["--scheduler", "no-port-here"], ["--workers", "-1"], ["--batch-size", "0"]):
        assert cli(["sweep", f, "--no-progress", *bad]) == 2
        err = capsys.readouterr().err
        assert err.startswith("cmbloc: error:") and "Traceback" not in err and bad[0].strip("-")[:5] in err
    assert not (tmp_path / "x.csv").exists()


# ----------------------------------------------------------------------------- rule families
class _CountingState:
    """A family state that records its builds and grades on the draw's own extra input."""

    builds = 0

    def __init__(self, inputs, rules):
        type(self).builds += 1
        self.members = inputs.dataset.roster(inputs.spec.roster)

    def context(self, draw):
        return draw


def _probe_ranges(inputs):
    from models.uncertainty import Range
    return {"probe_rate": Range(0.05, 0.15, 0.25, "test range")}


def _probe_rule(draw):
    rate = float(draw.row["probe_rate"])
    return RuleOutcome("supported" if rate > 0.15 else "not supported",
                       {"rate": rate, "ndpr_market_regions": float(len(draw.bench.market.regions))})


def test_a_family_of_its_own_is_built_once_and_draws_its_extra_input_after_the_markets(ds):
    from models.uncertainty import Family, register_family
    register_family(Family("test_probe_family", _CountingState, ranges=_probe_ranges))
    register(Rule("test_probe_rule", "C42", (), _probe_rule, family="test_probe_family"))
    _CountingState.builds = 0
    spec = SweepSpec(rules=("test_probe_rule",), vary=("elasticities", "probe_rate"), draws=30, seed=3)
    table = run_serial(spec, ds)
    assert _CountingState.builds == 1
    assert table["probe_rate"].between(0.05, 0.25).all() and table["probe_rate"].nunique() == 30
    assert ((table["probe_rate"] > 0.15) == (table["test_probe_rule_verdict"] == "supported")).all()
    assert (table["test_probe_rule_rate"] == table["probe_rate"]).all()
    # the market's inputs are drawn first: the family's input never moves them
    plain = draw_inputs(Evaluator.ranges_for(SweepSpec(rules=("C25",)), ds), 30, 3, ("elasticities",))
    pd.testing.assert_frame_equal(table[plain.columns].astype(float), plain.astype(float), check_dtype=False)
    with pytest.raises(ModelInputError, match="probe_rate"):
        draw_inputs(Evaluator.ranges_for(SweepSpec(rules=("C25",)), ds), 3, 0, ("probe_rate",))


def test_a_rule_of_an_unregistered_family_is_refused():
    with pytest.raises(ModelInputError, match="registered family"):
        register(Rule("test_orphan_rule", "C42", (), _probe_rule, family="no_such_family"))


# ----------------------------------------------------------------------------- the sweep's solver settings
def test_sweep_solves_run_without_refinement_and_a_retry_turns_it_back_on(ds, monkeypatch):
    from models.equilibrium import EquilibriumModel
    from models.errors import InaccurateSolutionError
    from models.solving import SPEED_SETTINGS
    from models.uncertainty.floor_family import SWEEP_SOLVER_OPTIONS
    bench = benchmark_from_dataset(ds, "ndpr")
    lean = bench.model(solver_options=SWEEP_SOLVER_OPTIONS)
    plain = bench.model()
    a, b = lean.solve(), plain.solve()
    assert np.allclose(a.regions["consumer_price"], b.regions["consumer_price"], atol=1e-6)
    seen, read = [], EquilibriumModel._read
    attempt = EquilibriumModel._attempt

    def record(self, options):
        seen.append(dict(options))
        return attempt(self, options)

    def uncertified_first(self, objective, solve_time):
        if len(seen) == 1:
            raise InaccurateSolutionError("inaccurate", "a stand-in certificate failure", "CLARABEL")
        return read(self, objective, solve_time)

    monkeypatch.setattr(EquilibriumModel, "_attempt", record)
    monkeypatch.setattr(EquilibriumModel, "_read", uncertified_first)
    lean.solve(subsidy=0.5)
    assert seen[0]["iterative_refinement_enable"] is False
    assert len(seen) >= 2 and not set(SPEED_SETTINGS) & set(seen[1])
