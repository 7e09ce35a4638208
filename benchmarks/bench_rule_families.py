"""Cost of one Monte Carlo draw per rule family, and the share of draws in which each verdict holds.

Run from the repository root::

    python benchmarks/bench_rule_families.py                 # 40 draws of each family
    python benchmarks/bench_rule_families.py --draws 100 --family time

Each family's rules are graded on seeded draws of every input that has a range (the market's
elasticities, subsidy and price gap, and the family's own inputs), in this process, one draw
after the other. Printed per family: the build time, the mean, median and largest time of one
draw (all the family's rules), the draws that failed, and for each rule the share of draws whose
verdict is the register's (``data/claims.csv``). Not a test: timings depend on the machine's load,
printed first.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models.data import load_dataset  # noqa: E402
from models.uncertainty import Evaluator, SweepSpec, draw_inputs  # noqa: E402
from models.uncertainty.evaluate import register_verdicts, tidy  # noqa: E402

FAMILIES = {"strategic": ("C41", "C17", "C27"), "time": ("C21", "C34", "C35", "C42", "C43"),
            "investment": ("C24", "C39"), "stockpile": ("C14",)}


def run(rules: tuple, draws: int, seed: int, ds) -> None:
    t = time.perf_counter()
    vary = Evaluator.ranges_for(SweepSpec(rules=rules), ds).inputs
    spec = SweepSpec(rules=rules, draws=draws, seed=seed, vary=vary)
    ev = Evaluator(spec, ds)
    build = time.perf_counter() - t
    rows, times = [], []
    for row in draw_inputs(ev.ranges, draws, seed, vary).to_dict("records"):
        t = time.perf_counter()
        rows.append(ev.evaluate(row))
        times.append(time.perf_counter() - t)
    table = tidy(rows, spec, register_verdicts(ds))
    print(f"{', '.join(rules)}: build {build:.2f} s; one draw {1e3 * np.mean(times):.0f} ms mean, "
          f"{1e3 * np.median(times):.0f} median, {1e3 * np.max(times):.0f} max; "
          f"failed draws {int((table['error'] != '').sum())} of {draws}")
    for rule in rules:
        holds = table[f"{rule}_holds"].dropna().astype(bool)
        counts = table[f"{rule}_verdict"].value_counts().to_dict()
        print(f"  {rule}: the register's verdict in {holds.mean():.0%} of {len(holds)} draws {counts}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=40)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--family", choices=sorted(FAMILIES), action="append")
    args = parser.parse_args()
    print(f"load average: {os.getloadavg()[0]:.2f}")
    ds = load_dataset()
    for name in args.family or list(FAMILIES):
        run(FAMILIES[name], args.draws, args.seed, ds)


if __name__ == "__main__":
    main()
