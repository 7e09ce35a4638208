"""Benchmark of the time models: a 16-year path of one mineral's market, and 100,000 price paths.

Run from the repository root::

    python benchmarks/bench_dynamics.py            # three repetitions, medians printed
    python benchmarks/bench_dynamics.py --reps 1

Targets (the machine has 2 cores): a 16-year path (2025-2040) of the NdPr market with the named
projects and a Chinese export restriction, one equilibrium built and solved a year, in under 5 s;
100,000 seeded price paths of 16 years with a project's NPV and a CfD's top-ups in under 5 s.
Not a test: timings depend on the machine and its load, which is printed.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    from models import benchmark_from_dataset
    from models.data import load_dataset
    from models.dynamics import DynamicPath, PathSettings, Restriction, project_blocks
    from models.price_risk import Project, calibrate_process, project_npv
    from models.time_data import price_history, projects

    print(f"load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    bench = benchmark_from_dataset(load_dataset(), "ndpr")
    settings = PathSettings.from_data(end_year=2040)
    blocks = project_blocks(projects())
    path_times, solves = [], 0
    for _ in range(args.reps):
        res = DynamicPath(bench, settings, blocks, Restriction(2026, 3, 0.5)).run()
        path_times.append(res.wall_time)
        solves = len(res.totals)
    print(f"16-year path (NdPr, {solves} equilibria): median {statistics.median(path_times):.2f} s "
          f"(runs: {', '.join(f'{t:.2f}' for t in path_times)}); target < 5 s")

    history = price_history("ndpr")
    process, _ = calibrate_process(history["date"], history["price_usd_per_kg"])
    project = Project(capacity=1.294, capex=0.0, lead_time=0, life=10, operating_cost=30.0)
    mc_times = []
    for rep in range(args.reps):
        start = time.perf_counter()
        paths = process.simulate(60.0, 16, 100_000, seed=rep)
        out = project_npv(paths, project, 0.08, floor=110.0)
        mc_times.append(time.perf_counter() - start)
    print(f"100,000 price paths x 16 years + NPV and CfD top-ups: median {statistics.median(mc_times):.2f} s "
          f"(runs: {', '.join(f'{t:.2f}' for t in mc_times)}); target < 5 s; "
          f"mean top-up {np.mean(out['top_up']):.1f} USD million")


if __name__ == "__main__":
    main()
