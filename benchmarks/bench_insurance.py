"""Solve times of the stockpile's insurance model on the calibrated markets, and its headline numbers.

Run from the repository root::

    python benchmarks/bench_insurance.py            # default settings, with the bloc search
    python benchmarks/bench_insurance.py --repeat 3 # time re-solves of the built model
    python benchmarks/bench_insurance.py --grids 5 10 15 20   # C14 at central values on each bloc grid

Default settings: the project's data (``models.data.load_dataset``), short-run central elasticities
for the disruptions and long-run ones for the purchase years, the scenarios of
``data/disruptions.csv``, the $12 billion split by :func:`models.insurance_data.vault_budgets`,
the stockpile in the USA, the bloc's core members (USA, EU, Japan). The model is built once and
re-solved (every swept value is a ``cp.Parameter``). Not a test: nothing here runs under pytest.

``--grids`` builds the stockpile chapter's model instead (the Vault's three minerals) at each number
of bloc-search levels ``K`` and prints the solve time, the bloc's inventory and C14's verdict
(:func:`models.stockpile_verdicts.c14_verdict`): how coarse a grid the ``stockpile`` rule family
(:mod:`models.uncertainty.rules_stockpile`) could use and keep the chapter's verdict.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models import benchmark_from_dataset  # noqa: E402
from models.data import load_dataset  # noqa: E402
from models.insurance import InsuranceModel  # noqa: E402
from models.insurance_data import disruptions_from_dataset, vault_budgets  # noqa: E402
from models.stockpile_verdicts import C14Setting, c14_verdict  # noqa: E402


def grids(ds, levels) -> None:
    """C14 at central values on the stockpile chapter's insurance model, one bloc grid after another."""
    vault = vault_budgets(ds)
    minerals = list(vault.index)
    short = {m: benchmark_from_dataset(ds, m, horizon="short") for m in minerals}
    long = {m: benchmark_from_dataset(ds, m, horizon="long") for m in minerals}
    setting = C14Setting(vault_total_musd=float(vault["budget_musd"].sum()), vault_minerals=tuple(minerals))
    for k in levels:
        t = time.perf_counter()
        res = InsuranceModel(short, disruptions_from_dataset(ds), budget=vault["budget_musd"].to_dict(),
                             purchase_benchmarks=long, grid_points=k).solve()
        took = time.perf_counter() - t
        v = c14_verdict(res, setting)
        held = ", ".join(f"{m} {res.bloc_inventory[m]:.4g}" for m in minerals)
        print(f"K={k:3d}: build + solve {took:5.2f} s; bloc inventory (kt) {held}; cost "
              f"{v.evidence['bloc_inventory_cost_musd']:,.1f} M USD; C14 {v.verdict} "
              f"({v.evidence['pairs_stabilised']} of {v.evidence['pairs_that_bite']} pairs); "
              f"grid error (M USD) {res.grid_error.round(2).to_dict()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2, help="re-solves of the built model to time")
    parser.add_argument("--grids", type=int, nargs="+", help="bloc-search levels K to compare (C14 at central values)")
    args = parser.parse_args()
    pd.set_option("display.width", 160)
    pd.set_option("display.max_columns", 12)
    print(f"load average: {os.getloadavg()}")
    ds = load_dataset()
    if args.grids:
        grids(ds, args.grids)
        return
    t0 = time.perf_counter()
    short = {m: benchmark_from_dataset(ds, m, horizon="short") for m in ds.mineral_ids}
    long = {m: benchmark_from_dataset(ds, m, horizon="long") for m in ds.mineral_ids}
    budgets = vault_budgets(ds)
    t1 = time.perf_counter()
    model = InsuranceModel(short, budget=budgets["budget_musd"], purchase_benchmarks=long)
    t2 = time.perf_counter()
    print(f"calibration {t1 - t0:.2f} s, build {t2 - t1:.2f} s")
    res = None
    for k in range(max(1, args.repeat)):
        t = time.perf_counter()
        res = model.solve()
        world_only = time.perf_counter()
        model.solve(bloc=False)
        print(f"solve {k + 1}: world + bloc search {world_only - t:.2f} s "
              f"({len(res.grid)} grid points), world optimum only {time.perf_counter() - world_only:.2f} s")
    print("\nThe $12 billion (vault_budgets):")
    print(budgets.round(3).to_string())
    print("\nOptima (kt, USD/kg, USD million over the purchase years and the horizon):")
    print(res.optima.round(3).to_string())
    print("\nSummed over minerals:")
    print(res.summary.round(1).to_string())
    print("\nInventory account at the world optimum:")
    print(res.inventory_account.drop(columns="basis").round(2).to_string())
    print("\nInventory account at the bloc optimum:")
    print(res.bloc_inventory_account.drop(columns="basis").round(2).to_string())
    print(f"\nbudget convention: actual outlay {res.budget_gap:+.2%} against its value at P0 (world optimum)")
    print(f"grid step (kt): {res.grid_step.round(4).to_dict()}")
    print(f"grid error (USD million): {res.grid_error.round(2).to_dict()}")
    print(f"horizon weights q: {res.weights.round(4).to_dict()}")
    print(f"identity residual: {res.identity_residual:.2e}")


if __name__ == "__main__":
    main()
