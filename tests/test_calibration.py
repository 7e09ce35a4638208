"""Benchmark replication (MODEL.md §1, "Benchmark replication"): with the base scenario the
calibrated model returns the base-year production S0, consumption D0 and prices P0; every
scenario is a deviation from it. Plus: a parametric re-solve of a built model gives the same
result as a freshly built model.

Random benchmarks: regions placed in a plane with transport costs proportional to distance
(so the costs satisfy the triangle inequality, as freight does), production and consumption drawn
and scaled to balance, elasticities drawn per region. Observed tolerances (solver: Clarabel):
linear curves replicate to ~1e-8 relative; isoelastic (power-cone) curves to ~1e-4 in quantities
and ~1e-5 in prices, hence 1e-3 there.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from model_fixtures import assert_equilibrium, assert_welfare_identities, transport_matrix
from models import (ALL, Bloc, CfdFloor, ExportQuota, GuaranteedPrice, ModelInputError, Scenario,
                    StockpileFloor, Tariff, calibrate_benchmark)

SETTINGS = settings(max_examples=30, deadline=None, derandomize=True, database=None,
                    phases=(Phase.explicit, Phase.generate),
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def floats(lo, hi):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def demand_elasticities(curve: str):
    """Demand elasticities in [-2.5, -0.1]. For isoelastic curves the band |e + 1| < 0.15 is left
    out: there the area term (Q/Q0)**(1 + 1/e) has an exponent near 0, the power cone is badly
    conditioned, and Clarabel fails on ~10% of such markets with a typed SolverError (reported)."""
    if curve == "linear":
        return floats(-2.5, -0.1)
    return st.one_of(floats(-2.5, -1.15), floats(-0.85, -0.1))


@st.composite
def base_years(draw, curve: str = "linear", observed: bool = False, base_tariff: bool = False):
    n = draw(st.integers(2, 6))
    regions = tuple(f"R{k}" for k in range(n))
    points = np.array([[draw(floats(0, 10)), draw(floats(0, 10))] for _ in regions])
    per_unit = draw(floats(0.05, 0.5))
    t = np.linalg.norm(points[:, None, :] - points[None, :, :], axis=2) * per_unit
    production = np.array([draw(floats(1, 100)) for _ in regions])
    consumption = np.array([draw(floats(1, 100)) for _ in regions])
    consumption *= production.sum() / consumption.sum()
    # a pure exporter and a pure importer now and then (no curve on that side)
    if n >= 3 and draw(st.booleans()):
        consumption[0] += consumption[1]
        consumption[1] = 0.0
        production[0] = 0.0
        production[2:] *= (consumption.sum() - production[1]) / production[2:].sum()
    ed = pd.Series([draw(demand_elasticities(curve)) for _ in regions], index=regions)
    es = pd.Series([draw(floats(0.1, 2.5)) for _ in regions], index=regions)
    reference = draw(st.sampled_from(regions))
    base = Scenario("benchmark")
    if base_tariff:
        base = Scenario("benchmark", tariffs=(Tariff(regions[-1], ALL, specific=draw(floats(0, 3))),))
    kwargs = dict(mineral="test", regions=regions, production=pd.Series(production, index=regions),
                  consumption=pd.Series(consumption, index=regions), reference_price=draw(floats(20, 200)),
                  reference_region=reference, transport_cost=transport_matrix(regions, t),
                  demand_elasticity=ed, supply_elasticity=es, curve=curve, base_scenario=base)
    bench = calibrate_benchmark(**kwargs)
    if observed:
        # an exporter's observed domestic price below the implied one becomes its export wedge
        exporters = [r for r in regions if production[regions.index(r)] > consumption[regions.index(r)]
                     and r != reference]
        if exporters:
            who = draw(st.sampled_from(exporters))
            kwargs["observed_prices"] = {who: float(bench.prices[who]) * draw(floats(0.5, 0.95))}
            bench = calibrate_benchmark(**kwargs)
    return bench, kwargs


def supply_prices(bench) -> pd.Series:
    """W0: the price each supply curve was calibrated at (its price at S0)."""
    return pd.Series({r: float(c.price(bench.production[r])) for r, c in bench.market.supply.items()})


def assert_replicates(bench, rel_q: float, rel_p: float) -> None:
    result = bench.solve()
    reg = result.regions
    s0, d0, p0 = bench.production, bench.consumption, bench.prices
    q_scale = float(max(s0.max(), d0.max()))
    np.testing.assert_allclose(reg["supply"], s0, rtol=rel_q, atol=rel_q * q_scale)
    np.testing.assert_allclose(reg["demand"], d0, rtol=rel_q, atol=rel_q * q_scale)
    np.testing.assert_allclose(reg["net_exports"], s0 - d0, atol=rel_q * q_scale)
    consumes, produces = d0 > 0, s0 > 0
    np.testing.assert_allclose(reg.loc[consumes, "border_price"], p0[consumes], rtol=rel_p)
    np.testing.assert_allclose(reg.loc[consumes, "consumer_price"], p0[consumes], rtol=rel_p)
    w0 = supply_prices(bench)
    np.testing.assert_allclose(reg.loc[produces, "producer_price"], w0[s0.index[produces]], rtol=rel_p)
    # the base export wedge is the price gap the exporter's producers see
    for region, wedge in bench.export_wedge.items():
        if wedge > 0:
            observed = bench.prices[region]
            assert reg.loc[region, "supply_price"] == pytest.approx(observed, rel=rel_p)
            assert result.welfare.loc[region, "export_tax_revenue"] == pytest.approx(
                wedge * reg.loc[region, "exports"], rel=max(rel_p, rel_q), abs=1e-6 * q_scale)
    return result


@SETTINGS
@given(base_years(curve="linear"))
def test_linear_benchmark_replicates_base_year(case):
    bench, _ = case
    result = assert_replicates(bench, rel_q=1e-5, rel_p=1e-5)
    assert_equilibrium(result)


@SETTINGS
@given(base_years(curve="linear", base_tariff=True))
def test_linear_benchmark_with_base_tariff_replicates_base_year(case):
    bench, _ = case
    assert_replicates(bench, rel_q=1e-5, rel_p=1e-5)


@SETTINGS
@given(base_years(curve="linear", observed=True))
def test_linear_benchmark_with_observed_exporter_price_replicates_base_year(case):
    """The observed price below the implied one: the gap becomes an export tax on all the
    exporter's shipments, and its producers are calibrated at the observed price."""
    bench, kwargs = case
    assert_replicates(bench, rel_q=1e-5, rel_p=1e-5)
    for region, observed in (kwargs.get("observed_prices") or {}).items():
        assert bench.export_wedge[region] > 0
        assert bench.prices[region] == pytest.approx(observed)
        assert any(tax.origin == region for tax in bench.base_scenario.export_taxes)


@SETTINGS
@given(base_years(curve="isoelastic"))
def test_isoelastic_benchmark_replicates_base_year(case):
    bench, _ = case
    result = assert_replicates(bench, rel_q=1e-3, rel_p=1e-3)
    assert_welfare_identities(result, rel=1e-6)


@SETTINGS
@given(base_years(curve="isoelastic", observed=True))
def test_isoelastic_benchmark_with_observed_exporter_price_replicates_base_year(case):
    bench, _ = case
    assert_replicates(bench, rel_q=1e-3, rel_p=1e-3)


def test_mapping_inputs_are_accepted():
    """Regression: production etc. given as plain dicts (documented as "Series or mapping") raised
    TypeError because np.ndim(dict) == 0 sent them down the scalar branch."""
    regions = ("A", "B")
    t = transport_matrix(regions, [[0, 2], [2, 0]])
    bench = calibrate_benchmark("test", regions, {"B": 60.0, "A": 40.0}, {"A": 70.0, "B": 30.0}, 50.0, "A",
                                t, {"A": -0.5, "B": -0.8}, {"A": 0.4, "B": 0.9})
    assert bench.production.to_dict() == {"A": 40.0, "B": 60.0}
    assert bench.prices["B"] == pytest.approx(48.0)
    assert_replicates(bench, rel_q=1e-5, rel_p=1e-5)


def test_export_wedge_on_a_region_that_also_imports_is_rejected():
    """With costs that break the triangle inequality through an exporter (C -> X -> D is cheaper
    than C -> D), the base flows have X import and export at once; a uniform export wedge on X
    then changes the cost-minimising flows and the model would not replicate the base year (it
    was off by ~3% before this check), so calibration refuses it instead of returning a benchmark
    that silently does not replicate."""
    regions = ("X", "C", "D")
    t = transport_matrix(regions, [[0, 5, 1], [1, 0, 20], [5, 5, 0]])
    kwargs = dict(mineral="test", regions=regions, production={"X": 60.0, "C": 40.0, "D": 0.0},
                  consumption={"X": 30.0, "C": 0.0, "D": 70.0}, reference_price=50.0,
                  reference_region="D", transport_cost=t, demand_elasticity=-0.5, supply_elasticity=0.5)
    bench = calibrate_benchmark(**kwargs)
    assert bench.flows.loc["C", "X"] > 1                          # X imports from C ...
    assert bench.flows.loc["X", "D"] > 1                          # ... and exports to D
    with pytest.raises(ModelInputError) as err:
        calibrate_benchmark(**kwargs, observed_prices={"X": 40.0})
    assert err.value.field == "observed_prices[X]" and "40.0" in str(err.value)


def test_an_observed_price_the_calibration_cannot_encode_is_refused_not_ignored():
    """Above the implied price (an export subsidy) or below it for a net importer, an observed
    domestic price used to be dropped without a word; it is now a typed error naming it."""
    regions = ("X", "C", "D")
    t = transport_matrix(regions, [[0, 1, 1], [1, 0, 2], [1, 2, 0]])
    kwargs = dict(mineral="test", regions=regions, production={"X": 60.0, "C": 40.0, "D": 0.0},
                  consumption={"X": 30.0, "C": 0.0, "D": 70.0}, reference_price=50.0,
                  reference_region="D", transport_cost=t, demand_elasticity=-0.5, supply_elasticity=0.5)
    implied = float(calibrate_benchmark(**kwargs).supply_prices["X"])
    with pytest.raises(ModelInputError, match="export subsidy") as err:
        calibrate_benchmark(**kwargs, observed_prices={"X": implied + 5.0})
    assert err.value.field == "observed_prices[X]"
    same = calibrate_benchmark(**kwargs, observed_prices={"X": implied})
    assert same.export_wedge["X"] == 0.0
    importer = dict(kwargs, production={"X": 20.0, "C": 80.0, "D": 0.0})
    implied_importer = float(calibrate_benchmark(**importer).supply_prices["X"])
    with pytest.raises(ModelInputError, match="net exporter") as err:
        calibrate_benchmark(**importer, observed_prices={"X": implied_importer - 5.0})
    assert err.value.field == "observed_prices[X]"


def test_export_wedge_with_tied_routes_through_the_exporter_replicates():
    """C -1- X -1- D on a line: shipping C -> D costs exactly C -> X plus X -> D, so serving X's
    consumers from C while X exports is as cheap as shipping directly, and the interior-point
    solution of the transportation problem mixes both. The calibration then takes the equally
    cheap pattern in which X imports nothing, and the export wedge replicates."""
    regions = ("X", "C", "D")
    t = transport_matrix(regions, [[0, 1, 1], [1, 0, 2], [1, 2, 0]])
    kwargs = dict(mineral="test", regions=regions, production={"X": 60.0, "C": 40.0, "D": 0.0},
                  consumption={"X": 30.0, "C": 0.0, "D": 70.0}, reference_price=50.0,
                  reference_region="D", transport_cost=t, demand_elasticity=-0.5, supply_elasticity=0.5)
    plain = calibrate_benchmark(**kwargs)
    assert plain.flows.loc["C", "X"] > 1                          # the tie, as the solver left it
    bench = calibrate_benchmark(**kwargs, observed_prices={"X": 40.0})
    assert bench.flows.loc["C", "X"] == pytest.approx(0.0, abs=1e-6)
    assert bench.export_wedge["X"] == pytest.approx(50.0 - 1.0 - 40.0)
    assert_replicates(bench, rel_q=1e-5, rel_p=1e-5)


# ---------------------------------------------------------------------- parametric re-solve
@pytest.fixture(scope="module")
def bench():
    regions = ("CHN", "USA", "EU", "JPN", "AUS")
    points = np.array([[0, 0], [8, 1], [5, 6], [1, 2], [3, -6]], dtype=float)
    t = np.linalg.norm(points[:, None] - points[None], axis=2) * 0.4
    production = pd.Series([150.0, 10.0, 5.0, 2.0, 40.0], index=regions)
    consumption = pd.Series([120.0, 35.0, 25.0, 22.0, 5.0], index=regions)
    return calibrate_benchmark("ndpr", regions, production, consumption, 60.0, "EU",
                               transport_matrix(regions, t), -0.6, 0.8, observed_prices={"CHN": 45.0})


def scenario_with(name: str, value: float, base: Scenario) -> Scenario:
    """The scenario a freshly built model would get for a swept value."""
    members = ("USA", "EU", "JPN", "AUS")
    if name == "floor_level":
        return base.extend(floors=(GuaranteedPrice(("USA", "EU"), value), CfdFloor(("AUS",), value)))
    if name == "budget":
        return base.extend(floors=StockpileFloor("USA", 75.0, value, ("AUS", "USA")))
    if name == "external_tariff":
        return base.extend(bloc=Bloc(members, value))
    if name == "quota":
        return base.extend(quotas=ExportQuota("CHN", ("USA", "EU", "JPN"), value))
    raise AssertionError(name)


PARAMETERS = {"floor_level": (70.0, 85.0, 100.0), "budget": (0.0, 500.0, 3000.0),
              "external_tariff": (0.0, 5.0, 15.0), "quota": (0.0, 20.0, 60.0)}


@pytest.mark.parametrize("name", list(PARAMETERS))
def test_parametric_resolve_equals_a_freshly_built_model(bench, name):
    values = PARAMETERS[name]
    first = scenario_with(name, values[0], bench.base_scenario)
    model = bench.model(first)
    model.solve()
    sweep = model.sweep(name, values)
    for value in reversed(values):                       # out of order: state must not leak
        resolved = model.solve(**{name: value})
        fresh = bench.model(scenario_with(name, value, bench.base_scenario)).solve()
        assert_equilibrium(resolved)
        np.testing.assert_allclose(resolved.regions.to_numpy(), fresh.regions.to_numpy(), rtol=1e-6, atol=1e-5)
        np.testing.assert_allclose(resolved.flows.to_numpy(), fresh.flows.to_numpy(), atol=1e-4)
        np.testing.assert_allclose(resolved.welfare.to_numpy(), fresh.welfare.to_numpy(), rtol=1e-6,
                                   atol=1e-6 * abs(fresh.objective))
        assert resolved.objective == pytest.approx(fresh.objective, rel=1e-7)
        table = sweep.table[sweep.table[name] == value].set_index("region")
        for col in ("border_price", "consumer_price", "producer_price", "demand", "supply", "net_exports"):
            np.testing.assert_allclose(table[col].to_numpy(), fresh.regions[col].to_numpy(), rtol=1e-6, atol=1e-5)


def test_sweep_restores_the_scenarios_values(bench):
    scenario = scenario_with("floor_level", 85.0, bench.base_scenario)
    model = bench.model(scenario)
    before = model.solve().regions
    model.sweep("floor_level", [70.0, 100.0])
    after = model.solve().regions
    np.testing.assert_allclose(after.to_numpy(), before.to_numpy(), rtol=1e-7, atol=1e-6)


def test_base_scenario_policies_replicate_and_a_scenario_deviates(bench):
    """The benchmark with its base export wedge replicates; a levy floor deviates from it, and the
    welfare change against the replicated benchmark is what the book reports."""
    base = bench.solve()
    np.testing.assert_allclose(base.regions["supply"], bench.production, rtol=1e-6)
    assert bench.export_wedge["CHN"] > 0
    floor = bench.solve(bench.base_scenario.extend(floors=GuaranteedPrice(("USA", "EU"), 80.0)))
    change = floor.welfare_change(base)
    assert change.loc["USA", "consumer_surplus"] < 0 and change.loc["USA", "producer_surplus"] > 0
    assert floor.regions.loc["USA", "consumer_price"] == pytest.approx(80.0)
