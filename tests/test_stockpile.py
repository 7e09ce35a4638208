"""Tests of models/stockpile.py: closed-form cases on a two-region market, accounting identities,
the years-of-defence arithmetic, and input errors.

Units: kt, USD/kg, USD million. The two-region market: China (CHN) exports to the United States
(USA) at a transport cost ``t``; linear curves through the benchmark. A ban on CHN → USA leaves
the USA in autarky, where a release ``R`` from the stockpile solves ``D(p) = S(p) + R``:
``p(R) = (α − R) / β`` with ``α = a/b + c/d`` and ``β = 1/b + 1/d`` for ``P_d = a − bD``,
``P_s = c + dS``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models import ModelInputError, calibrate_benchmark
from models.data import load_dataset
from models.stockpile import (BLOC_CORE, DEFAULT_DISRUPTIONS, Disruption, InsuranceModel, cost_shares,
                              defence_years, eligible_origins, floor_defence, purchasing_power)

REGIONS = ("CHN", "USA")
P_USA, T = 10.0, 0.5          # USA reference price and CHN → USA transport cost (USD/kg)
S0 = {"CHN": 10.0, "USA": 2.0}
D0 = {"CHN": 5.0, "USA": 7.0}
ED, ES = -0.5, 0.5            # elasticities at the benchmark
TOL = 1e-4


@pytest.fixture(scope="module")
def bench():
    t = pd.DataFrame([[0.0, T], [T, 0.0]], index=REGIONS, columns=REGIONS)
    return calibrate_benchmark("test", REGIONS, S0, D0, P_USA, "USA", t, ED, ES)


def usa_autarky(bench):
    """(α, β) of the USA's excess demand ``D(p) − S(p) = α − β p``."""
    d, s = bench.market.demand_curve("USA"), bench.market.supply_curve("USA")
    a, b = d.intercept, -d.slope
    c, dd = s.intercept, s.slope
    return a / b + c / dd, 1 / b + 1 / dd


def ban(prob: float) -> Disruption:
    return Disruption("ban", prob, "CHN", ("USA",), 1.0)


def make(bench, prob, budget=1e6, carrying=0.0, residual=0.0):
    return InsuranceModel({"test": bench}, [ban(prob)], budget=budget, location="USA", members=("USA",),
                          carrying_cost=carrying, residual_value=residual)


# ------------------------------------------------------------------ closed forms
def test_benchmark_prices(bench):
    assert bench.prices["USA"] == pytest.approx(P_USA)
    assert bench.prices["CHN"] == pytest.approx(P_USA - T)


def test_interior_inventory_meets_first_order_condition(bench):
    """v = 0, c = 0: P0 = π · p(I*) with p(I) = (α − I)/β, so I* = α − β P0 / π."""
    alpha, beta = usa_autarky(bench)
    prob = 0.5
    res = make(bench, prob).solve()
    expected = alpha - beta * P_USA / prob
    assert expected > 0
    assert res.inventory["test"] == pytest.approx(expected, rel=TOL)
    # the same condition read from the model's own prices
    p_with = res.release_value.loc["test", "ban"]
    assert prob * p_with == pytest.approx(P_USA, rel=TOL)
    assert res.releases.loc["test", "ban"] == pytest.approx(expected, rel=TOL)
    assert res.budget_used < 1


def test_zero_inventory_when_expected_price_below_cost(bench):
    """π · p(0) < P0: no inventory (the first kt does not pay)."""
    alpha, beta = usa_autarky(bench)
    p_ban = alpha / beta
    prob = 0.9 * P_USA / p_ban
    res = make(bench, prob).solve()
    assert res.inventory["test"] == pytest.approx(0.0, abs=1e-6)
    assert res.value == pytest.approx(0.0, abs=1e-5)
    assert res.release_value_without.loc["test", "ban"] == pytest.approx(p_ban, rel=TOL)
    assert res.break_even_probability("ban")["test"] == pytest.approx(P_USA / p_ban, rel=TOL)


def test_budget_binding(bench):
    """A budget below P0 · I*: the inventory is B / P0 and π p(I) > P0 (rationed)."""
    alpha, beta = usa_autarky(bench)
    prob = 0.5
    interior = alpha - beta * P_USA / prob
    budget = 0.5 * interior * P_USA
    res = make(bench, prob, budget=budget).solve()
    assert res.inventory["test"] == pytest.approx(budget / P_USA, rel=TOL)
    assert res.budget_used == pytest.approx(1.0, rel=TOL)
    assert prob * res.release_value.loc["test", "ban"] > P_USA * (1 + 1e-3)


def test_residual_value_and_carrying_cost(bench):
    """v = P0, c > 0: (1 + c) P0 = π p(I) + (1 − π) P0, i.e. p(I) = P0 (1 + c / π)."""
    alpha, beta = usa_autarky(bench)
    prob, c = 0.2, 0.05
    res = make(bench, prob, carrying=c, residual=1.0).solve()
    target = P_USA * (1 + c / prob)
    assert res.inventory["test"] == pytest.approx(alpha - beta * target, rel=TOL)
    assert res.release_value.loc["test", "ban"] == pytest.approx(target, rel=TOL)


def test_welfare_accounting_identity_and_reparametrised_solve(bench):
    model = make(bench, 0.5, carrying=0.05, residual=1.0)
    first = model.solve()
    assert abs(first.identity_residual) < 1e-4 * max(1.0, abs(first.value))
    assert first.value >= -1e-6
    # the same built problem re-solved with a new probability and budget
    again = model.solve(budget=0.0, probabilities={"ban": 0.3})
    assert again.inventory["test"] == pytest.approx(0.0, abs=1e-6)
    assert again.probabilities["ban"] == pytest.approx(0.3)
    sweep = model.sweep("probability", [0.1, 0.5], scenario="ban")
    assert sweep["I[test]"].is_monotonic_increasing
    # the USA's consumers gain in expectation, China's producers are unaffected by a release
    # they cannot reach
    assert first.welfare_change.loc["USA", "total"] > 0
    assert first.welfare_change.loc["CHN", "total"] == pytest.approx(0.0, abs=1e-5)


# ------------------------------------------------------------------ floor defence
def test_years_of_defence_match_outlay(bench):
    levels = [11.0, 12.0]
    table = floor_defence(bench, levels, budget=1000.0, location="USA", rules=("all",), members=("USA",))
    for _, row in table.iterrows():
        assert row["outlay_musd"] == pytest.approx(row["level"] * row["purchases_kt"], rel=1e-9)
        assert row["years_defended"] * row["outlay_musd"] == pytest.approx(1000.0, rel=1e-9)
        assert row["years_defended"] == pytest.approx(defence_years(1000.0, row["level"], row["purchases_kt"]))
        # closed form: world excess supply at the floor (USA at f, CHN at f − t)
        m, f = bench.market, row["level"]
        k = (m.supply_curve("USA").quantity_at(f) - m.demand_curve("USA").quantity_at(f)
             + m.supply_curve("CHN").quantity_at(f - T) - m.demand_curve("CHN").quantity_at(f - T))
        assert row["purchases_kt"] == pytest.approx(k, rel=1e-4)
    assert defence_years(100.0, 10.0, 0.0) == np.inf


def test_restricted_origins_leave_excluded_supplier_out(bench):
    table = floor_defence(bench, [12.0], budget=1000.0, location="USA", rules=("all", "ex_china"),
                          members=("USA",)).set_index("rule")
    assert table.loc["ex_china", "purchases_from_excluded_kt"] == pytest.approx(0.0, abs=1e-6)
    assert table.loc["all", "purchases_from_excluded_kt"] > 0
    # buying from anyone props up China's price; buying ex-China does not raise it as much
    assert table.loc["all", "chn_supply_price"] > table.loc["ex_china", "chn_supply_price"]


def test_eligible_origins():
    regions = ("CHN", "USA", "EU", "JPN")
    assert eligible_origins("all", regions) == "ALL"
    assert eligible_origins("bloc", regions) == BLOC_CORE
    assert eligible_origins("ex_china", regions) == ("USA", "EU", "JPN")
    with pytest.raises(ModelInputError, match="rule"):
        eligible_origins("friends", regions)


# ------------------------------------------------------------------ data-based helpers
@pytest.fixture(scope="module")
def ds():
    return load_dataset()


def test_purchasing_power_arithmetic(ds):
    table = purchasing_power(ds, budget=12_000.0, days=60)
    row = table.loc["ndpr"]
    assert row["tonnes_kt"] == pytest.approx(12_000.0 / ds.price("ndpr"))
    bloc = ds.quantity("ndpr", "consumption").loc[list(BLOC_CORE)].sum()
    assert row["months_of_bloc_consumption"] == pytest.approx(12 * row["tonnes_kt"] / bloc)
    assert row["cost_of_days_musd"] == pytest.approx(ds.price("ndpr") * bloc * 60 / 365)


def test_cost_shares_sum_to_bill(ds):
    table = cost_shares(ds, BLOC_CORE, bill=12_000.0)
    assert table["gdp_bill"].sum() == pytest.approx(12_000.0)
    assert table["consumption_bill"].sum() == pytest.approx(12_000.0)
    assert (table[["gdp_share", "consumption_share"]] >= 0).all().all()


def test_default_disruptions_are_valid():
    assert sum(d.probability for d in DEFAULT_DISRUPTIONS) <= 1
    assert all(d.source.startswith("assumption") for d in DEFAULT_DISRUPTIONS)


# ------------------------------------------------------------------ input errors
def test_input_errors(bench, ds):
    with pytest.raises(ModelInputError, match="budget"):
        make(bench, 0.5, budget=-1.0)
    with pytest.raises(ModelInputError, match="probability"):
        ban(1.5)
    with pytest.raises(ModelInputError, match="probability"):
        ban(-0.1)
    with pytest.raises(ModelInputError, match="sum of probabilities"):
        InsuranceModel({"test": bench}, [ban(0.6), Disruption("other", 0.6, "CHN", ("USA",))],
                       location="USA", members=("USA",))
    model = make(bench, 0.5)
    with pytest.raises(ModelInputError, match="probabilities"):
        model.solve(probabilities={"ban": 2.0})
    with pytest.raises(ModelInputError, match="probabilities"):
        model.solve(probabilities={"nope": 0.1})
    with pytest.raises(ModelInputError, match="budget"):
        model.solve(budget=-5.0)
    with pytest.raises(ModelInputError, match="location"):
        InsuranceModel({"test": bench}, [ban(0.5)], location="XXX", members=("USA",))
    with pytest.raises(ModelInputError, match="origin"):
        InsuranceModel({"test": bench}, [Disruption("x", 0.5, "MARS", ("USA",))], location="USA",
                       members=("USA",))
    with pytest.raises(ModelInputError, match="mineral"):
        purchasing_power(ds, minerals=["cobalt"])
    with pytest.raises(ModelInputError, match="members"):
        cost_shares(ds, ("USA", "ATLANTIS"))
    with pytest.raises(ModelInputError, match="budget"):
        purchasing_power(ds, budget=-1)
    with pytest.raises(ModelInputError, match="levels"):
        floor_defence(bench, [-1.0], location="USA", members=("USA",))
    with pytest.raises(ModelInputError, match="cut_share"):
        Disruption("x", 0.1, cut_share=1.2)


def test_every_scenario_equilibrium_of_the_insurance_model_is_certified(bench, monkeypatch):
    """Each disruption scenario's second stage is a spatial equilibrium, checked by the certificate."""
    from models import certificate
    calls = []
    real = certificate.evaluate
    monkeypatch.setattr(certificate, "evaluate", lambda *a, **k: calls.append(a[0][0].name) or real(*a, **k))
    make(bench, 0.5).solve()
    assert calls and all(name.startswith("test/") for name in calls)
