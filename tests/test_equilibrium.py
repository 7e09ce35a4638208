"""Hand-solvable equilibria checked against closed forms (MODEL.md §1–3).

Most cases use the two-region market of ``model_fixtures``: importer A and exporter B with
linear curves, written in excess-supply form ``ES_r(p) = beta_r p - alpha_r``::

    A: P_d = 120 - 1.5 D, P_s = 20 + S      alpha_A = 100, beta_A = 5/3, autarky price 60
    B: P_d =  70 -     D, P_s = 10 + 0.5 S  alpha_B =  90, beta_B = 3,   autarky price 30
    t_AB = t_BA = 4 USD/kg

Every solved case is also run through the generic checks (finite tables, market clearing, no
arbitrage, complementary slackness, both welfare identities): ``assert_equilibrium``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from model_fixtures import (HAND_A, HAND_B, HAND_T, Linear, assert_equilibrium, assert_market_clearing,
                            assert_no_arbitrage, assert_no_nan, assert_welfare_identities,
                            hand_market, linear_market, symmetric_cost, two_region_trade)
from models import (ALL, Bloc, CfdFloor, EquilibriumModel, ExportBan, ExportQuota, IsoelasticCurve,
                    GuaranteedPrice, Market, ProducerSubsidy, Scenario, StockpileFloor, Tariff,
                    policy_trade_costs)

A, B = HAND_A, HAND_B
REL = 1e-6          # closed forms vs the interior-point solution (Clarabel stops at ~1e-8)


def close(actual, expected, rel=REL, abs_=1e-6):
    """Scalar or array comparison with a relative and an absolute tolerance."""
    return pytest.approx(expected, rel=rel, abs=abs_) == actual


def solve(market, scenario=None, **kwargs):
    result = EquilibriumModel(market, scenario, **kwargs).solve()
    assert_equilibrium(result)
    return result


@pytest.fixture(scope="module")
def market():
    return hand_market()


@pytest.fixture(scope="module")
def free_trade(market):
    return solve(market)


# ---------------------------------------------------------------------- free trade
def test_two_region_free_trade_matches_closed_form(free_trade):
    """p_B = (alpha_A + alpha_B - beta_A t) / (beta_A + beta_B), p_A = p_B + t,
    x_BA = beta_A beta_B / (beta_A + beta_B) (autarky_A - autarky_B - t) = 27.857 kt."""
    p_a, p_b, x = two_region_trade(HAND_T)
    reg = free_trade.regions
    assert close(reg.loc["A", "border_price"], p_a)
    assert close(reg.loc["B", "border_price"], p_b)
    assert close(reg.loc["A", "consumer_price"], p_a) and close(reg.loc["A", "producer_price"], p_a)
    assert close(reg.loc["B", "supply_price"], p_b)
    assert close(free_trade.flows.loc["B", "A"], x)
    assert close(free_trade.flows.loc["A", "B"], 0.0)
    assert close(x, A.beta * B.beta / (A.beta + B.beta) * (A.autarky - B.autarky - HAND_T))
    assert close(reg.loc["A", "demand"], A.D(p_a)) and close(reg.loc["A", "supply"], A.S(p_a))
    assert close(reg.loc["B", "demand"], B.D(p_b)) and close(reg.loc["B", "supply"], B.S(p_b))
    assert close(reg.loc["A", "imports"], x) and close(reg.loc["B", "net_exports"], x)
    # surpluses are triangles for linear curves; transport is a real cost t * x
    assert close(free_trade.welfare.loc["A", "consumer_surplus"], A.cs(p_a))
    assert close(free_trade.welfare.loc["B", "producer_surplus"], B.ps(p_b))
    assert close(free_trade.transport_cost, HAND_T * x)


@pytest.mark.parametrize("t, tol", [(30.0, 1e-3), (35.0, 1e-5)])
def test_no_trade_when_autarky_gap_is_at_or_below_transport_cost(t, tol):
    """Autarky prices 60 and 30: with t >= 30 the landed price B + t is no lower than A's own.

    At t = 30 exactly the arc is at zero margin with zero flow (strict complementarity fails),
    where an interior-point solver is only accurate to about the square root of its tolerance:
    it leaves ~5e-4 kt on the arc, hence the looser tolerance there."""
    result = solve(hand_market(t=t))
    assert close(result.flows.loc["B", "A"], 0.0, abs_=tol)
    assert close(result.flows.loc["A", "B"], 0.0, abs_=tol)
    assert close(result.regions.loc["A", "border_price"], A.autarky, rel=tol, abs_=tol)
    assert close(result.regions.loc["B", "border_price"], B.autarky, rel=tol, abs_=tol)
    assert close(result.regions["net_exports"].to_numpy(), [0.0, 0.0], abs_=tol)


# ---------------------------------------------------------------------- tariff
def test_specific_tariff_incidence_revenue_and_deadweight_loss(market, free_trade):
    """A specific tariff tau on B -> A acts as transport cost t + tau.

    Incidence (differentiate p_B above): dp_A/dtau = beta_B / (beta_A + beta_B) = 9/14 of the
    tariff falls on A's price, dp_B/dtau = -beta_A / (beta_A + beta_B) = -5/14 on B's.
    Revenue = tau x_1. World welfare loss (the Harberger triangle): the marginal value of trade
    (price gap net of t) is linear in x, from tau at x_1 to 0 at x_0, so DWL = tau (x_0 - x_1) / 2.
    CS and PS changes are trapezoids: dCS = -dp (D_0 + D_1) / 2, dPS = dp (S_0 + S_1) / 2.
    """
    tau = 6.0
    result = solve(market, Scenario("tariff", tariffs=(Tariff("B", "A", specific=tau),)))
    p_a0, p_b0, x0 = two_region_trade(HAND_T)
    p_a1, p_b1, x1 = two_region_trade(HAND_T + tau)
    reg = result.regions
    share_a = B.beta / (A.beta + B.beta)
    assert close(reg.loc["A", "border_price"] - p_a0, share_a * tau)
    assert close(reg.loc["B", "border_price"] - p_b0, -(1 - share_a) * tau)
    assert close(reg.loc["A", "border_price"], p_a1) and close(reg.loc["B", "border_price"], p_b1)
    assert close(result.flows.loc["B", "A"], x1)
    assert close(result.welfare.loc["A", "tariff_revenue"], tau * x1)
    assert close(result.welfare.loc["B", "tariff_revenue"], 0.0)

    change = result.welfare_change(free_trade)
    dwl = 0.5 * tau * (x0 - x1)
    assert close(change["total"].sum(), -dwl, rel=1e-6, abs_=1e-5)
    assert close(change.loc["A", "consumer_surplus"], -(p_a1 - p_a0) * (A.D(p_a0) + A.D(p_a1)) / 2)
    assert close(change.loc["A", "producer_surplus"], (p_a1 - p_a0) * (A.S(p_a0) + A.S(p_a1)) / 2)
    assert close(change.loc["B", "consumer_surplus"], (p_b0 - p_b1) * (B.D(p_b0) + B.D(p_b1)) / 2)
    assert close(change.loc["B", "producer_surplus"], -(p_b0 - p_b1) * (B.S(p_b0) + B.S(p_b1)) / 2)


def test_ad_valorem_tariff_is_converted_at_benchmark_prices(market, free_trade):
    """``ad_valorem × (P0_origin + t_ij)`` becomes a specific rate; the equilibrium is the same."""
    p0 = free_trade.regions["border_price"]
    rate = 0.1
    scenario = Scenario("adv", tariffs=(Tariff("B", "A", ad_valorem=rate),))
    imp, exp = policy_trade_costs(market, scenario, p0)
    assert close(imp[1, 0], rate * (p0["B"] + HAND_T)) and close(imp[0, 1], 0.0)
    assert np.all(exp == 0)
    adv = EquilibriumModel(market, scenario, benchmark_prices=p0).solve()
    spec = solve(market, Scenario("spec", tariffs=(Tariff("B", "A", specific=imp[1, 0]),)))
    np.testing.assert_allclose(adv.regions.to_numpy(), spec.regions.to_numpy(), rtol=1e-7, atol=1e-6)


# ---------------------------------------------------------------------- levy floor
def test_guaranteed_price_on_net_importer(market):
    """Floor f = 50 in A, above A's free-trade price 43.29 and below its autarky price 60.

    Consumers and producers in A face f: D_A(f) = 46.67, S_A(f) = 30, so imports fall to
    M = D_A(f) - S_A(f) = 16.67. B's excess supply sets p_B = (M + alpha_B) / beta_B and the border
    price p_A = p_B + t. Levy = f - p_A on consumption and the same top-up on production; revenue
    levy * D - top-up * S = (f - p_A)(D - S).
    """
    f = 50.0
    result = solve(market, Scenario("levy", floors=(GuaranteedPrice(("A",), f),)))
    imports = A.D(f) - A.S(f)
    p_b = B.price_for_excess_supply(imports)
    p_a = p_b + HAND_T
    reg, wedges = result.regions, result.wedges
    assert close(reg.loc["A", "consumer_price"], f) and close(reg.loc["A", "producer_price"], f)
    assert close(reg.loc["A", "demand"], A.D(f)) and close(reg.loc["A", "supply"], A.S(f))
    assert close(reg.loc["A", "imports"], imports)
    assert close(reg.loc["A", "border_price"], p_a) and close(reg.loc["B", "border_price"], p_b)
    assert close(wedges.loc["A", "levy"], f - p_a) and close(wedges.loc["A", "levy_topup"], f - p_a)
    assert close(result.welfare.loc["A", "levy_revenue"], (f - p_a) * imports)
    assert close(wedges.loc["A", "implicit_export_subsidy"], 0.0)
    # the floor raises the members' consumer price: the cost falls on A's manufacturers
    p_free = two_region_trade(HAND_T)[0]
    assert reg.loc["A", "consumer_price"] > p_free + 1


def test_guaranteed_price_below_free_trade_price_does_not_bind(market, free_trade):
    result = solve(market, Scenario("levy", floors=(GuaranteedPrice(("A",), 40.0),)))
    assert close(result.wedges.loc["A", "levy"], 0.0) and close(result.wedges.loc["A", "levy_topup"], 0.0)
    assert close(result.welfare.loc["A", "levy_revenue"], 0.0)
    np.testing.assert_allclose(result.regions.to_numpy(), free_trade.regions.to_numpy(), rtol=1e-7, atol=1e-6)


def test_guaranteed_price_above_autarky_price_makes_an_implicit_export_subsidy(market):
    """Floor f = 70 above A's autarky price 60: A produces S_A(f) = 50, consumes D_A(f) = 33.3 and
    exports E = 16.7 to B, which absorbs it at p_B = (alpha_B - E) / beta_B; A's producers are paid
    f while the exports fetch the netback w = p_B - t. The levy and top-up both equal f - w, so
    levy revenue = (f - w)(D - S) < 0: an implicit export subsidy of (f - w)(S - D)."""
    f = 70.0
    result = solve(market, Scenario("levy", floors=(GuaranteedPrice(("A",), f),)))
    exports = A.S(f) - A.D(f)
    assert exports > 0
    p_b = B.price_for_excess_supply(-exports)
    w = p_b - HAND_T
    reg, wedges = result.regions, result.wedges
    assert close(reg.loc["A", "net_exports"], exports) and close(result.flows.loc["A", "B"], exports)
    assert close(reg.loc["A", "supply_price"], w) and close(reg.loc["A", "border_price"], w)
    assert close(reg.loc["B", "border_price"], p_b)
    assert close(reg.loc["A", "consumer_price"], f) and close(reg.loc["A", "producer_price"], f)
    subsidy = (f - w) * exports
    assert wedges.loc["A", "implicit_export_subsidy"] > 0
    assert close(wedges.loc["A", "implicit_export_subsidy"], subsidy)
    assert close(result.welfare.loc["A", "levy_revenue"], -subsidy)


def test_guaranteed_price_above_the_choke_price_reports_the_floor_as_consumer_price(market):
    """f = 130 > A's choke price 120: A consumes nothing and produces S_A(f) = 110 kt, more than B
    takes even when A's supply price is 0 (B buys D_B(t) = 66 kt at p_B = t); the rest is disposed
    of at A (free disposal), and the top-up f on all 110 kt is the implicit export subsidy. With
    D <= D(f) = 0 and D >= 0 both binding, the levy's dual is undetermined and the consumer
    price came out as 2,614 USD/kg; it is now the floor."""
    f = 130.0
    result = solve(market, Scenario("levy", floors=(GuaranteedPrice(("A",), f),)))
    reg = result.regions
    assert close(reg.loc["A", "demand"], 0.0, abs_=1e-5) and close(reg.loc["A", "supply"], A.S(f))
    assert close(reg.loc["A", "consumer_price"], f) and close(reg.loc["A", "producer_price"], f)
    assert close(reg.loc["A", "supply_price"], 0.0, abs_=1e-5)
    assert close(reg.loc["B", "border_price"], HAND_T) and close(reg.loc["B", "demand"], B.D(HAND_T))
    assert close(reg.loc["A", "net_exports"], B.D(HAND_T))
    assert close(result.wedges.loc["A", "implicit_export_subsidy"], f * A.S(f), rel=1e-6, abs_=1e-3)


def test_common_guaranteed_price_can_lower_a_nonbinding_members_producer_price():
    """A surprise worth a sentence in the book. Members M1 and M2 both import from C; M2 is far
    away (t = 20), so its price is well above M1's. A common levy floor binding in M1 cuts M1's
    imports, the world (C) price falls, and M2, where the floor does not bind, pays less:

        M1 imports D1(f) - S1(f) = 120 - 2f; M2 imports 140 - 2 p2 with p2 = p_C + 20;
        C's excess supply 3 p_C - 80 equals their sum  =>  p_C = 60 - 0.4 f,  p2 = 80 - 0.4 f.

    So raising the floor lowers a member's producer price (62 -> 58 as f goes 45 -> 55).
    """
    regions = ("M1", "M2", "C")
    market = linear_market({"M1": (100, 1), "M2": (100, 1), "C": (60, 1)},
                           {"M1": (20, 1), "M2": (40, 1), "C": (10, 0.5)},
                           symmetric_cost(regions, {("C", "M1"): 2, ("C", "M2"): 20, ("M1", "M2"): 30}))
    model = EquilibriumModel(market, Scenario("levy", floors=(GuaranteedPrice(("M1", "M2"), 45.0),)))
    for f in (45.0, 50.0, 55.0):
        result = model.solve(floor_level=f)
        assert_equilibrium(result)
        reg = result.regions
        assert close(reg.loc["C", "border_price"], 60 - 0.4 * f)
        assert close(reg.loc["M2", "producer_price"], 80 - 0.4 * f)
        assert reg.loc["M2", "producer_price"] > f                     # not bound in M2
        assert close(reg.loc["M1", "producer_price"], f)               # bound in M1


# ---------------------------------------------------------------------- stockpile floor
def test_stockpile_floor_with_enough_budget_holds_the_price(market):
    """A buyer of last resort in A at f = 50 buying from anyone: A's price is f, B's supply price
    f - t = 46, and the stockpile takes the world's excess supply at those prices:
    K = ES_A(50) + ES_B(46) = -16.67 + 48 = 31.33 kt; outlay f K; floor holds (K < B / f)."""
    f, budget = 50.0, 5000.0
    result = solve(market, Scenario("stock", floors=(StockpileFloor("A", f, budget),)))
    k = A.ES(f) + B.ES(f - HAND_T)
    reg, st = result.regions, result.stockpile
    assert close(reg.loc["A", "border_price"], f) and close(reg.loc["A", "consumer_price"], f)
    assert close(reg.loc["B", "supply_price"], f - HAND_T)
    assert close(st["purchases"], k) and close(result.stockpile_by_origin.sum(), k)
    assert close(st["price_paid"], f)
    assert close(st["outlay"], f * k) and close(result.welfare.loc["A", "stockpile_outlay"], f * k)
    assert st["floor_holds"] is True
    assert close(st["cap"], budget / f)
    # B's total sales abroad (to A's consumers and to the stockpile) are its excess supply at f - t
    assert close(reg.loc["B", "exports"], B.ES(f - HAND_T))
    # one account (MODEL.md §3): the outlay is in A's welfare, the inventory beside it, not valued
    assert "stockpile_value" not in result.welfare.columns
    inv = result.inventory
    assert close(inv.loc["A", "held_kt"], k) and close(inv.loc["A", "cost_musd"], f * k)
    assert inv.loc["A", "value_musd"] == 0.0


def test_stockpile_floor_with_too_little_budget_buys_b_over_f_below_the_floor(market):
    """Budget 500 at f = 50 caps purchases at K = B / f = 10 kt: an extra demand of 10 at A,
    cleared at p_A = (alpha_A + alpha_B + K + beta_B t) / (beta_A + beta_B) = 45.43 < f."""
    f, budget = 50.0, 500.0
    result = solve(market, Scenario("stock", floors=(StockpileFloor("A", f, budget),)))
    k = budget / f
    p_a = (A.alpha + B.alpha + k + B.beta * HAND_T) / (A.beta + B.beta)
    st = result.stockpile
    assert close(st["purchases"], k)
    assert st["floor_holds"] is False
    assert close(result.regions.loc["A", "border_price"], p_a)
    assert p_a < f - 1
    assert close(st["price_paid"], p_a)                  # the cap's dual is f - p_A
    assert close(st["outlay"], p_a * k)                  # bought at the market price: < budget
    assert close(result.regions.loc["B", "supply_price"], p_a - HAND_T)


def test_stockpile_with_zero_budget_buys_nothing_and_reports_the_market_price(market, free_trade):
    """Regression: with a cap of B / f = 0 the cap's dual is undetermined and the price paid came
    out as -3,827 USD/kg; it is now the price of the first unit, A's free-trade price."""
    result = solve(market, Scenario("stock", floors=(StockpileFloor("A", 50.0, 0.0),)))
    st = result.stockpile
    assert close(st["purchases"], 0.0, abs_=1e-6) and close(st["outlay"], 0.0, abs_=1e-4)
    assert st["floor_holds"] is False
    assert close(st["price_paid"], free_trade.regions.loc["A", "border_price"])
    np.testing.assert_allclose(result.regions.to_numpy(), free_trade.regions.to_numpy(), rtol=1e-7, atol=1e-6)


def test_stockpile_restricted_to_eligible_origins_does_not_raise_the_ineligible_exporters_price():
    """L imports from C (t = 5); M is isolated (t_ML = 10, t_CM = 40) at its autarky price 55.
    Free trade: p_C = 38.75, p_L = 43.75. A stockpile at L buying at f = 80:

    * from M only: M sells ES_M(70) = 30 kt at the netback 70; C's and L's prices are unchanged;
    * from anyone: C's supply price rises to f - 5 = 75 (the subsidised supplier gains too) and L's
      consumers pay 80; the stockpile buys S_C(75) - D_L(80) + ES_M(70) = 130 - 20 + 30 = 140 kt
      (C's own consumers are priced out: their choke price is 40).
    """
    regions = ("L", "C", "M")
    t = symmetric_cost(regions, {("C", "L"): 5, ("M", "L"): 10, ("C", "M"): 40})
    market = linear_market({"L": (100, 1), "C": (40, 1), "M": (80, 1)},
                           {"C": (10, 0.5), "M": (30, 1)}, t)
    C, M = Linear(40, 1, 10, 0.5), Linear(80, 1, 30, 1)
    base = solve(market)
    assert close(base.regions.loc["C", "supply_price"], 38.75)
    assert close(base.regions.loc["L", "border_price"], 43.75)
    assert close(base.regions.loc["M", "border_price"], M.autarky)

    f, budget = 80.0, 20_000.0
    only_m = solve(market, Scenario("M only", floors=(StockpileFloor("L", f, budget, ("M",)),)))
    assert close(only_m.stockpile["purchases"], M.ES(f - 10))
    assert close(only_m.stockpile_by_origin["C"], 0.0)
    assert close(only_m.regions.loc["M", "producer_price"], f - 10)
    assert close(only_m.regions.loc["C", "supply_price"], base.regions.loc["C", "supply_price"])
    assert close(only_m.regions.loc["L", "border_price"], base.regions.loc["L", "border_price"])
    assert close(only_m.welfare.loc["C", "producer_surplus"], base.welfare.loc["C", "producer_surplus"])

    anyone = solve(market, Scenario("anyone", floors=(StockpileFloor("L", f, budget),)))
    assert close(anyone.regions.loc["C", "supply_price"], f - 5)
    assert close(anyone.regions.loc["L", "border_price"], f)
    assert close(anyone.regions.loc["C", "demand"], 0.0, abs_=1e-5)
    assert close(anyone.stockpile["purchases"], C.S(f - 5) - (100 - f) + M.ES(f - 10))
    assert anyone.welfare.loc["C", "producer_surplus"] > only_m.welfare.loc["C", "producer_surplus"] + 1


# ---------------------------------------------------------------------- CfD floor
def test_cfd_floor_lowers_the_world_price_and_taxpayers_pay(market, free_trade):
    """A CfD guarantees A's producers f = 50: S_A = S_A(f) = 30, imports D_A(p) - 30 clear with
    B's excess supply at p_A = p_B + t:

        p_A = (a_A / b_A - S_A(f) + beta_B t + alpha_B) / (1 / b_A + beta_B) = 41.45

    below the free-trade 43.29. Top-up f - w_A per unit, government cost (f - w_A) S_A(f); B's
    consumers (non-members) gain from the lower world price, A's consumers too.
    """
    f = 50.0
    result = solve(market, Scenario("cfd", floors=(CfdFloor(("A",), f),)))
    s_bar = A.S(f)
    p_a = (A.a / A.b - s_bar + B.beta * HAND_T + B.alpha) / (1 / A.b + B.beta)
    reg = result.regions
    assert close(reg.loc["A", "supply"], s_bar) and close(reg.loc["A", "producer_price"], f)
    assert close(reg.loc["A", "border_price"], p_a) and close(reg.loc["A", "consumer_price"], p_a)
    assert close(reg.loc["B", "border_price"], p_a - HAND_T)
    assert close(result.wedges.loc["A", "cfd_topup"], f - p_a)
    assert close(result.welfare.loc["A", "cfd_cost"], (f - p_a) * s_bar)
    p_a0, p_b0, _ = two_region_trade(HAND_T)
    assert reg.loc["B", "border_price"] < p_b0 - 1                     # world price falls
    change = result.welfare_change(free_trade)
    assert change.loc["B", "consumer_surplus"] > 0                     # non-members' consumers gain
    assert close(change.loc["B", "consumer_surplus"],
                 (p_b0 - (p_a - HAND_T)) * (B.D(p_b0) + B.D(p_a - HAND_T)) / 2)
    assert change.loc["A", "consumer_surplus"] > 0
    assert change.loc["A", "government"] < 0                           # taxpayers pay


# ---------------------------------------------------------------------- export controls
def test_export_ban_stops_flows_and_rent_is_the_price_gap_net_of_transport(market):
    """Each region at autarky (60 and 30); a licence to ship one kg is worth 60 - 30 - 4 = 26.

    Regression: with x <= 0 and x >= 0 both binding the ban's dual is undetermined above 26 and
    Clarabel returned 3,470 USD/kg; the model now reports the smallest supporting rent."""
    result = solve(market, Scenario("ban", quotas=(ExportBan("B", ("A",)),)))
    reg = result.regions
    assert close(result.flows.loc["B", "A"], 0.0, abs_=1e-5)
    assert close(reg.loc["A", "border_price"], A.autarky) and close(reg.loc["B", "border_price"], B.autarky)
    rent = result.quota_rents.loc[0, "rent"]
    assert close(rent, A.autarky - B.autarky - HAND_T)
    assert close(result.quota_rents.loc[0, "shipped"], 0.0, abs_=1e-5)
    assert close(result.welfare.loc["B", "quota_rent"], 0.0, abs_=1e-4)


def test_ban_that_does_not_bind_has_zero_rent(market, free_trade):
    """A would not export anyway: banning A -> B changes nothing and its licences are worthless."""
    result = solve(market, Scenario("ban", quotas=(ExportBan("A"),)))
    assert close(result.quota_rents.loc[0, "rent"], 0.0)
    np.testing.assert_allclose(result.regions.to_numpy(), free_trade.regions.to_numpy(), rtol=1e-7, atol=1e-6)


def test_binding_export_quota_has_a_positive_rent(market):
    """Q = 10 < 27.86: p_A solves ED_A = Q, p_B solves ES_B = Q; rent = p_A - p_B - t = 16.67."""
    q = 10.0
    result = solve(market, Scenario("quota", quotas=(ExportQuota("B", ("A",), q),)))
    p_a, p_b = A.price_for_excess_supply(-q), B.price_for_excess_supply(q)
    rents = result.quota_rents
    assert close(result.flows.loc["B", "A"], q)
    assert close(result.regions.loc["A", "border_price"], p_a)
    assert close(result.regions.loc["B", "border_price"], p_b)
    assert close(rents.loc[0, "rent"], p_a - p_b - HAND_T) and rents.loc[0, "rent"] > 0
    assert close(rents.loc[0, "rent_total"], q * (p_a - p_b - HAND_T))
    assert close(result.welfare.loc["B", "quota_rent"], rents.loc[0, "rent_total"])
    assert close(result.welfare.loc["A", "quota_rent"], 0.0)


def test_slack_export_quota_has_zero_rent(market, free_trade):
    result = solve(market, Scenario("quota", quotas=(ExportQuota("B", ALL, 40.0),)))
    assert close(result.quota_rents.loc[0, "rent"], 0.0)
    np.testing.assert_allclose(result.regions.to_numpy(), free_trade.regions.to_numpy(), rtol=1e-7, atol=1e-6)


# ---------------------------------------------------------------------- producer subsidy
def test_producer_subsidy_shifts_supply_down_by_s(market):
    """A subsidy s to B's producers is the market with B's supply intercept lowered by s; the
    producer price is w + s and the government pays s S_B."""
    s = 6.0
    result = solve(market, Scenario("subsidy", subsidies=(ProducerSubsidy("B", s),)))
    shifted = Linear(B.a, B.b, B.c - s, B.d)
    p_a, p_b, x = two_region_trade(HAND_T, A, shifted)
    reg = result.regions
    assert close(reg.loc["A", "border_price"], p_a) and close(reg.loc["B", "border_price"], p_b)
    assert close(reg.loc["B", "producer_price"], p_b + s)
    assert close(reg.loc["B", "supply"], B.S(p_b + s))
    assert close(result.flows.loc["B", "A"], x)
    assert close(result.wedges.loc["B", "subsidy"], s)
    assert close(result.welfare.loc["B", "subsidy_cost"], s * B.S(p_b + s))
    same = solve(hand_market(b=shifted))
    np.testing.assert_allclose(reg[["border_price", "demand", "supply"]].to_numpy(),
                               same.regions[["border_price", "demand", "supply"]].to_numpy(), rtol=1e-7)


# ---------------------------------------------------------------------- bloc
def test_bloc_removes_internal_tariffs_and_taxes_only_outsiders():
    """A levies 10 on everyone; the bloc {A, M} removes it on M and adds its external tariff 3 on
    imports into members from the outsider C (so C -> A pays 13, C -> M pays 3)."""
    regions = ("A", "M", "C")
    t = symmetric_cost(regions, {("A", "M"): 3, ("A", "C"): 2, ("M", "C"): 6})
    market = linear_market({"A": (150, 1), "M": (60, 1), "C": (50, 1)},
                           {"A": (40, 2), "M": (10, 1), "C": (5, 0.5)}, t)
    scenario = Scenario("bloc", tariffs=(Tariff(ALL, "A", specific=10.0),), bloc=Bloc(("A", "M"), 3.0))
    imp, exp = policy_trade_costs(market, scenario, None)
    expected = pd.DataFrame(0.0, index=regions, columns=regions)
    expected.loc["C", "A"], expected.loc["C", "M"] = 13.0, 3.0
    np.testing.assert_allclose(imp, expected.to_numpy())
    assert np.all(exp == 0)
    result = solve(market, scenario)
    x = result.flows
    assert x.loc["M", "A"] > 1 and x.loc["C", "A"] > 1                  # both supply A
    assert close(result.welfare.loc["A", "tariff_revenue"], 13.0 * x.loc["C", "A"])
    assert close(result.welfare.loc["M", "tariff_revenue"], 3.0 * x.loc["C", "M"])
    reg = result.regions
    # no arbitrage on the used arcs: M's goods enter A duty free, C's pay 13
    assert close(reg.loc["A", "border_price"], reg.loc["M", "supply_price"] + 3)
    assert close(reg.loc["A", "border_price"], reg.loc["C", "supply_price"] + 2 + 13)
    without = solve(market, Scenario("mfn", tariffs=(Tariff(ALL, "A", specific=10.0),)))
    assert close(without.welfare.loc["A", "tariff_revenue"],
                 10.0 * (without.flows.loc["M", "A"] + without.flows.loc["C", "A"]))


# ---------------------------------------------------------------------- solvers and curve families
HAND_SCENARIOS = {
    "free": Scenario("free"),
    "tariff": Scenario("tariff", tariffs=(Tariff("B", "A", specific=6.0),)),
    "levy": Scenario("levy", floors=(GuaranteedPrice(("A",), 50.0),)),
    "cfd": Scenario("cfd", floors=(CfdFloor(("A",), 50.0),)),
    "stock": Scenario("stock", floors=(StockpileFloor("A", 50.0, 500.0),)),
    "quota": Scenario("quota", quotas=(ExportQuota("B", ("A",), 10.0),)),
}


@pytest.mark.parametrize("name", list(HAND_SCENARIOS))
def test_osqp_agrees_with_clarabel(market, name):
    scenario = HAND_SCENARIOS[name]
    clarabel = EquilibriumModel(market, scenario).solve()
    osqp = EquilibriumModel(market, scenario, solver="OSQP").solve()
    assert_no_nan(osqp)
    assert_welfare_identities(osqp, rel=1e-4)
    scale = float(clarabel.regions[["border_price", "supply_price"]].abs().to_numpy().max())
    np.testing.assert_allclose(osqp.regions.to_numpy(), clarabel.regions.to_numpy(), rtol=1e-4,
                               atol=1e-4 * scale)
    np.testing.assert_allclose(osqp.welfare.to_numpy(), clarabel.welfare.to_numpy(), rtol=1e-4,
                               atol=1e-4 * abs(clarabel.objective))
    assert osqp.objective == pytest.approx(clarabel.objective, rel=1e-4)


def iso_market() -> Market:
    regions = ("A", "B", "C")
    t = symmetric_cost(regions, {("A", "B"): 4, ("A", "C"): 2, ("B", "C"): 3})
    demand = {"A": IsoelasticCurve("demand", 50.0, 60.0, -0.6), "B": IsoelasticCurve("demand", 45.0, 20.0, -1.4),
              "C": IsoelasticCurve("demand", 48.0, 30.0, -0.8)}
    supply = {"A": IsoelasticCurve("supply", 50.0, 25.0, 0.4), "B": IsoelasticCurve("supply", 45.0, 70.0, 1.2),
              "C": IsoelasticCurve("supply", 48.0, 15.0, 0.3)}
    return Market("iso", regions, demand, supply, t)


@pytest.mark.parametrize("scenario", [Scenario("free"), Scenario("levy", floors=(GuaranteedPrice(("A",), 55.0),)),
                                      Scenario("cfd", floors=(CfdFloor(("A", "C"), 55.0),))],
                         ids=["free", "levy", "cfd"])
def test_isoelastic_market_solves_and_clears(scenario):
    """A power-cone programme: markets clear, no arbitrage, and every region sits on its curves
    (P_d(D) = consumer price, P_s(S) = producer price) to solver tolerance."""
    market = iso_market()
    result = EquilibriumModel(market, scenario).solve()
    assert_no_nan(result)
    assert_market_clearing(result, tol=1e-5)
    assert_no_arbitrage(result, tol=1e-4)
    assert_welfare_identities(result, rel=1e-6)
    reg = result.regions
    for r in market.regions:
        assert market.demand[r].price(reg.loc[r, "demand"]) == pytest.approx(reg.loc[r, "consumer_price"], rel=1e-4)
        assert market.supply[r].price(reg.loc[r, "supply"]) == pytest.approx(reg.loc[r, "producer_price"], rel=1e-4)
    for floor in scenario.floors:
        for r in floor.regions:
            assert reg.loc[r, "producer_price"] >= floor.level * (1 - 1e-5)


def test_isoelastic_low_supply_elasticity_is_solved_accurately():
    """Regression: with supply elasticity 0.25 the area term is Q**5; written unscaled the power
    cone worked on numbers ~1e9 and Clarabel reported "optimal" at a point with supply 70% off.
    Here the benchmark point (P0 = 50 everywhere, no transport cost, balanced) is the equilibrium."""
    regions = ("A", "B")
    t = symmetric_cost(regions, {("A", "B"): 0.0})
    market = Market("iso", regions,
                    {"A": IsoelasticCurve("demand", 50.0, 110.0, -1.75), "B": IsoelasticCurve("demand", 50.0, 40.0, -0.7)},
                    {"A": IsoelasticCurve("supply", 50.0, 55.0, 0.25), "B": IsoelasticCurve("supply", 50.0, 95.0, 0.42)}, t)
    result = EquilibriumModel(market).solve()
    reg = result.regions
    np.testing.assert_allclose(reg["supply"], [55.0, 95.0], rtol=1e-3)
    np.testing.assert_allclose(reg["demand"], [110.0, 40.0], rtol=1e-3)
    np.testing.assert_allclose(reg["border_price"], [50.0, 50.0], rtol=1e-3)
