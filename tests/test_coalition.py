"""Tests for models/coalition.py: bloc membership, stability, complementarity and cost sharing.

Units: kt, USD/kg, USD million per year. Welfare comparisons use a tolerance well above solver
noise (Clarabel stops at ~1e-8 relative).
"""
from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from models import ModelInputError, benchmark_from_dataset, calibrate_benchmark
from models.coalition import (CORE, EXACT_LIMIT, INSTRUMENTS, RosterGame, RosterModel, bill_split,
                              check_roster, complementarity, defection_price, enumerate_rosters,
                              import_price, rosters_containing, shapley_value)
from models.data import load_dataset

REL = 1e-6


# ---------------------------------------------------------------------------- fixtures
def small_bench(regions=("CHN", "USA", "JPN"), production=(100.0, 10.0, 0.0),
                consumption=(90.0, 15.0, 5.0), price=50.0):
    """A hand-made market: CHN a large exporter, USA a small producer that imports, JPN a small
    pure importer. Transport 1 USD/kg between any two regions; elasticities −0.5 and 1."""
    t = pd.DataFrame(1.0, index=list(regions), columns=list(regions))
    for r in regions:
        t.loc[r, r] = 0.0
    return calibrate_benchmark("test", regions, pd.Series(production, index=list(regions)),
                               pd.Series(consumption, index=list(regions)), price, regions[0], t,
                               -0.5, 1.0)


@pytest.fixture(scope="module")
def bench3():
    return small_bench()


@pytest.fixture(scope="module")
def ndpr():
    return benchmark_from_dataset(load_dataset(), "ndpr")


# ---------------------------------------------------------------------------- Shapley axioms
def glove(S):
    """One left glove (L), two right gloves (R1, R2): a pair is worth 1."""
    return float(min("L" in S, len(S & {"R1", "R2"})))


def test_shapley_glove_game_by_hand():
    phi = shapley_value(glove, ("L", "R1", "R2")).values
    # L is pivotal in orderings where it comes after a right glove: 4 of 6 -> 2/3.
    assert phi["L"] == pytest.approx(2 / 3, abs=1e-12)
    assert phi["R1"] == pytest.approx(1 / 6, abs=1e-12)
    assert phi["R2"] == pytest.approx(1 / 6, abs=1e-12)


def random_game(players, seed):
    rng = np.random.default_rng(seed)
    values = {frozenset(c): float(rng.normal()) for k in range(1, len(players) + 1)
              for c in itertools.combinations(players, k)}
    values[frozenset()] = 0.0
    return values


def test_shapley_efficiency_and_additivity():
    players = ("a", "b", "c", "d")
    v1, v2 = random_game(players, 1), random_game(players, 2)
    phi1 = shapley_value(v1, players).values
    phi2 = shapley_value(v2, players).values
    phi12 = shapley_value({S: v1[S] + v2[S] for S in v1}, players).values
    assert phi1.sum() == pytest.approx(v1[frozenset(players)], abs=1e-12)          # efficiency
    assert np.allclose(phi12.to_numpy(), (phi1 + phi2).to_numpy(), atol=1e-12)      # additivity


def test_shapley_symmetry_and_null_player():
    players = ("a", "b", "c", "z")

    def v(S):  # a and b symmetric, z a null player
        return (2.0 * ("a" in S) + 2.0 * ("b" in S) + 5.0 * ("a" in S and "b" in S)
                + 1.0 * ("c" in S) + 3.0 * ("a" in S and "c" in S))

    phi = shapley_value(v, players).values
    assert phi["z"] == pytest.approx(0.0, abs=1e-12)
    assert phi["a"] - 1.5 == pytest.approx(phi["b"], abs=1e-12)   # a alone shares the a–c synergy
    # with the a–c synergy split equally: a = 2 + 2.5 + 1.5, b = 2 + 2.5, c = 1 + 1.5
    assert phi["a"] == pytest.approx(6.0) and phi["b"] == pytest.approx(4.5) and phi["c"] == pytest.approx(2.5)


def test_shapley_sampling_above_the_limit():
    n = EXACT_LIMIT + 1
    players = tuple(f"p{k}" for k in range(n))

    def majority(S):
        return 1.0 if len(S) > n // 2 else 0.0

    with pytest.raises(ModelInputError, match="method"):
        shapley_value(majority, players, method="exact")
    res = shapley_value(majority, players, samples=400, seed=7)
    assert res.method == "sample" and res.samples == 400
    assert (res.std_error > 0).all()
    # symmetric players: each 1/n; the estimate lies within 5 standard errors
    assert (np.abs(res.values - 1 / n) <= 5 * res.std_error + 1e-12).all()
    assert res.values.sum() == pytest.approx(1.0, abs=1e-12)   # every ordering is efficient
    again = shapley_value(majority, players, samples=400, seed=7)
    assert np.array_equal(again.values.to_numpy(), res.values.to_numpy())  # seeded


def test_shapley_exact_matches_sampling_on_small_game():
    players = ("a", "b", "c", "d", "e")
    v = random_game(players, 3)
    exact = shapley_value(v, players, method="exact").values
    sampled = shapley_value(v, players, method="sample", samples=4000, seed=1)
    assert (np.abs(sampled.values - exact) <= 5 * sampled.std_error + 1e-9).all()


# ---------------------------------------------------------------------------- parameter path
@pytest.mark.parametrize("external_tariff", [0.0, 2.0])
@pytest.mark.parametrize("instrument", INSTRUMENTS)
def test_parameter_path_equals_rebuilt_model(ndpr, instrument, external_tariff):
    """Prices and quantities always agree. Per-region welfare is compared without a tariff only:
    with one, where two origins land at the same cost the split of flows between them, and so
    each importer's tariff revenue, is not determined by the equilibrium (the solver's pick)."""
    rm = RosterModel(ndpr, instrument, 100.0, external_tariff=external_tariff)
    ds = load_dataset()
    for roster in (CORE, ds.roster("ministerial_2026"), ("USA", "EU", "JPN", "MYS"), CORE):
        fast = rm.solve_roster(roster)
        fresh = ndpr.model(rm.scenario_for(roster)).solve()
        scale = max(1.0, float(fresh.welfare["total"].abs().max()))
        if external_tariff == 0.0:
            assert np.allclose(fast.welfare.to_numpy(), fresh.welfare.to_numpy(), rtol=REL, atol=REL * scale)
        for col in ("consumer_price", "producer_price", "demand", "supply", "net_exports"):
            a, b = fast.regions[col].to_numpy(), fresh.regions[col].to_numpy()
            assert np.allclose(a, b, rtol=REL, atol=REL * max(1.0, np.abs(b).max())), col


def test_pruning_inert_regions_is_exact(ndpr):
    rm = RosterModel(ndpr, "guaranteed", 110.0)
    assert "BRA" in rm.inert and "JPN" in rm.active
    pruned, full = RosterGame(rm), RosterGame(rm, prune_inert=False)
    for roster in (CORE, CORE + ("BRA",), CORE + ("BRA", "AUS", "MYS")):
        assert np.allclose(pruned.welfare(roster), full.welfare(roster), atol=1e-6)
    assert pruned.n_solves < full.n_solves


# ---------------------------------------------------------------------------- stability (3 regions)
def test_small_market_levy_floor_small_importer_free_rides(bench3):
    """A levy floor above the market price is, for a member, a consumption tax plus a production
    subsidy. The bloc's lower import demand lowers the exporter's price (CHN loses). A small pure
    importer (JPN) gets that lower world price outside the bloc without paying the floor, so it
    gains by leaving: the bloc is internally unstable."""
    small = small_bench(consumption=(94.5, 15.0, 0.5))
    rm = RosterModel(small, "guaranteed", 60.0, supplier="CHN")
    game = RosterGame(rm)
    dw = game.welfare(("USA", "JPN"))
    assert dw["CHN"] < -1.0
    table = game.stability(("USA", "JPN"), fixed=("USA",))
    assert table.loc["JPN", "gain_from_switch"] > 0.01 and table.loc["JPN", "wants_to_switch"]
    assert not table.attrs["internally_stable"]
    # outside, JPN pays the world price: its consumer price is below the floor
    out = rm.solve_roster(("USA",))
    assert out.regions.loc["JPN", "consumer_price"] < 60.0 - 1.0


def test_small_market_floor_below_price_changes_nothing(bench3):
    rm = RosterModel(bench3, "guaranteed", 10.0)
    game = RosterGame(rm)
    assert np.allclose(game.welfare(("USA", "JPN")), 0.0, atol=1e-5)
    table = game.stability(("USA", "JPN"))
    assert table.attrs["stable"] and not table["wants_to_switch"].any()


def test_small_market_stockpile_eligible_origin_wants_in(bench3):
    """A stockpile in the USA buying only from members at a high floor: the exporter CHN would
    sell to it if it joined, so it wants in (external instability); the USA pays the outlay."""
    rm = RosterModel(bench3, "stockpile", 60.0, budget=1e6, location="USA", eligible="members")
    game = RosterGame(rm)
    table = game.stability(("USA", "JPN"), fixed=("USA",))
    assert table.loc["CHN", "gain_from_switch"] > 1.0 and table.loc["CHN", "wants_to_switch"]
    assert not table.attrs["externally_stable"]
    res = rm.solve_roster(("USA", "JPN"))
    assert res.stockpile["outlay"] > 0 and res.stockpile_by_origin["CHN"] == pytest.approx(0.0, abs=1e-6)
    # JPN has no producers: its membership changes nothing -> no gain from switching
    assert table.loc["JPN", "gain_from_switch"] == pytest.approx(0.0, abs=1e-5)


def test_bill_shares_move_the_stockpile_account(bench3):
    rm = RosterModel(bench3, "stockpile", 60.0, budget=1e6, eligible="members")
    plain = RosterGame(rm).welfare(("USA", "JPN"))
    shared = RosterGame(rm, bill_shares=pd.Series({"USA": 1.0, "JPN": 1.0})).welfare(("USA", "JPN"))
    assert plain.sum() == pytest.approx(shared.sum(), abs=1e-6)       # a transfer among members
    assert shared["JPN"] < plain["JPN"] and shared["USA"] > plain["USA"]


def test_enumeration_and_core(bench3):
    rm = RosterModel(bench3, "guaranteed", 60.0)
    game = RosterGame(rm)
    enum = enumerate_rosters(game, core=("USA",), candidates=("JPN", "CHN"))
    assert enum.n_rosters == 4 and len(enum.table) == 4
    row = enum.table.set_index("roster").loc["USA+JPN"]
    assert not row["internally_stable"] and "JPN" in row["would_leave"]
    barred = enumerate_rosters(game, core=("USA",), candidates=("JPN", "CHN"), barred=("CHN",))
    assert not barred.table.set_index("roster").loc["CHN+USA", "admissible"]
    assert all("CHN" not in r for r in barred.stable["roster"])
    ten = [r for r in load_dataset().region_ids if r not in CORE][:10]
    assert len(rosters_containing(CORE, ten)) == 1024
    with pytest.raises(ModelInputError, match="candidates"):      # 60 regions: 2^60 rosters, refused
        rosters_containing(CORE, [r for r in load_dataset().region_ids if r not in CORE])


def test_buying_power_of_an_external_tariff(bench3):
    """A common external tariff on a large importing bloc lowers the price it pays the exporter,
    by less than the tariff (the tariff's incidence is shared)."""
    big = small_bench(production=(100.0, 10.0, 0.0), consumption=(40.0, 40.0, 30.0))
    rm = RosterModel(big, "guaranteed", 1.0)          # a floor that never binds: the tariff alone
    before = import_price(rm.solve_roster(("USA", "JPN"), external_tariff=0.0), ("USA", "JPN"))
    after = import_price(rm.solve_roster(("USA", "JPN"), external_tariff=5.0), ("USA", "JPN"))
    assert 0.0 < before - after < 5.0
    fixed = import_price(rm.solve_roster(("USA", "JPN"), external_tariff=5.0), ("USA", "JPN"), weights=big.flows)
    assert fixed == pytest.approx(after, rel=1e-6)   # one exporter: weights do not matter
    with pytest.raises(ModelInputError, match="members"):
        import_price(rm.solve_roster(("USA", "JPN", "CHN")), ("USA", "JPN", "CHN"))


def test_defection_price(bench3):
    rm = RosterModel(bench3, "guaranteed", 60.0)
    out = defection_price(rm, ("USA", "JPN"), "JPN")
    assert out["gain_from_staying"] < 0 and out["discount"] == 0.0
    rm2 = RosterModel(bench3, "cfd", 60.0)       # a CfD floor costs JPN nothing: it is indifferent
    out2 = defection_price(rm2, ("USA", "JPN"), "JPN")
    assert out2["discount"] is not None and out2["discount"] >= 0.0


def test_bill_split_sums_to_the_net_bill(bench3):
    rm = RosterModel(bench3, "stockpile", 60.0, budget=1e6, eligible="all")
    game = RosterGame(rm)
    table = bill_split(game, ("USA", "JPN"), weights={"even": pd.Series({"USA": 1.0, "JPN": 1.0})})
    res = rm.solve_roster(("USA", "JPN"))
    net_bill = float(res.stockpile["outlay"])     # the bill split is the outlay: inventory not valued
    assert table["contribution"].sum() == pytest.approx(net_bill, rel=1e-6)
    assert table.attrs["net_bill"] == pytest.approx(net_bill, rel=1e-6)
    assert "outlay" in table.attrs["bill_name"]
    assert set(table["share_warning"]) <= {"", "negative: the rule pays this member",
                                           "above 100%: charged more than the whole bill"}
    flagged = table[(table["share"] < 0) | (table["share"] > 1)]
    assert (flagged["share_warning"] != "").all()
    assert table["even_share"].tolist() == [0.5, 0.5]


# ---------------------------------------------------------------------------- complementarity
def test_complementarity_constructed_case():
    s = pd.Series({"A": 10.0, "B": 0.0, "C": 0.0, "D": 50.0})
    d = pd.Series({"A": 2.0, "B": 5.0, "C": 10.0, "D": 0.0})
    c = complementarity(s, d, ("A", "B", "C"))
    assert c["self_sufficiency"] == pytest.approx(10 / 17)
    assert c["complementarity"] == pytest.approx(8 / 15)
    assert c["exporters"] == ("A",) and c["importers"] == ("B", "C")
    assert complementarity(s, d, ("B", "C"))["complementarity"] == 0.0      # shared demand
    assert complementarity(s, d, ("B", "C", "D"))["complementarity"] == 1.0  # D covers them


# ---------------------------------------------------------------------------- bad input
def test_bad_rosters(bench3):
    regions = ("CHN", "USA", "JPN")
    with pytest.raises(ModelInputError, match="members"):
        check_roster((), regions)
    with pytest.raises(ModelInputError, match="XXX"):
        check_roster(("USA", "XXX"), regions)
    with pytest.raises(ModelInputError, match="core"):
        check_roster(("USA",), regions, core=("USA", "JPN"), require_core=True)
    rm = RosterModel(bench3, "guaranteed", 60.0)
    with pytest.raises(ModelInputError, match="members"):
        rm.solve_roster(())
    with pytest.raises(ModelInputError, match="ATL"):
        rm.solve_roster(("USA", "ATL"))
    with pytest.raises(ModelInputError, match="instrument"):
        RosterModel(bench3, "quota", 60.0)
    with pytest.raises(ModelInputError, match="level"):
        rm.solve_roster(("USA",), level=-1.0)
    with pytest.raises(ModelInputError, match="core"):
        enumerate_rosters(RosterGame(rm), core=("USA", "MARS"))
    with pytest.raises(ModelInputError, match="players"):
        shapley_value(glove, ())
