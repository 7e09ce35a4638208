"""Command line: ``cmbloc`` (or ``python -m models``).

    cmbloc data                      validate the data and list minerals, regions and rosters
    cmbloc run SCENARIO.yaml         calibrate, solve the scenario, print prices, quantities and
                                     welfare changes against the benchmark
    cmbloc run SCENARIO.yaml --out DIR   also write the result tables as CSV files in DIR
    cmbloc chapter NAME -p KEY=VALUE ... -o OUT.ipynb
                                     re-run a chapter with your own parameters
    cmbloc chapter NAME --list       list a chapter's parameters and their defaults
    cmbloc sweep FILE.yaml           Monte Carlo over the uncertain inputs: each verdict rule per
                                     draw, one CSV row per draw (local Dask cluster, or
                                     --scheduler ADDRESS, or --workers 0 for no Dask)

A scenario file with a ``sweep`` section re-solves one built problem for each value.

Nothing is overwritten or half-written: output paths are checked before any work; an existing
output file, or an output folder holding anything, is refused unless ``--force`` is given (then
the old results are removed first, and a folder holding files other than cmbloc's tables is still
refused); results are written under a temporary name in the same folder and renamed at the end.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pandas as pd

from .calibration import benchmark_from_dataset
from .data import load_dataset
from .errors import DataValidationError, ModelInputError, RerunError, ScenarioError, SolverError
from .scenario_file import load_scenario_file


def _cmd_data(args) -> int:
    ds = load_dataset(args.data)
    print(f"data: {ds.minerals.shape[0]} minerals, {len(ds.region_ids)} regions, "
          f"{len(ds.claims)} claims: all files valid")
    print("minerals:", ", ".join(ds.mineral_ids))
    print("regions: ", ", ".join(ds.region_ids))
    print("rosters: ", ", ".join(sorted(ds.roster_regions["roster"].unique())))
    return 0


#: The tables `cmbloc run --out` writes; with --force only these are removed from the folder.
RUN_TABLES = ("regions.csv", "flows.csv", "welfare.csv", "welfare_change.csv", "wedges.csv", "sweep.csv")


def check_output_folder(out: str | Path, force: bool) -> Path:
    """Refuse an output folder that is a file, or holds anything unless ``force`` (see module doc)."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ModelInputError("--out", str(out), "a folder (this path is a file)")
    if not out.parent.is_dir():
        raise ModelInputError("--out", str(out), f"a folder whose parent exists ({out.parent} does not)")
    if out.is_dir():
        present = sorted(p.name for p in out.iterdir())
        if present and not force:
            raise ModelInputError("--out", str(out), f"an empty or new folder; it holds {present[:5]} "
                                  "(give --force to replace earlier results)")
        foreign = [name for name in present if name not in RUN_TABLES]
        if foreign:
            raise ModelInputError("--out", str(out), f"a folder of cmbloc's tables only; it also holds "
                                  f"{foreign[:5]} (choose another folder)")
    return out


def check_output_file(output: str | Path, force: bool, suffix: str = ".ipynb", field: str = "-o") -> Path:
    """Refuse an output file that exists unless ``force``, is a folder, or lies in no folder."""
    output = Path(output)
    if output.suffix != suffix:
        raise ModelInputError(field, str(output), f"a file name ending in {suffix}")
    if output.is_dir():
        raise ModelInputError(field, str(output), "a file (this path is a folder)")
    if not output.parent.is_dir():
        raise ModelInputError(field, str(output), f"a file in an existing folder ({output.parent} does not exist)")
    if output.exists() and not force:
        raise ModelInputError(field, str(output), "a new file (it exists; give --force to replace it)")
    return output


def _write_tables(out: Path, tables: dict) -> None:
    """Write ``{file name: DataFrame}`` into a temporary folder beside ``out``, then move them in."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for name, (frame, index) in tables.items():
            frame.to_csv(tmp / name, index=index)
        if out.is_dir():
            for name in RUN_TABLES:
                (out / name).unlink(missing_ok=True)
            for name in tables:
                os.replace(tmp / name, out / name)
        else:
            os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _cmd_run(args) -> int:
    out = check_output_folder(args.out, args.force) if args.out else None
    spec = load_scenario_file(args.scenario)
    ds = load_dataset(args.data)
    bench = benchmark_from_dataset(ds, spec.mineral, horizon=spec.horizon, which=spec.which,
                                   curve=spec.curve, demand_elasticity=spec.demand_elasticity,
                                   supply_elasticity=spec.supply_elasticity)
    scenario = spec.scenario(bench.base_scenario, ds)
    baseline = bench.solve()
    try:
        model = bench.model(scenario, solver=args.solver)
    except ModelInputError as exc:
        raise spec.explain(exc, bench.base_scenario) from None
    result = model.solve()
    pd.set_option("display.width", 160)
    print(f"# {spec.name}: {spec.mineral}, {spec.horizon}-run {spec.which} elasticities, {spec.curve} curves")
    print("\n## Prices (USD/kg) and quantities (kt)")
    print(result.regions.round(3).to_string())
    worst = result.certificate.idxmax()
    print(f"\ncertified equilibrium: worst scaled residual {result.certificate.max():.1e} ({worst}); "
          "see models/certificate.py")
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
    if out is not None:
        tables = {"regions.csv": (result.regions, True), "flows.csv": (result.flows, True),
                  "welfare.csv": (result.welfare, True), "welfare_change.csv": (change, True),
                  "wedges.csv": (result.wedges, True)}
        if sweep is not None:
            tables["sweep.csv"] = (sweep.table, False)
        _write_tables(out, tables)
        print(f"\nwrote tables to {out}")
    return 0


def _cmd_chapter(args) -> int:
    import nbformat

    from .rerun import BOOK, chapter_path, parameter_names, parse_assignment, rerun_chapter
    path = chapter_path(args.name, BOOK)
    if args.list:
        for name, default in parameter_names(nbformat.read(path, as_version=4)).items():
            print(f"{name} = {default}")
        return 0
    overrides = dict(parse_assignment(p) for p in args.parameter)
    output = check_output_file(args.output or f"{args.name}-rerun.ipynb", args.force)
    if output.resolve() == path.resolve():
        raise ModelInputError("-o", str(output), "a path other than the chapter's own source")
    if output.exists():
        output.unlink()                          # --force: the old result goes first
    out = rerun_chapter(args.name, overrides, output)
    print(f"executed {args.name} with {overrides}: wrote {out}")
    return 0


def _write_csv(frame: pd.DataFrame, output: Path) -> None:
    """Write ``frame`` to a temporary file beside ``output``, then rename it into place."""
    fd, tmp = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".tmp", dir=output.parent)
    os.close(fd)
    try:
        frame.to_csv(tmp, index=False)
        os.replace(tmp, output)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _cmd_sweep(args) -> int:
    from .uncertainty.scaleout import run_sweep
    from .uncertainty.sweep_file import load_sweep_file
    ds = load_dataset(args.data)
    sweep = load_sweep_file(args.file, ds)
    output = check_output_file(args.out or sweep.output, args.force, suffix=".csv",
                               field="--out" if args.out else f"{sweep.path}: sweep.output")
    if args.workers is not None and args.workers < 0:
        raise ModelInputError("--workers", args.workers, "a non-negative number of worker processes (0: no Dask)")
    batch = sweep.batch_size if args.batch_size is None else args.batch_size
    if batch < 1:
        raise ModelInputError("--batch-size", batch, "a positive number of draws per task")
    spec = sweep.spec
    where = f"the scheduler at {args.scheduler}" if args.scheduler else (
        "this process (no Dask)" if args.workers == 0 else f"a local cluster of {args.workers or os.cpu_count()} workers")
    print(f"# {sweep.name}: {spec.mineral}, {spec.draws} draws (seed {spec.seed}) of {', '.join(spec.vary) or 'nothing'}; "
          f"rules {', '.join(spec.rules)}; on {where}")
    timings: dict = {}
    table = run_sweep(spec, n_workers=args.workers, scheduler=args.scheduler, batch_size=batch,
                      progress=not args.no_progress, timings=timings)
    _write_csv(table, output)
    failed = int((table["error"] != "").sum()) if "error" in table else 0
    print(f"{len(table)} draws in {timings.get('compute', 0.0):.1f} s"
          f" (+{timings.get('startup', 0.0):.1f} s to start workers); {failed} failed to solve")
    for rule in spec.rules:
        col = f"{rule}_holds"
        if col in table:
            held = table[col].dropna()
            share = float(held.astype(bool).mean()) if len(held) else float("nan")
            print(f"{rule}: the register's verdict holds in {share:.1%} of {len(held)} solved draws")
    print(f"wrote {output}")
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
    run.add_argument("--force", action="store_true", help="replace the tables of an earlier run in --out")
    chapter = sub.add_parser("chapter", help="re-run a chapter with your own parameters")
    chapter.add_argument("name", help="chapter file stem, e.g. price_floors")
    chapter.add_argument("-p", "--parameter", action="append", default=[], help="NAME=VALUE (repeatable)")
    chapter.add_argument("-o", "--output", help="where to write the executed notebook")
    chapter.add_argument("--list", action="store_true", help="list the chapter's parameters")
    chapter.add_argument("--force", action="store_true", help="replace an existing output file")
    sweep = sub.add_parser("sweep", help="Monte Carlo over the uncertain inputs: every verdict rule per draw")
    sweep.add_argument("file", help="a YAML sweep file (see scenarios/sweeps/ndpr_verdicts.yaml)")
    sweep.add_argument("--scheduler", help="address of a running Dask scheduler (default: a local cluster)")
    sweep.add_argument("--workers", type=int, default=None,
                       help="worker processes of the local cluster (default: the CPUs; 0: no Dask)")
    sweep.add_argument("--batch-size", type=int, default=None, help="draws per task (default: the file's)")
    sweep.add_argument("--out", help="the CSV file to write (default: the file's 'output')")
    sweep.add_argument("--force", action="store_true", help="replace an existing output file")
    sweep.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    try:
        return {"data": _cmd_data, "run": _cmd_run, "chapter": _cmd_chapter,
                "sweep": _cmd_sweep}[args.command](args)
    except (DataValidationError, ScenarioError, ModelInputError, SolverError, RerunError) as exc:
        print(f"cmbloc: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:                       # a disk full, a permission refused
        print(f"cmbloc: error: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
