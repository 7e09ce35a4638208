"""The certificate every solve runs (models/certificate.py), and degenerate markets solved exactly.

Degenerate markets (full autarky, bans on every route, floors above every choke price, regions
with only demand or only supply, zero budgets, steep and flat curves within the accepted range)
must pass the certificate with every installed solver and give the same prices and quantities
whichever solver is used: where the equilibrium leaves a price undetermined, the documented
convention (the region's own curve at zero quantity) makes it so. On random markets scaled over
many orders of magnitude a first-order solver (OSQP, SCS) may refuse loudly instead (its own
inaccurate status, or the certificate); it may never return an uncertified answer.
"""
from __future__ import annotations

import dataclasses

import cvxpy as cp
import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from model_fixtures import Linear, linear_market, transport_matrix
from models import (EquilibriumModel, ExportBan, InaccurateSolutionError, GuaranteedPrice, LinearCurve, Market,
                    ModelInputError, Scenario, SolverError, StockpileFloor, calibrate_curve)
from models import certificate
from models.certificate import Complementarity, certify

SOLVERS = [s for s in ("CLARABEL", "OSQP", "SCS") if s in cp.installed_solvers()]
SETTINGS = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                    phases=(Phase.explicit, Phase.generate),
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
#: Agreement across solvers, relative to the market's price / quantity scale (OSQP and SCS are
#: first-order methods: 1e-4 of the scale is well above their noise at the model's settings).
AGREE = 1e-4
FIELDS = ("border_price", "supply_price", "consumer_price", "producer_price", "demand", "supply")


def _solve_all(market: Market, scenario: Scenario, refusals: bool = False) -> dict:
    """Each installed solver's certified result. With ``refusals``, a first-order solver (OSQP,
    SCS) may instead refuse loudly with the package's SolverError (it does on markets scaled over
    many orders of magnitude); Clarabel, the default, must always certify."""
    out = {}
    for s in SOLVERS:
        model = EquilibriumModel(market, scenario, solver=s)
        if refusals and s != "CLARABEL":
            try:
                out[s] = model.solve()
            except SolverError:
                continue
        else:
            out[s] = model.solve()
    return out


def _assert_agree(results: dict) -> None:
    """Quantities agree to ``AGREE`` of the largest quantity; prices to ``AGREE`` of the largest
    price plus what a quantity within that tolerance moves the price on the region's own curve
    (``|slope| × AGREE × Q``): a curve calibrated steep at its benchmark can meet the others far
    from it, where the price is as well determined as the quantity times the slope (the same
    either-axis reading as the certificate's curve conditions)."""
    ref = results["CLARABEL"].regions
    market = results["CLARABEL"].market
    p_scale = max(1.0, float(ref[["border_price", "supply_price"]].abs().max().max()))
    q_scale = max(1.0, float(ref[["demand", "supply"]].abs().max().max()))
    slope = {side: np.array([abs(getattr(c, "slope", 0.0)) if c is not None else 0.0
                             for c in (getattr(market, f"{side}_curve")(r) for r in market.regions)])
             for side in ("demand", "supply")}
    for solver, result in results.items():
        assert result.certificate is not None and result.certificate.max() <= 1e-5, solver
        for field in FIELDS:
            gap = np.abs(result.regions[field].to_numpy() - ref[field].to_numpy())
            if field in ("demand", "supply"):
                tol = AGREE * q_scale
            else:
                side = "demand" if field in ("border_price", "consumer_price") else "supply"
                tol = AGREE * (p_scale + slope[side] * q_scale)
            assert np.all(gap <= tol), (solver, field, result.regions[field].tolist(), ref[field].tolist())


# ----------------------------------------------------------------------------- random markets
@st.composite
def degenerate_cases(draw):
    """2–4 regions; each region may lack its demand or its supply curve (at least one of each in
    the market); curves calibrated through a benchmark point with elasticities 1e-3 to 1e3 in
    size; optionally bans on some or all origins, a levy floor above every choke price, a
    stockpile with a zero budget."""
    n = draw(st.integers(2, 4))
    regions = tuple(f"R{k}" for k in range(n))
    magnitudes = st.sampled_from([1e-3, 1e-2, 0.1, 0.5, 2.0, 10.0, 1e2, 1e3])
    has_d = [draw(st.booleans()) or k == 0 for k in range(n)]
    has_s = [draw(st.booleans()) or k == n - 1 for k in range(n)]
    demand = {r: calibrate_curve("linear", "demand", draw(st.floats(20, 200)), draw(st.floats(1, 100)),
                                 -draw(magnitudes)) for r, h in zip(regions, has_d) if h}
    supply = {r: calibrate_curve("linear", "supply", draw(st.floats(20, 200)), draw(st.floats(1, 100)),
                                 draw(magnitudes)) for r, h in zip(regions, has_s) if h}
    t = np.array([[0.0 if i == j else draw(st.floats(0, 20)) for j in range(n)] for i in range(n)])
    market = Market("random", regions, demand, supply, transport_matrix(regions, t))
    banned = draw(st.lists(st.sampled_from(regions), unique=True))
    floors = []
    if draw(st.booleans()):
        # above every choke price, unless the floor's supply bound on a flat curve would reach
        # 1e4 kt (a market scaled over ten orders of magnitude, refused loudly, tested elsewhere)
        covered = draw(st.sampled_from([r for r in regions if r in demand or r in supply]))
        level = 1.5 * max(c.intercept for c in demand.values())
        if covered not in supply or supply[covered].quantity_at(level) < 1e4:
            floors.append(GuaranteedPrice((covered,), level))
    if draw(st.booleans()):
        floors.append(StockpileFloor(draw(st.sampled_from(regions)), 50.0, 0.0))
    scenario = Scenario(quotas=tuple(ExportBan(r) for r in banned), floors=tuple(floors))
    return market, scenario


@SETTINGS
@given(degenerate_cases())
def test_degenerate_random_markets_are_certified_and_agree_across_solvers(case):
    market, scenario = case
    _assert_agree(_solve_all(market, scenario, refusals=True))


@SETTINGS
@given(st.sampled_from(["linear", "isoelastic"]), st.sampled_from(["demand", "supply"]),
       st.sampled_from([1e-6, 1e-5, 1e-4, 1e4, 1e5]))
def test_elasticities_outside_the_range_are_refused_up_front(family, side, size):
    if family == "isoelastic" and size == 1e4:
        size = 1e5
    elasticity = -size if side == "demand" else size
    with pytest.raises(ModelInputError, match="between"):
        calibrate_curve(family, side, 80.0, 10.0, elasticity)


# ----------------------------------------------------------------------------- degenerate cases
@pytest.fixture()
def three():
    """Three regions with both curves, ``P_d = a − b D`` and ``P_s = c + d S``."""
    curves = {"A": (200.0, 2.0, 10.0, 1.0), "B": (300.0, 1.0, 50.0, 2.0), "C": (150.0, 3.0, 20.0, 0.5)}
    regions = tuple(curves)
    t = transport_matrix(regions, [[0, 1, 2], [1, 0, 1.5], [2, 1.5, 0]])
    market = linear_market({r: (a, b) for r, (a, b, _, _) in curves.items()},
                           {r: (c, d) for r, (_, _, c, d) in curves.items()}, t)
    return market, {r: Linear(*v) for r, v in curves.items()}


def test_bans_on_every_route_give_each_regions_autarky_price(three):
    market, algebra = three
    results = _solve_all(market, Scenario(quotas=tuple(ExportBan(r) for r in market.regions)))
    _assert_agree(results)
    for r, lin in algebra.items():
        assert results["CLARABEL"].regions.loc[r, "border_price"] == pytest.approx(lin.autarky, rel=1e-7)
        assert results["CLARABEL"].regions.loc[r, "supply_price"] == pytest.approx(lin.autarky, rel=1e-7)


def test_a_floor_above_every_choke_price_is_solver_independent(three):
    market, _ = three
    results = _solve_all(market, Scenario(floors=(GuaranteedPrice(("A", "B"), 10_000.0),)))
    _assert_agree(results)
    # C produces nothing and ships nothing: its supply price is its entry price (the intercept)
    assert results["CLARABEL"].regions.loc["C", "supply_price"] == pytest.approx(20.0)


def test_only_demand_or_only_supply_regions_cut_off_by_bans():
    regions = ("D", "S", "X")
    t = transport_matrix(regions, [[0, 1, 1], [1, 0, 1], [1, 1, 0]])
    market = Market("m", regions, {"D": LinearCurve("demand", 120.0, -1.0), "X": LinearCurve("demand", 90.0, -1.0)},
                    {"S": LinearCurve("supply", 15.0, 1.0), "X": LinearCurve("supply", 30.0, 1.0)}, t)
    results = _solve_all(market, Scenario(quotas=(ExportBan("S"), ExportBan("X"))))
    _assert_agree(results)
    r = results["CLARABEL"].regions
    assert r.loc["D", "border_price"] == pytest.approx(120.0)        # the choke price
    assert r.loc["S", "supply_price"] == pytest.approx(15.0)         # the entry price
    assert r.loc["X", "border_price"] == pytest.approx(60.0)         # X's own autarky
    assert r.loc["D", "demand"] == pytest.approx(0.0, abs=1e-7)


def test_zero_stockpile_budget_and_zero_quota(three):
    market, _ = three
    scenario = Scenario(floors=(StockpileFloor("A", 500.0, 0.0),), quotas=(ExportBan("B", ("A",)),))
    results = _solve_all(market, scenario)
    _assert_agree(results)
    assert results["CLARABEL"].stockpile["purchases"] == pytest.approx(0.0, abs=1e-7)


# ----------------------------------------------------------------------------- the certificate
def test_certificate_is_on_every_result_and_small(three):
    market, _ = three
    result = EquilibriumModel(market).solve()
    assert set(result.certificate.index) >= {"market clearing", "no spatial arbitrage", "demand curve",
                                             "supply curve", "welfare identity"}
    assert result.certificate.max() < 1e-7


def test_a_wrong_price_is_refused_naming_condition_region_and_residual(three):
    market, _ = three
    model = EquilibriumModel(market)
    raw = model.solve().raw
    bad = dataclasses.replace(raw, border_price=raw.border_price + np.array([0.0, 5.0, 0.0]))
    with pytest.raises(InaccurateSolutionError) as info:
        certify(market, model._trade_cost, bad, certificate.policy_checks(model, bad))
    message = str(info.value)
    assert "B" in message.split(" at ")[1].split()[0] and "scaled residual" in message and "tolerance" in message


def test_a_wrong_quantity_fails_the_welfare_identity_or_clearing(three):
    market, _ = three
    model = EquilibriumModel(market)
    raw = model.solve().raw
    bad = dataclasses.replace(raw, objective=raw.objective * 1.01)
    with pytest.raises(InaccurateSolutionError, match="welfare identity"):
        certify(market, model._trade_cost, bad)


def test_a_policy_check_is_a_complementarity_pair():
    check = Complementarity("cap", np.array([0.0, 2.0, -1.0]), np.array([3.0, 0.0, 0.0]), ("a", "b", "c"))
    assert check.residuals(1.0, 1.0).tolist() == [0.0, 0.0, 1.0]


def test_every_sweep_step_is_certified(three, monkeypatch):
    market, _ = three
    model = EquilibriumModel(market, Scenario(floors=(GuaranteedPrice(("A",), 90.0),)))
    calls = []
    real = certificate.certify
    monkeypatch.setattr(certificate, "certify", lambda *a, **k: calls.append(1) or real(*a, **k))
    model.sweep("floor_level", [80.0, 90.0, 100.0])
    assert len(calls) == 3
