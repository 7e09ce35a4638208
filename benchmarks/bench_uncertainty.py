"""Speed of the Monte Carlo sweep (models/uncertainty): draws per second, 1 and 2 Dask workers, Dask's overhead.

Run from the repository root (worker processes import ``models`` through ``PYTHONPATH``)::

    PYTHONPATH=. python benchmarks/bench_uncertainty.py                 # the default runs below
    PYTHONPATH=. python benchmarks/bench_uncertainty.py --draws 2000 --rule-draws 200

Two kinds of draw, on NdPr's calibrated market (long-run ranges; elasticities by region and side,
China's subsidy and the price gap all drawn):

* ``one_solve`` (this file's probe rule, registered through ``SweepSpec.rule_modules``): one
  re-solve per draw (the bloc without a floor under the drawn flood) and a comparison: the
  engine's floor, what every draw costs before a rule asks for more solves. ``--draws`` (default
  10,000) on a local cluster of 2 workers: the issue's target (under 30 s), checked on the total
  wall time, the cluster's start-up and shut-down included (the last line says whether it is met).
* ``C25``, the price-floor chapter's claim graded on one equilibrium: the preferential floor's
  tariff search (about nine re-solves) and the benchmark. ``--rule-draws`` (default 1,000) on 2
  workers.

Then a share (``--compare``, default 20%) of those draws is run three ways: the serial loop, a
local cluster of 1 worker and of 2: the scaling from 1 to 2 workers (time with 1 / time with 2)
and Dask's overhead against the serial loop ((1-worker compute − serial) / serial). Reported:
the cluster's start-up (processes, imports), the draws' wall time (each worker builds its models
once, inside it; the build is also timed alone and taken out of the per-draw figures). Not a
test: nothing here runs under pytest.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models.uncertainty import Evaluator, Rule, RuleOutcome, SweepSpec, register, run_serial  # noqa: E402
from models.uncertainty.scaleout import run_sweep  # noqa: E402


def flood_probe(ctx) -> RuleOutcome:
    """Members' supply-weighted producer price under the drawn flood, without a floor, against the
    market-value floor: ``supported`` if it is more than 0.5% below it (one solve per draw)."""
    a = ctx.arrays("none@market+flood")
    idx = ctx.index(ctx.setting.members)
    supply = a["supply"][idx]
    price = float((a["producer_price"][idx] * supply).sum() / supply.sum()) if supply.sum() > 1e-12 else float("nan")
    below = price < (1 - 0.005) * ctx.setting.market_floor
    return RuleOutcome("supported" if below else "not supported", {"members_producer_price": price})


if __name__ not in ("__main__", "__mp_main__"):   # registered where SweepSpec.rule_modules imports it
    register(Rule("one_solve", "C13", ("none@market+flood",), flood_probe,
                  "benchmark probe: one re-solve per draw"))


def _time(label: str, spec: SweepSpec, workers: int | None, batch: int) -> dict:
    timings: dict = {}
    start = time.perf_counter()
    if workers is None:
        table = run_serial(spec)
        timings = {"startup": 0.0, "compute": time.perf_counter() - start}
    else:
        table = run_sweep(spec, n_workers=workers, batch_size=batch, progress=False, timings=timings)
    failed = int((table["error"] != "").sum())
    row = {"run": label, "draws": len(table), "startup_s": timings["startup"], "compute_s": timings["compute"],
           "total_s": time.perf_counter() - start, "draws_per_s": len(table) / timings["compute"],
           "failed": failed}
    print(f"  {label:<18} draws {row['draws']:>6}  startup {row['startup_s']:6.1f} s  compute "
          f"{row['compute_s']:7.1f} s  total {row['total_s']:7.1f} s  {row['draws_per_s']:7.1f} draws/s"
          f"  failed {failed}", flush=True)
    return row


def _build_time(spec: SweepSpec) -> float:
    """Seconds to build one worker's models (calibration, five models at most, fast-path compile)."""
    start = time.perf_counter()
    Evaluator(spec)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=10_000, help="draws of the one-solve probe on 2 workers")
    parser.add_argument("--rule-draws", type=int, default=1_000, help="draws of the C25 rule on 2 workers")
    parser.add_argument("--compare", type=float, default=0.2,
                        help="share of those draws run serially, on 1 and on 2 workers (scaling, overhead)")
    parser.add_argument("--batch", type=int, default=250, help="draws per Dask task")
    parser.add_argument("--seed", type=int, default=20260204)
    args = parser.parse_args()
    print(f"load average: {os.getloadavg()}; CPUs: {os.cpu_count()}")
    target = None
    for name, draws in (("one_solve", args.draws), ("C25", args.rule_draws)):
        spec = SweepSpec(mineral="ndpr", draws=draws, seed=args.seed, rules=(name,),
                         rule_modules=("benchmarks.bench_uncertainty",) if name == "one_solve" else ())
        build = _build_time(spec)
        print(f"\n{name}: ndpr, one worker's models built in {build:.1f} s", flush=True)
        full = _time("dask, 2 workers", spec, 2, args.batch)
        if name == "one_solve":
            target = full
        small = replace(spec, draws=max(2, int(args.compare * draws)))
        rows = {label: _time(label, small, workers, args.batch)
                for label, workers in (("serial", None), ("dask, 1 worker", 1), ("dask, 2 workers", 2))}
        serial, one, two = rows["serial"], rows["dask, 1 worker"], rows["dask, 2 workers"]
        per = {k: (r["compute_s"] - build) / r["draws"] for k, r in rows.items()}
        print(f"  {name}: {draws} draws on 2 workers in {full['total_s']:.1f} s, everything included (start-up "
              f"{full['startup_s']:.1f} s, draws {full['compute_s']:.1f} s, shut-down and table "
              f"{full['total_s'] - full['startup_s'] - full['compute_s']:.1f} s); per draw, models' build excluded: "
              f"serial {1e3 * per['serial']:.2f} ms, 1 worker {1e3 * per['dask, 1 worker']:.2f} ms, 2 workers "
              f"{1e3 * per['dask, 2 workers']:.2f} ms; scaling 1 -> 2 workers x{one['compute_s'] / two['compute_s']:.2f} "
              f"(x{per['dask, 1 worker'] / per['dask, 2 workers']:.2f} per draw); Dask's overhead against the serial "
              f"loop {100 * (one['compute_s'] - serial['compute_s']) / serial['compute_s']:+.1f}% "
              f"({1e3 * (per['dask, 1 worker'] - per['serial']):+.2f} ms a draw) plus {one['startup_s']:.1f} s "
              "to start the cluster", flush=True)

    if target is not None:
        print(f"\nissue 15's target, {args.draws} one_solve draws on 2 workers under 30 s: "
              f"{target['total_s']:.1f} s with the cluster's start-up and shut-down "
              f"({'met' if target['total_s'] < 30 else 'not met'}), {target['compute_s']:.1f} s of draws alone; "
              f"load average at the end {os.getloadavg()[0]:.2f}", flush=True)


if __name__ == "__main__":
    main()
