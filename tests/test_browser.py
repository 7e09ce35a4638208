"""The built book, seen in a browser: every figure draws, no error, no request to the network.

Also: the check itself catches a page whose plotly.js is missing, and the pages stay light.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import browser_check

MAX_PAGE_BYTES = 1_000_000


def test_every_page_renders_offline(built_book: Path, chromium: str, repo_root: Path):
    pages = browser_check.html_pages(built_book)
    assert "book/intro.html" in pages
    expected = browser_check.expected_figures(built_book, repo_root)
    with browser_check.serve(built_book) as base_url:
        reports = browser_check.check_pages(base_url, pages, expected, executable=chromium)
    assert [r.page for r in reports] == pages
    problems = browser_check.format_problems(reports)
    assert not problems, "the built book has problems in the browser:\n" + problems
    # A notebook chapter's figures are all there (the pipeline chapter has one).
    for page, count in expected.items():
        report = next(r for r in reports if r.page == page)
        assert report.rendered == report.figures == count


def test_check_fails_when_plotly_js_is_missing(built_book: Path, chromium: str, tmp_path: Path):
    pages_with_figures = [
        page
        for page in browser_check.html_pages(built_book)
        if page.startswith("book/") and "plotly-graph-div" in (built_book / page).read_text("utf-8")
    ]
    assert pages_with_figures, "no chapter of the built book has a plotly figure to test with"
    page = pages_with_figures[0]
    (tmp_path / page).parent.mkdir(parents=True)
    shutil.copy2(built_book / page, tmp_path / page)
    shutil.copytree(
        built_book / "_static", tmp_path / "_static", ignore=shutil.ignore_patterns("plotly.min.js")
    )
    assert not list(tmp_path.rglob("plotly.min.js"))

    with browser_check.serve(tmp_path) as base_url:
        (report,) = browser_check.check_pages(
            base_url, [page], executable=chromium, render_timeout_ms=3_000
        )
    assert report.figures >= 1
    assert report.rendered == 0
    assert len(report.not_rendered) == report.figures
    problems = report.problems()
    assert any("not rendered" in p for p in problems), problems
    assert any("plotly.min.js" in p for p in problems), problems  # the 404 is reported too


def test_chapter_pages_are_light(built_book: Path):
    chapters = sorted((built_book / "book").glob("*.html"))
    assert chapters
    sizes = {p.name: p.stat().st_size for p in chapters}
    heavy = {name: size for name, size in sizes.items() if size >= MAX_PAGE_BYTES}
    assert not heavy, f"chapter pages of 1 MB or more (without _static): {heavy}"


def test_stored_notebooks_are_light(repo_root: Path):
    notebooks = sorted((repo_root / "book").glob("*.ipynb"))
    assert notebooks
    heavy = {p.name: p.stat().st_size for p in notebooks if p.stat().st_size >= MAX_PAGE_BYTES}
    assert not heavy, f"stored notebooks of 1 MB or more: {heavy}"


@pytest.mark.parametrize(
    "html, expected",
    [
        ('<div id="a" class="plotly-graph-div"></div>', 1),
        ("<p>no figure</p>", 0),
    ],
)
def test_notebook_figure_count(tmp_path: Path, html: str, expected: int):
    import nbformat

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("fig")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"text/html": html})]
    hidden = nbformat.v4.new_code_cell("fig", metadata={"tags": ["remove-output"]})
    hidden.outputs = list(cell.outputs)
    nb.cells = [cell, hidden]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    assert browser_check.notebook_figure_count(path) == expected


def test_claims_dashboard(built_book: Path, chromium: str, repo_root: Path):
    """The claims page: a badge painted on every row, every chapter link lands on a `Verdicts`
    section, the filter shows exactly the rows it names, no sideways scroll on a desktop or a phone."""
    import pandas as pd

    n_claims = len(pd.read_csv(repo_root / "data" / "claims.csv", dtype=str))
    with browser_check.serve(built_book) as base_url:
        seen = browser_check.check_dashboard(base_url, "book/claims.html", executable=chromium)
    for width, state in seen["widths"].items():
        assert state is not None, "no dashboard on the claims page"
        assert state["rows"] == state["visible"] == state["badges"] == state["painted_badges"] == n_claims, (width, state)
        assert state["scroll_width"] <= state["inner_width"], f"sideways scroll at {width} px: {state}"
        assert state["links"], "no chapter link on the dashboard"
    assert not seen["broken_links"], seen["broken_links"]
    filtered = seen["filtered"]
    assert seen["filter_value"] and 0 < filtered["visible"] == filtered["matching"] < n_claims, seen
    assert filtered["count_text"].startswith(f"{filtered['visible']} of {n_claims}")
