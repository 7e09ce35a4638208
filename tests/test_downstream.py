"""Downstream losses (models/downstream.py) and a ban with a closed form in the two-region market.

Two-region market of ``model_fixtures``: importer A (``P_d = 120 − 1.5 D``, ``P_s = 20 + S``) and
exporter B (``P_d = 70 − D``, ``P_s = 10 + 0.5 S``), freight 4 USD/kg. A ban on B's exports to A
leaves A in autarky: ``p_A = α_A / β_A = 60`` USD/kg and ``D_A = (120 − 60) / 1.5 = 40`` kt, so
A's shortfall against free trade is ``D_A(p_A^free) − 40``; B falls to its own autarky price.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from model_fixtures import HAND_A, HAND_B, HAND_T, hand_market, two_region_trade
from models import EquilibriumModel, ExportBan, ModelInputError, Scenario
from models.downstream import downstream_loss, load_anchors, shortfall, side_by_side
from models.errors import DataValidationError


@pytest.fixture(scope="module")
def ban_case():
    market = hand_market()
    free = EquilibriumModel(market).solve()
    ban = EquilibriumModel(market, Scenario(quotas=(ExportBan("B", ("A",)),))).solve()
    return free, ban


def test_ban_closed_form(ban_case):
    free, ban = ban_case
    p_a, p_b, x = two_region_trade(HAND_T)
    assert float(free.regions.loc["A", "consumer_price"]) == pytest.approx(p_a, rel=1e-6)
    assert float(ban.regions.loc["A", "consumer_price"]) == pytest.approx(HAND_A.autarky, rel=1e-6)
    assert float(ban.regions.loc["B", "consumer_price"]) == pytest.approx(HAND_B.autarky, rel=1e-6)
    s = shortfall(ban, free)
    assert s["A"] == pytest.approx(HAND_A.D(p_a) - HAND_A.D(HAND_A.autarky), rel=1e-6)
    assert s["B"] == 0.0                       # B's consumers buy more, not less
    # the ban's licence rent is zero (nothing ships) and A's welfare falls by the lost gains from trade
    dw = ban.welfare_change(free)["total"]
    gains_a = (HAND_A.cs(p_a) + HAND_A.ps(p_a)) - (HAND_A.cs(HAND_A.autarky) + HAND_A.ps(HAND_A.autarky))
    assert -dw["A"] == pytest.approx(gains_a, rel=1e-6)


def test_release_reduces_shortfall_and_never_below_zero(ban_case):
    free, ban = ban_case
    s0 = shortfall(ban, free)["A"]
    assert shortfall(ban, free, release={"A": s0 / 2})["A"] == pytest.approx(s0 / 2, rel=1e-9)
    assert shortfall(ban, free, release={"A": 10 * s0})["A"] == 0.0
    with pytest.raises(ModelInputError):
        shortfall(ban, free, release={"A": -1.0})


def test_loss_zero_without_shortfall_and_monotone():
    use = pd.Series({"X": 10.0, "Y": 5.0})
    expo = pd.Series({"X": 1000.0, "Y": 400.0})
    zero = downstream_loss(pd.Series({"X": 0.0, "Y": 0.0}), use, expo, 0.4)
    assert (zero == 0).all()
    grid = np.linspace(0.0, 15.0, 61)
    losses = np.array([downstream_loss(pd.Series({"X": g, "Y": g}), use, expo, 0.4)["X"] for g in grid])
    assert np.all(np.diff(losses) >= 0)
    assert losses[-1] == pytest.approx(0.4 * 1000.0)         # capped at the whole exposure
    assert downstream_loss(pd.Series({"X": 5.0}), use, expo, 0.4, months=3)["X"] == pytest.approx(
        0.5 * 0.4 * 1000.0 * 3 / 12)


def test_loss_monotone_in_ban_size():
    """A tighter quota on B's exports to A: larger shortfall, larger downstream loss."""
    market = hand_market()
    free = EquilibriumModel(market).solve()
    model = EquilibriumModel(market, Scenario(quotas=(ExportBan("B", ("A",)),)))
    x_free = float(free.flows.loc["B", "A"])
    losses = []
    for q in np.linspace(1.01 * x_free, 0.0, 6):     # the first quota does not bind
        res = model.solve(quota=q)
        s = shortfall(res, free)
        losses.append(downstream_loss(s, free.regions["demand"], pd.Series({"A": 5000.0, "B": 0.0}), 0.3)["A"])
    assert losses[0] == pytest.approx(0.0, abs=1e-6)
    assert np.all(np.diff(losses) >= -1e-9) and losses[-1] > 0


def test_side_by_side_columns(ban_case):
    free, ban = ban_case
    table = side_by_side(ban, free, free.regions["demand"], pd.Series({"A": 5000.0, "B": 100.0}), 0.3, months=6)
    assert list(table.columns) == ["price_change", "shortfall_kt", "market_welfare_change", "downstream_loss"]
    assert table.loc["B", "downstream_loss"] == 0.0 and table.loc["A", "downstream_loss"] > 0


def test_anchors_load_and_errors(tmp_path):
    anchors = load_anchors()
    assert {"usgs_gallium_us", "nomura_re_japan_3m"} <= set(anchors.index)
    assert anchors.loc["usgs_gallium_us", "loss_usd_bn"] == pytest.approx(3.1)
    bad = tmp_path / "downstream_anchors.csv"
    bad.write_text("id,mineral,country,scenario,months,loss_usd_bn,low_usd_bn,high_usd_bn,gdp_share_pct,source\n"
                   "x,ga,USA,s,12,-1,,,,Someone (2024)\n", encoding="utf-8")
    with pytest.raises(DataValidationError) as info:
        load_anchors(bad)
    assert (info.value.file, info.value.row, info.value.column) == ("downstream_anchors", 2, "loss_usd_bn")
