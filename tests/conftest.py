"""Shared fixtures: the sourced dataset and the rare-earth chain; the built book (the browser check
and page weights)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import browser_check  # noqa: E402  (needs the path above)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository's root folder."""
    return browser_check.REPO_ROOT


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of the Chromium to drive; skips the test when there is none."""
    path = browser_check.chromium_path()
    if not Path(path).is_file():
        pytest.skip(f"no Chromium at {path} (install Debian's chromium or set CHROMIUM)")
    return path


@pytest.fixture(scope="session")
def built_book() -> Path:
    """``_build/html``, rebuilt first (``jupyter-book build . --all -W --keep-going``) if stale.

    It is stale when missing or older than any file in book/, models/, data/, _ext/,
    _config.yml or _toc.yml.
    """
    html = browser_check.BUILD_HTML
    if not browser_check.build_is_fresh(html):
        result = browser_check.build_book()
        assert result.returncode == 0, (
            "jupyter-book build failed:\n" + (result.stdout + result.stderr)[-6000:]
        )
    return html


@pytest.fixture(scope="session")
def dataset():
    """The sourced dataset (``data/``)."""
    from models.data import load_dataset
    return load_dataset()


@pytest.fixture(scope="session")
def rare_earths(dataset):
    """The rare-earth value chain calibrated to the base year."""
    from models.chain.data import chain_benchmark
    return chain_benchmark("rare_earths", dataset)
