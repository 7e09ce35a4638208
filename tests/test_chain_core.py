"""The value chain as the core of the single-good model (issue 12): Clarabel's speed settings on a
sweep, the guaranteed price and the origin-restricted stockpile against
:class:`~models.equilibrium.EquilibriumModel`, the roster as a Parameter, and the licence rent of
a ban that does not bind."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models import Bloc, GuaranteedPrice, StockpileFloor, benchmark_from_dataset
from models.chain import (ChainMarket, ChainModel, ExportControl, StageFloor, StageGuaranteedPrice,
                          StageStockpile, StageTariff)
from models.chain.build import SPEED_SETTINGS
from models.curves import LinearCurve
from models.errors import ModelInputError, SolverError
from models.market import Market

MEMBERS = ("USA", "EU", "JPN")
TOL = 1e-6


# ---------------------------------------------------------------- speed settings
def test_a_sweep_without_equilibration_and_refinement_gives_the_same_certified_answers(rare_earths):
    levels = [55.0, 62.0]
    lean = {k: False for k in SPEED_SETTINGS}
    fast = ChainModel(rare_earths.chain, [StageFloor("magnet", MEMBERS, 55.0)], solver_options=lean)
    slow = ChainModel(rare_earths.chain, [StageFloor("magnet", MEMBERS, 55.0)])
    for a, b in zip(fast.sweep("floor_magnet", levels).results, slow.sweep("floor_magnet", levels).results):
        assert max(a.certificate.values()) < 1e-5
        assert np.allclose(a.stages["production"], b.stages["production"], atol=1e-5)
        assert a.wedges["floor_magnet"]["tariff"] == pytest.approx(b.wedges["floor_magnet"]["tariff"], abs=1e-5)


def test_a_retry_turns_the_speed_settings_back_on(rare_earths, monkeypatch):
    model = ChainModel(rare_earths.chain, solver_options={k: False for k in SPEED_SETTINGS})
    seen = []
    attempt = ChainModel._attempt

    def failing_first(self, options):
        seen.append(dict(options))
        if len(seen) == 1:
            raise SolverError("solver_error", "a stand-in failure", "CLARABEL")
        return attempt(self, options)

    monkeypatch.setattr(ChainModel, "_attempt", failing_first)
    model.solve()
    assert all(seen[0][k] is False for k in SPEED_SETTINGS)
    assert len(seen) == 2 and not set(SPEED_SETTINGS) & set(seen[1])
    assert seen[1]["tol_gap_abs"] == 1e-12


# ---------------------------------------------------------------- the guaranteed price
def two_region_market(b_demand: bool = True) -> Market:
    """A and B each with supply P = 10 + S (and demand P = 100 − D where given); freight 1."""
    regions = ("A", "B")
    t = pd.DataFrame([[0.0, 1.0], [1.0, 0.0]], index=regions, columns=regions)
    demand = {"A": LinearCurve("demand", 100.0, -1.0)}
    if b_demand:
        demand["B"] = LinearCurve("demand", 100.0, -1.0)
    supply = {r: LinearCurve("supply", 10.0, 1.0) for r in regions}
    return Market("toy", regions, demand, supply, t)


def _assert_table(table, expected: dict) -> None:
    """Each ``(region, column)`` of a stage's table at its hand-solved value."""
    for (region, column), value in expected.items():
        assert table.loc[region, column] == pytest.approx(value, abs=TOL), (region, column)


def test_guaranteed_price_solved_by_hand():
    """A guarantees 70: D_A = 30, S_A = 60, A exports 30 to B, where 110 − 2 p_B = 30 gives p_B = 40;
    A's own price is B's less freight, 39, so the levy and the refund are both 70 − 39 = 31 and A's
    government pays 31·30 − 31·60 = −930 (an export subsidy)."""
    r = ChainModel(ChainMarket.one_stage(two_region_market()), [StageGuaranteedPrice("good", ("A",), 70.0)]).solve()
    _assert_table(r.stage("good"), {("A", "final_demand"): 30.0, ("A", "production"): 60.0, ("A", "exports"): 30.0,
                                    ("B", "delivered_price"): 40.0, ("A", "delivered_price"): 39.0})
    w = r.wedges["guaranteed_good"]
    assert w["levy[A]"] == pytest.approx(31.0, abs=TOL) and w["top_up[A]"] == pytest.approx(31.0, abs=TOL)
    assert r.welfare.loc["A", "government"] == pytest.approx(-930.0, abs=1e-4)
    # consumers in A pay 70: their surplus is the triangle under the curve above 70
    assert r.welfare.loc["A", "consumer_surplus"] == pytest.approx(0.5 * 30.0 * 30.0, abs=1e-4)


def test_guaranteed_price_above_the_choke_price_reports_the_levy_that_prices_consumers_out():
    """At 120 (above A's choke price of 100) the demand bound is zero and its dual is not unique:
    the levy reported is 120 − p_A, as the single-good readback reports it."""
    r = ChainModel(ChainMarket.one_stage(two_region_market()), [StageGuaranteedPrice("good", ("A",), 120.0)]).solve()
    st = r.stage("good")
    assert st.loc["A", "final_demand"] == pytest.approx(0.0, abs=TOL)
    assert r.wedges["guaranteed_good"]["levy[A]"] == pytest.approx(120.0 - st.loc["A", "delivered_price"], abs=TOL)
    assert max(r.certificate.values()) < 1e-5


def _single_and_chain(dataset, mineral, floor, policy, members=None):
    bench = benchmark_from_dataset(dataset, mineral)
    scenario = bench.base_scenario.extend(name="instrument", floors=floor,
                                          **({"bloc": Bloc(members)} if members else {}))
    wedges = [StageTariff("good", g, origins=(r,), collected_by="exporter", key=f"wedge_{r}")
              for r, g in bench.export_wedge.items() if g > 0]
    single = bench.model(scenario).solve()
    chain = ChainModel(ChainMarket.one_stage(bench.market), wedges + [policy], members=members).solve()
    st = chain.stage("good").loc[list(bench.market.regions)]
    regions = single.regions
    assert np.allclose(st["final_demand"], regions["demand"], atol=1e-5)
    assert np.allclose(st["production"], regions["supply"], atol=1e-5)
    has_d, has_s = regions["demand"] > 0, regions["supply"] > 0
    assert np.allclose(st["delivered_price"][has_d], regions["border_price"][has_d], atol=1e-5)
    assert np.allclose(st["producer_price"][has_s], regions["supply_price"][has_s], atol=1e-5)
    assert np.allclose(chain.welfare["total"], single.welfare["total"], atol=1e-3)
    assert np.allclose(chain.welfare["government"], single.welfare["government"], atol=1e-3)
    return single, chain


@pytest.mark.parametrize("mineral", ["ndpr", "gallium"])
def test_guaranteed_price_on_the_one_stage_chain_equals_equilibrium_model(dataset, mineral):
    bench = benchmark_from_dataset(dataset, mineral)
    level = 1.2 * float(bench.prices[list(MEMBERS)].min())
    single, chain = _single_and_chain(dataset, mineral, GuaranteedPrice(MEMBERS, level),
                                      StageGuaranteedPrice("good", MEMBERS, level))
    w = chain.wedges["guaranteed_good"]
    for r in MEMBERS:
        assert w[f"levy[{r}]"] == pytest.approx(single.wedges.loc[r, "levy"], abs=1e-5)
        assert w[f"levy[{r}]"] > 1.0
        if f"top_up[{r}]" in w:
            assert w[f"top_up[{r}]"] == pytest.approx(single.wedges.loc[r, "levy_topup"], abs=1e-5)
    assert any(k.startswith("top_up") and v > 1.0 for k, v in w.items())


# ---------------------------------------------------------------- a stockpile restricted by origin
def test_stockpile_buying_from_eligible_origins_only_solved_by_hand():
    """A (supply 10 + S, demand 100 − D) and B (supply 10 + S, no demand), freight 1. A stockpile at A
    buying at 50 from B only: B's goods land at 50, so w_B = 49, S_B = 39; A's price is 50, D = 50,
    S_A = 40: B ships 10 to A's buyers and 29 to the stockpile, which pays 50 × 29 = 1,450. A's own
    arc to the stockpile is closed (A is not eligible): none of A's output reaches it."""
    stock = StageStockpile("good", "A", 50.0, 5000.0, eligible_origins=("B",))
    r = ChainModel(ChainMarket.one_stage(two_region_market(b_demand=False)), [stock]).solve()
    _assert_table(r.stage("good"), {("B", "production"): 39.0, ("A", "production"): 40.0, ("A", "final_demand"): 50.0,
                                    ("A", "delivered_price"): 50.0, ("B", "producer_price"): 49.0,
                                    ("A", "imports"): 39.0})     # imports: to buyers and to the stockpile
    w = r.wedges["stockpile_good"]
    assert w["purchases_kt"] == pytest.approx(29.0, abs=TOL) and w["from[B]"] == pytest.approx(29.0, abs=TOL)
    assert "from[A]" not in w and w["price"] == pytest.approx(50.0, abs=TOL)
    assert r.welfare.loc["A", "government"] == pytest.approx(-1450.0, abs=1e-4)
    assert max(r.certificate.values()) < 1e-5


def test_stockpile_with_a_zero_budget_reports_the_cheapest_landed_price():
    """No budget: the cap K ≤ 0 leaves ν anywhere; the price reported is min(f, landed) = min(50, w_B + 1)."""
    stock = StageStockpile("good", "A", 50.0, 0.0, eligible_origins=("B",))
    r = ChainModel(ChainMarket.one_stage(two_region_market(b_demand=False)), [stock]).solve()
    landed = r.stage("good").loc["B", "producer_price"] + 1.0
    assert r.wedges["stockpile_good"]["price"] == pytest.approx(min(50.0, landed), abs=TOL)
    assert r.wedges["stockpile_good"]["purchases_kt"] == pytest.approx(0.0, abs=TOL)


@pytest.mark.parametrize("origins", [("USA",), "MEMBERS"])
def test_stockpile_restricted_by_origin_on_the_one_stage_chain_equals_equilibrium_model(dataset, origins):
    bench = benchmark_from_dataset(dataset, "ndpr")
    level, budget = 1.1 * float(bench.prices["USA"]), 300.0
    members = MEMBERS if origins == "MEMBERS" else None
    single, chain = _single_and_chain(dataset, "ndpr", StockpileFloor("USA", level, budget, eligible_origins=origins),
                                      StageStockpile("good", "USA", level, budget, eligible_origins=origins),
                                      members=members)
    w = chain.wedges["stockpile_good"]
    assert w["purchases_kt"] > 0.1
    assert w["purchases_kt"] == pytest.approx(single.stockpile["purchases"], abs=1e-5)
    assert w["price"] == pytest.approx(single.stockpile["price_paid"], abs=1e-5)
    assert w["from[USA]"] == pytest.approx(single.stockpile_by_origin["USA"], abs=1e-5)
    assert "from[CHN]" not in w


# ---------------------------------------------------------------- the roster as a Parameter
def _same_solution(a, b, tol=1e-5):
    assert np.allclose(a.stages[["price", "production", "final_demand"]].to_numpy(),
                       b.stages[["price", "production", "final_demand"]].to_numpy(), atol=tol, equal_nan=True)
    assert np.allclose(a.welfare["total"], b.welfare["total"], atol=1e-3)


def test_a_roster_set_on_the_built_chain_equals_a_fresh_build(rare_earths):
    """The zone of a magnet floor and the origins a Japanese oxide stockpile may buy from
    (``MEMBERS``) follow ``members=`` at a solve: the built programme re-solved equals a programme
    built with the new roster."""
    level = 1.1 * float(rare_earths.prices.loc["oxide", "JPN"])

    def policies(members):
        return [StageFloor("magnet", members, 55.0),
                StageStockpile("oxide", "JPN", level, 200.0, eligible_origins="MEMBERS")]

    model = ChainModel(rare_earths.chain, policies(MEMBERS), members=MEMBERS)
    first = model.solve()
    bought = {}
    for roster in [("USA", "EU"), ("EU", "JPN"), MEMBERS]:
        res = model.solve(members=roster)
        fresh = ChainModel(rare_earths.chain, policies(roster), members=roster).solve()
        _same_solution(res, fresh)
        for key in ("tariff", "imports_from_non_members_kt"):
            assert res.wedges["floor_magnet"][key] == pytest.approx(fresh.wedges["floor_magnet"][key], abs=1e-5)
        assert res.wedges["stockpile_oxide"] == pytest.approx(fresh.wedges["stockpile_oxide"], abs=1e-5)
        bought[roster] = res.wedges["stockpile_oxide"]["purchases_kt"]
    assert bought[("USA", "EU")] > 0.01 and bought[("EU", "JPN")] == pytest.approx(0.0, abs=1e-6)  # no member mines
    _same_solution(model.solve(members=None), first)      # None restores the model's own roster


def test_a_roster_on_the_one_stage_chain_follows_equilibrium_models_members(dataset):
    """EquilibriumModel's settable ``members`` and the chain's give the same equilibrium."""
    bench = benchmark_from_dataset(dataset, "ndpr")
    level = 1.2 * float(bench.prices[list(MEMBERS)].min())
    wedges = [StageTariff("good", g, origins=(r,), collected_by="exporter", key=f"wedge_{r}")
              for r, g in bench.export_wedge.items() if g > 0]
    single = bench.model(bench.base_scenario.extend(name="guarantee", bloc=Bloc(MEMBERS),
                                                    floors=GuaranteedPrice(MEMBERS, level)))
    chain = ChainModel(ChainMarket.one_stage(bench.market), wedges + [StageGuaranteedPrice("good", MEMBERS, level)],
                       members=MEMBERS)
    for roster in [("USA",), ("EU", "JPN")]:
        s, c = single.solve(members=roster), chain.solve(members=roster)
        st = c.stage("good").loc[list(bench.market.regions)]
        assert np.allclose(st["final_demand"], s.regions["demand"], atol=1e-5)
        assert np.allclose(st["production"], s.regions["supply"], atol=1e-5)
        for r in MEMBERS:
            assert c.wedges["guaranteed_good"][f"levy[{r}]"] == pytest.approx(s.wedges.loc[r, "levy"], abs=1e-5)


def test_a_roster_is_checked(rare_earths):
    model = ChainModel(rare_earths.chain, [StageFloor("magnet", MEMBERS, 55.0, reference="USA")])
    with pytest.raises(ModelInputError, match=r"members = 'XXX'.*region ids among"):
        model.solve(members=("XXX",))
    with pytest.raises(ModelInputError, match=r"members = \(\).*non-empty"):
        model.solve(members=())
    with pytest.raises(ModelInputError, match=r"members.*reference USA"):
        model.solve(members=("EU",))
    no_roster = ChainModel(rare_earths.chain, [StageStockpile("oxide", "JPN", 50.0, 10.0, eligible_origins="MEMBERS")])
    with pytest.raises(ModelInputError, match=r"eligible_origins = 'MEMBERS'.*roster"):
        no_roster.solve()


def test_a_refused_value_does_not_stay_on_the_model():
    """A value a policy refuses at a solve raises, and the next solve uses the last accepted ones
    (the quota of 10 of :func:`test_licence_rent_solved_by_hand`: A's price 50)."""
    model = ChainModel(ChainMarket.one_stage(two_region_market(b_demand=False)), [ExportControl("good", "B", ("A",), 10.0)])
    with pytest.raises(ModelInputError, match=r"quota_good_B = -1.0.*non-negative quantity"):
        model.solve(quota_good_B=-1.0)
    assert model.solve().stage("good").loc["A", "delivered_price"] == pytest.approx(50.0, abs=TOL)


# ---------------------------------------------------------------- the licence rent where the dual is not unique
def test_licence_rent_solved_by_hand():
    """Symmetric A and B trade nothing (autarky at 55, freight 1): a ban from A to B bars an arc that
    carries nothing, any rent supports it, and the smallest, 0, is reported. With B a supplier only
    and a quota of 10 on B's sales to A: S_B = 10 at w_B = 20, 100 − p − (p − 10) = 10 gives p_A = 50,
    so the rent is 50 − 20 − 1 = 29."""
    ban = ChainModel(ChainMarket.one_stage(two_region_market()), [ExportControl("good", "A", ("B",), 0.0)]).solve()
    assert ban.stage("good").loc["B", "delivered_price"] == pytest.approx(55.0, abs=TOL)
    assert ban.wedges["quota_good_A"]["licence_rent"] == 0.0
    quota = ChainModel(ChainMarket.one_stage(two_region_market(b_demand=False)),
                       [ExportControl("good", "B", ("A",), 10.0)]).solve()
    assert quota.stage("good").loc["A", "delivered_price"] == pytest.approx(50.0, abs=TOL)
    assert quota.wedges["quota_good_B"]["licence_rent"] == pytest.approx(29.0, abs=TOL)
    assert quota.welfare.loc["B", "rents"] == pytest.approx(290.0, abs=1e-4)


@pytest.mark.parametrize("stage", ["oxide", "metal", "magnet"])
def test_a_ban_on_arcs_that_carry_nothing_reports_the_smallest_rent(rare_earths, stage):
    """China's ban on a stage to the three core members: the solver's dual is arbitrary (it was tens
    of thousands of USD/kg at each stage); the rent reported is the widest gap the ban holds open,
    ``max(0, max_j (p_j − w_CHN − t_CHN,j))`` from the result's own tables, as the single-good
    readback settles it."""
    model = ChainModel(rare_earths.chain, [ExportControl(stage, "CHN", MEMBERS, 0.0)])
    r = model.solve()
    st = r.stage(stage)
    t = rare_earths.chain.stages[rare_earths.chain.stage_index(stage)].market.transport_cost
    gaps = [st.loc[j, "delivered_price"] - st.loc["CHN", "producer_price"] - t.loc["CHN", j]
            for j in MEMBERS if np.isfinite(st.loc[j, "delivered_price"])]
    rent = r.wedges[f"quota_{stage}_CHN"]["licence_rent"]
    assert rent == pytest.approx(max(0.0, max(gaps)), abs=1e-6)
    assert max(r.certificate.values()) < 1e-5
