"""The value chain (models/chain): a case solved by hand, the certificate's identities, exact
replication of the base year at every stage, the one-stage chain equal to the single-good model,
the policies' wedges, and hostile inputs refused with the file, field, value and what is allowed."""
from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from models import Bloc, PreferentialFloor, benchmark_from_dataset
from models.chain import (ChainMarket, ChainModel, ExportControl, Stage, StageCfd, StageFloor, StageStockpile,
                          StageSubsidy, StageTariff)
from models.chain.data import DATA, chain_benchmark, load_chain_data
from models.curves import LinearCurve
from models.errors import DataValidationError, ModelInputError
from data_fixtures import copy_chain_data  # noqa: E402  (tests/ is on the path)
from models.market import Market

TOL = 1e-6


# ---------------------------------------------------------------- a two-region, two-stage case
def two_stage_chain() -> ChainMarket:
    """Ore mined in A only (P^s = 10 + Y); the product made in A (cost 5 + Y) and B (2 + Y) from one
    unit of ore each; final demand in B only (P^d = 100 − D); freight 1 on every arc of both stages."""
    regions = ("A", "B")
    t = pd.DataFrame([[0.0, 1.0], [1.0, 0.0]], index=regions, columns=regions)
    ore = Market("ore", regions, {}, {"A": LinearCurve("supply", 10.0, 1.0)}, t)
    product = Market("product", regions, {"B": LinearCurve("demand", 100.0, -1.0)},
                     {"A": LinearCurve("supply", 5.0, 1.0), "B": LinearCurve("supply", 2.0, 1.0)}, t)
    return ChainMarket("toy", (Stage("ore", ore), Stage("product", product, 1.0)))


def test_two_stage_case_solved_by_hand():
    """Both process: Y_B = Y_A + 3 (B's cost is 3 lower, its ore 1 dearer); P = 19 + 3 Y_A = 97 − 2 Y_A,
    so Y_A = 15.6, Y_B = 18.6, ore price 44.2 at A and 45.2 at B, product price 65.8 in B."""
    r = ChainModel(two_stage_chain()).solve()
    ore, product = r.stage("ore"), r.stage("product")
    assert ore.loc["A", "production"] == pytest.approx(34.2, abs=TOL)
    assert ore.loc["A", "price"] == pytest.approx(44.2, abs=TOL)
    assert ore.loc["B", "price"] == pytest.approx(45.2, abs=TOL)
    assert product.loc["A", "production"] == pytest.approx(15.6, abs=TOL)
    assert product.loc["B", "production"] == pytest.approx(18.6, abs=TOL)
    assert product.loc["B", "price"] == pytest.approx(65.8, abs=TOL)
    assert product.loc["A", "producer_price"] == pytest.approx(64.8, abs=TOL)   # export parity
    assert product.loc["B", "final_demand"] == pytest.approx(34.2, abs=TOL)
    # value added at A's product stage: 64.8 − 44.2 = 5 + Y_A
    assert product.loc["A", "value_added"] == pytest.approx(5 + 15.6, abs=TOL)


def test_floor_on_the_upstream_stage_alone_moves_processing_out_of_the_zone():
    """B (the zone) holds its ore price at 50 by a tariff on A's ore. By hand: Y_B = P − 52,
    Y_A = 2P − 116, p_ore,A = 110 − P and D = 100 − P give P = 67, Y_A = 18, Y_B = 15, ore 43 at A,
    tariff 50 − 43 − 1 = 6: B's processing falls from 18.6 to 15 and A's rises from 15.6 to 18."""
    model = ChainModel(two_stage_chain(), [StageFloor("ore", ("B",), 50.0)])
    r = model.solve()
    ore, product = r.stage("ore"), r.stage("product")
    assert ore.loc["B", "price"] == pytest.approx(50.0, abs=1e-5)
    assert ore.loc["A", "price"] == pytest.approx(43.0, abs=1e-5)
    assert r.wedges["floor_ore"]["tariff"] == pytest.approx(6.0, abs=1e-5)
    assert product.loc["B", "price"] == pytest.approx(67.0, abs=1e-5)
    assert product.loc["A", "production"] == pytest.approx(18.0, abs=1e-5)
    assert product.loc["B", "production"] == pytest.approx(15.0, abs=1e-5)
    # the same built programme, re-solved at another level, matches a fresh build
    again = model.solve(floor_ore=48.0).stage("product")
    fresh = ChainModel(two_stage_chain(), [StageFloor("ore", ("B",), 48.0)]).solve().stage("product")
    assert np.allclose(again[["price", "production"]].to_numpy(), fresh[["price", "production"]].to_numpy(),
                       atol=1e-6, equal_nan=True)


# ---------------------------------------------------------------- the calibrated chains
@pytest.mark.parametrize("mineral", ["rare_earths", "graphite"])
def test_replicates_the_base_year_at_every_stage(dataset, mineral):
    bench = chain_benchmark(mineral, dataset)
    r = ChainModel(bench.chain).solve()
    for s in bench.chain.stage_names:
        st = r.stage(s)
        assert np.allclose(st["production"], bench.production.loc[s], atol=1e-4), s
        assert np.allclose(st["final_demand"], bench.final_demand.loc[s], atol=1e-4), s
        assert np.allclose(st["delivered_price"], bench.prices.loc[s].astype(float), atol=1e-4, equal_nan=True), s
        assert np.allclose(st["producer_price"], bench.producer_prices.loc[s].astype(float), atol=1e-4,
                           equal_nan=True), s


def _no_arbitrage_gaps(bench, r):
    """Largest violation of p_j ≤ w_i + t_ij over all arcs, and largest |p_j − w_i − t_ij| on used arcs."""
    worst_all, worst_used = 0.0, 0.0
    for stage in bench.chain.stages:
        st = r.stage(stage.name)
        t = stage.market.transport_cost
        used = r.flows[r.flows["stage"] == stage.name]
        for i in st.index[st["producer_price"].notna()]:
            for j in st.index[st["delivered_price"].notna()]:
                gap = st.loc[j, "delivered_price"] - st.loc[i, "producer_price"] - t.loc[i, j]
                worst_all = max(worst_all, gap)
        for _, f in used[used.kt > 1e-6].iterrows():
            gap = (st.loc[f.destination, "delivered_price"] - st.loc[f.origin, "producer_price"]
                   - t.loc[f.origin, f.destination])
            worst_used = max(worst_used, abs(gap))
    return worst_all, worst_used


def test_no_arbitrage_at_every_stage(rare_earths):
    r = ChainModel(rare_earths.chain).solve()
    worst_all, worst_used = _no_arbitrage_gaps(rare_earths, r)
    assert worst_all < 1e-5 and worst_used < 1e-5


def test_value_added_adds_up_along_the_chain(rare_earths):
    """Spending on final goods = value added at every stage + trade margins, from the result's own tables."""
    r = ChainModel(rare_earths.chain, [StageSubsidy("oxide", "CHN", 5.0)]).solve()
    spend = va = margins = 0.0
    for stage in rare_earths.chain.stages:
        st = r.stage(stage.name)
        spend += float((st["delivered_price"].fillna(0) * st["final_demand"]).sum())
        va += float((st["value_added"].fillna(0) * st["production"]).sum())
        used = r.flows[r.flows["stage"] == stage.name]
        margins += float(((st.loc[used.destination, "delivered_price"].to_numpy()
                           - st.loc[used.origin, "producer_price"].to_numpy()) * used.kt.to_numpy()).sum())
    assert spend == pytest.approx(va + margins, rel=1e-7)
    assert r.certificate["value added adds up"] < 1e-8
    # per unit, in China (which makes every stage from its own inputs): the magnet's price is the sum
    # of the value added at each stage, each input scaled by the coefficients downstream of it
    chn = {s.name: r.stage(s.name).loc["CHN"] for s in rare_earths.chain.stages}
    a = {s.name: s.coefficient for s in rare_earths.chain.stages}
    built_up = (chn["magnet"].value_added + a["magnet"] * (chn["metal"].value_added + a["metal"] * (
        chn["oxide"].value_added + a["oxide"] * chn["concentrate"].value_added)))
    assert built_up == pytest.approx(chn["magnet"].producer_price, rel=1e-9)


# ---------------------------------------------------------------- one stage = the single-good model
@pytest.mark.parametrize("mineral", ["ndpr", "gallium", "graphite"])
@pytest.mark.parametrize("with_floor", [False, True])
def test_one_stage_chain_equals_equilibrium_model(dataset, mineral, with_floor):
    bench = benchmark_from_dataset(dataset, mineral)
    members = ("USA", "EU", "JPN")
    scenario = bench.base_scenario
    policies = [StageTariff("good", g, origins=(r,), collected_by="exporter", key=f"wedge_{r}")
                for r, g in bench.export_wedge.items() if g > 0]
    if with_floor:
        level = 1.2 * float(bench.prices[list(members)].min())
        scenario = scenario.extend(name="plan", bloc=Bloc(members), floors=PreferentialFloor(level))
        policies.append(StageFloor("good", members, level))
    single = bench.model(scenario).solve()
    chain = ChainModel(ChainMarket.one_stage(bench.market), policies).solve()
    st = chain.stage("good").loc[list(bench.market.regions)]
    regions = single.regions
    has_d, has_s = st["final_demand"] > 0, st["production"] > 0
    assert np.allclose(st["final_demand"], regions["demand"], atol=1e-5)
    assert np.allclose(st["production"], regions["supply"], atol=1e-5)
    assert np.allclose(st["delivered_price"][has_d], regions["consumer_price"][has_d], atol=1e-5)
    assert np.allclose(st["producer_price"][has_s], regions["producer_price"][has_s], atol=1e-5)
    assert chain.welfare["total"].sum() == pytest.approx(single.welfare["total"].sum(), rel=1e-7)
    assert np.allclose(chain.welfare["total"], single.welfare["total"], atol=1e-3)
    if with_floor:
        assert chain.wedges["floor_good"]["tariff"] == pytest.approx(single.zone["tariff"], abs=1e-5)


# ---------------------------------------------------------------- policies read their own wedges
def test_each_policy_compiles_and_reads_its_wedge(rare_earths):
    base = ChainModel(rare_earths.chain).solve()
    p_oxide = float(base.stage("oxide").loc["CHN", "price"])
    ban = ChainModel(rare_earths.chain, [ExportControl("magnet", "CHN", ("USA", "EU", "JPN"), 0.0)]).solve()
    assert ban.wedges["quota_magnet_CHN"]["licence_rent"] > 0
    assert ban.stage("magnet").loc["JPN", "production"] > base.stage("magnet").loc["JPN", "production"]
    stock = ChainModel(rare_earths.chain, [StageStockpile("oxide", "USA", 1.2 * p_oxide, 100.0)]).solve()
    assert stock.wedges["stockpile_oxide"]["purchases_kt"] > 0
    cfd = ChainModel(rare_earths.chain, [StageCfd("oxide", ("USA",), 1.3 * p_oxide,
                                                  input_price=float(rare_earths.prices.loc["concentrate", "USA"]))]).solve()
    assert cfd.wedges["cfd_oxide"]["top_up[USA]"] > 0
    assert cfd.stage("oxide").loc["USA", "production"] > base.stage("oxide").loc["USA", "production"]
    sub = ChainModel(rare_earths.chain, [StageSubsidy("magnet", "CHN", 3.0)]).solve()
    assert sub.stage("magnet").loc["JPN", "production"] < base.stage("magnet").loc["JPN", "production"]
    tariff = ChainModel(rare_earths.chain, [StageTariff("magnet", 5.0, origins=("CHN",),
                                                        destinations=("USA", "EU", "JPN"))]).solve()
    assert tariff.welfare.loc["EU", "government"] > 0


def test_a_kink_caps_output_and_earns_a_rent(rare_earths):
    r = ChainModel(rare_earths.chain, [StageSubsidy("oxide", "SEA", 40.0)]).solve()
    sea = r.stage("oxide").loc["SEA"]
    assert sea.production == pytest.approx(rare_earths.chain.stages[1].capacity["SEA"], abs=1e-6)


# ---------------------------------------------------------------- hostile inputs
def test_hostile_model_inputs(rare_earths):
    m = rare_earths.chain.stages[1].market
    with pytest.raises(ModelInputError, match=r"stage\[oxide\]\.coefficient = -1\.0.*non-negative"):
        Stage("oxide", m, -1.0)
    with pytest.raises(ModelInputError, match=r"policies\[0\]\.stage = 'smelting'.*\['concentrate', 'oxide'"):
        ChainModel(rare_earths.chain, [StageFloor("smelting", ("USA",), 60.0)])
    with pytest.raises(ModelInputError, match=r"members = 'XXX' is not allowed.*region ids"):
        ChainModel(rare_earths.chain, [StageFloor("oxide", ("XXX", "USA"), 60.0)])
    model = ChainModel(rare_earths.chain, [StageFloor("oxide", ("USA",), 60.0)])
    with pytest.raises(ModelInputError, match=r"solve\(\) keyword = 'floor_metal'.*floor_oxide"):
        model.solve(floor_metal=3.0)
    with pytest.raises(ModelInputError, match=r"floor_oxide = -5.*positive price"):
        model.solve(floor_oxide=-5)


@pytest.fixture
def data_copy(tmp_path):
    return copy_chain_data(tmp_path)


def _edit(path, old, new):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_hostile_data_negative_coefficient(data_copy):
    _edit(data_copy / "chain_stages.csv", "magnet,3,", "magnet,3,")
    text = (data_copy / "chain_stages.csv").read_text().splitlines()
    line = next(k for k, row in enumerate(text, 1) if row.startswith("rare_earths,metal,"))
    text[line - 1] = text[line - 1].replace(",1.18,", ",-1.18,")
    (data_copy / "chain_stages.csv").write_text("\n".join(text) + "\n")
    with pytest.raises(DataValidationError, match=rf"chain_stages, row {line}, column 'input_per_unit': "
                                                  r"'-1.18' is not allowed: expected a non-negative number"):
        load_chain_data(data_copy)


def test_hostile_data_unknown_stage(data_copy):
    _edit(data_copy / "chain_quantities.csv", "USA,rare_earths,oxide,production", "USA,rare_earths,smelted,production")
    with pytest.raises(DataValidationError, match=r"chain_quantities, row \d+, column 'stage': 'smelted' is not "
                                                  r"allowed: expected a stage of rare_earths.*'concentrate'"):
        load_chain_data(data_copy)


def test_hostile_data_missing_source(data_copy):
    text = (data_copy / "chain_prices.csv").read_text().splitlines()
    parts = text[1].split(",")
    text[1] = ",".join(parts[:5]) + ",,"
    (data_copy / "chain_prices.csv").write_text("\n".join(text) + "\n")
    with pytest.raises(DataValidationError, match=r"chain_prices, row 2, column 'source': '': .*'assumption: "
                                                  r"<reason>' or a publication with its year"):
        load_chain_data(data_copy)


def test_hostile_data_unknown_region_and_open_balance(data_copy, dataset):
    _edit(data_copy / "chain_capacity.csv", "SEA,rare_earths", "MARS,rare_earths")
    with pytest.raises(DataValidationError, match=r"chain_capacity, row 2, column 'region': 'MARS' is not allowed"):
        load_chain_data(data_copy)
    shutil.copy(DATA / "chain_capacity.csv", data_copy / "chain_capacity.csv")
    _edit(data_copy / "chain_quantities.csv", "USA,rare_earths,oxide,production,1.294", "USA,rare_earths,oxide,production,9.294")
    from models.chain.data import calibrate_chain
    with pytest.raises(ModelInputError, match=r"world production vs world use.*equal totals"):
        calibrate_chain(load_chain_data(data_copy), dataset, "rare_earths")


def test_a_sweep_re_solves_the_built_programme_as_fresh_builds_do(rare_earths):
    """The parametric sweep (Clarabel's fast path, parameters updated in place) gives what a fresh
    build at each level gives, floor search included."""
    levels = [55.0, 60.0, 65.0]
    model = ChainModel(rare_earths.chain, [StageFloor("magnet", ("USA", "EU", "JPN"), 55.0)])
    sweep = model.sweep("floor_magnet", levels)
    assert sweep.counts["fast_path"] and sweep.wall_time > 0 and sweep.clarabel_wall > 0
    for level, res in zip(levels, sweep.results):
        fresh = ChainModel(rare_earths.chain, [StageFloor("magnet", ("USA", "EU", "JPN"), level)]).solve()
        assert np.allclose(res.stages[["price", "production"]].to_numpy(),
                           fresh.stages[["price", "production"]].to_numpy(), atol=1e-5, equal_nan=True)
        assert res.wedges["floor_magnet"]["tariff"] == pytest.approx(fresh.wedges["floor_magnet"]["tariff"], abs=1e-5)
    assert sweep.table("price").shape == (3, 4 * 13)
