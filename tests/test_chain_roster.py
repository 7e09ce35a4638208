"""The bloc's tariffs, route bans and export discounts as Parameters of the chain (issue 12): on the
one-stage chain they give EquilibriumModel's equilibrium when set on built models (the roster,
the external tariff, a ban, a discount); a two-region market solved by hand; bad input refused
by name."""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from models import Bloc, StockpileFloor, benchmark_from_dataset
from models.chain import (ChainMarket, ChainModel, ExportDiscounts, RouteBans, StageBloc, StageStockpile,
                          StageTariff)
from models.curves import LinearCurve
from models.errors import ModelInputError
from models.market import Market
from models.policies import ALL, Tariff

MEMBERS = ("USA", "EU", "JPN")
TOL = 1e-6


# ---------------------------------------------------------------- against EquilibriumModel
class Pair:
    """The single-good model and the one-stage chain of one scenario, each built once."""

    def __init__(self, bench, scenario, chain_policies, members=None):
        self.single = bench.model(scenario, parametric_routes=True)
        wedges = [StageTariff("good", g, origins=(r,), collected_by="exporter", key=f"wedge_{r}")
                  for r, g in bench.export_wedge.items() if g > 0]
        self.chain = ChainModel(ChainMarket.one_stage(bench.market), wedges + chain_policies, members=members)
        self.regions = list(bench.market.regions)
        self.problems = (self.single.problem, self.chain.problem)

    def solve(self, **updates):
        single, chain = self.single.solve(**updates), self.chain.solve(**updates)
        assert (self.single.problem, self.chain.problem) == self.problems     # set, not rebuilt
        assert self.single.problem is self.problems[0] and self.chain.problem is self.problems[1]
        return single, chain

    def revenue(self, importer: bool) -> np.ndarray:
        """The chain's tariff revenue (``importer``) or export-tax revenue, by region."""
        total = np.zeros(len(self.regions))
        for pol in self.chain.policies:
            levied_by_importer = isinstance(pol, StageBloc) or getattr(pol, "collected_by", None) == "importer"
            if isinstance(pol, (StageTariff, StageBloc, ExportDiscounts)) and levied_by_importer == importer:
                total += pol.accounts(self.chain)["government"]
        return total


def assert_same_equilibrium(pair, single, chain, tol=1e-5):
    """Prices, quantities, trade, welfare and tariff revenue of both models agree to ``tol``."""
    st = chain.stage("good").loc[pair.regions]
    s = single.regions
    assert max(chain.certificate.values()) < 1e-5
    has_d, has_s = s["demand"] > 1e-6, s["supply"] > 1e-6
    assert np.allclose(st["delivered_price"][has_d], s["border_price"][has_d], atol=tol, rtol=0)
    assert np.allclose(st["producer_price"][has_s], s["supply_price"][has_s], atol=tol, rtol=0)
    assert np.allclose(st["final_demand"], s["demand"], atol=tol, rtol=0)
    assert np.allclose(st["production"], s["supply"], atol=tol, rtol=0)
    assert np.allclose(st["exports"] - st["imports"], s["net_exports"], atol=tol, rtol=0)
    w = single.welfare.loc[pair.regions]
    scale = max(1.0, float(w["total"].abs().max()))      # USD million: compared relative to the largest
    assert np.allclose(chain.welfare["total"], w["total"], atol=tol * scale, rtol=0)
    assert np.allclose(chain.welfare["government"], w["government"], atol=tol * scale, rtol=0)
    assert np.allclose(pair.revenue(importer=True), w["tariff_revenue"], atol=tol * scale, rtol=0)
    assert np.allclose(pair.revenue(importer=False), w["export_tax_revenue"], atol=tol * scale, rtol=0)


def untied(bench, seed: int = 12, spread: float = 0.25):
    """``bench`` with freight raised by a seeded draw of up to ``spread`` USD/kg per arc.

    The data's freight takes two values, so where two exporters serve the same importers the
    equilibrium leaves the split of their shipments, hence each region's tariff revenue, undetermined
    (the two models then return different, equally valid splits; prices and quantities agree). On
    generic freight the flows are unique, and so are the regions' accounts to compare.
    """
    m = bench.market
    noise = np.random.default_rng(seed).uniform(0.0, spread, (m.n, m.n))
    np.fill_diagonal(noise, 0.0)
    market = Market(m.mineral, m.regions, m.demand, m.supply, m.transport_cost + noise, label="untied freight")
    return dataclasses.replace(bench, market=market)


@pytest.fixture(scope="module")
def ndpr_pair(dataset):
    """NdPr (freight untied) with import tariffs (4 USD/kg into the three members, 1.5 into SEA) and
    a bloc of the three with an external tariff of 3: the roster decides which of them the members pay."""
    bench = untied(benchmark_from_dataset(dataset, "ndpr"))
    scenario = bench.base_scenario.extend(name="bloc", bloc=Bloc(MEMBERS, 3.0),
                                          tariffs=(Tariff(ALL, MEMBERS, specific=4.0), Tariff(ALL, "SEA", specific=1.5)))
    policies = [StageTariff("good", 4.0, destinations=MEMBERS, key="tariff_members"),
                StageTariff("good", 1.5, destinations=("SEA",), key="tariff_SEA"),
                StageBloc(ALL, MEMBERS, 3.0), RouteBans(ALL), ExportDiscounts(ALL)]
    return Pair(bench, scenario, policies)


CASES = {
    "as built": {},
    "roster with SEA, the second exporter": {"members": ("USA", "EU", "JPN", "SEA")},
    "roster of two": {"members": ("USA", "EU")},
    "external tariff": {"external_tariff": 8.0},
    "roster and external tariff": {"members": ("USA", "EU", "JPN", "SEA", "KOR"), "external_tariff": 12.0},
    "ban": {"banned_routes": {"CHN": ("USA", "EU")}},
    "ban of SEA's exports to its buyers": {"banned_routes": {"SEA": ("USA", "EU", "JPN", "KOR", "IND", "ROW")}},
    "discount": {"export_discounts": {("CHN", "JPN"): 5.0, ("SEA", "EU"): 2.0}},
}


@pytest.mark.parametrize("updates", list(CASES.values()), ids=list(CASES))
def test_set_on_the_built_models_the_chain_equals_equilibrium_model(ndpr_pair, updates):
    try:
        single, chain = ndpr_pair.solve(**updates)
        assert_same_equilibrium(ndpr_pair, single, chain)
    finally:
        ndpr_pair.solve(**{k: None for k in updates})       # back to the scenario's values


def test_each_setting_moves_the_equilibrium_and_none_restores_it(ndpr_pair):
    """The cases above are not the same solution in disguise: each moves prices or trade."""
    _, base = ndpr_pair.solve()
    price = base.stage("good")["delivered_price"]
    moved = {}
    for name, updates in CASES.items():
        if updates:
            try:
                _, res = ndpr_pair.solve(**updates)
            finally:
                ndpr_pair.solve(**{k: None for k in updates})
            moved[name] = float(np.nanmax(np.abs(res.stage("good")["delivered_price"] - price)))
    assert min(moved.values()) > 0.05, moved
    _, again = ndpr_pair.solve()
    assert np.allclose(again.stage("good")["delivered_price"], price, atol=1e-6, equal_nan=True)


def test_a_roster_moves_the_tariffs_members_pay(ndpr_pair):
    """SEA joining: its goods enter the members free of the 4 USD/kg tariff and of the external
    tariff, and the USA's goods enter SEA free of its 1.5; CHN's goods pay 4 + 3 on top of its own
    export wedge (an export tax: the bloc does not remove it). The arc costs are read from the
    built programme's Parameter."""
    b, idx = ndpr_pair.chain.blocks[0], ndpr_pair.chain.idx
    wedge = ndpr_pair.chain.policies[0].rate

    def arc(o, d):
        return float(np.asarray(b.tau.value)[(b.origin == idx[o]) & (b.destination == idx[d])][0])

    try:
        ndpr_pair.solve(members=("USA", "EU", "JPN", "SEA"))
        assert arc("SEA", "USA") == 0.0 and arc("USA", "SEA") == 0.0 and arc("SEA", "JPN") == 0.0
        assert arc("CHN", "USA") == pytest.approx(4.0 + 3.0 + wedge) and arc("CHN", "SEA") == pytest.approx(1.5 + 3.0 + wedge)
    finally:
        ndpr_pair.solve(members=None)
    assert arc("SEA", "USA") == pytest.approx(4.0 + 3.0) and arc("USA", "SEA") == pytest.approx(1.5)
    assert arc("USA", "JPN") == 0.0 and arc("CHN", "SEA") == pytest.approx(1.5 + wedge)


def test_a_ban_bars_the_stockpiles_purchases_as_in_equilibrium_model(dataset):
    """A stockpile at USA buying from every origin: banning CHN → USA bars CHN's sales to it too."""
    bench = untied(benchmark_from_dataset(dataset, "ndpr"))
    level, budget = 1.1 * float(bench.prices["USA"]), 300.0
    pair = Pair(bench, bench.base_scenario.extend(name="stockpile", floors=StockpileFloor("USA", level, budget)),
                [StageStockpile("good", "USA", level, budget, eligible_origins=ALL), RouteBans(ALL)])
    single, chain = pair.solve()
    assert chain.wedges["stockpile_good"]["from[CHN]"] > 0.1
    single, chain = pair.solve(banned_routes={"CHN": ("USA",)})
    assert_same_equilibrium(pair, single, chain)
    w = chain.wedges["stockpile_good"]
    assert w["from[CHN]"] == pytest.approx(0.0, abs=1e-7) and single.stockpile_by_origin["CHN"] == pytest.approx(0.0, abs=1e-7)
    assert w["purchases_kt"] == pytest.approx(single.stockpile["purchases"], abs=1e-5)
    assert w["price"] == pytest.approx(single.stockpile["price_paid"], abs=1e-5)


# ---------------------------------------------------------------- by hand
def supplier_market() -> Market:
    """A (demand 100 − D, supply 10 + S) and B (supply 10 + S only), freight 3 both ways."""
    regions = ("A", "B")
    t = pd.DataFrame([[0.0, 3.0], [3.0, 0.0]], index=regions, columns=regions)
    supply = {r: LinearCurve("supply", 10.0, 1.0) for r in regions}
    return Market("toy", regions, {"A": LinearCurve("demand", 100.0, -1.0)}, supply, t)


def hand_model():
    """A levies 4 on imports; a bloc of A alone charges 2 more on B's goods."""
    return ChainModel(ChainMarket.one_stage(supplier_market()),
                      [StageTariff("good", 4.0, destinations=("A",)), StageBloc(ALL, ("A",), 2.0),
                       RouteBans(ALL), ExportDiscounts(ALL)])


def _check(result, p_a, w_b, gov_a, gov_b=0.0):
    """With B's goods landing at A for ``c`` on top of w_B: p_A = w_B + c, S_B = w_B − 10,
    S_A = p_A − 10, D = 100 − p_A; the values are those of the hand solutions below."""
    st = result.stage("good")
    assert st.loc["A", "delivered_price"] == pytest.approx(p_a, abs=TOL)
    assert st.loc["A", "final_demand"] == pytest.approx(100.0 - p_a, abs=TOL)
    assert st.loc["A", "production"] == pytest.approx(p_a - 10.0, abs=TOL)
    assert st.loc["B", "production"] == pytest.approx(w_b - 10.0, abs=TOL)
    assert st.loc["B", "producer_price"] == pytest.approx(w_b, abs=TOL)
    assert result.welfare.loc["A", "government"] == pytest.approx(gov_a, abs=1e-4)
    assert result.welfare.loc["B", "government"] == pytest.approx(gov_b, abs=1e-4)
    assert max(result.certificate.values()) < 1e-5


def test_the_roster_and_the_external_tariff_solved_by_hand():
    """Market clearing ``100 − p = (p − 10) + (p − c − 10)`` gives ``p = (120 + c) / 3``.
    B outside: c = 3 + 4 + 2 = 9, p = 43, B ships 24, A collects 6 × 24 = 144. B a member: its
    goods pay neither tariff, c = 3, p = 41. External tariff 5 with B outside: c = 12, p = 44,
    B ships 22, A collects 9 × 22 = 198."""
    model = hand_model()
    problem = model.problem
    _check(model.solve(), 43.0, 34.0, 144.0)
    _check(model.solve(members=("A", "B")), 41.0, 38.0, 0.0)
    _check(model.solve(members=None, external_tariff=5.0), 44.0, 32.0, 198.0)
    assert model.problem is problem


def test_a_ban_and_a_discount_solved_by_hand():
    """A ban on B → A: A in autarky, ``100 − p = p − 10``, p = 55, B sells nothing. B a member with a
    discount of 3 on its sales to A: c = 3 − 3 = 0, p = w_B = 40, B ships 30 and its government
    pays 3 × 30 = 90."""
    model = hand_model()
    res = model.solve(banned_routes={"B": "A"})
    st = res.stage("good")
    assert st.loc["A", "delivered_price"] == pytest.approx(55.0, abs=TOL)
    assert st.loc["B", "production"] == pytest.approx(0.0, abs=TOL)
    assert res.wedges["banned_routes"]["shipped_on_banned_kt"] == pytest.approx(0.0, abs=TOL)
    assert max(res.certificate.values()) < 1e-5
    res = model.solve(banned_routes={}, members=("A", "B"), export_discounts={("B", "A"): 3.0})
    _check(res, 40.0, 40.0, 0.0, gov_b=-90.0)
    assert res.wedges["export_discounts"] == {"discount[B->A]": 3.0}


def test_a_bloc_of_one_stage_leaves_the_other_stages_tariffs(rare_earths):
    """On the rare-earth chain a bloc on the magnet stage frees the members' magnet trade only."""
    model = ChainModel(rare_earths.chain, [StageTariff("oxide", 2.0, destinations=MEMBERS),
                                           StageTariff("magnet", 2.0, destinations=MEMBERS),
                                           StageBloc("magnet", MEMBERS, 1.0)])
    assert "external_tariff_magnet" in model.parameter_keys()
    res = model.solve()
    assert max(res.certificate.values()) < 1e-5
    for name, member_rate in (("oxide", 2.0), ("magnet", 0.0)):
        b = model.blocks[model.chain.stage_index(name)]
        tau = np.asarray(b.tau.value)
        usa, eu = model.idx["USA"], model.idx["EU"]
        between = (b.origin == usa) & (b.destination == eu)
        if between.any():
            assert tau[between][0] == pytest.approx(member_rate)


def test_a_ban_on_every_stage_and_a_discount_on_one(rare_earths):
    """``stage=ALL`` bars CHN's sales to the core members at every stage of the rare-earth chain (one
    ``0 ≤`` row per stage, all set at a solve); a discount named for the oxide stage cuts only that
    stage's arc cost, and CHN's government pays it on what it ships there."""
    model = ChainModel(rare_earths.chain, [RouteBans(ALL), ExportDiscounts("oxide")])
    problem = model.problem
    free = model.solve()
    res = model.solve(banned_routes={"CHN": MEMBERS}, export_discounts_oxide={("CHN", "SEA"): 4.0})
    assert model.problem is problem and max(res.certificate.values()) < 1e-5
    flows = res.flows
    to_members = flows[(flows["origin"] == "CHN") & flows["destination"].isin(MEMBERS)]
    before = free.flows[(free.flows["origin"] == "CHN") & free.flows["destination"].isin(MEMBERS)]
    assert before["kt"].sum() > 1.0 and to_members["kt"].sum() == pytest.approx(0.0, abs=1e-6)
    assert res.wedges["banned_routes"]["banned_arcs"] >= len(MEMBERS)
    oxide = flows[(flows["stage"] == "oxide") & (flows["origin"] == "CHN") & (flows["destination"] == "SEA")]
    paid = 4.0 * float(oxide["kt"].sum())
    assert paid > 1.0
    discounts = model.policies[1].accounts(model)["government"]
    assert discounts[model.idx["CHN"]] == pytest.approx(-paid, abs=1e-6) and np.count_nonzero(discounts) <= 1
    for b in model.blocks:
        tau = np.asarray(b.tau.value)
        assert (np.count_nonzero(tau) == 1 and tau.min() == -4.0) if b.name == "oxide" else not tau.any()


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("updates, message", [
    ({"members": ("A", "XX")}, r"members = 'XX'.*region ids among \['A', 'B'\]"),
    ({"external_tariff": -1.0}, r"external_tariff = -1.0.*non-negative tariff"),
    ({"banned_routes": {"XX": "A"}}, r"banned_routes \(origin\) = 'XX'.*region ids among"),
    ({"banned_routes": {"B": ("A", "XX")}}, r"banned_routes\[B\] = 'XX'.*region ids among"),
    ({"banned_routes": ["B", "A"]}, r"banned_routes = \['B', 'A'\].*a mapping origin -> destinations"),
    ({"export_discounts": {("B", "A"): -2.0}}, r"export_discounts\[\('B', 'A'\)\] = -2.0.*non-negative discount"),
    ({"export_discounts": {("B", "XX"): 2.0}}, r"export_discounts \(key\) = 'XX'.*region ids among"),
    ({"export_discounts": {("B", "B"): 2.0}}, r"export_discounts \(key\) = \('B', 'B'\).*two different regions"),
    ({"export_discounts": {("B", "A"): "much"}}, r"export_discounts\[\('B', 'A'\)\] = 'much'.*non-negative discount"),
])
def test_bad_settings_are_refused_by_name_and_leave_the_model_as_it_was(updates, message):
    model = hand_model()
    model.solve(members=("A", "B"))
    with pytest.raises(ModelInputError, match=message):
        model.solve(**updates)
    _check(model.solve(), 41.0, 38.0, 0.0)        # the refused value did not stay: B is still a member


def test_bad_policies_are_refused_by_name():
    chain = ChainMarket.one_stage(supplier_market())
    with pytest.raises(ModelInputError, match=r"policies\[0\].members = 'XX'"):
        ChainModel(chain, [StageBloc(ALL, ("A", "XX"))])
    with pytest.raises(ModelInputError, match=r"policies\[0\].stage = 'ore'.*a stage of toy"):
        ChainModel(chain, [RouteBans("ore")])
    with pytest.raises(ModelInputError, match=r"policies\[0\].discounts\[\('B', 'A'\)\] = -1"):
        ChainModel(chain, [ExportDiscounts(ALL, {("B", "A"): -1})])
    with pytest.raises(ModelInputError, match=r"StageBloc.external_tariff = -3"):
        StageBloc(ALL, ("A",), -3)
    with pytest.raises(ModelInputError, match=r"RouteBans.stage = None"):
        RouteBans(None)
    no_roster = ChainModel(chain, [StageBloc(ALL)])
    with pytest.raises(ModelInputError, match=r"external_tariff.members = None.*a roster"):
        no_roster.solve()
    assert no_roster.solve(members=("A",)).stage("good").loc["A", "delivered_price"] == pytest.approx(41.0, abs=TOL)
