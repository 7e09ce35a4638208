"""The strategic supplier (models/strategic.py): best responses against closed forms and brute force.

The leader–fringe case: leader ``CHN`` (supply only, ``P = 10 + 0.5 X``) exports to ``ROW`` (demand
``P = 150 − D``, fringe supply ``P = 40 + 2 S``), freight 4 USD/kg. In the notation of
:func:`models.strategic.leader_fringe_closed_form`: ``a = 150, b = 1, c = −20, d = 0.5``, so the
optimal export tax is ``τ* = X*/B`` with ``X* = (A − B(α + t)) / (2 + Bβ)``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from model_fixtures import linear_market, symmetric_cost
from models import ModelInputError, Scenario
from models.calibration import Benchmark
from models.errors import DataValidationError
from models.strategic import (Entrant, StrategicMarket, brute_force_payoffs, flooding_analysis, floor_game,
                              leader_fringe_closed_form, load_entrants)
from models.synthetic import synthetic_benchmark

T = 4.0


def as_benchmark(market, wedge: float = 0.0) -> Benchmark:
    regions = list(market.regions)
    zero = pd.Series(0.0, index=regions)
    return Benchmark(market, Scenario(), pd.Series(80.0, index=regions), zero, zero, pd.DataFrame(),
                     pd.Series({r: (wedge if r == "CHN" else 0.0) for r in regions}))


@pytest.fixture(scope="module")
def leader_fringe():
    market = linear_market({"ROW": (150.0, 1.0)}, {"CHN": (10.0, 0.5), "ROW": (40.0, 2.0)},
                           symmetric_cost(["CHN", "ROW"], {("CHN", "ROW"): T}))
    return as_benchmark(market)


def test_leader_fringe_closed_form(leader_fringe):
    cf = leader_fringe_closed_form(a=150.0, b=1.0, c=-20.0, d=0.5, alpha=10.0, beta=0.5, t=T)
    sm = StrategicMarket(leader_fringe, headroom=100.0)
    grid = np.linspace(-20.0, 80.0, 201)
    br = sm.best_response(grid, entry="none")
    assert abs(br.best - cf["tax"]) <= br.step / 2 + 1e-9          # the grid's honest error
    assert br.refined == pytest.approx(cf["tax"], abs=1e-2)
    assert br.grid_error >= 0 and not br.at_edge
    res = sm.solve(cf["tax"])
    assert float(res.regions.loc["CHN", "supply"]) == pytest.approx(cf["exports"], rel=1e-5)
    assert float(res.regions.loc["ROW", "consumer_price"]) == pytest.approx(cf["price"], rel=1e-5)
    # the leader's welfare at τ* beats free trade (τ = 0) by the monopoly rent's increase
    assert br.refined_payoff > sm.leader_welfare(sm.solve(0.0))
    free = sm.solve(0.0)
    assert float(free.regions.loc["CHN", "supply"]) == pytest.approx(cf["free_trade_exports"], rel=1e-5)


def test_leader_welfare_counts_the_tax(leader_fringe):
    sm = StrategicMarket(leader_fringe, headroom=100.0)
    res = sm.solve(12.0)
    x = float(res.regions.loc["CHN", "supply"])
    assert float(res.welfare.loc["CHN", "export_tax_revenue"]) == pytest.approx(12.0 * x, rel=1e-6)
    sub = sm.solve(-5.0)          # an export subsidy is a cost to the leader's government
    assert float(sub.welfare.loc["CHN", "government"]) == pytest.approx(-5.0 * float(sub.regions.loc["CHN", "supply"]),
                                                                        rel=1e-6)


@pytest.mark.parametrize("seed", [1, 7])
def test_best_response_matches_brute_force(seed):
    bench = synthetic_benchmark(4, seed)
    leader = bench.market.regions[0]
    grid = np.linspace(-15.0, 45.0, 13)
    sm = StrategicMarket(bench, leader=leader, headroom=60.0)
    br = sm.best_response(grid, entry="none", refine=False)
    brute = brute_force_payoffs(bench, grid, leader=leader)
    assert br.payoff == pytest.approx(brute, rel=1e-6, abs=1e-4)
    assert br.best == grid[int(np.argmax(brute))]


def test_instrument_beyond_headroom_is_refused(leader_fringe):
    sm = StrategicMarket(leader_fringe, headroom=10.0)
    with pytest.raises(ModelInputError):
        sm.solve(11.0)
    with pytest.raises(ModelInputError):
        sm.best_response([1.0], entry="none")


@pytest.fixture(scope="module")
def with_entrant(leader_fringe):
    """The leader–fringe market with one project in ROW: 20 kt at 30 USD/kg operating cost."""
    return Entrant("proj", "ROW", capacity=20.0, capex=1500.0, opex=30.0)


def test_entry_decision(leader_fringe, with_entrant):
    sm = StrategicMarket(leader_fringe, entrants=(with_entrant,), headroom=100.0)
    annual = with_entrant.annual_capital(sm.rate, sm.life)
    for e in (-20.0, 0.0, 20.0, 40.0):
        out = sm.outcome(e, "anticipate")
        trial = sm.solve(e, built=("proj",))
        profit = sm.entrant_profit(trial, with_entrant)
        assert (out.built == ("proj",)) == (profit >= 0)
        # profit = (price − opex − S/2K·…) output, computed two ways
        if out.built:
            p = sm.entrant_price(trial, with_entrant)
            q = float(trial.regions.loc["E:proj", "supply"])
            assert q == pytest.approx(20.0, rel=1e-6)        # runs at capacity
            ps = p * q - (30.0 * q + 0.5 * q * q / 20.0)
            assert profit == pytest.approx(ps - annual, rel=1e-6, abs=1e-6)
    # a guarantee above the entrant's full cost makes it build whatever the leader does,
    # but only where the host is a member (no bloc here: no guarantee)
    assert sm.outcome(-40.0, "anticipate", guarantee=200.0).built == sm.outcome(-40.0, "anticipate").built


def test_a_solve_does_not_depend_on_the_solves_before_it():
    """One built programme, its solver pinned at the build: the same instruments in the reverse
    order give the same welfare bit for bit; and they agree with cvxpy's fresh solves."""
    bench = synthetic_benchmark(6, seed=2)
    project = Entrant("proj", bench.market.regions[1], capacity=5.0, capex=300.0, opex=1.0)
    grid = [-30.0, -5.0, 0.0, 12.5, 40.0]
    leader = bench.market.regions[0]
    forward = StrategicMarket(bench, leader=leader, entrants=(project,), headroom=60.0)
    backward = StrategicMarket(bench, leader=leader, entrants=(project,), headroom=60.0)
    a = [forward.outcome(e).leader_welfare for e in grid]
    b = [backward.outcome(e).leader_welfare for e in grid[::-1]][::-1]
    assert a == b
    fresh = brute_force_payoffs(bench, np.array(grid), leader=leader)
    plain = [StrategicMarket(bench, leader=leader, headroom=60.0).outcome(e, "none").leader_welfare for e in grid]
    assert np.allclose(plain, fresh, rtol=1e-6, atol=1e-6)


def test_limit_pricing_when_entry_is_marginal(leader_fringe):
    """A project just profitable at the leader's no-entry optimum is kept out by a lower tax."""
    sm0 = StrategicMarket(leader_fringe, headroom=100.0)
    tax = sm0.best_response(np.linspace(0, 80, 81), entry="none").refined
    price = float(sm0.solve(tax).regions.loc["ROW", "consumer_price"])
    crf = Entrant("unit", "ROW", capacity=1.0, capex=1.0, opex=0.0).annual_capital(0.08, 20.0)
    # capital that a price 5 USD/kg below the no-entry price would just cover (2 kt at 10 USD/kg)
    proj = Entrant("proj", "ROW", 2.0, capex=(price - 5.0 - 10.0 - 0.5) * 2.0 / crf, opex=10.0)
    sm = StrategicMarket(leader_fringe, entrants=(proj,), headroom=100.0)
    fa = flooding_analysis(sm, np.linspace(0, 80, 81))
    assert fa["built_at_no_entry_optimum"] == ("proj",)
    assert fa["deters"] and fa["limit_prices"] and not fa["floods"]
    assert fa["gain_vs_accommodate"] > 0 and fa["cost_vs_no_entry"] > 0
    assert fa["threat_instrument"] < fa["no_entry_instrument"]


def test_floor_game_table(leader_fringe):
    sm = StrategicMarket(leader_fringe, headroom=100.0)
    tab = floor_game({"none": sm}, [50.0], np.linspace(0, 60, 31))
    assert len(tab) == 1 and bool(tab["bloc_choice"].iloc[0])
    assert tab["leader_instrument"].iloc[0] == pytest.approx(leader_fringe_closed_form(
        150.0, 1.0, -20.0, 0.5, 10.0, 0.5, T)["tax"], abs=1e-2)


def test_load_entrants_reads_the_data():
    ents = load_entrants("ndpr")
    assert {e.project for e in ents} >= {"iluka_eneabba"}
    for e in ents:
        assert e.capacity > 0 and e.capex > 0 and e.full_cost(0.08, 20) > e.opex


@pytest.mark.parametrize("row, column", [
    ("ndpr,p,AUS,capex_musd,-1,assumption: x", "value"),
    ("ndpr,p,AUS,capacity,1,assumption: x", "field"),
    ("ndpr,p,AUS,capex_musd,1,", "source"),
    ("ndpr,p,AUS,capex_musd,abc,assumption: x", "value"),
])
def test_load_entrants_errors_name_file_row_column(tmp_path, row, column):
    path = tmp_path / "entrants.csv"
    path.write_text("mineral,project,region,field,value,source\n" + row + "\n", encoding="utf-8")
    with pytest.raises(DataValidationError) as info:
        load_entrants("ndpr", path)
    assert (info.value.file, info.value.row, info.value.column) == ("entrants", 2, column)


def test_a_recalibrated_benchmark_is_a_resolve_equal_to_a_fresh_build():
    from models import benchmark_from_dataset
    from models.data import load_dataset
    ds = load_dataset()
    bench = benchmark_from_dataset(ds, "ndpr")
    ents = load_entrants("ndpr", regions=ds.region_ids)
    wedge = float(bench.export_wedge["CHN"])
    assert wedge > 0
    drawn = bench.recalibrated(-0.7, 1.3, export_wedge={"CHN": 0.4 * wedge})
    sm = StrategicMarket(bench, entrants=ents, headroom=150.0)
    sm.set_benchmark(drawn)
    fresh = StrategicMarket(drawn, entrants=ents, headroom=150.0)
    assert sm.base_wedge == pytest.approx(0.4 * wedge)
    for e, built in ((0.0, ()), (25.0, ("lynas_expansion",)), (-30.0, ())):
        a, b = sm.solve(e, built), fresh.solve(e, built)
        assert sm.leader_welfare(a) == pytest.approx(fresh.leader_welfare(b), rel=1e-5, abs=1e-3)
        np.testing.assert_allclose(a.regions["consumer_price"], b.regions["consumer_price"], rtol=1e-5, atol=1e-4)
    with pytest.raises(ModelInputError, match="export_wedge"):
        fresh.set_benchmark(bench)          # a wedge above the built one cannot be a discount
