"""The investment chapter's verdict rules (``book/investment.ipynb``) on C24 and C39.

The chapter and the Monte Carlo sweep (:mod:`models.uncertainty.rules_time`) grade with these:

* **C24** (calmer prices support investment): the probability that a new separator is built
  within the decision window (:func:`models.price_risk.build_probability`, a developer's median
  and a lender's rule) under today's prices, calmer prices at the same mean and a floor (CfD);
  each of the four rises (calm and floor, two rules) of at least ``threshold`` percentage points
  counts: all ``supported``, some ``supported with conditions``, none ``not supported``.
* **C39** (deep-sea mining is costly): the deep-sea project's break-even price above both a land
  separator's and the ``costly`` quantile of long-run prices: ``supported with conditions``.

Break-even price of a plant that always runs (operating cost ``c``, capacity ``Q``, capital ``I``,
operating years ``t`` discounted at ``r``)::

    p* = c + I / (Q Σ_t e^{−r t})
"""
from __future__ import annotations

import numpy as np

from .price_risk import build_probability


def breakeven_price(project, rate: float) -> float:
    """``p* = c + I / (Q Σ_t e^{−rt})``: the constant price (USD/kg) at which ``project`` breaks even."""
    d = np.exp(-rate * project.operating_years()).sum()
    return float(project.operating_cost + project.capex / (project.capacity * d))


def build_probabilities(regimes, project, quantiles, floor_years: int, **kw) -> dict:
    """``{name: [P(built) per quantile rule]}`` for ``regimes``, a list of ``(name, process, floor)``
    (floor ``None``: none); ``kw`` go to :func:`models.price_risk.build_probability`."""
    return {name: [build_probability(proc, project, quantile=q, floor=fl, floor_years=floor_years, **kw)["probability"]
                   for q in quantiles]
            for name, proc, fl in regimes}


def c24_verdict(pb: dict, threshold: float) -> tuple[str, list, list]:
    """C24 from :func:`build_probabilities` of ``"today's prices"``, ``"calmer prices"`` and ``"CfD"``:
    the verdict and the rises (percentage points, per rule) from calm prices and from the floor."""
    calm_up = [100 * (pb["calmer prices"][i] - pb["today's prices"][i]) for i in (0, 1)]
    floor_up = [100 * (pb["CfD"][i] - pb["today's prices"][i]) for i in (0, 1)]
    ok = [u >= threshold for u in calm_up + floor_up]
    verdict = "supported" if all(ok) else ("supported with conditions" if any(ok) else "not supported")
    return verdict, calm_up, floor_up


def c39_verdict(deep_sea_breakeven: float, land_breakeven: float, price_quantile: float) -> str:
    """C39: deep sea costly if its break-even price exceeds a land separator's and the price quantile."""
    return "supported with conditions" if deep_sea_breakeven > max(land_breakeven, price_quantile) else "not supported"
