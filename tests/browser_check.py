"""Check the built book in headless Chromium: figures render, no errors, no network.

Used by ``tests/test_browser.py``; also runnable by hand on a built book::

    python tests/browser_check.py _build/html

For every page it records how many plotly figures (``div.plotly-graph-div``) there are and how
many have drawn their ``svg.main-svg``; JavaScript console errors and uncaught page errors; local
requests that failed; MathJax errors; and every request to an address other than the local
server, which is blocked (aborted) as well as recorded. It never downloads a browser: it drives
the Chromium at ``/usr/bin/chromium`` or at the path in the environment variable ``CHROMIUM``.
"""
from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

REPO_ROOT = Path(__file__).resolve().parents[1]
BUILD_HTML = REPO_ROOT / "_build" / "html"
#: What the book is built from: the built book is stale if any of these is newer than it.
BOOK_SOURCES = ("book", "models", "data", "_ext", "_config.yml", "_toc.yml")
_IGNORED_PARTS = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".hypothesis"}

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PLOTLY_MIME = "application/vnd.plotly.v1+json"
#: Cell tags that keep a cell's outputs out of the built page.
_HIDING_TAGS = {"remove-output", "remove_output", "remove-cell", "remove_cell"}

_ALL_FIGURES_DRAWN = """() => [...document.querySelectorAll('div.plotly-graph-div')]
    .every(d => d.querySelector('svg.main-svg') !== null)"""
_COUNT_FIGURES = """() => {
    const divs = [...document.querySelectorAll('div.plotly-graph-div')];
    return {
        figures: divs.length,
        rendered: divs.filter(d => d.querySelector('svg.main-svg') !== null).length,
        not_rendered: divs.filter(d => d.querySelector('svg.main-svg') === null).map(d => d.id),
        math: document.querySelectorAll('mjx-container').length,
        math_errors: document.querySelectorAll('mjx-merror').length,
    };
}"""


def chromium_path() -> str:
    """The Chromium to drive: ``$CHROMIUM`` if set, else ``/usr/bin/chromium``."""
    return os.environ.get("CHROMIUM", "/usr/bin/chromium")


# --------------------------------------------------------------------------------------------
# The built book
# --------------------------------------------------------------------------------------------
def _files(path: Path) -> Iterator[Path]:
    if path.is_file():
        yield path
    elif path.is_dir():
        for p in path.rglob("*"):
            if p.is_file() and not _IGNORED_PARTS.intersection(p.parts) and p.suffix != ".pyc":
                yield p


def newest_source_mtime(root: Path = REPO_ROOT) -> float:
    """The modification time of the newest file the book is built from."""
    return max((p.stat().st_mtime for name in BOOK_SOURCES for p in _files(root / name)), default=0.0)


def build_is_fresh(html_dir: Path = BUILD_HTML, root: Path = REPO_ROOT) -> bool:
    """True if ``html_dir`` holds a built book newer than every file it is built from."""
    if not (html_dir / "index.html").is_file():
        return False
    newest_output = max(p.stat().st_mtime for p in _files(html_dir))
    return newest_output > newest_source_mtime(root)


def build_book(root: Path = REPO_ROOT) -> subprocess.CompletedProcess:
    """Run ``jupyter-book build . --all -W --keep-going`` in ``root``; return the finished process.

    ``--all`` because a change in models/ or data/ must re-execute every notebook, which an
    incremental build would not do.
    """
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    command = [str(jupyter_book) if jupyter_book.exists() else "jupyter-book"]
    return subprocess.run(
        [*command, "build", ".", "--all", "-W", "--keep-going"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=1800,
    )


def html_pages(html_dir: Path) -> list[str]:
    """Every HTML page of a built book, as paths relative to ``html_dir`` (posix)."""
    return sorted(
        p.relative_to(html_dir).as_posix()
        for p in html_dir.rglob("*.html")
        if not {"_static", "_sources", "_images"}.intersection(p.relative_to(html_dir).parts)
    )


def notebook_figure_count(notebook: Path) -> int:
    """How many plotly figures the stored outputs of a notebook display.

    An output counts if it carries plotly JSON or HTML with a ``plotly-graph-div``; outputs of
    cells tagged to remove their output, and glued outputs (which are shown where they are
    pasted, not where they are made), do not count.
    """
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    count = 0
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        if _HIDING_TAGS.intersection(cell.get("metadata", {}).get("tags", [])):
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") not in ("display_data", "execute_result"):
                continue
            if "scrapbook" in output.get("metadata", {}):
                continue
            data = output.get("data", {})
            html = data.get("text/html", "")
            html = "".join(html) if isinstance(html, list) else html
            if PLOTLY_MIME in data or "plotly-graph-div" in html:
                count += 1
    return count


def expected_figures(html_dir: Path, root: Path = REPO_ROOT) -> dict[str, int]:
    """For each page built from a notebook in ``root``, the number of figures it should show."""
    expected = {}
    for page in html_pages(html_dir):
        notebook = (root / page).with_suffix(".ipynb")
        if notebook.is_file():
            expected[page] = notebook_figure_count(notebook)
    return expected


# --------------------------------------------------------------------------------------------
# Serving and checking
# --------------------------------------------------------------------------------------------
class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the signature of the base class
        pass


@contextlib.contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve ``directory`` on 127.0.0.1 (a free port) in a thread; yield the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="book-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@dataclass
class PageReport:
    """What the browser saw on one page."""

    page: str
    figures: int = 0
    rendered: int = 0
    not_rendered: list[str] = field(default_factory=list)
    expected_figures: int | None = None
    math: int = 0
    math_errors: int = 0
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        """Everything wrong with the page, one line each; empty if the page is fine."""
        out = []
        if self.not_rendered:
            out.append(f"{len(self.not_rendered)} of {self.figures} figures not rendered: {self.not_rendered}")
        if self.expected_figures is not None and self.rendered != self.expected_figures:
            out.append(f"{self.rendered} figures rendered, but the notebook has {self.expected_figures}")
        if self.math_errors:
            out.append(f"{self.math_errors} MathJax errors")
        out += [f"console error: {m}" for m in self.console_errors]
        out += [f"page error: {m}" for m in self.page_errors]
        out += [f"failed request: {m}" for m in self.failed_requests]
        out += [f"request to the network (blocked): {m}" for m in self.external_requests]
        return out


def check_pages(
    base_url: str,
    pages: list[str],
    expected: dict[str, int] | None = None,
    *,
    executable: str | None = None,
    render_timeout_ms: int = 15_000,
) -> list[PageReport]:
    """Open every page in headless Chromium and report what happened.

    Parameters
    ----------
    base_url : str
        The local server's address, ending in ``/``.
    pages : list of str
        Pages relative to ``base_url``.
    expected : dict, optional
        Expected number of figures per page (pages missing from it are not counted).
    executable : str, optional
        Chromium to drive; default :func:`chromium_path`.
    render_timeout_ms : int
        How long to wait for every figure of a page to draw.

    Returns
    -------
    list of PageReport
        One per page, in order.
    """
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    expected = expected or {}
    reports = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable or chromium_path(), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1200, "height": 900}, service_workers="block")
            for page_path in pages:
                report = PageReport(page=page_path, expected_figures=expected.get(page_path))
                page = context.new_page()

                def on_route(route, report=report):
                    url = route.request.url
                    if url.startswith(base_url) or url.startswith(("data:", "blob:", "about:")):
                        route.continue_()
                    else:
                        report.external_requests.append(url)
                        route.abort()

                def on_request(request, report=report):
                    url = request.url
                    if url.startswith(("http:", "https:", "ws:", "wss:")) and not url.startswith(base_url):
                        if url not in report.external_requests:
                            report.external_requests.append(url)

                def on_response(response, report=report):
                    if response.status >= 400:
                        report.failed_requests.append(f"{response.status} {response.url}")

                def on_failed(request, report=report):
                    if request.url.startswith(base_url):
                        report.failed_requests.append(f"{request.failure} {request.url}")

                page.route("**/*", on_route)
                page.on("request", on_request)
                page.on("response", on_response)
                page.on("requestfailed", on_failed)
                page.on("websocket", lambda ws, report=report: report.external_requests.append(ws.url))
                page.on(
                    "console",
                    lambda msg, report=report: report.console_errors.append(msg.text)
                    if msg.type == "error"
                    else None,
                )
                page.on("pageerror", lambda exc, report=report: report.page_errors.append(str(exc)))

                page.goto(base_url + page_path, wait_until="load")
                with contextlib.suppress(PlaywrightError):
                    page.wait_for_load_state("networkidle", timeout=render_timeout_ms)
                with contextlib.suppress(PlaywrightError):
                    page.wait_for_function(_ALL_FIGURES_DRAWN, timeout=render_timeout_ms)
                counts = page.evaluate(_COUNT_FIGURES)
                for key, value in counts.items():
                    setattr(report, key, value)
                page.close()
                reports.append(report)
            context.close()
        finally:
            browser.close()
    return reports


def format_problems(reports: list[PageReport]) -> str:
    """The problems of all pages, grouped by page; empty if there are none."""
    lines = []
    for report in reports:
        problems = report.problems()
        if problems:
            lines.append(f"{report.page}:")
            lines += [f"    {p}" for p in problems]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Check a built book: ``python tests/browser_check.py [HTML_DIR]``."""
    argv = sys.argv[1:] if argv is None else argv
    html_dir = Path(argv[0]) if argv else BUILD_HTML
    with serve(html_dir) as base_url:
        reports = check_pages(base_url, html_pages(html_dir), expected_figures(html_dir))
    for r in reports:
        print(f"{r.page}: {r.rendered}/{r.figures} figures, {r.math} formulas, {len(r.problems())} problems")
    problems = format_problems(reports)
    if problems:
        print(problems)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())


_DASHBOARD_STATE = """() => {
    const root = document.getElementById('cl-dash');
    if (!root) { return null; }
    const rows = [...root.querySelectorAll('.cl-row[data-status]')];
    const badges = [...root.querySelectorAll('.cl-badge')];
    const painted = badges.filter(b => {
        const s = getComputedStyle(b), r = b.getBoundingClientRect();
        return s.backgroundColor !== 'rgba(0, 0, 0, 0)' && s.color === 'rgb(255, 255, 255)'
            && r.width > 0 && r.height > 0;
    });
    return {
        rows: rows.length,
        visible: rows.filter(r => !r.hidden && r.getBoundingClientRect().height > 0).length,
        badges: badges.length,
        painted_badges: painted.length,
        links: [...root.querySelectorAll('a.cl-link')].map(a => a.href),
        scroll_width: document.documentElement.scrollWidth,
        inner_width: window.innerWidth,
        count_text: (root.querySelector('.cl-count') || {}).textContent || '',
    };
}"""


def check_dashboard(
    base_url: str, page_path: str, widths: tuple[int, ...] = (1280, 390), *, executable: str | None = None
) -> dict:
    """Open the claims dashboard at each viewport width and report what a reader would see.

    Returns ``{"widths": {width: state}, "filtered": state after choosing one verdict,
    "filter_value": that verdict, "broken_links": [...]}``, where a state holds the number of
    rows, visible rows, badges and badges painted (a background colour, white text, a size), the
    page's scroll width against the window's, and the chapter links. A link is broken when its
    page does not load or has no element with the link's anchor id.
    """
    from playwright.sync_api import sync_playwright

    out: dict = {"widths": {}, "broken_links": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable or chromium_path(), args=CHROMIUM_ARGS)
        try:
            for width in widths:
                context = browser.new_context(viewport={"width": width, "height": 900}, service_workers="block")
                page = context.new_page()
                page.goto(base_url + page_path, wait_until="load")
                out["widths"][width] = page.evaluate(_DASHBOARD_STATE)
                context.close()
            context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
            page = context.new_page()
            page.goto(base_url + page_path, wait_until="load")
            values = page.eval_on_selector_all("#cl-dash select[name=verdict] option", "os => os.map(o => o.value)")
            choice = next((v for v in values if v), "")
            page.select_option("#cl-dash select[name=verdict]", choice)
            out["filter_value"] = choice
            out["filtered"] = page.evaluate(_DASHBOARD_STATE)
            out["filtered"]["matching"] = page.eval_on_selector_all(
                f'#cl-dash .cl-row[data-status="{choice}"]', "rs => rs.length")
            for href in sorted(set((out["widths"].get(widths[0]) or {}).get("links", []))):
                target, _, anchor = href.partition("#")
                response = page.goto(target, wait_until="load")
                found = page.evaluate("(id) => document.getElementById(id) !== null", anchor) if anchor else True
                if response is None or response.status >= 400 or not found:
                    out["broken_links"].append(href)
            context.close()
        finally:
            browser.close()
    return out
