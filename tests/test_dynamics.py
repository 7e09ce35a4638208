"""The recursive-dynamic path and the levers: closed forms, replication, monotonicity."""

import numpy as np
import pytest

from models import benchmark_from_dataset
from models.data import load_dataset
from models.dynamics import (Block, DynamicPath, PathSettings, Restriction, capacity_path, investment_starts,
                             project_blocks, wright_cost)
from models.levers import LeverSettings, annuity, lever_blocks
from models.time_data import projects


@pytest.fixture(scope="module")
def bench():
    return benchmark_from_dataset(load_dataset(), "ndpr")


def test_wright_cost_falls_by_the_learning_rate_per_doubling():
    c = wright_cost(100.0, [40.0, 80.0, 160.0, 320.0], 40.0, 0.2)
    assert np.allclose(c, [100.0, 80.0, 64.0, 51.2])
    assert wright_cost(100.0, 1000.0, 40.0, 0.0) == pytest.approx(100.0)


def test_capacity_path_with_a_fixed_lead_time():
    starts = np.array([1.0, 2.0, 0.0, 3.0, 0.0, 0.0])
    assert capacity_path(starts, 2).tolist() == [0, 0, 1, 3, 3, 6]
    assert capacity_path(starts, 0).tolist() == [1, 3, 3, 6, 6, 6]
    assert capacity_path(starts, 9).tolist() == [0] * 6


def test_investment_starts_only_above_full_cost_and_saturates():
    assert investment_starts(100.0, 110.0, 0.02, 80.0, 0.5) == 0.0
    assert investment_starts(165.0, 110.0, 0.02, 80.0, 0.5) == pytest.approx(0.02 * 80 * 0.5 * 0.5)
    assert investment_starts(1000.0, 110.0, 0.02, 80.0, 1.0) == pytest.approx(0.02 * 80 * 2)


def test_no_shock_no_policy_path_stays_at_the_base_year(bench):
    base = bench.solve().regions
    res = DynamicPath(bench, PathSettings(end_year=2040)).run()
    active = [r for r in bench.market.regions if bench.production[r] > 0 or bench.consumption[r] > 0]
    assert np.abs(res.pivot("consumer_price")[active] - base.loc[active, "consumer_price"]).max().max() < 1e-4
    assert np.abs(res.pivot("demand")[active] - base.loc[active, "demand"]).max().max() < 1e-5
    assert res.totals["entrant_capacity"].abs().max() == 0.0
    assert res.totals["recycling"].abs().max() < 1e-12


def test_a_funded_block_arrives_after_its_lead_time(bench):
    block = Block("USA+test", "USA", {2029: 2.0}, 110.0, learns=False)
    res = DynamicPath(bench, PathSettings(end_year=2031), [block]).run()
    supply = res.pivot("supply")["USA"]
    base = float(bench.production["USA"])
    assert supply.loc[2028] == pytest.approx(base, abs=1e-5)
    assert supply.loc[2029] > base + 1.0


def test_entrants_capacity_follows_their_starts_after_the_lead_time(bench):
    s = PathSettings.from_data(end_year=2040, demand_growth=0.07, learning_rate=0.25)
    res = DynamicPath(bench, s).run()
    starts = res.totals["entrant_starts"].to_numpy()
    assert starts.sum() > 0
    expected = capacity_path(starts, s.lead_time)   # decided after year t's solve, producing in t + L
    assert np.allclose(res.totals["entrant_capacity"].to_numpy(), expected)


def test_restriction_raises_members_price_while_it_lasts(bench):
    rigid = PathSettings(end_year=2030, substitution_per_log_price=0.0)
    price = DynamicPath(bench, rigid, restriction=Restriction(2026, 2, 0.5)).run().totals["members_price"]
    assert price.loc[2026] > price.loc[2025] + 5 and price.loc[2028] == pytest.approx(price.loc[2025], abs=1e-3)
    # with substitution the spike leaves thrifting behind, and the price after the cut is lower
    after = DynamicPath(bench, PathSettings(end_year=2030), restriction=Restriction(2026, 2, 0.5)).run()
    assert after.totals["members_price"].loc[2028] < price.loc[2025] - 0.1
    assert after.pivot("substitution")["JPN"].loc[2028] > 0


def test_years_to_parity_fall_with_the_learning_rate(bench):
    years = []
    for lr in (0.10, 0.20, 0.30):
        s = PathSettings.from_data(learning_rate=lr, end_year=2040)
        years.append(DynamicPath(bench, s, project_blocks(projects())).run().parity_year())
    as_num = [y if np.isfinite(y) else 1e9 for y in years]
    assert as_num == sorted(as_num, reverse=True) and np.isfinite(years[-1])


def test_levers_cost_the_same_and_buy_what_they_should(bench):
    s = PathSettings.from_data()
    lever = LeverSettings(budget=1000.0)
    dom = lever_blocks("domestic", bench, s, lever, 0.08)
    assert sum(b.capacity_in(2040) for b in dom) == pytest.approx(1000.0 / lever.capex)
    demand = lever_blocks("demand", bench, s, lever, 0.08)
    assert sum(b.capacity_in(2040) for b in demand) > 0 and sum(b.capacity_in(2041) for b in demand) == pytest.approx(0)
    assert annuity(1000.0, 0.0, 10) == pytest.approx(100.0)
    assert annuity(1000.0, 0.08, 1) == pytest.approx(1080.0)
