"""Benchmark of the strategic supplier: a best-response grid of 200 points on the calibrated market.

Run from the repository root::

    python benchmarks/bench_strategic.py

Target (the machine has 2 cores): China's best response on a grid of 200 export-instrument values
over the calibrated NdPr market, by parametric re-solve of one built model, in under 5 s; and the
same with the two projects of ``data/entrants.csv`` whose entry the leader anticipates (each grid
point then solves up to three times). Not a test: timings depend on the machine's load, printed.
"""
from __future__ import annotations

import os
import time

import numpy as np

from models import benchmark_from_dataset
from models.data import load_dataset
from models.strategic import StrategicMarket, load_entrants


def main() -> None:
    ds = load_dataset()
    bench = benchmark_from_dataset(ds, "ndpr")
    grid = np.linspace(-60.0, 60.0, 200)
    print(f"load average: {os.getloadavg()[0]:.2f}")
    start = time.perf_counter()
    sm = StrategicMarket(bench)
    build = time.perf_counter() - start
    br = sm.best_response(grid, entry="none", refine=False)
    print(f"build {build:.2f} s; 200-point grid, no entrants: {br.wall_time:.2f} s "
          f"({br.wall_time / len(grid) * 1e3:.1f} ms a point), best e = {br.best:.2f} USD/kg")
    br = sm.best_response(grid, entry="none")
    print(f"  with the refinement: {br.wall_time:.2f} s, {br.solves} solves, refined e = {br.refined:.3f}, "
          f"grid error {br.grid_error:.4f} USD million")
    sm = StrategicMarket(bench, entrants=load_entrants("ndpr"))
    br = sm.best_response(grid, entry="anticipate", refine=False)
    print(f"200-point grid, two anticipated entrants: {br.wall_time:.2f} s ({br.solves} solves)")


if __name__ == "__main__":
    main()
