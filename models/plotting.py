"""The book's figure style and the plotly renderer its chapters use.

A chapter calls :func:`use_book_renderer` once, in its imports cell. From then on every plotly
figure it displays carries two representations:

``text/html``
    The figure's ``<div class="plotly-graph-div">`` and a small ``Plotly.newPlot`` script, made by
    ``fig.to_html(include_plotlyjs=False, full_html=False)``. The Jupyter Book HTML build picks this
    one; plotly.js itself is not in the page but served once from the book's ``_static`` folder
    (the local Sphinx extension in ``_ext/`` copies it there from the installed plotly package
    and adds the ``<script>`` tag to the pages that hold a figure), so the built book needs no
    network and a page stays small.
``application/vnd.plotly.v1+json``
    The figure as plotly JSON, which JupyterLab renders by itself when a reader opens the
    notebook there.

Nothing here touches the network: the mode bar has no button that sends data anywhere.
"""
from __future__ import annotations

import hashlib
import itertools
import json
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
from plotly.io.base_renderers import MimetypeRenderer

__all__ = [
    "BOOK_RENDERER",
    "BOOK_TEMPLATE",
    "COLORWAY",
    "PLOTLY_CONFIG",
    "BookRenderer",
    "show",
    "use_book_renderer",
]

#: Name under which the renderer is registered in ``plotly.io.renderers``.
BOOK_RENDERER = "cmbloc_book"
#: Name under which the house template is registered in ``plotly.io.templates``.
BOOK_TEMPLATE = "cmbloc"

#: The Okabe–Ito palette, distinguishable with the common forms of colour blindness.
COLORWAY = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
    "#000000",  # black
)

#: plotly.js configuration of every book figure: no logo, no link to any online service,
#: images downloaded as SVG.
PLOTLY_CONFIG: dict[str, Any] = {
    "displaylogo": False,
    "responsive": True,
    "showSendToCloud": False,
    "modeBarButtonsToRemove": ["sendDataToCloud", "lasso2d", "select2d"],
    "toImageButtonOptions": {"format": "svg", "scale": 1},
}

_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"

_counter = itertools.count(1)


def _book_template() -> go.layout.Template:
    """The house template, laid over plotly's ``plotly_white``."""
    return go.layout.Template(
        layout=dict(
            font=dict(family=_FONT, size=14, color="#222222"),
            title=dict(font=dict(size=18), x=0.0, xanchor="left"),
            colorway=list(COLORWAY),
            hoverlabel=dict(font=dict(family=_FONT, size=13)),
            legend=dict(font=dict(size=13)),
            margin=dict(l=70, r=30, t=60, b=60),
            xaxis=dict(title=dict(font=dict(size=15)), tickfont=dict(size=13)),
            yaxis=dict(title=dict(font=dict(size=15)), tickfont=dict(size=13)),
        )
    )


def _div_id(fig_dict: dict) -> str:
    """A deterministic id for a figure's div, so that re-running a notebook gives the same output.

    The id is a hash of the figure plus a per-kernel counter, so two identical figures on one
    page still get different ids.
    """
    digest = hashlib.sha1(json.dumps(fig_dict, sort_keys=True, default=str).encode()).hexdigest()
    return f"fig-{digest[:12]}-{next(_counter)}"


class BookRenderer(MimetypeRenderer):
    """A plotly renderer whose mimebundle holds both ``text/html`` and plotly JSON.

    Parameters
    ----------
    config : dict, optional
        plotly.js configuration; defaults to :data:`PLOTLY_CONFIG`.
    height : int, optional
        Default height of a figure in pixels when its layout sets none. Default 450.

    Notes
    -----
    The HTML does not include plotly.js (``include_plotlyjs=False``): the page must load it. In
    the built book, ``_ext/plotly_offline.py`` does so from ``_static/plotly/plotly.min.js``.
    """

    def __init__(self, config: dict[str, Any] | None = None, height: int = 450):
        self.config = dict(PLOTLY_CONFIG if config is None else config)
        self.height = height

    def to_mimebundle(self, fig_dict: dict) -> dict[str, Any]:
        """Return the mimebundle of a figure.

        Parameters
        ----------
        fig_dict : dict
            The figure as a plain dict (as plotly passes it to a renderer).

        Returns
        -------
        dict
            ``{"text/html": str, "application/vnd.plotly.v1+json": dict}``.
        """
        html = pio.to_html(
            fig_dict,
            config=self.config,
            include_plotlyjs=False,
            include_mathjax=False,
            full_html=False,
            default_width="100%",
            default_height=f"{self.height}px",
            validate=False,
            div_id=_div_id(fig_dict),
        )
        figure_json = json.loads(pio.to_json(fig_dict, validate=False, remove_uids=True))
        figure_json["config"] = dict(self.config)
        return {"text/html": html, "application/vnd.plotly.v1+json": figure_json}


def use_book_renderer() -> None:
    """Register the book's renderer and template and make them plotly's defaults.

    Call it once in a chapter's imports cell. Calling it again is harmless.

    Examples
    --------
    >>> from models.plotting import use_book_renderer
    >>> use_book_renderer()
    >>> import plotly.io as pio
    >>> pio.renderers.default
    'cmbloc_book'
    """
    pio.renderers[BOOK_RENDERER] = BookRenderer()
    pio.renderers.default = BOOK_RENDERER
    pio.templates[BOOK_TEMPLATE] = _book_template()
    pio.templates.default = f"plotly_white+{BOOK_TEMPLATE}"


def show(fig: go.Figure, *, height: int | None = None) -> None:
    """Display a figure with the book's renderer, whatever plotly's default renderer is.

    Parameters
    ----------
    fig : plotly.graph_objects.Figure
        The figure to show.
    height : int, optional
        Height in pixels; if given it is set on the figure's layout.
    """
    if BOOK_RENDERER not in pio.renderers:
        use_book_renderer()
    if height is not None:
        fig.update_layout(height=height)
    fig.show(renderer=BOOK_RENDERER)
