"""Cost of a draw in each rule family of the Monte Carlo sweep (models/uncertainty), serial.

Run from the repository root::

    PYTHONPATH=. python benchmarks/bench_families.py               # 4 draws a family
    PYTHONPATH=. python benchmarks/bench_families.py --draws 10 --family membership

For every registered family (or the one named), one sweep of all its rules on NdPr at the
robustness chapter's settings (every input of the family drawn; the price floors one elasticity
per region and side, the others one per side): the build of its models (once per process) and
the mean wall time of a draw, every rule's solves included. This is what sets the robustness
chapter's ``draws`` per family. Not a test: nothing here runs under pytest.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models.data import load_dataset  # noqa: E402
from models.uncertainty import Evaluator, SweepSpec, draw_inputs, family_sweeps  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=4)
    parser.add_argument("--family", default=None)
    parser.add_argument("--seed", type=int, default=20260204)
    args = parser.parse_args(argv)
    ds = load_dataset()
    specs = family_sweeps(SweepSpec(seed=args.seed, by_region=False), {}, args.draws, by_region={"floors": True},
                          dataset=ds)
    print(f"{'family':<18}{'rules':<40}{'build (s)':>10}{'per draw (s)':>14}{'failed':>8}")
    for family, spec in specs.items():
        if args.family and family != args.family:
            continue
        t0 = time.perf_counter()
        ev = Evaluator(spec, ds)
        built = time.perf_counter() - t0
        rows = draw_inputs(ev.ranges, spec.draws, spec.seed, spec.vary, spec.by_region).to_dict("records")
        t1 = time.perf_counter()
        out = [ev.evaluate(r) for r in rows]
        per_draw = (time.perf_counter() - t1) / len(rows)
        failed = sum(bool(o["error"]) for o in out)
        print(f"{family:<18}{', '.join(spec.rules):<40}{built:>10.2f}{per_draw:>14.2f}{failed:>8d}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
