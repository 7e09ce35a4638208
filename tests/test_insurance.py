"""Tests of the insurance model (models/insurance.py) on hand-solvable markets, and of the one
$12 billion convention (models/insurance_data.py). Each test names what it would catch.

The market: China (CHN) exports to the United States (USA) at transport cost ``T``; linear curves
through the benchmark. The USA's excess demand is ``D(p) − S(p) = α − β_U p``; China's
``β_C`` likewise (``β_r = 1/b_r + 1/d_r`` for ``P_d = a − bD``, ``P_s = c + dS``).

* A ban (cut 1) on CHN → USA leaves the USA in autarky: a release ``R`` gives
  ``p_1(R) = (α − R) / β_U``; a cut of half the benchmark flow ``X0`` leaves imports
  ``Q = X0 / 2`` and ``p_2(R) = (α − Q − R) / β_U`` while the quota binds. The world's gain from a
  release is ``∫_0^R p_ω(r) dr = (a_ω R − R²/2) / β_U`` with ``a_1 = α``, ``a_2 = α − Q``.
* Buying ``k`` a year at USA with trade open raises both prices by ``k / (β_U + β_C)``.

Units: kt, USD/kg, USD million.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models import InaccurateSolutionError, ModelInputError, calibrate_benchmark
from models.accounting import inventory_account
from models.data import load_dataset
from models.insurance import InsuranceModel
from models.insurance_data import (VAULT_DATA_MINERAL, Disruption, disruptions_from_dataset, scenario_weights,
                                   vault_budgets)

REGIONS = ("CHN", "USA")
P_USA, T = 10.0, 0.5
S0 = {"CHN": 10.0, "USA": 2.0}
D0 = {"CHN": 5.0, "USA": 7.0}
X0 = 5.0                       # benchmark CHN → USA flow (kt)
TOL = 1e-4


@pytest.fixture(scope="module")
def bench():
    t = pd.DataFrame([[0.0, T], [T, 0.0]], index=REGIONS, columns=REGIONS)
    return calibrate_benchmark("test", REGIONS, S0, D0, P_USA, "USA", t, -0.5, 0.5)


def slopes(bench, region):
    """(α, β) of ``region``'s excess demand ``α − β p``."""
    d, s = bench.market.demand_curve(region), bench.market.supply_curve(region)
    a, b, c, dd = d.intercept, -d.slope, s.intercept, s.slope
    return a / b + c / dd, 1 / b + 1 / dd


def model(bench, disruptions, **kw):
    args = dict(budget=1e6, location="USA", members=("USA",), carrying_cost=0.0, residual_value=0.0,
                purchase_years=1, holding_years=1, grid_points=10)
    args.update(kw)
    return InsuranceModel({"test": bench}, disruptions, **args)


def ban(p, years=1, name="ban"):
    return Disruption(name, p, "CHN", ("USA",), 1.0, source="assumption: test", duration_years=years)


def cut(p):
    return Disruption("cut", p, "CHN", ("USA",), 0.5, source="assumption: test")


# ------------------------------------------------------------------ the test
def test_value_equals_hand_release_benefit_two_scenarios(bench):
    """Breaks if the inventory is valued at anything but its expected release benefit (e.g. at a
    market price, or with the release benefit of the wrong scenario or weight)."""
    alpha, beta = slopes(bench, "USA")
    pi = np.array([0.5, 0.3])
    budget = 10.0                                  # binds: I = B / P0 = 1 kt
    res = model(bench, [ban(pi[0]), cut(pi[1])], budget=budget, carrying_cost=0.02).solve()
    inv = budget / P_USA
    assert res.inventory["test"] == pytest.approx(inv, rel=TOL)
    hand = sum(p * (a * inv - inv ** 2 / 2) / beta for p, a in zip(pi, (alpha, alpha - X0 / 2)))
    acct = res.inventory_account.loc["test"]
    assert acct["expected_release_benefit_musd"] == pytest.approx(hand, rel=TOL)
    assert acct["carrying_cost_musd"] == pytest.approx(0.02 * P_USA * inv, rel=TOL)
    assert acct["value_musd"] == pytest.approx(hand - 0.02 * P_USA * inv, rel=TOL)
    # both scenarios release the whole inventory (v = 0, prices positive)
    assert res.releases.loc["test"].to_numpy() == pytest.approx([inv, inv], rel=TOL)


def test_unsold_inventory_never_raises_welfare(bench):
    """Breaks if inventory that is (almost) never released is counted at a market price."""
    res = model(bench, [ban(0.01)], budget=20.0, carrying_cost=0.05).solve()
    grid = res.grid[res.grid["inventory_kt"] > 0]
    assert len(grid) > 0
    assert (grid["d_world"] < 0).all() and (grid["d_bloc"] < 0).all()
    assert res.inventory["test"] == pytest.approx(0.0, abs=1e-6)
    # an annual equilibrium's inventory: outlay counted, never valued
    acct = inventory_account(pd.Series({"USA": 3.0}), pd.Series({"USA": 30.0}))
    assert acct.loc["USA", "value_musd"] == 0.0


def test_bloc_optimum_against_world_optimum(bench):
    """Breaks if the bloc's optimum is read off the world's programme (the review's finding)."""
    res = model(bench, [ban(0.5), cut(0.3)], budget=40.0, carrying_cost=0.02, grid_points=16).solve()
    s = res.summary
    assert s.loc["bloc", "d_world"] <= s.loc["world", "d_world"] + 1e-6
    assert s.loc["bloc", "d_bloc"] >= s.loc["world", "d_bloc"] - 1e-6
    # the bloc (the USA alone) bears the purchase's rise in its own import price, and gains the
    # fall in its import price when the cut is partial: its optimum differs from the world's
    assert abs(res.bloc_inventory["test"] - res.inventory["test"]) > 1e-3
    assert res.bloc_value == pytest.approx(s.loc["bloc", "d_bloc"])
    assert res.grid_step["test"] == pytest.approx(2 * 40.0 / P_USA / 16 ** 2)   # refined grid
    # the members' prices in a disruption are read at their own optimum too: the release there is
    # the bloc's inventory (v = 0), and a larger inventory removes more of the ban's price rise
    assert res.releases_bloc.loc["test", "ban"] == pytest.approx(res.bloc_inventory["test"], rel=TOL)
    bigger = res.bloc_inventory["test"] > res.inventory["test"]
    w, b = res.bloc.loc[("test", "ban"), "spike_reduction"], res.bloc_at_bloc.loc[("test", "ban"), "spike_reduction"]
    assert (b > w) if bigger else (b < w)
    # with no bloc search the two tables are the same
    alone = model(bench, [ban(0.5), cut(0.3)], budget=40.0, carrying_cost=0.02).solve(bloc=False)
    pd.testing.assert_frame_equal(alone.bloc_at_bloc, alone.bloc)


def test_two_year_disruption_needs_more_inventory(bench):
    """Breaks if a multi-year cut is treated as one year (or the release is not spread)."""
    one = model(bench, [ban(0.6, 1)]).solve(bloc=False)
    two = model(bench, [ban(0.6, 2)]).solve(bloc=False)
    assert one.inventory["test"] > 0
    assert two.inventory["test"] > one.inventory["test"] * (1 + 1e-3)
    assert two.releases.loc["test", "ban"] == pytest.approx(two.inventory["test"] / 2, rel=TOL)


def test_purchase_raises_the_price_it_pays(bench):
    """Breaks if the purchase is bought at the benchmark price (the old simplification)."""
    _, bu = slopes(bench, "USA")
    _, bc = slopes(bench, "CHN")
    res = model(bench, [ban(0.5)], purchase_years=2).solve(bloc=False)
    inv = res.inventory["test"]
    assert inv > 0
    assert res.purchase_price["test"] == pytest.approx(P_USA + inv / 2 / (bu + bc), rel=TOL)
    assert res.purchase_price["test"] > P_USA
    assert res.budget_gap > 0
    # China's producers gain from the purchase, the USA's consumers lose from it
    assert res.welfare_change.loc["CHN", "total"] > 0


def test_interior_optimum_first_order_condition(bench):
    """Breaks if the first stage's price is not the marginal cost of inventory:
    ``p^0(I/N) = π p(I)`` with ``p^0(k) = P0 + k / (β_U + β_C)``."""
    alpha, bu = slopes(bench, "USA")
    _, bc = slopes(bench, "CHN")
    prob, n = 0.5, 3
    res = model(bench, [ban(prob)], purchase_years=n).solve(bloc=False)
    expected = (prob * alpha / bu - P_USA) / (1 / (n * (bu + bc)) + prob / bu)
    assert res.inventory["test"] == pytest.approx(expected, rel=TOL)
    assert abs(res.identity_residual) < 1e-4   # absolute, on sums of areas of order 100


def test_certificate_catches_a_bad_solution(bench):
    """Breaks if a solution that does not clear the market is accepted."""
    m = model(bench, [ban(0.5)])
    m.solve(bloc=False)
    block = m.fixed["test"][1][1]
    block.x.value = block.x.value * 1.5
    with pytest.raises(InaccurateSolutionError, match="balance"):
        m.read_block(block)


def test_horizon_weights():
    q, hbar = scenario_weights([0.1, 0.05], 1)
    assert q == pytest.approx([0.1, 0.05]) and hbar == pytest.approx(1.0)
    q, hbar = scenario_weights([0.1, 0.05], 15)
    assert q.sum() == pytest.approx(1 - 0.85 ** 15)
    assert hbar == pytest.approx(sum(0.85 ** t for t in range(15)))


# ------------------------------------------------------------------ data and the $12 billion
@pytest.fixture(scope="module")
def ds():
    return load_dataset()


def test_vault_budgets_sum_to_total_over_covered_minerals(ds):
    """Breaks if the $12bn is split over minerals the Vault does not name, or counts rare earths twice."""
    table = vault_budgets(ds, total=12_000.0, years=3)
    assert table["budget_musd"].sum() == pytest.approx(12_000.0)
    assert set(table.index) <= set(VAULT_DATA_MINERAL.values()) & set(ds.mineral_ids)
    assert "tungsten" not in table.index and "rare_earths" not in table.index
    assert (table["annual_musd"] * 3).to_numpy() == pytest.approx(table["budget_musd"].to_numpy())
    assert set(table.attrs["not_covered"]) == {"cobalt", "lithium", "nickel"}
    value = ds.price("gallium") * ds.quantity("gallium", "consumption").sum()
    assert table.loc["gallium", "consumption_value_musd"] == pytest.approx(value)


def test_disruptions_data(ds):
    scenarios = disruptions_from_dataset(ds)
    assert {d.duration_years for d in scenarios} >= {1, 2}
    assert sum(d.probability for d in scenarios) <= 1
    assert all(d.source.startswith("assumption: ") for d in scenarios)


def test_input_errors(bench, ds):
    with pytest.raises(ModelInputError, match="duration_years"):
        ban(0.1, years=0)
    with pytest.raises(ModelInputError, match="holding_years"):
        model(bench, [ban(0.1)], holding_years=0)
    with pytest.raises(ModelInputError, match="total"):
        vault_budgets(ds, total=-1)
    with pytest.raises(ModelInputError, match="years"):
        vault_budgets(ds, years=1.5)
    with pytest.raises(ModelInputError, match="budget"):
        model(bench, [ban(0.1)], budget={"cobalt": 5.0})
    with pytest.raises(ModelInputError, match="residual_value"):
        model(bench, [ban(0.1)], residual_value=1.5)


def test_calibrated_markets(ds):
    """The calibrated data with the default scenarios and the Vault split: every block certifies,
    the bloc's optimum does at least as well for the bloc and no better for the world (China's
    NdPr wedge could in principle reverse the second; it does not here), two-year bans spread the
    release, and the inventory stays within each mineral's budget."""
    from models import benchmark_from_dataset
    short = {m: benchmark_from_dataset(ds, m, horizon="short") for m in ds.mineral_ids}
    long = {m: benchmark_from_dataset(ds, m, horizon="long") for m in ds.mineral_ids}
    budgets = vault_budgets(ds)["budget_musd"]
    res = InsuranceModel(short, budget=budgets, purchase_benchmarks=long, grid_points=8).solve()
    s = res.summary
    assert s.loc["bloc", "d_bloc"] >= s.loc["world", "d_bloc"] - 1e-6
    assert s.loc["bloc", "d_world"] <= s.loc["world", "d_world"] + 1e-6
    cost = res.optima["cost_at_benchmark_musd"].unstack("mineral")
    assert (cost.le(budgets.reindex(cost.columns).fillna(0.0) * (1 + 1e-6) + 1e-6)).all().all()
    held = res.inventory[res.inventory > 0].index
    assert len(held) > 0
    assert res.releases.loc[held, "bloc_ban_2y"].to_numpy() == pytest.approx(
        res.releases.loc[held, "bloc_ban"].to_numpy() / 2, rel=1e-3)
    assert (res.purchase_price[held] > res.benchmark_price[held]).all()


def test_sweeps_re_solve_the_built_model(bench):
    """Breaks if a sweep leaves the model's budget or probabilities changed, or ignores a budget
    given per mineral."""
    m = model(bench, [ban(0.6)], budget={"test": 5.0})
    first = m.solve(bloc=False)
    assert first.inventory["test"] == pytest.approx(0.5, rel=TOL)          # B / P0
    table = m.sweep("budget", [1.0, 2.0])                                    # multiples of the budgets
    assert table["I[test]"].to_numpy() == pytest.approx([0.5, 1.0], rel=TOL)
    table = m.sweep("probability", [0.6, 0.9], scenario="ban")
    assert table["I[test]"].is_monotonic_increasing
    again = m.solve(bloc=False)
    assert again.inventory["test"] == pytest.approx(first.inventory["test"], rel=TOL)
    assert again.probabilities["ban"] == pytest.approx(0.6)
