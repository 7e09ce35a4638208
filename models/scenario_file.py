"""Scenario files: a policy scenario for one mineral written as YAML, validated before any solve.

Example (see ``scenarios/``)::

    name: floors-core
    mineral: ndpr
    elasticities: {horizon: long, which: central}   # or demand: -0.5, supply: 0.8
    curve: linear
    policies:
      bloc: {members: [USA, EU, JPN], external_tariff: 0}
      subsidies: [{region: CHN, rate: 5}]
      quotas: [{origin: CHN, destinations: [JPN], quantity: 0}]
      tariffs: [{origin: CHN, destination: [USA], specific: 0, ad_valorem: 0.25}]
      export_taxes: [{origin: CHN, rate: 2, destinations: ALL}]
      floors:
        - {instrument: preferential, level: 100}          # the plan's floor, on the bloc
        - {instrument: guaranteed, regions: [USA, EU, JPN], level: 100}   # for comparison
        - {instrument: stockpile, location: USA, level: 100, budget: 12000, eligible_origins: ALL}
        - {instrument: cfd, regions: [USA], level: 110}
    sweep: {parameter: floor_level, values: [80, 90, 100, 110]}   # optional

A group of roster names may stand for a list of regions: ``members: {roster: core}``.

The file is read by :func:`models.safe_yaml.load_yaml` (size, encoding, duplicate keys and alias
expansion checked before anything is built) and validated against the pydantic models below,
strict and closed: a number must be a number (``true`` and ``"100"`` are refused), an unknown key
is refused, each floor instrument is one model of a union keyed on ``instrument``. Every problem
in a file is reported at once, in one :class:`models.errors.ScenarioError` naming the file, the
key path, the value and what is allowed. Region ids are checked against the dataset when the
scenario is built, with the file's own positions (``policies.floors[0]``) in the message.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from .errors import ModelInputError, ScenarioError
from .equilibrium import SWEEPABLE
from .policies import (ALL, MEMBERS, Bloc, CfdFloor, ExportQuota, ExportTax, GuaranteedPrice, PreferentialFloor,
                       ProducerSubsidy, Scenario,
                       StockpileFloor, Tariff)
from .safe_yaml import load_yaml

_REGIONS_ALLOWED = f"a region id, a non-empty list of region ids, {ALL!r}, or {{roster: NAME}}"


def _check_regions(value: Any) -> Any:
    """A region id, ``ALL``, a non-empty list of distinct region ids, or ``{roster: NAME}``."""
    if isinstance(value, str) and value:
        return value
    if isinstance(value, list) and value and all(isinstance(r, str) and r for r in value):
        if len(set(value)) != len(value):
            raise ValueError(f"distinct region ids ({_REGIONS_ALLOWED})")
        return value
    if isinstance(value, dict) and set(value) == {"roster"} and isinstance(value["roster"], str):
        return value
    raise ValueError(_REGIONS_ALLOWED)


Regions = Annotated[Any, BeforeValidator(_check_regions)]
RegionId = Annotated[str, Field(min_length=1)]
NonNeg = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class ElasticitiesSpec(_Strict):
    horizon: Literal["short", "long"] = "long"
    which: Literal["central", "low", "high"] = "central"
    demand: Annotated[float, Field(lt=0, allow_inf_nan=False)] | None = None
    supply: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None


class BlocSpec(_Strict):
    members: Regions
    external_tariff: NonNeg = 0.0


class SubsidySpec(_Strict):
    region: RegionId
    rate: NonNeg


class QuotaSpec(_Strict):
    origin: RegionId
    destinations: Regions = ALL
    quantity: NonNeg = 0.0


class TariffSpec(_Strict):
    origin: Regions
    destination: Regions
    specific: NonNeg = 0.0
    ad_valorem: NonNeg = 0.0


class ExportTaxSpec(_Strict):
    origin: RegionId
    rate: NonNeg
    destinations: Regions = ALL


# ---- floors: one small model per instrument, in a union keyed on `instrument` ----------------
class PreferentialSpec(_Strict):
    """The plan's floor on the scenario's bloc: the smallest tariff on non-members' goods that
    holds the zone's price at ``level`` (``reference``: a member whose price is the zone's)."""
    instrument: Literal["preferential"]
    level: Positive
    reference: RegionId | None = None

    def build(self, regions) -> PreferentialFloor:
        ref = None if self.reference is None else regions("reference", self.reference)
        return PreferentialFloor(self.level, ref)


class GuaranteedSpec(_Strict):
    """A guaranteed price (variable levy on all imports plus an export refund), for comparison."""
    instrument: Literal["guaranteed"]
    regions: Regions
    level: Positive

    def build(self, regions) -> GuaranteedPrice:
        return GuaranteedPrice(regions("regions", self.regions), self.level)


class CfdSpec(_Strict):
    instrument: Literal["cfd"]
    regions: Regions
    level: Positive

    def build(self, regions) -> CfdFloor:
        return CfdFloor(regions("regions", self.regions), self.level)


class StockpileSpec(_Strict):
    instrument: Literal["stockpile"]
    location: RegionId
    level: Positive
    budget: NonNeg
    eligible_origins: Regions = ALL

    def build(self, regions) -> StockpileFloor:
        origins = (MEMBERS if self.eligible_origins == MEMBERS
                   else regions("eligible_origins", self.eligible_origins))
        return StockpileFloor(regions("location", self.location), self.level, self.budget, origins)


# New instruments: add a model with `instrument: Literal[...]` and a `build(regions)`, and list it here.
FloorSpec = Annotated[Union[PreferentialSpec, GuaranteedSpec, CfdSpec, StockpileSpec],
                      Field(discriminator="instrument")]
INSTRUMENTS = ("preferential", "guaranteed", "cfd", "stockpile")


class PoliciesSpec(_Strict):
    bloc: BlocSpec | None = None
    subsidies: list[SubsidySpec] = []
    quotas: list[QuotaSpec] = []
    tariffs: list[TariffSpec] = []
    export_taxes: list[ExportTaxSpec] = []
    floors: list[FloorSpec] = []


class SweepSpec(_Strict):
    parameter: Literal[SWEEPABLE]  # type: ignore[valid-type]
    values: Annotated[list[Annotated[float, Field(allow_inf_nan=False)]], Field(min_length=1, max_length=10_000)]

    @field_validator("values")
    @classmethod
    def _distinct(cls, values: list[float]) -> list[float]:
        repeated = sorted({v for v in values if values.count(v) > 1})
        if repeated:
            raise ValueError(f"distinct values (repeated: {repeated})")
        return values


class ScenarioFileSpec(_Strict):
    """The whole file."""

    mineral: RegionId
    name: str | None = None
    description: str | None = None
    elasticities: ElasticitiesSpec = ElasticitiesSpec()
    curve: Literal["linear", "isoelastic"] = "linear"
    policies: PoliciesSpec = PoliciesSpec()
    sweep: SweepSpec | None = None


def _loc(loc: tuple) -> str:
    """``('policies', 'floors', 0, 'levy', 'level')`` -> ``policies.floors[0].level``."""
    out, previous = "", None
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif previous is not None and isinstance(previous, int) and part in INSTRUMENTS:
            pass                         # the union's tag, not a key of the file
        elif isinstance(part, str) and ("[" in part or "function-" in part):
            pass                         # pydantic's name of a validator, not a key of the file
        else:
            out += f".{part}" if out else str(part)
        previous = part
    return f"scenario.{out}" if out else "scenario"


def _message(error: dict) -> str:
    kind, msg = error["type"], error["msg"]
    allowed = {
        "missing": "a value (the key is required)",
        "extra_forbidden": "no such key (see the scenario file format in models/scenario_file.py)",
        "float_type": "a number (not a string or true/false)",
        "string_type": "a string",
        "list_type": "a list",
        "model_type": "a mapping",
        "dict_type": "a mapping",
        "union_tag_invalid": f"an instrument among {list(INSTRUMENTS)}",
        "union_tag_not_found": f"an 'instrument' key, one of {list(INSTRUMENTS)}",
    }.get(kind)
    if allowed is None:
        allowed = msg.removeprefix("Value error, ").removeprefix("Input should be ")
    return allowed


def _format(path, exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        value = error.get("input")
        where = _loc(error["loc"])
        if error["type"] == "missing":
            lines.append(f"{where}: missing; expected {_message(error)}")
        else:
            lines.append(f"{where} = {value!r} is not allowed: expected {_message(error)}")
    head = f"{path}: " if len(lines) == 1 else f"{path}: {len(lines)} problems:\n  "
    return head + "\n  ".join(lines)


@dataclass(frozen=True)
class ScenarioSpec:
    """A parsed scenario file: what to calibrate and which policies to apply."""

    path: str
    name: str
    mineral: str
    horizon: str
    which: str
    demand_elasticity: float | None
    supply_elasticity: float | None
    curve: str
    policies: PoliciesSpec
    sweep: dict | None

    def scenario(self, base: Scenario, dataset=None) -> Scenario:
        """The base scenario extended by this file's policies (rosters resolved with ``dataset``)."""
        return _build_scenario(self, base, dataset)

    def explain(self, exc: ModelInputError, base: Scenario) -> ScenarioError:
        """A model's error about the scenario, at the file's own position.

        The model numbers policies in the extended scenario, whose lists start with ``base``'s
        own policies; ``floors[2]`` of the model is ``policies.floors[1]`` of a file whose base
        has one floor.
        """
        match = re.fullmatch(r"(tariffs|export_taxes|subsidies|quotas|floors)\[(\d+)\](.*)", exc.field)
        if match and int(match.group(2)) >= len(getattr(base, match.group(1))):
            position = int(match.group(2)) - len(getattr(base, match.group(1)))
            return ScenarioError(f"{self.path}: scenario.policies.{match.group(1)}[{position}]{match.group(3)} = "
                                 f"{exc.value!r} is not allowed: expected {exc.allowed}")
        return ScenarioError(f"{self.path}: {exc}")


def load_scenario_file(path: str | Path) -> ScenarioSpec:
    """Read and validate a scenario file (structure and types; region ids are checked on build).

    Raises
    ------
    ScenarioError
        Naming the file, and for each problem the key path, the value and what is allowed.
    """
    path = Path(path)
    raw = load_yaml(path)
    if not isinstance(raw, dict):
        raise ScenarioError(f"{path}: scenario = {raw!r} is not allowed: expected a mapping with at least "
                            "the key 'mineral'")
    for key in ("elasticities", "policies"):
        if key in raw and raw[key] is None:      # `policies:` with nothing under it
            raw[key] = {}
    try:
        spec = ScenarioFileSpec.model_validate(raw)
    except ValidationError as exc:
        raise ScenarioError(_format(path, exc)) from None
    el = spec.elasticities
    sweep = {"parameter": spec.sweep.parameter, "values": list(spec.sweep.values)} if spec.sweep else None
    return ScenarioSpec(str(path), spec.name or path.stem, spec.mineral, el.horizon, el.which,
                        el.demand, el.supply, spec.curve, spec.policies, sweep)


def _build_scenario(spec: ScenarioSpec, base: Scenario, dataset) -> Scenario:
    """Resolve rosters, check region ids against ``dataset`` and build the policies.

    Every unknown region or roster is collected and reported at once, at its position in the file.
    """
    pol, problems = spec.policies, []
    known = tuple(dataset.region_ids) if dataset is not None else None

    def resolver(where: str):
        def regions(key: str, value):
            at = f"{where}.{key}"
            if isinstance(value, dict):
                if dataset is None:
                    problems.append(f"{at} = {value!r} is not allowed: expected an explicit list "
                                    "(no dataset to resolve rosters)")
                    return (ALL,)
                try:
                    return tuple(dataset.roster(value["roster"]))
                except (KeyError, ValueError) as exc:
                    problems.append(f"{at} = {value!r} is not allowed: expected a roster name of "
                                    f"data/roster_regions.csv ({exc})")
                    return (ALL,)
            if value == ALL:
                return ALL
            ids = [value] if isinstance(value, str) else list(value)
            unknown = [r for r in ids if known is not None and r not in known]
            if unknown:
                problems.append(f"{at} = {unknown[0] if len(unknown) == 1 else unknown!r} is not allowed: "
                                f"expected region ids among {list(known)}")
            return value if isinstance(value, str) else tuple(value)
        return regions

    add: dict = {}
    if pol.bloc is not None:
        r = resolver("policies.bloc")
        add["bloc"] = (r("members", pol.bloc.members), pol.bloc.external_tariff)
    groups = {
        "subsidies": lambda d, r: ProducerSubsidy(r("region", d.region), d.rate),
        "quotas": lambda d, r: ExportQuota(r("origin", d.origin), r("destinations", d.destinations), d.quantity),
        "tariffs": lambda d, r: Tariff(r("origin", d.origin), r("destination", d.destination),
                                       d.specific, d.ad_valorem),
        "export_taxes": lambda d, r: ExportTax(r("origin", d.origin), d.rate, r("destinations", d.destinations)),
        "floors": lambda d, r: d.build(r),
    }
    try:
        built = {key: tuple(make(d, resolver(f"policies.{key}[{k}]")) for k, d in enumerate(getattr(pol, key)))
                 for key, make in groups.items()}
        if "bloc" in add:
            add["bloc"] = Bloc(*add["bloc"])
    except ModelInputError as exc:
        problems.append(str(exc))
    if problems:
        head = f"{spec.path}: " if len(problems) == 1 else f"{spec.path}: {len(problems)} problems:\n  "
        raise ScenarioError(head + "\n  ".join(problems))
    add.update({key: value for key, value in built.items() if value})
    return base.extend(name=spec.name, **add)
