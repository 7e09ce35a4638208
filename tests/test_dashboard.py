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
from models.tables import csv_link, downloadable

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
