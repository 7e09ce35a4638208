"""The rule families of other chapters than the price floors (models/uncertainty/rules_*.py).

Per rule: at central values (``vary=()``) it returns the register's verdict (data/claims.csv), and
a hand-made context flips it, through the same rule code.
"""
from __future__ import annotations

from dataclasses import replace

import pytest

from models.data import load_dataset
from models.uncertainty import Evaluator, SweepSpec, draw_inputs, get_rules, run_serial
from models.uncertainty.evaluate import register_verdicts
from models.uncertainty.rules_strategic import StrategicContext


@pytest.fixture(scope="module")
def ds():
    return load_dataset()


@pytest.fixture(scope="module")
def register(ds):
    return register_verdicts(ds)


# ----------------------------------------------------------------------------- strategic (flooding)
@pytest.fixture(scope="module")
def strategic(ds):
    """The strategic family's evaluator and its context at central values."""
    ev = Evaluator(SweepSpec(rules=("C41", "C17", "C27"), vary=()), ds)
    row = draw_inputs(ev.ranges, 1, 0, ())
    draw = ev._draw(row.to_dict("records")[0])
    return ev, ev.states["strategic"], draw


def test_strategic_rules_at_central_values_are_the_registers(ds, register):
    table = run_serial(SweepSpec(rules=("C41", "C17", "C27"), vary=(), draws=1), ds)
    for cid in ("C41", "C17", "C27"):
        assert table.loc[0, f"{cid}_verdict"] == register[cid], cid
    assert table.loc[0, "error"] == ""
    assert table.loc[0, "C17_members_loss_pct"] == pytest.approx(16.8, abs=0.05)


def test_c41_flips_when_every_project_costs_more_than_china(strategic):
    _, state, draw = strategic
    ctx = state.context(draw)
    assert get_rules("C41")[0](ctx).verdict == "supported with conditions"
    ctx.entrants = tuple(replace(e, opex=e.opex + 30.0) for e in ctx.entrants)
    assert get_rules("C41")[0](ctx).verdict == "supported"


def test_c17_flips_when_the_leverage_threshold_is_above_the_members_loss(strategic):
    _, state, draw = strategic
    ctx = state.context(draw)
    out = get_rules("C17")[0](ctx)
    assert out.verdict == "supported with conditions"
    ctx.setting = replace(ctx.setting, leverage_threshold_pct=out.numbers["members_loss_pct"] + 1.0)
    assert get_rules("C17")[0](ctx).verdict == "not supported"


def _row(limit: bool, gain: float) -> dict:
    return {"e if no entry": 38.7, "e under threat": 10.0, "wedge under threat": 14.0, "built under threat": "none",
            "limit prices": limit, "floods": False, "gain vs accommodating (USD million)": gain}


def test_c27_flips_when_china_limit_prices_and_the_floor_stops_it(strategic):
    _, state, draw = strategic
    rule = get_rules("C27")[0]
    ctx = StrategicContext(state)
    ctx._cache[("flood", "none")] = _row(True, 50.0)
    ctx._cache[("flood", "pref")] = _row(False, 0.0)
    assert rule(ctx).verdict == "supported with conditions"
    ctx._cache[("flood", "pref")] = _row(True, 50.0)          # the floor does not stop it
    assert rule(ctx).verdict == "not supported"
    ctx = StrategicContext(state)
    ctx._cache[("flood", "none")] = _row(True, -1.0)          # limit pricing that does not pay
    assert rule(ctx).verdict == "not supported" and ("flood", "pref") not in ctx._cache


# ----------------------------------------------------------------------------- time (independence)
TIME_RULES = ("C21", "C34", "C35", "C42", "C43")


@pytest.fixture(scope="module")
def time_family(ds):
    ev = Evaluator(SweepSpec(rules=TIME_RULES, vary=()), ds)
    draw = ev._draw(draw_inputs(ev.ranges, 1, 0, ()).to_dict("records")[0])
    return ev.states["time"], draw


def test_time_rules_at_central_values_are_the_registers(ds, register):
    table = run_serial(SweepSpec(rules=TIME_RULES, vary=(), draws=1), ds)
    for cid in TIME_RULES:
        assert table.loc[0, f"{cid}_verdict"] == register[cid], cid
    assert table.loc[0, "C42_parity_year"] == 2059 and table.loc[0, "C35_implied_lr"] == pytest.approx(0.122, abs=5e-4)


def test_time_family_draws_its_inputs_from_dynamics_parameters(ds):
    ranges = Evaluator.ranges_for(SweepSpec(rules=("C42",)), ds)
    lr = dict(ranges.extra)["learning_rate"]
    assert (lr.low, lr.mode, lr.high) == (0.05, 0.15, 0.25) and "Nagy" in lr.source
    table = draw_inputs(ranges, 50, 1, ("learning_rate", "lead_time_separation"))
    assert table["learning_rate"].between(0.05, 0.25).all() and table["learning_rate"].nunique() == 50
    assert (table["demand_growth"] == 0.05).all()


class _Path:
    def __init__(self, us_supply):
        import pandas as pd
        self.regions = pd.DataFrame({"region": ["USA", "USA"], "year": [2025, 2026], "supply": us_supply,
                                     "demand": [3.0, 3.0], "from_china": [1.0, 1.0]})


def test_time_rules_flip_on_hand_made_paths(time_family):
    from models.uncertainty.rules_time import TimeContext
    state, draw = time_family
    ctx = TimeContext(state, draw)
    rules = {r.name: r for r in get_rules(TIME_RULES)}
    ctx.years = lambda: (2028.0, float("nan"))          # full independence within the term
    assert rules["C21"](ctx).verdict == "not supported"
    ctx.years = lambda: (float("nan"), 2030.0)          # cost parity in 5 years
    assert rules["C42"](ctx).verdict == "not supported"
    ctx.years = lambda: (float("nan"), 2037.0)
    assert rules["C42"](ctx).verdict == "supported with conditions"
    ctx.years = lambda: (float("nan"), 2027.0)
    ctx.path = lambda: type("P", (), {"totals": __import__("pandas").DataFrame(
        {"not_from_china_share": [0.5]}, index=[2028])})()
    assert rules["C43"](ctx).verdict == "not supported"
    ctx.path = lambda: _Path([1.0, 1.6])                # US own output +60% in a year
    assert rules["C34"](ctx).verdict == "supported"
    assert rules["C35"](ctx).verdict == "supported with conditions"
    few = TimeContext(state, replace(draw, row={**draw.row, "china_cumulative_output": 100.0}))
    out = rules["C35"](few)
    assert out.verdict == "not supported" and out.numbers["implied_lr"] > 0.25


# ----------------------------------------------------------------------------- investment
@pytest.fixture(scope="module")
def investment(ds):
    ev = Evaluator(SweepSpec(rules=("C24", "C39"), vary=()), ds)
    draw = ev._draw(draw_inputs(ev.ranges, 1, 0, ()).to_dict("records")[0])
    return ev.states["investment"], draw


def test_investment_rules_at_central_values_are_the_registers(ds, register):
    table = run_serial(SweepSpec(rules=("C24", "C39"), vary=(), draws=1), ds)
    for cid in ("C24", "C39"):
        assert table.loc[0, f"{cid}_verdict"] == register[cid], cid
    assert table.loc[0, "C39_deep_sea_breakeven"] == pytest.approx(252.5, abs=0.1)


def test_investment_rules_flip_on_hand_made_draws(investment):
    from models.uncertainty.rules_time import InvestmentContext
    state, draw = investment
    rules = {r.name: r for r in get_rules(("C24", "C39"))}
    # far below data/'s ranges: deep sea's operating cost alone (share x 250 USD/kg) is above the price quantile
    cheap = InvestmentContext(state, replace(draw, row={**draw.row, "capex_deep_sea": 50.0, "operating_cost_share": 0.1}))
    out = rules["C39"](cheap)
    assert out.verdict == "not supported" and out.numbers["deep_sea_breakeven"] < out.numbers["price_quantile"]
    ctx = InvestmentContext(state, draw)
    pb = {"today's prices": [0.2, 0.0], "calmer prices": [0.35, 0.15], "CfD": [0.9, 0.8]}
    ctx.build_probabilities = lambda: pb                 # every rise >= 10 pp
    assert rules["C24"](ctx).verdict == "supported"
    pb["calmer prices"], pb["CfD"] = [0.2, 0.0], [0.25, 0.05]
    assert rules["C24"](ctx).verdict == "not supported"
