"""Evaluating draws (the second stage of a Monte Carlo sweep): re-solve, then apply the verdict rules.

:class:`SweepSpec` is everything a sweep fixes (a small frozen record that pickles, so a Dask task
can carry it). :class:`Evaluator` turns it into the calibrated benchmark and, through each rule's
family (:mod:`models.uncertainty.families`), the models the chosen rules need, **built once**;
:meth:`Evaluator.evaluate` then takes one draw of the inputs:

1. re-calibrates the curves through the same base year at the drawn elasticities and export
   wedge (:meth:`models.calibration.Benchmark.recalibrated`, no transportation problem solved),
   the smaller wedge entering as an export discount on China's arcs (a :class:`~.families.Draw`);
2. hands the draw to each family, which pushes it into its built models (e.g.
   :meth:`models.equilibrium.EquilibriumModel.set_market`) and re-solves them (every solution
   certified; the Clarabel fast path set up afresh at the draw's first solve, so that a draw's
   numbers do not depend on which draws the same process solved before: a sweep gives the same
   table whatever the number of workers or the batch size);
3. applies each rule to its family's context.

A draw whose solve fails (a typed error of :mod:`models.errors`) gets empty verdicts and the
error's message in ``error``; the sweep goes on.
"""
from __future__ import annotations

import importlib
from dataclasses import asdict, dataclass, replace

import pandas as pd

from ..calibration import benchmark_from_dataset
from ..errors import ModelInputError, SolverError
from .draws import INPUTS, InputRanges, draw_inputs, kept_wedge
from .families import Draw, FamilyInputs, get_family
from .rules import get_rules


@dataclass(frozen=True)
class SweepSpec:
    """What a sweep holds fixed; the defaults are the price-floor chapter's.

    Attributes
    ----------
    mineral : str
    draws : int
        Number of draws.
    seed : int
        Seed of ``numpy.random.default_rng``.
    vary : tuple of str
        Inputs drawn (:data:`models.uncertainty.draws.INPUTS`); the others stay central.
    rules : tuple of str
        Names of registered rules (:data:`models.uncertainty.rules.RULES`).
    horizon : {"short", "long"}
        Elasticity horizon of ``data/elasticities.csv``.
    by_region : bool
        One elasticity draw per region and side (``True``) or one per side for every region.
    roster : str
        The bloc, a roster of ``data/rosters.csv``; ``members`` (region ids) overrides it.
    floor : float or None
        C25's floor (USD/kg); ``None``: the floor in ``data/floors.csv``, else NdPr's markup over
        the reference price applied to this mineral's reference price (as the chapter).
    market_floor_markup : float
        The market-value floor of C09, C12, C13 over the reference price.
    stockpile_location : str
    vault_total_musd : float
        Project Vault's size; the mineral's budget follows ``models.insurance_data.vault_budgets``.
    shield_threshold : float
    china : str
    rule_modules : tuple of str
        Modules to import before the rules are looked up: where a reader's own rules call
        :func:`~models.uncertainty.rules.register` (a Dask worker imports them too).
    """

    mineral: str = "ndpr"
    draws: int = 1000
    seed: int = 0
    vary: tuple = INPUTS
    rules: tuple = ("C25",)
    horizon: str = "long"
    by_region: bool = True
    roster: str = "core"
    members: tuple | None = None
    floor: float | None = None
    market_floor_markup: float = 1.0
    stockpile_location: str = "USA"
    vault_total_musd: float = 12000.0
    shield_threshold: float = 0.9
    china: str = "CHN"
    rule_modules: tuple = ()

    def key(self) -> tuple:
        """Everything but the number of draws and the seed: what a worker's cached evaluator depends on."""
        d = asdict(self)
        d.pop("draws"), d.pop("seed")
        return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in d.items()))


class Evaluator:
    """The models of one :class:`SweepSpec`, built once; :meth:`evaluate` solves one draw.

    Each rule's family (:mod:`models.uncertainty.families`) builds its models once here; a draw
    is re-calibrated once and handed to every family, whose rules then grade it.

    Parameters
    ----------
    spec : SweepSpec
    dataset : models.data.Dataset, optional
        Default: ``models.data.load_dataset()``.
    """

    def __init__(self, spec: SweepSpec, dataset=None):
        from ..data import load_dataset
        ds = dataset if dataset is not None else load_dataset()
        self.spec = spec
        import_rule_modules(spec)
        self.rules = get_rules(spec.rules)
        self.bench = benchmark_from_dataset(ds, spec.mineral, horizon=spec.horizon, which="central")
        self.ranges = _ranges(spec, ds, self.bench, self.rules)
        inputs = FamilyInputs(spec, ds, self.bench, self.ranges)
        self.families = {}
        for rule in self.rules:
            self.families.setdefault(rule.family, []).append(rule)
        self.states = {name: get_family(name).build(inputs, rules) for name, rules in self.families.items()}

    @property
    def setting(self):
        """The floors family's :class:`~models.uncertainty.rules.FloorSetting` (if a floor rule is graded)."""
        if "floors" not in self.states:
            raise ModelInputError("setting", list(self.states), "a sweep with a rule of the 'floors' family")
        return self.states["floors"].setting

    @staticmethod
    def ranges_for(spec: SweepSpec, dataset) -> InputRanges:
        """The input ranges of ``spec`` (what the draws need, without building models)."""
        import_rule_modules(spec)
        bench = benchmark_from_dataset(dataset, spec.mineral, horizon=spec.horizon, which="central")
        return _ranges(spec, dataset, bench, get_rules(spec.rules))

    # ------------------------------------------------------------------ one draw
    def _draw(self, row) -> Draw:
        """Re-calibrate the benchmark at the draw's elasticities and export wedge."""
        regions = self.bench.market.regions
        m = self.bench.market
        ed = {r: float(row[f"ed_{r}"]) for r in regions if m.demand_curve(r) is not None}
        es = {r: float(row[f"es_{r}"]) for r in regions if m.supply_curve(r) is not None}
        china, gap = self.spec.china, self.ranges.observed_gap
        wedge = kept_wedge(self.bench, china, row["price_gap_share"])
        bench = self.bench.recalibrated(ed, es, export_wedge=wedge)
        discount = gap - (wedge or {}).get(china, gap)
        discounts = {(china, r): discount for r in regions if r != china} if discount > 0 else None
        return Draw(dict(row), bench, discounts, float(row["subsidy"]))

    def evaluate(self, row) -> dict:
        """Solve one draw (a mapping with the columns of :func:`draw_inputs`); return its table row."""
        out = {k: (int(v) if k == "draw" else float(v)) for k, v in dict(row).items()}
        try:
            draw = self._draw(row)
            for name, rules in self.families.items():
                ctx = self.states[name].context(draw)
                for rule in rules:
                    outcome = rule(ctx)
                    out[f"{rule.name}_verdict"] = outcome.verdict
                    for key, value in outcome.numbers.items():
                        out[f"{rule.name}_{key}"] = float(value)
            out["error"] = ""
        except SolverError as exc:        # InfeasibleError, InaccurateSolutionError, ... included
            out["error"] = f"{type(exc).__name__}: {exc}"
        return out

    def evaluate_many(self, draws: pd.DataFrame) -> list[dict]:
        return [self.evaluate(row) for row in draws.to_dict("records")]


def import_rule_modules(spec: SweepSpec) -> None:
    """Import the modules where a reader's own rules and families register themselves."""
    for name in spec.rule_modules:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise ModelInputError("rule_modules", name, f"an importable module ({exc})") from None


def _ranges(spec: SweepSpec, dataset, bench, rules) -> InputRanges:
    """The market's input ranges plus the extra inputs of the rules' families."""
    ranges = InputRanges.from_dataset(dataset, bench, spec.horizon, spec.china)
    inputs = FamilyInputs(spec, dataset, bench, ranges)
    extra: dict = {}
    for name in dict.fromkeys(rule.family for rule in rules):
        extra.update(get_family(name).ranges(inputs))
    return ranges.with_extra(extra) if extra else ranges


def tidy(rows: list[dict], spec: SweepSpec, register: pd.Series | None = None) -> pd.DataFrame:
    """The sweep's table: one row per draw sorted by ``draw``, with ``<rule>_holds`` (the rule's
    verdict equals the register's, ``data/claims.csv``) beside each ``<rule>_verdict``."""
    table = pd.DataFrame(rows).sort_values("draw", kind="stable").reset_index(drop=True)
    for rule in get_rules(spec.rules):
        col = f"{rule.name}_verdict"
        if col not in table:
            table[col] = None
        expected = None if register is None else register.get(rule.claim)
        if expected is not None:
            holds = (table[col] == expected).astype(object)
            holds[table[col].isna()] = None
            table.insert(table.columns.get_loc(col) + 1, f"{rule.name}_holds", holds)
    if "error" in table:
        table["error"] = table["error"].fillna("")
        table = table[[c for c in table.columns if c != "error"] + ["error"]]
    return table


def run_serial(spec: SweepSpec, dataset=None, progress: bool = False) -> pd.DataFrame:
    """The sweep in this process, draw after draw (the reference a distributed run must equal)."""
    from ..data import load_dataset
    ds = dataset if dataset is not None else load_dataset()
    ev = Evaluator(spec, ds)
    draws = draw_inputs(ev.ranges, spec.draws, spec.seed, spec.vary, spec.by_region)
    records = draws.to_dict("records")
    if progress:
        from tqdm import tqdm
        records = tqdm(records, desc=f"{spec.mineral}: draws", unit="draw")
    rows = [ev.evaluate(r) for r in records]
    return tidy(rows, spec, register_verdicts(ds))


def family_sweeps(base: SweepSpec, draws: dict, default_draws: int, vary: tuple | None = None,
                  by_region: dict | None = None, dataset=None) -> dict:
    """One :class:`SweepSpec` per registered rule family: ``{family: spec}`` in registration order.

    Each spec is ``base`` with every registered rule of the family, ``draws.get(family,
    default_draws)`` draws (a family registered later gets the default with no edit), the inputs
    drawn ``vary`` (``None``: every input of the family's ranges, the market's and its own; else
    those of ``vary`` the family has) and ``by_region.get(family, base.by_region)``.
    """
    from ..data import load_dataset
    from .rules import RULES
    ds = dataset if dataset is not None else load_dataset()
    import_rule_modules(base)
    for name, n in {**draws, "default": default_draws}.items():
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ModelInputError(f"draws[{name}]", n, "a positive integer number of draws")
    families: dict = {}
    for rule in RULES.values():
        families.setdefault(rule.family, []).append(rule.name)
    out = {}
    for family, names in families.items():
        spec = replace(base, rules=tuple(names), draws=int(draws.get(family, default_draws)),
                       by_region=bool((by_region or {}).get(family, base.by_region)))
        inputs = Evaluator.ranges_for(spec, ds).inputs
        out[family] = replace(spec, vary=tuple(inputs) if vary is None else tuple(v for v in vary if v in inputs))
    return out


def register_verdicts(dataset) -> pd.Series:
    """The register's verdict of each claim (``data/claims.csv``), by claim id."""
    return dataset.claims.set_index("id")["verdict"]
