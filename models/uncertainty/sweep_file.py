"""Sweep files: a Monte Carlo sweep written as YAML, validated before anything is solved.

Example (see ``scenarios/sweeps/ndpr_verdicts.yaml``)::

    name: ndpr-verdicts
    mineral: ndpr
    draws: 1000
    seed: 20260204
    vary: [elasticities, subsidy, price_gap]   # inputs drawn; the others stay central (a rule
                             # family's own inputs too, e.g. ed_short_ndpr for C16)
    by_region: true          # one elasticity draw per region and side (false: one per side)
    horizon: long            # elasticity horizon of data/elasticities.csv
    rules: [C25, C13]        # registered verdict rules (models.uncertainty.rules.RULES)
    bloc: {roster: core}     # or: bloc: {members: [USA, EU, JPN]}
    floor: null              # C25's floor in USD/kg; null: data/floors.csv (as the chapter)
    market_floor_markup: 1.0 # the market-value floor of C09, C12, C13 / reference price
    batch_size: 50           # draws per Dask task
    output: results/ndpr_verdicts.csv   # relative to the current folder

The file is read by :func:`models.safe_yaml.load_yaml` (size, encoding, duplicate keys and alias
expansion checked first) and validated by strict, closed pydantic models: a number must be a
number, an unknown key is refused. The mineral, the roster or members and the rules are then
checked against the dataset and the rule registry. Every problem is reported at once, in one
:class:`models.errors.ScenarioError` naming the file, the key, the value and what is allowed.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import ScenarioError
from ..safe_yaml import load_yaml
from ..scenario_file import _message
from .draws import INPUTS
from .evaluate import Evaluator, SweepSpec
from .rules import RULES

#: Draws a file may ask for (a sanity bound: 10 million rows of results).
MAX_DRAWS = 10_000_000


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class BlocSpec(_Strict):
    roster: str | None = None
    members: list[Annotated[str, Field(min_length=1)]] | None = None

    @model_validator(mode="after")
    def _one(self):
        if (self.roster is None) == (self.members is None):
            raise ValueError("exactly one of 'roster' (a roster name) or 'members' (a list of region ids)")
        if self.members is not None and (not self.members or len(set(self.members)) != len(self.members)):
            raise ValueError("a non-empty list of distinct region ids")
        return self


class SweepFileSpec(_Strict):
    """The whole file."""

    mineral: Annotated[str, Field(min_length=1)]
    output: Annotated[str, Field(min_length=1)]
    name: str | None = None
    description: str | None = None
    draws: Annotated[int, Field(ge=1, le=MAX_DRAWS)] = 1000
    seed: Annotated[int, Field(ge=0)] = 0
    vary: list[Annotated[str, Field(min_length=1)]] = list(INPUTS)
    by_region: bool = True
    horizon: Literal["short", "long"] = "long"
    rules: list[str] = ["C25"]
    bloc: BlocSpec = BlocSpec(roster="core")
    floor: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    market_floor_markup: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 1.0
    stockpile_location: str = "USA"
    vault_total_musd: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 12000.0
    shield_threshold: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] = 0.9
    batch_size: Annotated[int, Field(ge=1)] = 50


def _loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and ("[" in part or "function-" in part):
            continue
        else:
            out += f".{part}" if out else str(part)
    return f"sweep.{out}" if out else "sweep"


def _problems(path, lines: list[str]) -> ScenarioError:
    head = f"{path}: " if len(lines) == 1 else f"{path}: {len(lines)} problems:\n  "
    return ScenarioError(head + "\n  ".join(lines))


@dataclass(frozen=True)
class SweepFile:
    """A parsed, checked sweep file: the :class:`SweepSpec`, where to write, and the batch size."""

    path: str
    name: str
    spec: SweepSpec
    output: Path
    batch_size: int


def load_sweep_file(path: str | Path, dataset=None) -> SweepFile:
    """Read, validate and check a sweep file against ``dataset`` (default: the repository's data).

    Raises
    ------
    ScenarioError
        Naming the file, and for each problem the key path, the value and what is allowed.
    """
    from ..data import load_dataset
    path = Path(path)
    raw = load_yaml(path, what="sweep file")
    if not isinstance(raw, dict):
        raise ScenarioError(f"{path}: sweep = {raw!r} is not allowed: expected a mapping with at least "
                            "the keys 'mineral' and 'output'")
    try:
        spec = SweepFileSpec.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            where = _loc(error["loc"])
            if error["type"] == "missing":
                lines.append(f"{where}: missing; expected {_message(error)}")
            else:
                lines.append(f"{where} = {error.get('input')!r} is not allowed: expected {_message(error)}")
        raise _problems(path, lines) from None
    ds = dataset if dataset is not None else load_dataset()
    lines = []
    if spec.mineral not in ds.mineral_ids:
        lines.append(f"sweep.mineral = {spec.mineral!r} is not allowed: expected one of {list(ds.mineral_ids)}")
    unknown = [r for r in spec.rules if r not in RULES]
    if unknown or not spec.rules or len(set(spec.rules)) != len(spec.rules):
        lines.append(f"sweep.rules = {spec.rules!r} is not allowed: expected a non-empty list of distinct "
                     f"rules among {sorted(RULES)}")
    rosters = sorted(ds.roster_regions["roster"].unique())
    members = None
    if spec.bloc.roster is not None:
        if spec.bloc.roster not in rosters:
            lines.append(f"sweep.bloc.roster = {spec.bloc.roster!r} is not allowed: expected one of {rosters}")
    else:
        bad = [r for r in spec.bloc.members if r not in ds.region_ids]
        if bad:
            lines.append(f"sweep.bloc.members = {bad!r} is not allowed: expected region ids among {list(ds.region_ids)}")
        members = tuple(spec.bloc.members)
        if "CHN" in members:
            lines.append("sweep.bloc.members = 'CHN' is not allowed: expected members other than the "
                         "subsidised supplier CHN")
    if spec.stockpile_location not in ds.region_ids:
        lines.append(f"sweep.stockpile_location = {spec.stockpile_location!r} is not allowed: expected a "
                     f"region id among {list(ds.region_ids)}")
    if not unknown and spec.rules and spec.mineral in ds.mineral_ids:
        allowed = list(Evaluator.ranges_for(SweepSpec(mineral=spec.mineral, rules=tuple(spec.rules),
                                                      horizon=spec.horizon), ds).inputs)
        for i, v in enumerate(spec.vary):
            if v not in allowed:
                lines.append(f"sweep.vary[{i}] = {v!r} is not allowed: expected one of {allowed} (the market's "
                             "inputs and those of the rules' families)")
        if len(set(spec.vary)) != len(spec.vary):
            lines.append(f"sweep.vary = {spec.vary!r} is not allowed: expected distinct inputs")
    output = Path(spec.output)
    if output.suffix != ".csv":
        lines.append(f"sweep.output = {spec.output!r} is not allowed: expected a file name ending in .csv")
    if lines:
        raise _problems(path, lines)
    sweep = SweepSpec(mineral=spec.mineral, draws=spec.draws, seed=spec.seed, vary=tuple(spec.vary),
                      rules=tuple(spec.rules), horizon=spec.horizon, by_region=spec.by_region,
                      roster=spec.bloc.roster or "core", members=members, floor=spec.floor,
                      market_floor_markup=spec.market_floor_markup, stockpile_location=spec.stockpile_location,
                      vault_total_musd=spec.vault_total_musd, shield_threshold=spec.shield_threshold)
    return SweepFile(str(path), spec.name or path.stem, sweep, output, spec.batch_size)
