"""Benchmark replication on the project's data: with base policies, the model returns the base year."""
import time

import numpy as np
import pytest

from models import benchmark_from_dataset
from models.data import load_dataset

DS = load_dataset()
CASES = [(m, h, w) for m in DS.mineral_ids for h in ("short", "long") for w in ("low", "central", "high")]


@pytest.mark.parametrize("mineral,horizon,which", CASES, ids=["-".join(c) for c in CASES])
def test_base_year_is_replicated(mineral, horizon, which):
    bench = benchmark_from_dataset(DS, mineral, horizon=horizon, which=which)
    result = bench.solve()
    scale = float(bench.production.sum())
    regions = result.regions
    assert np.abs(regions["supply"] - bench.production).max() <= 1e-6 * scale
    assert np.abs(regions["demand"] - bench.consumption).max() <= 1e-6 * scale
    consumers = bench.consumption > 0
    price_gap = np.abs(regions["consumer_price"] - bench.prices)[consumers]
    # Prices are duals: with steep short-run curves (slope P0 / (e D0) up to ~60 USD/kg per kt)
    # a quantity error at solver tolerance moves a price by up to ~1e-4 of its level.
    assert price_gap.max() <= 1e-4 * float(bench.prices.max())
    assert not result.welfare.isna().any().any()


@pytest.mark.parametrize("mineral", DS.mineral_ids)
def test_isoelastic_benchmark_is_replicated(mineral):
    bench = benchmark_from_dataset(DS, mineral, curve="isoelastic")
    result = bench.solve()
    scale = float(bench.production.sum())
    assert np.abs(result.regions["supply"] - bench.production).max() <= 1e-3 * scale
    assert np.abs(result.regions["demand"] - bench.consumption).max() <= 1e-3 * scale


def test_china_export_wedge_matches_the_quoted_price_gap():
    """Gallium: China's domestic price is quoted below the ex-China price; the gap is the wedge."""
    bench = benchmark_from_dataset(DS, "gallium")
    assert bench.prices["CHN"] == pytest.approx(DS.price("gallium", "china_domestic"))
    assert bench.export_wedge["CHN"] > 0
    assert bench.prices[DS.minerals.set_index("mineral").loc["gallium", "reference_region"]] == pytest.approx(
        DS.price("gallium", "reference"))


def test_subsidy_override_applies_to_a_scenario_with_a_zero_rate():
    """A subsidy sweep starting at zero must move China's supply (it once ignored rate-0 entries)."""
    from models import ProducerSubsidy
    bench = benchmark_from_dataset(DS, "ndpr")
    model = bench.model(bench.base_scenario.extend(subsidies=ProducerSubsidy("CHN", 0.0)))
    base = model.solve(subsidy=0.0).regions.loc["CHN", "supply"]
    flooded = model.solve(subsidy=6.0).regions.loc["CHN", "supply"]
    assert base == pytest.approx(bench.production["CHN"], rel=1e-6)
    assert flooded > base + 1.0


@pytest.mark.parametrize("mineral", [m for m in DS.mineral_ids if DS.wedge_instrument(m)])
def test_benchmark_without_the_export_wedge_is_replicated(mineral):
    """The book shows results with and without China's wedge: both benchmarks replicate the base year."""
    bench = benchmark_from_dataset(DS, mineral, export_wedge=False)
    result = bench.solve()
    scale = float(bench.production.sum())
    assert (bench.export_wedge == 0).all() and not bench.base_scenario.quotas and not bench.base_scenario.export_taxes
    assert np.abs(result.regions["supply"] - bench.production).max() <= 1e-6 * scale
    assert np.abs(result.regions["demand"] - bench.consumption).max() <= 1e-6 * scale


def test_licence_gap_is_a_binding_quota_whose_rent_is_the_gap():
    """Gallium's gap comes from export licences: the benchmark holds China's exports with a quota."""
    bench = benchmark_from_dataset(DS, "gallium")
    (quota,) = bench.base_scenario.quotas
    assert quota.origin == "CHN" and not bench.base_scenario.export_taxes
    exports = float(bench.flows.loc["CHN"].sum() - bench.flows.loc["CHN", "CHN"])
    assert quota.quantity == pytest.approx(exports, rel=1e-9)
    reg = bench.solve().regions
    assert reg.loc["CHN", "supply"] == pytest.approx(bench.production["CHN"], rel=1e-6)
    assert reg.loc["CHN", "producer_price"] == pytest.approx(DS.price("gallium", "china_domestic"), rel=1e-5)


def test_ndpr_wedge_is_a_tax():
    bench = benchmark_from_dataset(DS, "ndpr")
    assert not bench.base_scenario.quotas and len(bench.base_scenario.export_taxes) == 1
    assert 0 < bench.export_wedge["CHN"] < 0.1 * DS.price("ndpr", "reference")


def test_secondary_supply_enters_with_its_own_elasticity():
    """China's NdPr supply is primary plus recycled; its elasticity is the supply-weighted mix."""
    bench = benchmark_from_dataset(DS, "ndpr")
    primary = DS.quantity("ndpr", "refined_production")["CHN"]
    recycled = DS.secondary_supply("ndpr")["CHN"]
    assert bench.production["CHN"] == pytest.approx(primary + recycled)
    assert bench.secondary["CHN"] == pytest.approx(recycled)
    assert bench.production.sum() == pytest.approx(bench.consumption.sum(), rel=1e-9)
    e_p, e_s = DS.elasticity("ndpr", "supply"), DS.elasticity("ndpr", "secondary")
    curve = bench.market.supply["CHN"]
    s0, w0 = bench.production["CHN"], float(curve.price(bench.production["CHN"]))
    slope = float(curve.price(s0 + 1e-3) - curve.price(s0)) / 1e-3        # dP/dS of the linear curve
    assert (w0 / s0) / slope == pytest.approx((e_p * primary + e_s * recycled) / s0, rel=1e-6)


def test_every_mineral_calibrates_in_under_ten_seconds():
    start = time.perf_counter()
    for m in DS.mineral_ids:
        benchmark_from_dataset(DS, m)
    assert time.perf_counter() - start < 10.0
