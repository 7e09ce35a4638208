"""The plan's instruments as described (MODEL.md §2–3): the preferential floor held by an adjustable
tariff on non-members, the guaranteed price kept for comparison, the roster as public parameters,
and one account of the stockpile's inventory.

The three-region market solved by hand: two members, an importer MI and an exporter MX, and a cheap
outsider O; linear curves ``P_d = a − b D``, ``P_s = c + d S`` (excess supply ``ES = β p − α``)::

    MI: P_d = 120 − D, P_s = 40 + 2 S     α = 140, β = 1.5, autarky 93.33
    MX: P_d =  70 − D, P_s = 10 + S       α =  80, β = 2,   autarky 40
    O : P_d =  60 − D, P_s =  5 + 0.5 S   α =  70, β = 3,   autarky 23.33
    t = 2 USD/kg on every route
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from model_fixtures import Linear, assert_equilibrium, linear_market, symmetric_cost
from models import (Bloc, EquilibriumModel, GuaranteedPrice, ModelInputError, PreferentialFloor, Scenario,
                    StockpileFloor, inventory_account)
from models.zone import BINDS, FAILS, NOT_BINDING

MI, MX, O = Linear(120, 1, 40, 2), Linear(70, 1, 10, 1), Linear(60, 1, 5, 0.5)
T = 2.0
ZONE = ("MI", "MX")


def close(actual, expected, rel=1e-6, abs_=1e-6):
    return pytest.approx(expected, rel=rel, abs=abs_) == actual


def market(t_internal: float = T, t_mx_o: float = T):
    t = symmetric_cost(["MI", "MX", "O"], {("MI", "MX"): t_internal, ("MI", "O"): T, ("MX", "O"): t_mx_o})
    return linear_market({"MI": (120, 1), "MX": (70, 1), "O": (60, 1)},
                         {"MI": (40, 2), "MX": (10, 1), "O": (5, 0.5)}, t)


def surplus(curve: Linear, p: float) -> float:
    """Consumer plus producer surplus of one region at price ``p`` (no policy wedge)."""
    return (curve.a - p) ** 2 / (2 * curve.b) + max(0.0, p - curve.c) ** 2 / (2 * curve.d)


def solve(mk, scenario, **updates):
    result = EquilibriumModel(mk, scenario).solve(**updates)
    assert_equilibrium(result)
    return result


def preferential(level, reference=None):
    return Scenario("preferential", bloc=Bloc(ZONE), floors=(PreferentialFloor(level, reference),))


# ---------------------------------------------------------------------- the hand-solved case
def test_free_trade_of_the_hand_market():
    """MX exports to MI and O exports to MI: p_MX = w_O = w, p_MI = w + t, and
    ES_O(w) + ES_MX(w) + ES_MI(w + t) = 0 gives w = 287 / 6.5 = 44.154."""
    w = (O.alpha + MX.alpha + MI.alpha - MI.beta * T) / (O.beta + MX.beta + MI.beta)
    reg = solve(market(), Scenario("free")).regions
    assert close(reg.loc["O", "border_price"], w) and close(reg.loc["MX", "border_price"], w)
    assert close(reg.loc["MI", "border_price"], w + T)


def test_preferential_floor_matches_the_hand_solution():
    """Floor f = 60 held in every member: MX exports to MI, so p_MX = f and p_MI = f + t. The zone
    imports M = −ES_MX(f) − ES_MI(f + t) = 7 kt from O, whose price solves ES_O(w_O) = M:
    w_O = 77/3; the tariff is τ = p_MI − w_O − t = 34.33, collected by MI on 7 kt; no top-up,
    no levy, no refund; each region's welfare change is its surplus at the new prices (plus MI's
    tariff revenue) minus its free-trade surplus."""
    f = 60.0
    free = solve(market(), Scenario("free"))
    res = solve(market(), preferential(f))
    imports = -MX.ES(f) - MI.ES(f + T)
    w_o = (O.alpha + imports) / O.beta
    tau = f + T - w_o - T
    assert close(imports, 7.0) and close(tau, 34.0 + 1 / 3)
    reg, zone = res.regions, res.zone
    assert zone["status"] == BINDS and zone["holds"]
    assert close(zone["price"], f) and close(zone["tariff"], tau) and close(zone["imports_from_nonmembers"], imports)
    assert close(reg.loc["MX", "border_price"], f) and close(reg.loc["MI", "border_price"], f + T)
    assert close(reg.loc["MI", "consumer_price"], f + T) and close(reg.loc["MX", "producer_price"], f)
    assert close(reg.loc["O", "supply_price"], w_o)
    assert close(res.flows.loc["MX", "MI"], MX.ES(f)) and close(res.flows.loc["O", "MI"], imports)
    w = res.welfare
    assert close(w.loc["MI", "zone_tariff_revenue"], tau * imports)
    assert close(w["zone_tariff_revenue"].sum(), tau * imports)     # only the importer collects it
    for col in ("levy_revenue", "cfd_cost", "tariff_revenue", "stockpile_outlay"):
        assert close(w[col].abs().sum(), 0.0), col
    assert close(res.wedges[["levy", "levy_topup", "cfd_topup"]].abs().to_numpy().sum(), 0.0)
    change = res.welfare_change(free)["total"]
    p_free = free.regions["border_price"]
    assert close(change["MI"], surplus(MI, f + T) + tau * imports - surplus(MI, p_free["MI"]))
    assert close(change["MX"], surplus(MX, f) - surplus(MX, p_free["MX"]))
    assert close(change["O"], surplus(O, w_o) - surplus(O, p_free["O"]))


def test_preferential_floor_above_the_zones_autarky_price_fails():
    """f = 70 is above what a prohibitive tariff reaches: with no imports from O, the zone clears at
    ES_MX(p) + ES_MI(p + t) = 0, p = 217 / 3.5 = 62 (MX still exports to MI). The floor fails, the
    zone's price is 62, O sells nothing to the zone, and no export subsidy is paid."""
    res = solve(market(), preferential(70.0))
    p = (MX.alpha + MI.alpha - MI.beta * T) / (MX.beta + MI.beta)
    zone = res.zone
    assert zone["status"] == FAILS and not zone["holds"]
    assert close(zone["price"], p) and close(p, 62.0)
    assert close(zone["imports_from_nonmembers"], 0.0)
    assert close(res.regions.loc["MI", "border_price"], p + T)
    assert close(res.welfare[["levy_revenue", "cfd_cost"]].abs().to_numpy().sum(), 0.0)
    assert close(res.welfare["zone_tariff_revenue"].sum(), 0.0)


def test_preferential_floor_below_the_market_price_does_not_bind():
    res = solve(market(), preferential(30.0))
    assert res.zone["status"] == NOT_BINDING and close(res.zone["tariff"], 0.0)
    free = solve(market(), Scenario("free"))
    np.testing.assert_allclose(res.regions["border_price"], free.regions["border_price"], atol=1e-6)


def test_reference_member_holds_the_floor_at_its_own_border():
    """With ``reference="MI"`` the floor is MI's border price: p_MI = f and p_MX = f − t; the
    default (every member) puts the lowest member price, MX's, at f instead."""
    f = 60.0
    res = solve(market(), preferential(f, reference="MI"))
    assert close(res.regions.loc["MI", "border_price"], f) and close(res.regions.loc["MX", "border_price"], f - T)
    assert close(res.zone["price"], f) and res.zone["reference"] == "MI"
    default = solve(market(), preferential(f))
    assert close(default.regions[["border_price"]].loc[list(ZONE)].min().item(), f)


def test_zone_price_rises_with_the_floor_and_sweeps_re_solve_one_problem():
    model = EquilibriumModel(market(), preferential(50.0))
    sweep = model.sweep("floor_level", [40.0, 50.0, 55.0, 60.0, 70.0])
    status = list(sweep.totals["zone_status"])
    assert status[-1] == FAILS and status[1] == BINDS
    tau = sweep.totals["zone_tariff"].to_numpy()
    assert np.all(np.diff(tau) >= -1e-7)
    p_mx = sweep.pivot("border_price")["MX"].to_numpy()
    assert np.all(np.abs(p_mx[1:4] - [50.0, 55.0, 60.0]) <= 1e-6)


# ---------------------------------------------------------------------- against the guaranteed price
def test_guaranteed_price_and_preferential_floor_same_quantities_different_welfare_by_member():
    """Members next to each other (no trade cost between them) and a zone that imports at f = 60:
    both instruments put members' consumers and producers at f, so every quantity is the same.
    Who gets the wedge differs. The guaranteed price levies λ = f − p on *all* of MI's imports,
    MX's included, and MX's government tops its producers up on every unit, paying an export
    subsidy λ·X_MX on its exports to MI. The preferential floor taxes only O's goods; MX sells to MI
    at f. So MI loses λ·X_MX and MX gains exactly that; O and the world are unchanged. (O is put
    further from MX than from MI, t_MX,O = 3, so that O's goods reach MX only through MI and the
    routing, hence who collects the tariff on them, is unique.)"""
    f = 60.0
    mk = market(t_internal=0.0, t_mx_o=3.0)
    pref = solve(mk, preferential(f))
    guar = solve(mk, Scenario("guaranteed", bloc=Bloc(ZONE), floors=(GuaranteedPrice(ZONE, f),)))
    for col in ("demand", "supply", "consumer_price", "producer_price"):
        np.testing.assert_allclose(pref.regions[col], guar.regions[col], atol=1e-6, err_msg=col)
    x_mx = MX.ES(f)                                      # 40 kt from MX to MI
    lam = float(guar.wedges.loc["MI", "levy"])
    assert close(lam, f - guar.regions.loc["MI", "border_price"]) and lam > 1.0
    diff = pref.welfare["total"] - guar.welfare["total"]
    assert close(diff["MI"], -lam * x_mx) and close(diff["MX"], lam * x_mx)
    assert close(diff["O"], 0.0) and close(diff.sum(), 0.0, abs_=1e-5)
    assert guar.wedges.loc["MX", "implicit_export_subsidy"] == pytest.approx(lam * x_mx, rel=1e-6)
    assert close(pref.wedges["implicit_export_subsidy"].sum(), 0.0)


# ---------------------------------------------------------------------- the roster as parameters
def test_members_override_equals_a_model_built_for_the_roster():
    """One model built with every region in the bloc, solved for the roster (MI, MX) through the
    public ``members`` parameter, gives what a model built for that roster gives."""
    f = 60.0
    wide = EquilibriumModel(market(), Scenario("wide", bloc=Bloc(("MI", "MX", "O")),
                                               floors=(PreferentialFloor(f),)))
    via_params = wide.solve(members=ZONE)
    built = solve(market(), preferential(f))
    np.testing.assert_allclose(via_params.regions.to_numpy(), built.regions.to_numpy(), atol=1e-6)
    np.testing.assert_allclose(via_params.welfare.to_numpy(), built.welfare.to_numpy(), atol=1e-5)
    assert via_params.scenario.bloc.members == ZONE
    assert_equilibrium(via_params)


def test_members_override_needs_a_bloc_and_known_regions():
    model = EquilibriumModel(market(), Scenario("free"))
    with pytest.raises(ModelInputError, match="members"):
        model.solve(members=ZONE)
    model = EquilibriumModel(market(), preferential(60.0))
    with pytest.raises(ModelInputError, match="ATLANTIS"):
        model.solve(members=("MI", "ATLANTIS"))
    with pytest.raises(ModelInputError, match="parametric_routes"):
        model.solve(banned_routes={"O": ("MI",)})


def test_preferential_floor_without_a_bloc_is_refused():
    with pytest.raises(ModelInputError, match="bloc"):
        EquilibriumModel(market(), Scenario("no bloc", floors=(PreferentialFloor(60.0),)))
    with pytest.raises(ModelInputError, match="reference"):
        EquilibriumModel(market(), preferential(60.0, reference="O"))


# ---------------------------------------------------------------------- one account of the stockpile
@pytest.mark.parametrize("level, budget, origins", [(50.0, 5000.0, "ALL"), (80.0, 5000.0, "ALL"),
                                                    (50.0, 300.0, "ALL"), (60.0, 5000.0, "MEMBERS")])
def test_unsold_inventory_never_raises_world_welfare(level, budget, origins):
    """Buying and never selling withdraws output that cost producers A^s and gives no consumer
    anything: world welfare (Σ A^d − Σ A^s − transport) can only fall. The inventory is reported
    beside the welfare table, at cost, and is not valued."""
    mk = market()
    free = solve(mk, Scenario("free", bloc=Bloc(ZONE)))
    res = solve(mk, Scenario("stock", bloc=Bloc(ZONE), floors=(StockpileFloor("MI", level, budget, origins),)))
    assert float(res.stockpile["purchases"]) > 0.1
    assert res.welfare["total"].sum() <= free.welfare["total"].sum() + 1e-6
    inv = res.inventory
    assert close(inv.loc["MI", "held_kt"], res.stockpile["purchases"])
    assert close(inv.loc["MI", "cost_musd"], res.stockpile["outlay"])
    assert inv.loc["MI", "value_musd"] == 0.0 and "not valued" in inv.loc["MI", "basis"]
    if origins == "MEMBERS":
        assert close(res.stockpile_by_origin["O"], 0.0)


def test_inventory_account_values_only_released_inventory():
    held, cost = pd.Series({"ndpr": 2.0}), pd.Series({"ndpr": 180.0})
    unsold = inventory_account(held, cost)
    assert unsold.loc["ndpr", "value_musd"] == 0.0
    released = inventory_account(held, cost, pd.Series({"ndpr": 250.0}), pd.Series({"ndpr": 9.0}))
    assert released.loc["ndpr", "value_musd"] == pytest.approx(241.0)
    with pytest.raises(ModelInputError, match="carrying_cost"):
        inventory_account(held, cost, carrying_cost_musd=pd.Series({"ndpr": 9.0}))
    with pytest.raises(ModelInputError, match="held_kt"):
        inventory_account(pd.Series({"ndpr": np.nan}), cost)
