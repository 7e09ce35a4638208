"""The rule families of the membership, export-controls and model chapters (models/uncertainty/
rules_membership.py, rules_controls.py), the coverage of the register, and sweep files naming a
family's own inputs.

At central values (``vary=()``) each rule must return the register's verdict, since it grades with
the chapter's own code; a hand-made context checks that the verdict does move.
"""
from __future__ import annotations

import pandas as pd
import pytest

from models.cli import main as cli
from models.coalition import defection_price
from models.coalition.verdicts import (GDP_SHARED, MembershipFacts, MembershipSetting, leaves_for_discount,
                                       membership_setting, roster_models)
from models.data import load_dataset
from models.uncertainty import RULES, SweepSpec, TREATMENTS, coverage, get_rules, run_serial
from models.uncertainty.rules_controls import DisruptionContext, SubstitutionContext
from models.uncertainty.rules_membership import MembershipContext

MEMBERSHIP = ("C02", "C04", "C05", "C06", "C08", "C23", "C26")
NEW_RULES = MEMBERSHIP + ("C16", "C30")


@pytest.fixture(scope="module")
def ds():
    return load_dataset()


@pytest.fixture(scope="module")
def central(ds):
    """One draw at central values of every new rule (the three families in one sweep)."""
    return run_serial(SweepSpec(draws=1, seed=0, vary=(), rules=NEW_RULES), ds).iloc[0]


@pytest.mark.parametrize("rule", NEW_RULES)
def test_at_central_values_each_rule_returns_the_register_verdict(ds, central, rule):
    register = ds.claims.set_index("id")["verdict"]
    assert central["error"] == ""
    assert central[f"{rule}_verdict"] == register[get_rules(rule)[0].claim]
    assert bool(central[f"{rule}_holds"])


def test_rules_belong_to_the_families_their_modules_register():
    fams = {name: RULES[name].family for name in NEW_RULES}
    assert {fams[c] for c in MEMBERSHIP} == {"membership"}
    assert fams["C16"] == "export_controls" and fams["C30"] == "substitution"


# ----------------------------------------------------------------------------- hand-made contexts
SETTING = MembershipSetting(grand=("USA", "EU", "JPN", "KOR"), interested=("KOR",), gdp=(("USA", 1.0),), budget=1.0)
FACTS = MembershipFacts(n_minerals=5, n_selfsuff=1, n_shared=3, thirty_in_source=True)


def _numbers(**change):
    insts = SETTING.instruments
    n = {"grand_stable": ["stockpile"], "n_easy_by": {i: 3 for i in insts}, "n_act": 4,
         "interested_gainers": {i: [] for i in insts}, "n_interested": 1,
         "eu_leave": {**{i: 0.0 for i in insts}, "preferential": 80.0, GDP_SHARED: 200.0},
         "bp_fall": 0.06, "others_share": 0.8, "n_paying": 2, "n_active_sp": 4}
    n.update(change)
    return n


def _grade(rule, **change):
    return RULES[rule](MembershipContext(SETTING, FACTS, _numbers(**change))).verdict


@pytest.mark.parametrize("rule, change, before, after", [
    ("C05", {"eu_leave": {"preferential": 0.0, "guaranteed": 0.0, "cfd": 0.0, "stockpile": 0.0, GDP_SHARED: 0.0}},
     "supported with conditions", "not supported"),
    ("C06", {"eu_leave": {"preferential": 5.0, "guaranteed": 5.0, "cfd": 5.0, "stockpile": 5.0, GDP_SHARED: 5.0}},
     "supported with conditions", "supported"),
    ("C08", {"n_easy_by": {"preferential": 1, "guaranteed": 2, "cfd": 0, "stockpile": 1}},
     "supported", "not supported"),
    ("C23", {"bp_fall": 0.005}, "supported with conditions", "not supported"),
    ("C04", {"n_paying": 4}, "supported with conditions", "supported"),
    ("C26", {"interested_gainers": {"preferential": ["KOR"], "guaranteed": [], "cfd": [], "stockpile": []}},
     "supported with conditions", "supported"),
])
def test_a_hand_made_draw_flips_each_membership_verdict(rule, change, before, after):
    assert _grade(rule) == before
    assert _grade(rule, **change) == after


def test_c02_flips_with_stability_under_every_instrument_only_if_members_are_self_sufficient():
    every = list(SETTING.instruments)
    assert _grade("C02", grand_stable=every) == "supported with conditions"     # 1 of 5 minerals only
    ctx = MembershipContext(SETTING, MembershipFacts(5, 5, 3, True), _numbers(grand_stable=every))
    assert RULES["C02"](ctx).verdict == "supported"
    ctx = MembershipContext(SETTING, MembershipFacts(5, 0, 3, True), _numbers(grand_stable=[]))
    assert RULES["C02"](ctx).verdict == "not supported"


def test_a_hand_made_draw_flips_c16_and_c30():
    gdp = 100_000_000.0
    assert RULES["C16"](DisruptionContext(210_000.0, 30.0, 5.0, gdp)).verdict == "supported with conditions"
    assert RULES["C16"](DisruptionContext(90_000.0, 30.0, 5.0, gdp)).verdict == "not supported"
    assert RULES["C16"](DisruptionContext(210_000.0, 150_000.0, 5.0, gdp)).verdict == "supported"
    table = pd.DataFrame({"cut (%)": [69.0]}, index=["all minerals"])
    assert RULES["C30"](SubstitutionContext(table)).verdict == "supported with conditions"
    assert RULES["C30"](SubstitutionContext(table.assign(**{"cut (%)": [49.0]}))).verdict == "not supported"


def test_picked_off_test_agrees_with_the_bisection_of_defection_price(ds):
    from models import benchmark_from_dataset
    setting = membership_setting(ds, "ndpr")
    bench = benchmark_from_dataset(ds, "ndpr")
    model = roster_models(bench, setting)["guaranteed"]
    stay = model.welfare_change(setting.grand)
    for region in ("KOR", "IND"):
        for share in (0.01, setting.easy_discount):
            d = defection_price(model, setting.grand, region)["discount"]
            cheap = d is not None and d / float(bench.prices[region]) <= share
            assert leaves_for_discount(model, setting.grand, region, share * float(bench.prices[region]), stay) == cheap


# ----------------------------------------------------------------------------- coverage
def test_every_claim_appears_once_in_the_coverage_table(ds):
    table = coverage(ds.claims)
    ids = list(ds.claims["id"])
    assert sorted(table.index) == sorted(ids) and table.index.is_unique
    assert set(table["treatment"]) <= set(TREATMENTS)
    assert (table["reason"].str.len() > 0).all()
    graded = table[table["treatment"] == "graded"]
    for claim, row in graded.iterrows():
        assert any(r.claim == claim and f"{r.name} ({r.family})" in row["rules"] for r in RULES.values())
    for claim in NEW_RULES + ("C09", "C12", "C13", "C25"):
        assert table.loc[claim, "treatment"] == "graded"
    for claim in ("C01", "C07", "C15", "C22", "C32", "C33", "C31"):
        assert table.loc[claim, "treatment"] == "no drawn input moves it"
    assert table.loc["C10", "treatment"] == "out of scope"
    # every model-graded claim of the register has a rule today (the stockpile's C14 the last)
    assert (table["treatment"] != "not yet graded").all() and table.loc["C14", "treatment"] == "graded"
    # a model-graded claim without a rule is listed as not yet graded, with the reason
    extra = ds.claims.head(1).assign(id="C99", model="stockpile", chapter="stockpile", verdict="supported")
    later = coverage(pd.concat([ds.claims, extra], ignore_index=True))
    assert later.loc["C99", "treatment"] == "not yet graded" and "stockpile chapter" in later.loc["C99", "reason"]
    for claim in ("C03", "C40"):
        assert table.loc[claim, "treatment"] == "no drawn input moves it"
    assert list(table.columns) == ["chapter", "verdict", "treatment", "rules", "reason"]


def test_coverage_refuses_a_register_with_repeated_ids(ds):
    from models.errors import ModelInputError
    with pytest.raises(ModelInputError, match="unique"):
        coverage(pd.concat([ds.claims, ds.claims.head(1)]))


# ----------------------------------------------------------------------------- sweep files
def test_a_sweep_file_draws_a_familys_own_inputs(tmp_path):
    out = tmp_path / "c16.csv"
    f = tmp_path / "c16.yaml"
    f.write_text(f"mineral: ndpr\ndraws: 2\nseed: 4\nrules: [C16]\nvary: [ed_short_ndpr, es_short_ndpr]\n"
                 f"output: {out}\n", encoding="utf-8")
    assert cli(["sweep", str(f), "--workers", "0", "--no-progress"]) == 0
    table = pd.read_csv(out)
    assert table["ed_short_ndpr"].nunique() == 2 and table["es_short_ndpr"].nunique() == 2
    assert table["price_gap_share"].nunique() == 1 and "C16_verdict" in table and (table["error"].isna()).all()


def test_a_sweep_file_refuses_an_input_that_no_rule_of_it_draws(tmp_path, capsys):
    f = tmp_path / "bad.yaml"
    f.write_text("mineral: ndpr\nrules: [C25]\nvary: [elasticities, ed_short_ndpr]\noutput: a.csv\n", encoding="utf-8")
    assert cli(["sweep", str(f), "--workers", "0", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "sweep.vary[1]" in err and "'ed_short_ndpr'" in err and "Traceback" not in err


# ----------------------------------------------------------------------------- one sweep per family
def test_family_sweeps_give_every_family_its_rules_draws_and_inputs(ds):
    from models.uncertainty import family_sweeps
    from models.errors import ModelInputError
    base = SweepSpec(seed=5, by_region=False)
    specs = family_sweeps(base, {"floors": 7, "membership": 3}, 4, by_region={"floors": True}, dataset=ds)
    assert {"floors", "membership", "export_controls", "substitution"} <= set(specs)
    assert sorted(r for s in specs.values() for r in s.rules) == sorted(RULES)
    assert specs["floors"].draws == 7 and specs["membership"].draws == 3 and specs["substitution"].draws == 4
    assert specs["floors"].by_region and not specs["export_controls"].by_region
    assert "ed_short_ndpr" in specs["export_controls"].vary and "ed_short_ndpr" not in specs["floors"].vary
    assert all(s.seed == 5 for s in specs.values())
    only = family_sweeps(base, {}, 2, vary=("subsidy", "es_short_ndpr"), dataset=ds)
    assert only["floors"].vary == ("subsidy",) and only["export_controls"].vary == ("subsidy", "es_short_ndpr")
    with pytest.raises(ModelInputError, match="draws"):
        family_sweeps(base, {"floors": 0}, 2, dataset=ds)


def test_prcc_ranks_a_draw_shared_by_several_columns_once():
    import numpy as np
    from models.uncertainty.sensitivity import prcc, ranked_number
    rng = np.random.default_rng(0)
    shared, other = rng.uniform(size=40), rng.uniform(size=40)
    x = pd.DataFrame({"ed_A": shared, "ed_B": shared, "subsidy": other})
    r = prcc(x, pd.Series(shared + 0.1 * other))
    assert r["ed_A"] > 0.9 and np.isnan(r["ed_B"]) and 0 < r["subsidy"] < r["ed_A"]
    table = pd.DataFrame({"C99_verdict": ["x"] * 3, "C99_flat": [1.0] * 3, "C99_moves": [1.0, 2.0, 3.0]})

    class _R:
        name = "C99"
    assert ranked_number(table, _R) == "moves"
    assert ranked_number(table.drop(columns="C99_moves"), _R) is None
