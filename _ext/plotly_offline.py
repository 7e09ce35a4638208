"""Serve plotly.js from the book's own ``_static`` folder, so the built book needs no network.

At the end of an HTML build, ``plotly.min.js`` is copied from the installed ``plotly`` package to
``_static/plotly/plotly.min.js`` (it is never committed to git, nor inlined into a page or a
notebook). Every page whose body holds a plotly figure (``plotly-graph-div``, as made by
``models.plotting``) gets a ``<script>`` tag for it in its ``<head>``, loaded before the figures'
inline ``Plotly.newPlot`` scripts run. Pages without a figure do not load it.

Plotly JSON (``application/vnd.plotly.v1+json``, which ``models.plotting`` adds so that JupyterLab
shows the figure) is skipped in the build: the HTML uses the figure's ``text/html``. myst-nb
renders every mime type of an output before choosing one, and warns about a type it does not
know; this extension makes it skip plotly JSON silently instead (other unknown types still
warn).

jupyter-book always loads sphinx-thebe, which puts the address of thebe on a CDN into every page
(inert without a launch button, but an address all the same); this extension removes its script
and style, and its inert configuration block, from every page.

Also forbids require.js: ipywidgets' JavaScript (which myst-nb would fetch from a CDN) is turned
off with ``nb_ipywidgets_js = {}`` in ``_config.yml``; this extension checks it stayed off.
"""
from __future__ import annotations

import re
from pathlib import Path

import plotly
from myst_nb.core.render import NbElementRenderer
from sphinx.application import Sphinx
from sphinx.errors import ConfigError
from sphinx.util.fileutil import copy_asset_file

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
#: Where plotly.js lands, relative to ``_static``.
STATIC_PATH = "plotly/plotly.min.js"
#: The class of the div that plotly's ``to_html`` makes for a figure.
FIGURE_MARKER = "plotly-graph-div"
#: The mime type of plotly JSON, for JupyterLab only.
PLOTLY_MIME = "application/vnd.plotly.v1+json"


def _skip_plotly_json(render):
    """Wrap a myst-nb mime renderer so that it renders nothing for plotly JSON."""

    def wrapped(self, data):
        if data.mime_type == PLOTLY_MIME:
            return []
        return render(self, data)

    wrapped.__wrapped__ = render
    return wrapped


def _patch_myst_nb() -> None:
    for name in ("render_mime_type", "render_mime_type_inline"):
        method = getattr(NbElementRenderer, name)
        if not hasattr(method, "__wrapped__"):
            setattr(NbElementRenderer, name, _skip_plotly_json(method))


def _check_config(app: Sphinx) -> None:
    if not PLOTLY_JS.is_file():
        raise ConfigError(f"plotly.js not found at {PLOTLY_JS}: is plotly installed?")
    if getattr(app.config, "nb_ipywidgets_js", {}) != {}:
        raise ConfigError("set nb_ipywidgets_js: {} so that no page loads require.js from a CDN")


_THEBE_CONFIG = re.compile(r'\s*<script type="text/x-thebe-config">.*?</script>', re.S)


def _is_thebe(asset) -> bool:
    name = str(getattr(asset, "filename", asset) or "")
    body = str((getattr(asset, "attributes", None) or {}).get("body", "") or "")
    return "sphinx-thebe" in name or "THEBE_JS_URL" in body


def _page_assets(app: Sphinx, pagename, templatename, context, doctree) -> None:
    # In place: Sphinx restores these lists after each page.
    for key in ("script_files", "css_files"):
        if key in context:
            context[key][:] = [asset for asset in context[key] if not _is_thebe(asset)]
    if "body" in context:
        context["body"] = _THEBE_CONFIG.sub("", context["body"])
    if FIGURE_MARKER in context.get("body", ""):
        # No defer/async: it must be loaded before the inline scripts of the figures run.
        app.add_js_file(STATIC_PATH, priority=400)


def _copy_plotly_js(app: Sphinx, exception) -> None:
    if exception is None and app.builder.format == "html":
        target = Path(app.outdir) / "_static" / STATIC_PATH
        target.parent.mkdir(parents=True, exist_ok=True)
        copy_asset_file(str(PLOTLY_JS), str(target))


def setup(app: Sphinx) -> dict:
    _patch_myst_nb()
    app.connect("builder-inited", _check_config)
    app.connect("html-page-context", _page_assets)
    app.connect("build-finished", _copy_plotly_js)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
