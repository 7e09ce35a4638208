"""The ``stockpile`` family (models/uncertainty/rules_stockpile.py): C14 on the insurance model per draw.

At central values the rule gives the stockpile chapter's verdict and numbers; probabilities near
zero make the stockpile not worth holding and the verdict falls; every drawn input has a unit; a
draw's two horizons sit at the same quantile of their ranges; a seeded sweep repeats exactly.
"""
from __future__ import annotations

import numpy as np
import pytest

from models import benchmark_from_dataset
from models.data import load_dataset
from models.errors import ModelInputError
from models.uncertainty import Evaluator, Range, SweepSpec, coverage, draw_inputs, draw_ranges_table, run_serial
from models.uncertainty.evaluate import register_verdicts

SPEC = SweepSpec(rules=("C14",), vary=(), by_region=False)
OWN = ("p_bloc_ban", "p_bloc_ban_2y", "p_world_cut", "ed_short_gallium", "es_short_gallium", "ed_short_graphite",
       "es_short_graphite")


@pytest.fixture(scope="module")
def ds():
    return load_dataset()


@pytest.fixture(scope="module")
def evaluator(ds):
    return Evaluator(SPEC, ds)


@pytest.fixture(scope="module")
def central_row(evaluator):
    return draw_inputs(evaluator.ranges, 1, 0, ()).to_dict("records")[0]


def test_c14_at_central_values_is_the_chapters(ds, evaluator, central_row):
    out = evaluator.evaluate(central_row)
    assert out["error"] == ""
    assert out["C14_verdict"] == register_verdicts(ds)["C14"] == "supported"
    # the stockpile chapter at central values (book/stockpile.ipynb: 7 of 7 pairs, 1,106 M USD)
    assert (out["C14_pairs_stabilised"], out["C14_pairs_that_bite"]) == (7.0, 7.0)
    assert out["C14_bloc_inventory_cost_musd"] == pytest.approx(1106.3, abs=0.5)
    assert out["C14_bloc_inventory_ndpr_kt"] == pytest.approx(12.04, abs=0.01)
    assert out["C14_bloc_inventory_gallium_kt"] == pytest.approx(0.101, abs=0.001)
    assert out["C14_weakest_share_removed"] >= 0.5


def test_probabilities_near_zero_leave_nothing_worth_holding(evaluator, central_row):
    """Every probability a thousandth of the data's (below about 1e-5 a year the disruption blocks,
    weighted by them, are too small for the solver to certify, and the draw is counted as failed)."""
    row = dict(central_row) | {name: 1e-3 * central_row[name] for name in ("p_bloc_ban", "p_bloc_ban_2y", "p_world_cut")}
    out = evaluator.evaluate(row)
    assert out["error"] == ""
    assert out["C14_verdict"] == "not supported"
    assert out["C14_pairs_stabilised"] == 0.0 and out["C14_pairs_that_bite"] == 7.0   # the cuts still bite
    assert out["C14_bloc_inventory_cost_musd"] == 0.0
    assert all(out[f"C14_bloc_inventory_{m}_kt"] == 0.0 for m in ("ndpr", "gallium", "graphite"))


def test_every_drawn_input_has_a_range_and_a_unit(ds):
    ranges = Evaluator.ranges_for(SPEC, ds)
    extra = dict(ranges.extra)
    assert set(OWN) <= set(extra)
    assert not any(k.endswith("_ndpr") for k in extra)          # NdPr's elasticities are the market's draw
    for name in ("p_bloc_ban", "p_bloc_ban_2y", "p_world_cut"):
        r = extra[name]
        assert r.unit == "1/year" and 0 < r.low < r.mode < r.high <= 1 and "disruptions.csv" in r.source
    assert sum(extra[n].high for n in OWN[:3]) <= 1
    assert extra["ed_short_gallium"] == Range(-0.125, -0.05, -0.02, extra["ed_short_gallium"].source, "elasticity")
    table = draw_ranges_table(ranges)
    assert (table["unit"].str.len() > 0).all() and set(OWN) <= set(table["input"])


def test_a_draw_couples_the_two_horizons_at_the_same_quantile(ds, evaluator, central_row):
    """NdPr's long-run draw at its low end gives its short-run low end; gallium's short-run draw at
    its high end gives its long-run high end; the other minerals' curves follow their own inputs."""
    row = dict(central_row) | {k: -1.0 for k in central_row if k.startswith("ed_") and "short" not in k}
    row |= {"ed_short_gallium": -0.02, "es_short_gallium": 0.6}
    ctx = evaluator.states["stockpile"].context(evaluator._draw(row))
    short, long = ctx.benchmarks()
    for got, horizon, which, mineral in ((short["ndpr"], "short", "low", "ndpr"), (long["gallium"], "long", "high", "gallium")):
        expected = benchmark_from_dataset(ds, mineral, horizon=horizon, which="central")
        e = ds.elasticity(mineral, "demand", horizon, which)
        es = ds.elasticity(mineral, "supply", horizon, which) if mineral == "gallium" else None
        expected = expected.recalibrated(e, es)
        for r in got.market.regions:
            a, b = got.market.demand_curve(r), expected.market.demand_curve(r)
            if a is not None:
                assert a.slope == pytest.approx(b.slope, rel=1e-9) and a.intercept == pytest.approx(b.intercept, rel=1e-9)
    assert list(short) == list(long) == ["ndpr", "gallium", "graphite"]
    assert np.allclose(short["ndpr"].prices, long["ndpr"].prices)


def test_range_quantile_inverts_cdf():
    r = Range(-1.0, -0.4, -0.16)
    for u in (0.0, 0.1, 0.5, 0.714, 0.9, 1.0):
        assert r.cdf(r.quantile(u)) == pytest.approx(u, abs=1e-12)
    assert r.quantile(r.cdf(-0.4)) == pytest.approx(-0.4)
    assert Range(2.0, 2.0, 2.0).quantile(0.3) == 2.0
    with pytest.raises(ModelInputError, match="quantile"):
        r.quantile(1.5)


def test_the_sweep_repeats_exactly_for_a_seed(ds):
    spec = SweepSpec(rules=("C14",), draws=2, seed=7, by_region=False,
                     vary=("elasticities", "price_gap") + OWN)
    first, second = run_serial(spec, ds), run_serial(spec, ds)
    assert first.equals(second)
    assert (first["error"] == "").all() and first["p_bloc_ban"].nunique() == 2


def test_c14_is_graded_and_no_claim_is_left_without_a_reason(ds):
    table = coverage(ds.claims)
    assert table.loc["C14", "treatment"] == "graded" and "C14 (stockpile)" in table.loc["C14", "rules"]


def test_a_mineral_the_stockpile_does_not_hold_is_refused(ds):
    with pytest.raises(ModelInputError, match="minerals the stockpile holds"):
        Evaluator(SweepSpec(mineral="tungsten", rules=("C14",), vary=()), ds)
