"""Command line: ``cmbloc`` (or ``python -m models``).

    cmbloc data                      validate the data and list minerals, regions and rosters
    cmbloc run SCENARIO.yaml         calibrate, solve the scenario, print prices, quantities and
                                     welfare changes against the benchmark
    cmbloc run SCENARIO.yaml --out DIR   also write the result tables as CSV files in DIR
    cmbloc chapter NAME -p KEY=VALUE ... -o OUT.ipynb
                                     re-run a chapter with your own parameters
    cmbloc chapter NAME --list       list a chapter's parameters and their defaults

A scenario file with a ``sweep`` section re-solves one built problem for each value.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from .calibration import benchmark_from_dataset
from .data import load_dataset
from .errors import DataValidationError, ModelInputError, ScenarioError, SolverError
from .scenario_file import load_scenario_file


def _cmd_data(args) -> int:
    ds = load_dataset(args.data)
    print(f"data: {ds.minerals.shape[0]} minerals, {len(ds.region_ids)} regions, "
          f"{len(ds.claims)} claims: all files valid")
    print("minerals:", ", ".join(ds.mineral_ids))
    print("regions: ", ", ".join(ds.region_ids))
    print("rosters: ", ", ".join(sorted(ds.roster_regions["roster"].unique())))
    return 0


def _cmd_run(args) -> int:
    spec = load_scenario_file(args.scenario)
    ds = load_dataset(args.data)
    bench = benchmark_from_dataset(ds, spec.mineral, horizon=spec.horizon, which=spec.which,
                                   curve=spec.curve, demand_elasticity=spec.demand_elasticity,
                                   supply_elasticity=spec.supply_elasticity)
    scenario = spec.scenario(bench.base_scenario, ds)
    baseline = bench.solve()
    model = bench.model(scenario, solver=args.solver)
    result = model.solve()
    pd.set_option("display.width", 160)
    print(f"# {spec.name}: {spec.mineral}, {spec.horizon}-run {spec.which} elasticities, {spec.curve} curves")
    print("\n## Prices (USD/kg) and quantities (kt)")
    print(result.regions.round(3).to_string())
    change = result.welfare_change(baseline)
    print("\n## Welfare change against the benchmark (USD million per year)")
    print(change[["consumer_surplus", "producer_surplus", "government", "quota_rent",
                  "total"]].round(2).to_string())
    if scenario.floors:
        print("\n## Wedges")
        print(result.wedges.round(3).to_string())
    if not result.zone.empty:
        print("\n## Preferential floor")
        print(result.zone.to_string())
    if result.stockpile["location"] is not None:
        print("\n## Stockpile")
        print(result.stockpile.to_string())
        print("\n## Inventory, beside the welfare table (not valued: never released in this model)")
        print(result.inventory.to_string())
    sweep = None
    if spec.sweep:
        sweep = model.sweep(spec.sweep["parameter"], spec.sweep["values"])
        print(f"\n## Sweep of {spec.sweep['parameter']}: consumer price (USD/kg)")
        print(sweep.pivot("consumer_price").round(3).to_string())
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        result.regions.to_csv(out / "regions.csv")
        result.flows.to_csv(out / "flows.csv")
        result.welfare.to_csv(out / "welfare.csv")
        change.to_csv(out / "welfare_change.csv")
        result.wedges.to_csv(out / "wedges.csv")
        if sweep is not None:
            sweep.table.to_csv(out / "sweep.csv", index=False)
        print(f"\nwrote tables to {out}")
    return 0


def _cmd_chapter(args) -> int:
    import nbformat

    from .rerun import BOOK, parameter_names, parse_assignment, rerun_chapter
    if args.list:
        path = BOOK / f"{args.name}.ipynb"
        if not path.exists():
            raise ModelInputError("chapter", args.name, f"one of {sorted(p.stem for p in BOOK.glob('*.ipynb'))}")
        for name, default in parameter_names(nbformat.read(path, as_version=4)).items():
            print(f"{name} = {default}")
        return 0
    overrides = dict(parse_assignment(p) for p in args.parameter)
    out = rerun_chapter(args.name, overrides, args.output or f"{args.name}-rerun.ipynb")
    print(f"executed {args.name} with {overrides}: wrote {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cmbloc", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=None, help="data directory (default: the repository's data/)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("data", help="validate the data and list what it holds")
    run = sub.add_parser("run", help="solve a scenario file")
    run.add_argument("scenario", help="a YAML scenario file (see scenarios/)")
    run.add_argument("--out", help="write result tables as CSV into this directory")
    run.add_argument("--solver", default="CLARABEL", help="CLARABEL (default), OSQP or SCS")
    chapter = sub.add_parser("chapter", help="re-run a chapter with your own parameters")
    chapter.add_argument("name", help="chapter file stem, e.g. price_floors")
    chapter.add_argument("-p", "--parameter", action="append", default=[], help="NAME=VALUE (repeatable)")
    chapter.add_argument("-o", "--output", help="where to write the executed notebook")
    chapter.add_argument("--list", action="store_true", help="list the chapter's parameters")
    args = parser.parse_args(argv)
    try:
        return {"data": _cmd_data, "run": _cmd_run, "chapter": _cmd_chapter}[args.command](args)
    except (DataValidationError, ScenarioError, ModelInputError, SolverError) as exc:
        print(f"cmbloc: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
