"""Seeded synthetic markets, for tests and benchmarks that need markets of any size."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .calibration import Benchmark, calibrate_benchmark


def synthetic_benchmark(n: int, seed: int, curve: str = "linear") -> Benchmark:
    """A calibrated market of ``n`` regions from seeded random base-year data.

    Regions on a unit square, transport cost 0.5 + 4 × distance (USD/kg); about 60 % of the regions
    produce (region 0 is the dominant producer); consumption scaled to world production; the
    reference price 80 USD/kg in region 1; elasticities -0.5 (demand) and 0.8 (supply).
    Region ids are ``R`` and a zero-padded number (``R00``…, or ``R000``… from 101 regions).
    """
    rng = np.random.default_rng(seed)
    width = max(2, len(str(n - 1)))
    regions = tuple(f"R{k:0{width}d}" for k in range(n))
    xy = rng.uniform(0.0, 1.0, size=(n, 2))
    t = 0.5 + 4.0 * np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1))
    np.fill_diagonal(t, 0.0)
    production = rng.lognormal(2.0, 1.0, n) * (rng.uniform(size=n) < 0.6)
    production[0] = 3.0 * production.max() + 1.0
    consumption = rng.lognormal(2.0, 1.0, n)
    consumption *= production.sum() / consumption.sum()
    return calibrate_benchmark("synthetic", regions, pd.Series(production, index=regions),
                               pd.Series(consumption, index=regions), 80.0, regions[1],
                               pd.DataFrame(t, index=regions, columns=regions), -0.5, 0.8, curve=curve)
