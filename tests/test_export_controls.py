"""Export controls (models/export_controls.py): closed forms in the two-region market, the duration
convention, the stockpile's release, downstream losses, scenario files and hostile inputs.

Two-region market of ``model_fixtures``: importer A (``P_d = 120 − 1.5 D``, ``P_s = 20 + S``) and
exporter B (``P_d = 70 − D``, ``P_s = 10 + 0.5 S``), freight 4 USD/kg. Excess supply
``ES(p) = β p − α``. Under a cut of share ``s`` of B's benchmark exports ``x0``, A imports
``Q = (1 − s) x0`` and its price solves ``ES_A(p_A) = −Q``; B's solves ``ES_B(p_B) = Q`` (the gap
``p_A − p_B − t`` is the licence rent). A ban (``s = 1``) leaves both in autarky. A release ``R``
(a year) into A under the ban: ``ES_A(p_A) = −R``.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from model_fixtures import HAND_A, HAND_B, HAND_T, hand_market, two_region_trade
from models import Benchmark, EquilibriumModel, ModelInputError, Scenario, benchmark_from_dataset
from models.data import load_dataset
from models.downstream import exposure_table, value_added_at_risk
from models.export_controls import (VAULT, ExportControl, ExportControlModel, control_from_scenario,
                                    vault_inventory)
from models.insurance_data import vault_budgets

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
TOL = 1e-5


@pytest.fixture(scope="module")
def hand_bench() -> Benchmark:
    market = hand_market()
    free = EquilibriumModel(market).solve()
    regions = list(market.regions)
    return Benchmark(market, Scenario(), free.regions["border_price"].astype(float),
                     free.regions["supply"].astype(float), free.regions["demand"].astype(float),
                     free.flows.loc[regions, regions].astype(float), pd.Series(0.0, index=regions))


@pytest.fixture(scope="module")
def ds():
    return load_dataset()


def control(share=1.0, months=12.0, dest=("A",)):
    return ExportControl("B", dest, "test", share, months)


# ---------------------------------------------------------------------- closed forms
def test_ban_closed_form(hand_bench):
    p_a, p_b, x = two_region_trade(HAND_T)
    out = ExportControlModel(hand_bench, control(1.0)).solve()
    assert out.prices.loc["A", "base_price"] == pytest.approx(p_a, abs=TOL)
    assert out.prices.loc["A", "price"] == pytest.approx(HAND_A.autarky, abs=TOL)
    assert out.prices.loc["B", "price"] == pytest.approx(HAND_B.autarky, abs=TOL)
    assert out.quantities.loc["A", "demand"] == pytest.approx(HAND_A.D(HAND_A.autarky), abs=TOL)
    assert out.quantities.loc["A", "supply"] == pytest.approx(HAND_A.S(HAND_A.autarky), abs=TOL)
    assert out.quantities.loc["A", "shortfall_kt"] == pytest.approx(HAND_A.D(p_a) - HAND_A.D(HAND_A.autarky), abs=TOL)
    assert out.quantities.loc["B", "shortfall_kt"] == 0.0
    gains_a = (HAND_A.cs(p_a) + HAND_A.ps(p_a)) - (HAND_A.cs(HAND_A.autarky) + HAND_A.ps(HAND_A.autarky))
    assert -out.welfare.loc["A", "total"] == pytest.approx(gains_a, rel=1e-6)
    assert out.welfare.loc[VAULT, "total"] == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("share", [0.25, 0.5, 0.9])
def test_partial_cut_closed_form(hand_bench, share):
    p_a, p_b, x = two_region_trade(HAND_T)
    q = (1 - share) * x
    out = ExportControlModel(hand_bench, control(share)).solve()
    assert out.prices.loc["A", "price"] == pytest.approx(HAND_A.price_for_excess_supply(-q), abs=TOL)
    assert out.prices.loc["B", "price"] == pytest.approx(HAND_B.price_for_excess_supply(q), abs=TOL)
    rent = HAND_A.price_for_excess_supply(-q) - HAND_B.price_for_excess_supply(q) - HAND_T
    assert out.quota_rent == pytest.approx(rent, abs=1e-4)
    assert float(out.controlled.flows.loc["B", "A"]) == pytest.approx(q, abs=TOL)


def test_duration_scales_quantities_and_money_not_prices(hand_bench):
    year = ExportControlModel(hand_bench, control(1.0, 12)).solve()
    quarter = ExportControlModel(hand_bench, control(1.0, 3)).solve()
    pd.testing.assert_series_equal(quarter.prices["price"], year.prices["price"], atol=TOL)
    np.testing.assert_allclose(quarter.quantities["shortfall_kt"], year.quantities["shortfall_kt"] / 4, atol=TOL)
    np.testing.assert_allclose(quarter.welfare["total"], year.welfare["total"] / 4, atol=1e-4)


def test_no_control_changes_nothing(hand_bench):
    out = ExportControlModel(hand_bench, control(0.0)).solve()
    assert out.prices["change"].abs().max() < TOL
    assert (out.quantities["shortfall_kt"] == 0).all()
    assert out.welfare["total"].abs().max() < 1e-4


# ---------------------------------------------------------------------- the release
def test_release_closed_form_and_never_raises_a_price(hand_bench):
    model = ExportControlModel(hand_bench, control(1.0, 6))
    none = model.solve()
    shortfall = float(none.quantities.loc["A", "shortfall_kt"])
    previous = None
    for r in np.linspace(0.0, 3 * shortfall, 7):
        out = model.solve(r)
        rate = r * 12 / 6
        assert out.prices.loc["A", "price"] == pytest.approx(HAND_A.price_for_excess_supply(-rate), abs=1e-4)
        assert (out.prices["price"] <= none.prices["price"] + TOL).all()
        if previous is not None:
            assert (out.prices["price"] <= previous.prices["price"] + TOL).all()
            assert out.quantities.loc["A", "shortfall_kt"] <= previous.quantities.loc["A", "shortfall_kt"] + TOL
        previous = out
    # the release's revenue is the price it fetches, less a triangle under the tiny VAULT slope
    assert previous.welfare.loc[VAULT, "total"] > 0


def test_release_never_raises_a_price_on_real_data(ds):
    bench = benchmark_from_dataset(ds, "ndpr", "short", "central")
    for diversion in (True, False):
        model = ExportControlModel(bench, ExportControl("CHN", ("JPN",), "ndpr", 1.0, 3), diversion=diversion,
                                   inventory_kt=vault_inventory(ds, "ndpr"))
        base = model.solve(0.0)
        need = float(base.quantities.loc["JPN", "shortfall_kt"])
        for r in (0.25 * need, need, 2 * need + 0.1):
            assert (model.solve(r).prices["price"] <= base.prices["price"] + 1e-4).all()


def test_vault_inventory_is_the_one_convention(ds):
    budgets = vault_budgets(ds)
    for m in ("ndpr", "gallium"):
        assert vault_inventory(ds, m) == pytest.approx(budgets.loc[m, "budget_musd"] / ds.price(m, "reference"))
    assert vault_inventory(ds, "tungsten") == 0.0


# ---------------------------------------------------------------------- downstream
def test_downstream_zero_without_shortfall_and_monotone_in_the_cut(hand_bench):
    va = pd.Series({"A": 5000.0, "B": 800.0})
    losses, shortfalls = [], []
    for s in np.linspace(0.0, 1.0, 6):
        out = ExportControlModel(hand_bench, control(s, 6), value_added_at_risk=va).solve()
        losses.append(float(out.downstream.loc["A", "downstream_loss"]))
        shortfalls.append(float(out.quantities.loc["A", "shortfall_kt"]))
        assert out.downstream.loc["B", "downstream_loss"] == 0.0
    assert losses[0] == 0.0 and shortfalls[0] == 0.0
    assert np.all(np.diff(losses) > 0) and np.all(np.diff(shortfalls) > 0)
    phi = shortfalls[-1] * 2 / hand_bench.consumption["A"]       # annual rate / D0
    assert losses[-1] == pytest.approx(phi * 5000.0 * 6 / 12, rel=1e-6)


def test_value_added_at_risk_from_data(ds):
    va = value_added_at_risk(ds, "ndpr")
    rows = ds.downstream_exposure[ds.downstream_exposure["mineral"] == "ndpr"]
    assert va.sum() == pytest.approx((rows["output_musd"] * rows["value_added_share"]).sum())
    assert va["CHN"] == 0.0 and va["JPN"] > 0
    assert value_added_at_risk(ds, "ndpr", 0.2)["JPN"] == pytest.approx(0.2 * rows.set_index("region").loc["JPN", "output_musd"])
    table = exposure_table(ds, "gallium", ds.quantity("gallium", "consumption"))
    assert (table["requirement_t_per_musd"] > 0).all()


def test_diversion_brackets_the_shortfall(ds):
    bench = benchmark_from_dataset(ds, "ndpr", "short", "central")
    ban = ExportControl("CHN", ("JPN",), "ndpr", 1.0, 12)
    leaky = ExportControlModel(bench, ban).solve()
    rigid = ExportControlModel(bench, ban, diversion=False).solve()
    assert rigid.quantities.loc["JPN", "shortfall_kt"] >= leaky.quantities.loc["JPN", "shortfall_kt"] - TOL
    assert rigid.prices.loc["JPN", "price"] >= leaky.prices.loc["JPN", "price"] - TOL


# ---------------------------------------------------------------------- scenario files
@pytest.mark.parametrize("name, mineral, dest", [("ndpr_ban_japan", "ndpr", ("JPN",)),
                                                 ("gallium_ban_usa", "gallium", ("USA",))])
def test_named_scenarios(ds, name, mineral, dest):
    bench = benchmark_from_dataset(ds, mineral, "short", "central")
    c = control_from_scenario(SCENARIOS / f"{name}.yaml", bench, ds, months=3)
    assert (c.origin, c.destinations, c.mineral, c.cut_share, c.months) == ("CHN", dest, mineral, 1.0, 3.0)
    out = ExportControlModel(bench, c).solve()
    assert out.prices.loc[dest[0], "change"] > 0


def test_scenario_file_with_long_run_elasticities_is_refused(ds, tmp_path):
    path = tmp_path / "long.yaml"
    path.write_text("mineral: ndpr\nelasticities: {horizon: long}\npolicies:\n  quotas:\n"
                    "    - {origin: CHN, destinations: [JPN], quantity: 0}\n", encoding="utf-8")
    bench = benchmark_from_dataset(ds, "ndpr", "short", "central")
    with pytest.raises(ModelInputError, match="horizon"):
        control_from_scenario(path, bench, ds)


# ---------------------------------------------------------------------- hostile inputs
@pytest.mark.parametrize("kwargs, field", [
    ({"months": -1}, "control.months"), ({"months": 0}, "control.months"), ({"months": 13}, "control.months"),
    ({"months": math.nan}, "control.months"), ({"months": "three"}, "control.months"), ({"months": True}, "control.months"),
    ({"cut_share": 1.5}, "control.cut_share"), ({"cut_share": -0.1}, "control.cut_share"),
    ({"cut_share": math.inf}, "control.cut_share"), ({"destinations": ("B",)}, "control.destinations"),
    ({"destinations": ()}, "control.destinations"), ({"origin": ""}, "control.origin"),
])
def test_bad_control_is_refused_with_a_clear_message(kwargs, field):
    args = {"origin": "B", "destinations": ("A",), "mineral": "test", "cut_share": 1.0, "months": 6.0, **kwargs}
    with pytest.raises(ModelInputError) as info:
        ExportControl(**args)
    assert info.value.field == field
    assert "expected" in str(info.value) and field in str(info.value)


@pytest.mark.parametrize("make, field", [
    (lambda b: ExportControlModel(b, ExportControl("XX", ("A",), "test")), "control.origin"),
    (lambda b: ExportControlModel(b, ExportControl("B", ("ZZ",), "test")), "control.destinations"),
    (lambda b: ExportControlModel(b, ExportControl("B", ("A",), "ndpr")), "control.mineral"),
    (lambda b: ExportControlModel(b, control(), release_into="Mars"), "release_into"),
    (lambda b: ExportControlModel(b, control(), value_added_at_risk=pd.Series({"Q": 1.0})), "value_added_at_risk"),
    (lambda b: ExportControlModel(b, control(), value_added_at_risk=pd.Series({"A": -1.0})), "value_added_at_risk"),
    (lambda b: ExportControlModel(b, control(), inventory_kt=-2), "inventory_kt"),
    (lambda b: ExportControlModel(b, control(), diversion="no"), "diversion"),
    (lambda b: ExportControlModel(b, control(), inventory_kt=1.0).solve(2.0), "release_kt"),
    (lambda b: ExportControlModel(b, control()).solve(-0.5), "release_kt"),
    (lambda b: ExportControlModel(b, control()).solve(math.nan), "release_kt"),
    (lambda b: ExportControlModel("bench", control()), "benchmark"),
])
def test_bad_model_inputs_are_refused(hand_bench, make, field):
    with pytest.raises(ModelInputError) as info:
        make(hand_bench)
    assert info.value.field == field


def test_bad_value_added_share_is_refused(ds):
    for bad in (1.5, 0.0, math.nan, True):
        with pytest.raises(ModelInputError) as info:
            value_added_at_risk(ds, "ndpr", bad)
        assert info.value.field == "value_added_share"
    with pytest.raises(ModelInputError):
        value_added_at_risk(ds, "unobtainium")


def test_scenario_file_with_other_policies_is_refused(ds, tmp_path):
    path = tmp_path / "two.yaml"
    path.write_text("mineral: ndpr\nelasticities: {horizon: short}\npolicies:\n  quotas:\n"
                    "    - {origin: CHN, destinations: [JPN], quantity: 0}\n"
                    "    - {origin: CHN, destinations: [USA], quantity: 0}\n", encoding="utf-8")
    bench = benchmark_from_dataset(ds, "ndpr", "short", "central")
    with pytest.raises(ModelInputError, match="exactly one quota"):
        control_from_scenario(path, bench, ds)
