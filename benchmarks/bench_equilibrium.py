"""Benchmark of the market model: one solve, 1,000-level floor sweeps, and scaling to 200 regions.

Run from the repository root::

    python benchmarks/bench_equilibrium.py            # the full benchmark (about a minute)
    python benchmarks/bench_equilibrium.py --quick    # smaller: 200 levels, sizes 10-50

Targets (the machine has 2 cores):

* the calibrated market of 13 regions, one mineral, a floor on a few regions: a sweep of 1,000
  floor levels by parametric re-solve in under 3 s, with its wall time within 1.5 x the sum of
  the solver's own reported solve times;
* a synthetic market of 200 regions (40,000 arcs): one solve, build included, in under 2 s;
* the certificate every solve runs (``models/certificate.py``): a few percent of a solve, shown
  as the time of one certificate and a sweep with and without it.

The 13-region market is the project's data (``models.data.load_dataset`` and
``models.benchmark_from_dataset``; NdPr oxide unless ``--mineral``) when they load, otherwise a
seeded synthetic market calibrated with ``models.calibrate_benchmark``; the output says which.
Every random draw is seeded. Not a test: nothing here runs under pytest (timings depend on the
machine and its load, which is printed).

Timing notes. ``wall`` is ``SweepResult.wall_time`` (the whole sweep: parameters, solves, prices,
tables). ``solver (reported)`` is the sum of Clarabel's own ``solve_time``, which on a re-used
solver over-reports (it carries the setup time and an accumulating post-process timer, see
``models/fastpath.py``); ``solver (measured)`` is the time measured around Clarabel's ``solve()``
calls on the fast path, and the ratio against it is the stricter one.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models import Bloc, CfdFloor, GuaranteedPrice, PreferentialFloor, StockpileFloor, certificate, fastpath  # noqa: E402
from models.synthetic import synthetic_benchmark  # noqa: E402

SWEEP_TARGET_S = 3.0
RATIO_TARGET = 1.5
BIG_SOLVE_TARGET_S = 2.0
SEED = 20260204


def synthetic_market(n: int, seed: int = SEED):
    """The seeded synthetic market of ``n`` regions (models.synthetic), one seed per size."""
    return synthetic_benchmark(n, seed + n)


def market_of_13(mineral: str, force_synthetic: bool):
    """``(benchmark, members, location, label)``: real data if it loads, else a synthetic market."""
    if not force_synthetic:
        try:
            from models import benchmark_from_dataset
            from models.data import load_dataset
            dataset = load_dataset()
            bench = benchmark_from_dataset(dataset, mineral)
            members = dataset.roster("core")
            return bench, members, "USA", f"project data: {mineral}, {bench.market.n} regions, floors on the core {members}"
        except (ImportError, KeyError, ValueError, OSError) as exc:
            reason = f"{type(exc).__name__}: {exc}"
    else:
        reason = "--synthetic"
    bench = synthetic_market(13)
    members = bench.market.regions[1:4]
    return bench, members, members[0], f"synthetic 13-region market (seed {SEED}; real data not used: {reason})"


def instrument_scenarios(bench, members, location):
    """The floors, modelled on ``scenarios/*.yaml``: the preferential floor on the members as a bloc
    (each level a search over the cap on non-members' imports, ~20 re-solves), a guaranteed price
    in the members, a US stockpile with a USD 12 billion budget buying from members, and a CfD for
    the members' producers; each at 1.2 x the highest benchmark price."""
    p0 = float(bench.prices.max())
    level = round(1.2 * p0)
    base = bench.base_scenario
    return {
        "preferential": base.extend(bloc=Bloc(members, 0.0), floors=PreferentialFloor(level)),
        "guaranteed": base.extend(bloc=Bloc(members, 0.0), floors=GuaranteedPrice(members, level)),
        "stockpile": base.extend(bloc=Bloc(members, 0.0),
                                 floors=StockpileFloor(location, level, 12000.0, eligible_origins=members)),
        "cfd": base.extend(floors=CfdFloor(members, level)),
    }, p0


def fmt_s(x: float) -> str:
    return f"{x:.3f}" if x >= 0.01 else f"{x * 1e3:.2f}m"


def table(rows: list[dict], columns: list[str]) -> str:
    cells = [[str(r.get(c, "")) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    line = "  ".join(c.rjust(w) for c, w in zip(columns, widths))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(v.rjust(w) for v, w in zip(row, widths)) for row in cells]
    return "\n".join(out)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


# ---------------------------------------------------------------------------- sections
def bench_13(args) -> None:
    bench, members, location, label = market_of_13(args.mineral, args.synthetic)
    print(f"\n== 13-region market: {label}")
    scenarios, p0 = instrument_scenarios(bench, members, location)
    levels = np.linspace(0.7 * p0, 1.9 * p0, args.levels)
    print(f"   floor levels: {args.levels} from {levels[0]:.1f} to {levels[-1]:.1f} USD/kg "
          f"(highest benchmark price {p0:.1f})")
    rows = []
    for name, scenario in scenarios.items():
        t0 = time.perf_counter()
        model = bench.model(scenario)
        model.solve()
        one = time.perf_counter() - t0
        fast = fastpath.fast_problem(model)
        before = (fast.clarabel_wall, fast.n_solves) if fast is not None else (0.0, 0)
        sweep = model.sweep("floor_level", levels)
        path = "fast" if fastpath.unavailable_reason(model) is None else f"cvxpy ({fastpath.unavailable_reason(model)})"
        measured = fast.clarabel_wall - before[0] if fast is not None else float("nan")
        ratio = sweep.wall_time / sweep.solver_time
        rows.append({
            "instrument": name, "path": path, "one solve (s)": fmt_s(one),
            "sweep wall (s)": fmt_s(sweep.wall_time),
            "solver reported (s)": fmt_s(sweep.solver_time), "wall/reported": f"{ratio:.2f}",
            "solver measured (s)": fmt_s(measured), "wall/measured": f"{sweep.wall_time / measured:.2f}",
            f"< {SWEEP_TARGET_S:g} s": verdict(sweep.wall_time < SWEEP_TARGET_S),
            f"ratio <= {RATIO_TARGET:g}": verdict(ratio <= RATIO_TARGET),
            f"measured <= {RATIO_TARGET:g}": verdict(sweep.wall_time / measured <= RATIO_TARGET),
            "ms/step": f"{1e3 * sweep.wall_time / len(levels):.2f}",
        })
        if args.baseline:
            with fastpath.disabled():
                slow_model = bench.model(scenario)
                slow_model.solve()
                slow = slow_model.sweep("floor_level", levels)
            diff = float(np.max(np.abs(slow.table.iloc[:, 2:].to_numpy() - sweep.table.iloc[:, 2:].to_numpy())))
            r = slow.wall_time / slow.solver_time
            rows.append({
                "instrument": name, "path": "cvxpy Problem.solve", "one solve (s)": "",
                "sweep wall (s)": fmt_s(slow.wall_time), "solver reported (s)": fmt_s(slow.solver_time),
                "wall/reported": f"{r:.2f}", "solver measured (s)": "", "wall/measured": "",
                f"< {SWEEP_TARGET_S:g} s": verdict(slow.wall_time < SWEEP_TARGET_S),
                f"ratio <= {RATIO_TARGET:g}": verdict(r <= RATIO_TARGET),
                "ms/step": f"{1e3 * slow.wall_time / len(levels):.2f}",
            })
            rows[-1]["max |diff| vs fast"] = f"{diff:.1e}"
    columns = ["instrument", "path", "one solve (s)", "sweep wall (s)", "solver reported (s)",
               "wall/reported", "solver measured (s)", "wall/measured", "ms/step",
               f"< {SWEEP_TARGET_S:g} s", f"ratio <= {RATIO_TARGET:g}", f"measured <= {RATIO_TARGET:g}"]
    if args.baseline:
        columns.append("max |diff| vs fast")
    print(table(rows, columns))


def _certificate_row(label: str, model, levels) -> dict:
    """One solution's certificate alone (median of 20), and a sweep with and without it."""
    result = model.solve()
    raw = result.raw
    times = []
    for _ in range(20):
        t0 = time.perf_counter()
        certificate.certify(model.market, model._trade_cost, raw, certificate.policy_checks(model, raw))
        times.append(time.perf_counter() - t0)
    one = statistics.median(times)
    solves = []
    for _ in range(5):                                           # a solve through cvxpy, certified
        t0 = time.perf_counter()
        model.solve()
        solves.append(time.perf_counter() - t0)
    solve = statistics.median(solves)
    model.sweep("floor_level", levels[:5])                       # warm the fast path
    plain, certified = [], []
    for _ in range(3):                                           # alternate, keep the fastest
        with certificate.disabled():
            plain.append(model.sweep("floor_level", levels).wall_time)
        certified.append(model.sweep("floor_level", levels).wall_time)
    plain, certified = min(plain), min(certified)
    per_solve = plain / len(levels)
    return {"market": label, "steps": len(levels), "certify one (ms)": f"{1e3 * one:.3f}",
            "solve step (ms)": f"{1e3 * per_solve:.3f}", "sweep without (s)": fmt_s(plain),
            "sweep with (s)": fmt_s(certified), "cost": f"{100 * (certified - plain) / plain:+.1f} %",
            "certify / step": f"{100 * one / per_solve:.1f} %", "solve (ms)": f"{1e3 * solve:.2f}",
            "certify / solve": f"{100 * one / solve:.1f} %",
            "worst residual": f"{float(result.certificate.max()):.1e}"}


def bench_certificate(args) -> None:
    """The certificate's cost (models/certificate.py): it runs after every solve."""
    print("\n== certificate cost: certify one solution (median of 20), and a floor sweep with it and")
    print("   without it (certificate.disabled(); fastest of 3 each, alternated); 'certify / step' is")
    print("   one certificate against one fast-path sweep step without it, 'certify / solve' against")
    print("   one model.solve() through cvxpy (median of 5)")
    rows = []
    bench, members, location, label = market_of_13(args.mineral, args.synthetic)
    scenarios, p0 = instrument_scenarios(bench, members, location)
    levels = list(np.linspace(0.7 * p0, 1.9 * p0, min(args.levels, 200)))
    for name, scenario in scenarios.items():
        rows.append(_certificate_row(f"13 regions, {name}", bench.model(scenario), levels))
    for n in [n for n in args.sizes if n in (50, 200)] or [50]:
        big = synthetic_market(n)
        scenario = big.base_scenario.extend(floors=LevyFloor(big.market.regions[1:4], 90.0))
        rows.append(_certificate_row(f"{n} regions, levy", big.model(scenario),
                                     list(np.linspace(85.0, 115.0, 10))))
    print(table(rows, ["market", "certify one (ms)", "solve (ms)", "certify / solve", "steps",
                       "solve step (ms)", "certify / step", "sweep without (s)", "sweep with (s)", "cost",
                       "worst residual"]))


def _scaling_row(n: int, reps: int) -> dict:
    t0 = time.perf_counter()
    bench = synthetic_market(n)
    calib = time.perf_counter() - t0
    members = bench.market.regions[1:4]
    scenario = bench.base_scenario.extend(floors=GuaranteedPrice(members, 90.0))
    levels = list(np.linspace(85.0, 115.0, reps))

    t0, c0 = time.perf_counter(), time.process_time()
    model = bench.model(scenario)
    build = time.perf_counter() - t0
    t1 = time.perf_counter()
    model.solve()
    first = time.perf_counter() - t1
    first_cpu = time.process_time() - c0

    cvx = []
    for v in levels:                                  # one built problem, cvxpy's Problem.solve
        t0 = time.perf_counter()
        model.solve(floor_level=v)
        cvx.append(time.perf_counter() - t0)

    t0 = time.perf_counter()
    fast = fastpath.fast_problem(model)               # compiled once: maps, probe, Clarabel setup
    setup = time.perf_counter() - t0
    wall0, solves0 = fast.clarabel_wall, fast.n_solves
    sweep = model.sweep("floor_level", levels)        # one built problem, fast path
    per_step = sweep.wall_time / len(levels)
    clarabel = (fast.clarabel_wall - wall0) / (fast.n_solves - solves0)

    rebuilt = []
    for v in levels:                                  # the same programme rebuilt from scratch
        t0 = time.perf_counter()
        bench.model(scenario).solve(floor_level=v)
        rebuilt.append(time.perf_counter() - t0)
    cvx_med, rebuilt_med = statistics.median(cvx), statistics.median(rebuilt)
    return {
        "regions": n, "arcs": n * n, "calibrate (s)": fmt_s(calib), "build (s)": fmt_s(build),
        "build+solve (s)": fmt_s(build + first), "build+solve CPU (s)": fmt_s(first_cpu),
        "re-solve cvxpy (s)": fmt_s(cvx_med), "fast setup (s)": fmt_s(setup),
        "re-solve fast (s)": fmt_s(per_step), "Clarabel (s)": fmt_s(clarabel),
        "rebuilt (s)": fmt_s(rebuilt_med), "rebuilt/fast": f"{rebuilt_med / per_step:.1f}",
        "_fast": per_step, "_cvx": cvx_med, "_rebuilt": rebuilt_med,
    }


def bench_scaling(args) -> None:
    print(f"\n== scaling, synthetic markets (levy floor on 3 regions, {args.reps} floor levels per size)")
    print("   build+solve: EquilibriumModel(...) then .solve() (canonicalisation included);")
    print("   re-solve cvxpy / fast: the built problem at a new floor level through Problem.solve /")
    print("   through the fast path (per step of a sweep); Clarabel: time inside its solve() per step;")
    print("   rebuilt: a new EquilibriumModel built and solved for each level (median).")
    rows = [_scaling_row(n, args.reps) for n in args.sizes]
    columns = ["regions", "arcs", "calibrate (s)", "build (s)", "build+solve (s)", "build+solve CPU (s)",
               "re-solve cvxpy (s)", "fast setup (s)", "re-solve fast (s)", "Clarabel (s)", "rebuilt (s)",
               "rebuilt/fast"]
    print(table(rows, columns))
    large = [r for r in rows if r["regions"] >= 50]
    if len(large) >= 2:
        logn = np.log([r["regions"] for r in large])
        slopes = {key: np.polyfit(logn, np.log([r[key] for r in large]), 1)[0]
                  for key in ("_fast", "_cvx", "_rebuilt")}
        print(f"   growth from {large[0]['regions']} to {large[-1]['regions']} regions (log-log slope, "
              f"time ~ n^k): re-solve fast k = {slopes['_fast']:.2f}, re-solve cvxpy k = "
              f"{slopes['_cvx']:.2f}, rebuilt k = {slopes['_rebuilt']:.2f} (arcs grow as n^2)")


def bench_big(args) -> None:
    """The 200-region target: a fresh model built and solved, ``args.big_reps`` times."""
    bench = synthetic_market(200)
    scenario = bench.base_scenario.extend(floors=GuaranteedPrice(bench.market.regions[1:4], 90.0))
    walls, cpus = [], []
    for _ in range(args.big_reps):
        t0, c0 = time.perf_counter(), time.process_time()
        bench.model(scenario).solve()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    med = statistics.median(walls)
    print(f"\n== 200 regions (40,000 arcs), one solve with the build, {args.big_reps} fresh models: "
          f"wall median {med:.3f} s (min {min(walls):.3f}, max {max(walls):.3f}), "
          f"CPU median {statistics.median(cpus):.3f} s; target < {BIG_SOLVE_TARGET_S:g} s (median wall): "
          f"{verdict(med < BIG_SOLVE_TARGET_S)}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--levels", type=int, default=1000, help="floor levels per sweep (1000)")
    parser.add_argument("--sizes", default="10,25,50,100,150,200", help="region counts of the scaling table")
    parser.add_argument("--reps", type=int, default=3, help="floor levels per size in the scaling table")
    parser.add_argument("--mineral", default="ndpr")
    parser.add_argument("--synthetic", action="store_true", help="use the synthetic 13-region market")
    parser.add_argument("--no-baseline", dest="baseline", action="store_false",
                        help="skip the cvxpy-path sweeps")
    parser.add_argument("--big-reps", type=int, default=3, help="fresh 200-region models built and solved (3)")
    parser.add_argument("--quick", action="store_true", help="200 levels, sizes 10,25,50, no 200-region run")
    args = parser.parse_args(argv)
    if args.quick:
        args.levels, args.sizes, args.big_reps = 200, "10,25,50", 0
    args.sizes = [int(s) for s in str(args.sizes).split(",") if s]
    random.seed(SEED)
    np.random.seed(SEED)
    import clarabel
    import cvxpy
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(f"bench_equilibrium: python {sys.version.split()[0]}, cvxpy {cvxpy.__version__}, "
          f"clarabel {clarabel.__version__}, {os.cpu_count()} cores, "
          f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    bench_13(args)
    bench_certificate(args)
    bench_scaling(args)
    if args.big_reps > 0:
        bench_big(args)
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(f"\nload average at the end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
