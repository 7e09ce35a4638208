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
Every error names the file, the key and what is allowed (:class:`models.errors.ScenarioError`).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from .errors import ModelInputError, ScenarioError
from .equilibrium import SWEEPABLE
from .policies import (ALL, MEMBERS, Bloc, CfdFloor, ExportQuota, ExportTax, GuaranteedPrice, PreferentialFloor,
                       ProducerSubsidy, Scenario, StockpileFloor, Tariff)

FLOOR_KINDS = ("preferential", "guaranteed", "stockpile", "cfd")
TOP_KEYS = {"name", "mineral", "elasticities", "curve", "policies", "sweep", "description"}
POLICY_KEYS = {"bloc", "subsidies", "quotas", "tariffs", "export_taxes", "floors"}
FIELDS = {
    "bloc": ({"members"}, {"external_tariff"}),
    "subsidies": ({"region", "rate"}, set()),
    "quotas": ({"origin"}, {"destinations", "quantity"}),
    "tariffs": ({"origin", "destination"}, {"specific", "ad_valorem"}),
    "export_taxes": ({"origin", "rate"}, {"destinations"}),
    "preferential": ({"level"}, {"reference"}),
    "guaranteed": ({"regions", "level"}, set()),
    "cfd": ({"regions", "level"}, set()),
    "stockpile": ({"location", "level", "budget"}, {"eligible_origins"}),
}


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
    policies: dict
    sweep: dict | None

    def scenario(self, base: Scenario, dataset=None) -> Scenario:
        """The base scenario extended by this file's policies (rosters resolved with ``dataset``)."""
        return _build_scenario(self, base, dataset)


def _fail(path, key, value, allowed) -> ScenarioError:
    return ScenarioError(f"{path}: {key} = {value!r} is not allowed: expected {allowed}")


def _check_keys(path, where, given: dict, required: set, optional: set) -> None:
    if not isinstance(given, dict):
        raise _fail(path, where, given, "a mapping")
    missing = required - set(given)
    if missing:
        raise _fail(path, f"{where}.{sorted(missing)[0]}", None, "a value (the key is required)")
    unknown = set(given) - required - optional
    if unknown:
        raise _fail(path, f"{where}.{sorted(unknown)[0]}", given[sorted(unknown)[0]],
                    f"one of the keys {sorted(required | optional)}")


def load_scenario_file(path: str | Path) -> ScenarioSpec:
    """Read and validate a scenario file (structure and types; region ids are checked on build)."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such scenario file") from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path}: not valid YAML ({exc})") from None
    _check_keys(path, "scenario", raw, {"mineral"}, TOP_KEYS - {"mineral"})
    el = raw.get("elasticities", {}) or {}
    _check_keys(path, "elasticities", el, set(), {"horizon", "which", "demand", "supply"})
    horizon, which = el.get("horizon", "long"), el.get("which", "central")
    if horizon not in ("short", "long"):
        raise _fail(path, "elasticities.horizon", horizon, "'short' or 'long'")
    if which not in ("central", "low", "high"):
        raise _fail(path, "elasticities.which", which, "'central', 'low' or 'high'")
    for side, sign in (("demand", -1), ("supply", 1)):
        v = el.get(side)
        if v is not None and (not isinstance(v, (int, float)) or v * sign <= 0):
            raise _fail(path, f"elasticities.{side}", v,
                        "a negative number" if sign < 0 else "a positive number")
    curve = raw.get("curve", "linear")
    if curve not in ("linear", "isoelastic"):
        raise _fail(path, "curve", curve, "'linear' or 'isoelastic'")
    policies = raw.get("policies", {}) or {}
    _check_keys(path, "policies", policies, set(), POLICY_KEYS)
    sweep = raw.get("sweep")
    if sweep is not None:
        _check_keys(path, "sweep", sweep, {"parameter", "values"}, set())
        if sweep["parameter"] not in SWEEPABLE:
            raise _fail(path, "sweep.parameter", sweep["parameter"], f"one of {SWEEPABLE}")
        values = sweep["values"]
        if not isinstance(values, list) or not values or not all(isinstance(v, (int, float)) for v in values):
            raise _fail(path, "sweep.values", values, "a non-empty list of numbers")
    return ScenarioSpec(str(path), str(raw.get("name", path.stem)), str(raw["mineral"]), horizon, which,
                        el.get("demand"), el.get("supply"), curve, policies, sweep)


def _regions(spec, where, value, dataset):
    if isinstance(value, dict) and set(value) == {"roster"}:
        if dataset is None:
            raise _fail(spec.path, where, value, "an explicit list (no dataset to resolve rosters)")
        try:
            return tuple(dataset.roster(value["roster"]))
        except (KeyError, ValueError) as exc:
            raise _fail(spec.path, where, value, f"a roster name of data/roster_regions.csv ({exc})") from None
    if value == ALL or isinstance(value, str):
        return value
    if not isinstance(value, list) or not value:
        raise _fail(spec.path, where, value, f"a list of region ids, {ALL!r}, or {{roster: NAME}}")
    return tuple(value)


def _build_scenario(spec: ScenarioSpec, base: Scenario, dataset) -> Scenario:
    p, pol = spec.path, spec.policies
    add: dict = {}
    try:
        if "bloc" in pol:
            b = pol["bloc"]
            _check_keys(p, "policies.bloc", b, *FIELDS["bloc"])
            add["bloc"] = Bloc(_regions(spec, "policies.bloc.members", b["members"], dataset),
                               b.get("external_tariff", 0.0))
        for key, make in (("subsidies", lambda d, w: ProducerSubsidy(d["region"], d["rate"])),
                          ("quotas", lambda d, w: ExportQuota(d["origin"], _regions(
                              spec, f"{w}.destinations", d.get("destinations", ALL), dataset), d.get("quantity", 0.0))),
                          ("tariffs", lambda d, w: Tariff(
                              _regions(spec, f"{w}.origin", d["origin"], dataset),
                              _regions(spec, f"{w}.destination", d["destination"], dataset),
                              d.get("specific", 0.0), d.get("ad_valorem", 0.0))),
                          ("export_taxes", lambda d, w: ExportTax(d["origin"], d["rate"], _regions(
                              spec, f"{w}.destinations", d.get("destinations", ALL), dataset)))):
            items = pol.get(key, []) or []
            if not isinstance(items, list):
                raise _fail(p, f"policies.{key}", items, "a list of mappings")
            built = []
            for k, d in enumerate(items):
                _check_keys(p, f"policies.{key}[{k}]", d, *FIELDS[key])
                built.append(make(d, f"policies.{key}[{k}]"))
            if built:
                add[key] = tuple(built)
        floors = []
        for k, d in enumerate(pol.get("floors", []) or []):
            where = f"policies.floors[{k}]"
            if not isinstance(d, dict) or d.get("instrument") not in FLOOR_KINDS:
                raise _fail(p, f"{where}.instrument", d.get("instrument") if isinstance(d, dict) else d,
                            " or ".join(repr(k) for k in FLOOR_KINDS))
            kind = d["instrument"]
            body = {key: v for key, v in d.items() if key != "instrument"}
            _check_keys(p, where, body, *FIELDS[kind])
            if kind == "stockpile":
                origins = d.get("eligible_origins", ALL)
                floors.append(StockpileFloor(d["location"], d["level"], d["budget"], origins if origins == MEMBERS
                                             else _regions(spec, f"{where}.eligible_origins", origins, dataset)))
            elif kind == "preferential":
                floors.append(PreferentialFloor(d["level"], d.get("reference")))
            else:
                cls = GuaranteedPrice if kind == "guaranteed" else CfdFloor
                floors.append(cls(_regions(spec, f"{where}.regions", d["regions"], dataset), d["level"]))
        if floors:
            add["floors"] = tuple(floors)
    except ModelInputError as exc:
        raise ScenarioError(f"{p}: {exc}") from None
    except (TypeError, ValueError) as exc:
        raise ScenarioError(f"{p}: {exc}") from None
    return base.extend(name=spec.name, **add)
