"""The claims dashboard and the CSV download links: rows, statuses, escaping, errors."""
from __future__ import annotations

import base64
import io
import re

import pandas as pd
import pytest

from models.claims import load_register
from models.dashboard import BADGE_COLOURS, PENDING, UNTESTED, claim_rows, dashboard_html, shorten
from models.errors import ModelInputError
from models.tables import csv_link, downloadable, has_unit, missing_units

TITLES = {"price_floors": "Price floors", "membership": "Membership"}


def register(**extra) -> pd.DataFrame:
    table = pd.DataFrame({
        "id": ["C01", "C02", "C03"],
        "article": ["000_a.txt", "001_b.txt", "001_b.txt"],
        "quote": ["a floor <script>alert(1)</script> & more", "short", "word " * 40],
        "kind": ["causal", "factual", "political"],
        "model": ["floors", "data", "out_of_scope"],
        "chapter": ["price_floors", "membership", ""],
        "verdict": ["supported", "", ""],
        "verdict_detail": ["holds at 110 USD/kg", "", ""],
        "flips_when": ["short-run low elasticities", "", ""],
        **extra,
    })
    return table.set_index("id")


def test_rows_statuses_links_and_articles():
    rows = claim_rows(register(), TITLES, short_chars=40)
    assert list(rows["status"]) == ["supported", PENDING, UNTESTED]
    assert list(rows["article"]) == ["000", "001", "001"]
    assert rows.loc["C01", "link"] == "price_floors.html#verdicts"
    assert rows.loc["C03", "link"] == ""
    assert len(rows.loc["C03", "claim"]) <= 40 and rows.loc["C03", "claim"].endswith("…")
    assert rows["share"].isna().all()


def test_shorten_cuts_at_a_word():
    assert shorten("one two three four five six", 15) == "one two three…"
    assert shorten("fits", 15) == "fits"


def test_html_escapes_quotes_and_draws_one_badge_per_row():
    page = dashboard_html(claim_rows(register(), TITLES))
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert page.count('class="cl-badge"') == 3
    assert BADGE_COLOURS["supported"] in page and BADGE_COLOURS[UNTESTED] in page
    assert 'href="price_floors.html#verdicts"' in page
    assert 'data-status="supported"' in page and 'data-status="not-yet-tested"' in page


def test_shares_are_shown_and_checked():
    rows = claim_rows(register(share_holds=["0.8", "", ""]), TITLES)
    assert rows.loc["C01", "share"] == pytest.approx(0.8) and pd.isna(rows.loc["C02", "share"])
    assert ">80%<" in dashboard_html(rows)
    for bad in ("1.5", "often"):
        with pytest.raises(ModelInputError, match=r"share_holds\[C01\].*between 0 and 1"):
            claim_rows(register(share_holds=[bad, "", ""]), TITLES)


def test_unknown_chapter_or_verdict_is_refused():
    with pytest.raises(ModelInputError, match="chapter_titles.*membership"):
        claim_rows(register(), {"price_floors": "Price floors"})
    bad = register()
    bad.loc["C01", "verdict"] = "probably"
    with pytest.raises(ModelInputError, match="verdict.*probably"):
        claim_rows(bad, TITLES)


def test_real_register_renders():
    rows = claim_rows(load_register(), {c: c for c in set(load_register()["chapter"]) if c})
    assert set(rows["status"]) <= set(BADGE_COLOURS)
    assert dashboard_html(rows).count('class="cl-badge"') == len(rows)


def test_csv_link_carries_the_table():
    table = pd.DataFrame({"price (USD/kg)": [110.5, 95.25]}, index=pd.Index(["USA", "EU"], name="region"))
    link = csv_link(table, "prices.csv")
    payload = re.search(r'base64,([^"]+)"', link).group(1)
    back = pd.read_csv(io.StringIO(base64.b64decode(payload).decode("utf-8")), index_col=0)
    pd.testing.assert_frame_equal(back, table)
    assert 'download="prices.csv"' in link
    assert "prices.csv" in downloadable(table, "prices.csv")._repr_html_()


@pytest.mark.parametrize("name", ["../x.csv", "table.txt", "", "a b.csv"])
def test_csv_link_refuses_odd_file_names(name):
    with pytest.raises(ModelInputError, match="filename"):
        csv_link(pd.DataFrame({"a": [1]}), name)


@pytest.mark.parametrize("header", ["price (USD/kg)", "output (kt)", "gain (USD m/yr)", "share (%)",
                                    "members (count)", "wedge (τ or λ, USD/kg)", "floor (× reference price)",
                                    "time (seconds)", ("welfare", "bloc (USD million/yr)")])
def test_a_header_with_a_unit_in_parentheses_passes(header):
    assert has_unit(header)
    assert missing_units(pd.DataFrame({header: [1.0, 2.0]})) == []


@pytest.mark.parametrize("header", ["price", "members' manufacturers (consumer surplus)", "stockpile (any origin)",
                                    "USD/kg", "share %"])
def test_a_numeric_column_without_a_unit_is_refused(header):
    table = pd.DataFrame({header: [1.0, 2.0], "region": ["USA", "EU"]})
    assert missing_units(table) == [header]
    with pytest.raises(ModelInputError, match="headers of numeric columns"):
        csv_link(table, "prices.csv")
    with pytest.raises(ModelInputError, match=re.escape(repr([header]))):
        downloadable(table, "prices.csv")


def test_text_and_true_false_columns_need_no_unit():
    table = pd.DataFrame({"verdict": ["supported", "not supported"], "register_agrees": [True, False],
                          "conditions": ["a", ""]})
    assert missing_units(table) == []


def test_a_table_of_variables_by_cases_carries_its_units_in_the_row_labels():
    table = pd.DataFrame({"benchmark": [90.0, 1.2], "CfD": [110.0, 1.5]},
                         index=["members: producer price (USD/kg)", "members: production (kt)"])
    assert missing_units(table) == []
    table.index = ["members: producer price (USD/kg)", "members: production"]
    assert missing_units(table) == ["benchmark", "CfD"]
    mixed = pd.DataFrame({"oxide floor": [1.3, "fails", True]},
                         index=["bloc oxide output (kt)", "status of the floor", "separation kept"])
    assert missing_units(mixed) == []
    mixed.loc["separation kept", "oxide floor"] = 0.4
    assert missing_units(mixed) == ["oxide floor"]


def test_one_unit_for_every_column_can_name_the_columns():
    table = pd.DataFrame({"USA": [12.5], "EU": [30.0]}, index=pd.Index(["ndpr"], name="mineral"))
    assert missing_units(table) == ["USA", "EU"]
    assert missing_units(table.rename_axis(columns="region: net import dependence (%)")) == []


def test_a_numeric_index_needs_a_unit_but_row_numbers_do_not():
    values = {"price (USD/kg)": [1.0, 2.0]}
    assert missing_units(pd.DataFrame(values)) == []
    assert missing_units(pd.DataFrame(values, index=pd.Index([90.0, 110.0], name="floor"))) == ["floor"]
    assert missing_units(pd.DataFrame(values, index=pd.Index([90.0, 110.0], name="floor (USD/kg)"))) == []
    both = pd.MultiIndex.from_tuples([("ndpr", 1.0), ("ndpr", 2.0)], names=["mineral", "probabilities"])
    assert missing_units(pd.DataFrame(values, index=both)) == ["probabilities"]


def test_the_models_tables_shown_in_chapters_carry_units():
    from models.coalition import BILL_SPLIT_HEADERS, bill_split_shown
    from models.downstream import EXPOSURE_HEADERS, exposure_shown
    from models.strategic import FLOOR_GAME_HEADERS, floor_game_shown
    labels = {"instrument", "built", "bloc_choice", "share_warning", "region", "sector"}   # text or true/false
    for headers, shown in ((BILL_SPLIT_HEADERS, bill_split_shown), (FLOOR_GAME_HEADERS, floor_game_shown),
                           (EXPOSURE_HEADERS, exposure_shown)):
        numbers = pd.DataFrame({c: [1.0, 2.0] for c in headers if c not in labels})
        assert len(numbers.columns) >= 4 and missing_units(shown(numbers)) == []
    split = pd.DataFrame({"gross_gain": [1.0], "GDP_share": [0.5]})
    assert list(bill_split_shown(split).columns) == ["gross gain in the bloc (USD m/yr)", "GDP share (fraction)"]
    with pytest.raises(ModelInputError, match="bill_split"):
        bill_split_shown(pd.DataFrame({"gain": [1.0]}))


def test_chapter_titles_come_from_the_notebooks(tmp_path):
    from pathlib import Path

    from models.dashboard import chapter_titles

    book = Path(__file__).resolve().parents[1] / "book"
    titles = chapter_titles(book)
    assert titles["stockpile"] == "The $12 billion stockpile"
    assert set(load_register()["chapter"]) - {""} <= set(titles)
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("no heading here")]
    nbformat.write(nb, tmp_path / "untitled.ipynb")
    with pytest.raises(ModelInputError, match="untitled.ipynb: title"):
        chapter_titles(tmp_path)
