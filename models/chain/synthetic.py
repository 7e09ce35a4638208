"""A seeded synthetic chain for benchmarks and tests: ``K`` stages over ``n`` regions.

Regions sit at random points of the unit square; freight on stage ``s`` is the distance times a
rate that rises along the chain (more valuable goods cost more to insure). A random share of
regions extracts (stage 0) and processes each later stage; every region has final demand for the
last stage. Linear curves with random intercepts and slopes, input coefficients ``a_s`` in
[1.0, 1.3]. Every draw comes from ``numpy.random.default_rng(seed)``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..curves import LinearCurve
from ..market import Market
from .spec import ChainMarket, Stage


def synthetic_chain(n: int = 50, stages: int = 4, seed: int = 20260204, producer_share: float = 0.3) -> ChainMarket:
    """The seeded synthetic chain of ``stages`` stages over ``n`` regions."""
    rng = np.random.default_rng(seed)
    regions = tuple(f"R{k:03d}" for k in range(n))
    xy = rng.random((n, 2))
    dist = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1))
    out = []
    for s in range(stages):
        cost = dist * (0.5 + 0.5 * s)
        np.fill_diagonal(cost, 0.0)
        t = pd.DataFrame(cost, index=regions, columns=regions)
        k = max(2, int(round(producer_share * n)))
        producers = rng.choice(n, size=k, replace=False)
        supply = {regions[i]: LinearCurve("supply", float(rng.uniform(2, 10)), float(rng.uniform(0.5, 2.0)))
                  for i in producers}
        demand = {}
        if s == stages - 1:
            demand = {r: LinearCurve("demand", float(rng.uniform(300, 400)), -float(rng.uniform(0.5, 2.0)))
                      for r in regions}
        market = Market(f"synthetic:{s}", regions, demand, supply, t)
        out.append(Stage(f"stage{s}", market, 0.0 if s == 0 else float(rng.uniform(1.0, 1.3))))
    return ChainMarket("synthetic", tuple(out))
