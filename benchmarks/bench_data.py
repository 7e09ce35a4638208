"""Benchmark of reading the data: ``load_dataset()``, ``load_chain_data()`` and a full frictionless run.

Run from the repository root::

    python benchmarks/bench_data.py             # 20 repeats
    python benchmarks/bench_data.py --quick     # 5 repeats

What is timed (median of the repeats, and the first call of the process apart, since it builds the
frictionless schemas of ``data/datapackage.json`` once):

* ``load_dataset()``: the 17 tables of ``models.data``, each cell through frictionless's field
  readers, then the foreign keys and the cross-file checks;
* ``load_chain_data()``: the five ``chain_*.csv`` files the same way;
* ``frictionless.Package(...).validate()``: the library's own full run over all 27 resources
  (what ``frictionless validate data/datapackage.json`` does, without the printing), primary and
  foreign keys included. The loaders do not call it: this is the figure that shows why.

Target: ``load_dataset()`` repeated within 1.5 x its time before the package existed (0.23 s on
the 2-core machine, median of 10, commit 38d5248), since every chapter loads the data. Not a test:
timings depend on the machine and its load, which is printed.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import frictionless  # noqa: E402

from models.chain.data import load_chain_data  # noqa: E402
from models.data import load_dataset  # noqa: E402
from models.datapackage import DATA, DESCRIPTOR  # noqa: E402

BEFORE_S = 0.23
TARGET_RATIO = 1.5


def _timed(call, repeats: int) -> tuple[float, float]:
    """(first call, median of the next ``repeats``) in seconds."""
    t0 = time.perf_counter()
    call()
    first = time.perf_counter() - t0
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    return first, statistics.median(times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 repeats instead of 20")
    args = parser.parse_args(argv)
    repeats = 5 if args.quick else 20
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; {repeats} repeats")
    first, median = _timed(load_dataset, repeats)
    print(f"load_dataset()          first {first:.3f} s   median {median:.3f} s")
    cfirst, cmedian = _timed(load_chain_data, repeats)
    print(f"load_chain_data()       first {cfirst:.3f} s   median {cmedian:.3f} s")
    path = str(DATA / DESCRIPTOR)
    pfirst, pmedian = _timed(lambda: frictionless.Package(path).validate(), max(3, repeats // 4))
    print(f"Package.validate()      first {pfirst:.3f} s   median {pmedian:.3f} s")
    ok = median <= TARGET_RATIO * BEFORE_S
    print(f"target: load_dataset() median <= {TARGET_RATIO} x {BEFORE_S} s: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
