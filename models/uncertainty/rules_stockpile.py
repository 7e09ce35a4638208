r"""The ``stockpile`` family: the stockpile chapter's C14 graded per draw on the insurance model.

``book/stockpile.ipynb`` grades C14 (the $12 billion stockpile is "ensuring stable procurement") on
:class:`~models.insurance.InsuranceModel` over the Vault's minerals that the data cover (NdPr oxide,
gallium, graphite: :func:`~models.insurance_data.vault_budgets`), with
:func:`models.stockpile_verdicts.c14_verdict`; the rule here calls the same function on one
insurance model per draw, built with the chapter's settings (the core bloc pays and gains, the
stockpile in ``SweepSpec.stockpile_location``, each mineral's share of ``SweepSpec.vault_total_musd``
spent over :data:`~models.insurance_data.PURCHASE_YEARS` years and held
:data:`~models.insurance_data.HOLDING_YEARS`, carrying cost 5% a year, no residual value). Its
curves are fixed when it is built, so a draw re-builds it (about 0.1 s) and re-solves it: the
world optimum, then the search for the bloc's.

**Drawn inputs.** The insurance model reads two horizons of each stocked mineral's curves: the
disruptions are short-run markets, the purchase years long-run ones (the chapter's
``disruption_horizon`` and ``purchase_horizon``). Every stocked mineral's four elasticities have a
``low, central, high`` row in ``data/elasticities.csv``; a draw sets them so:

* **the sweep's own mineral** (NdPr in the robustness chapter) takes the market's draw
  (:class:`~models.uncertainty.Draw`): its re-calibrated benchmark at the drawn elasticities of
  ``SweepSpec.horizon`` (long-run by default, per region or one per side as the sweep draws them)
  and at the drawn share of today's price gap is that horizon's market. The other horizon's
  elasticity of each region and side is the one **at the same quantile** of its own row:
  ``ε_short = F_short⁻¹(F_long(ε_long))`` (:meth:`~models.uncertainty.Range.cdf`,
  :meth:`~models.uncertainty.Range.quantile`): each horizon keeps its triangular distribution and
  a draw that makes NdPr's long-run demand inelastic makes its short-run demand inelastic too (in
  the data the short-run row is the long-run row scaled, so this is the same relative position in
  ``[low, high]``).
* **every other stocked mineral** gets inputs of its own, ``ed_short_<mineral>`` and
  ``es_short_<mineral>`` (triangular on the short-run rows, one per side shared by every region, as
  the chapter's sensitivity moves them), and its long-run elasticities at the same quantiles of the
  long-run rows. Their price gap stays today's (the sweep draws the gap of its own mineral only).
* **the disruption probabilities**, ``p_<scenario>`` for each scenario of ``data/disruptions.csv``
  (1/year), triangular on ``probability_low, annual_probability, probability_high`` (assumptions,
  stated in the file). Their high ends sum to at most 1 (checked on load), so every draw is a
  valid set of annual probabilities.

China's extra subsidy of a draw does not enter the insurance model.

**Grid.** The bloc's optimum is searched on ``K`` levels per mineral, refined once
(:class:`~models.insurance.InsuranceModel`); the family uses the chapter's ``K``,
:data:`GRID_POINTS` = 20: about 2 s to solve at central values, more at some draws. Coarser grids
are cheaper (``K`` = 5: 0.75 s; 10: 1.4 s) but do not keep the central verdict: the bloc's
expected welfare is nearly flat in the graphite inventory (at ``K`` = 16-20 the grid error, the
change to the neighbouring levels, is 0.07-0.23 M USD for graphite against 12-22 M USD for NdPr), so the grid
picks anything from 0 to 25 kt of graphite, and whether that inventory removes half of graphite's
rise in the world cut decides between ``supported`` and ``supported with conditions`` (at central
values: ``K`` = 10, 12, 14, 20, 40 give 7 of 7 pairs stabilised, ``K`` = 3-8, 15, 16 give 6 of 7;
``python benchmarks/bench_insurance.py --grids 5 10 15 20`` prints them).
``python benchmarks/bench_rule_families.py --family stockpile`` measures a draw.
"""
from __future__ import annotations

from ..calibration import benchmark_from_dataset
from ..errors import InaccurateSolutionError, ModelInputError
from ..insurance import InsuranceModel
from ..insurance_data import (BLOC_CORE, HOLDING_YEARS, PURCHASE_YEARS, disruptions_from_dataset, probability_ranges,
                              vault_budgets)
from ..stockpile_verdicts import C14Setting, c14_pairs, c14_verdict
from .draws import Range, elasticity_range, kept_wedge
from .families import Draw, Family, FamilyInputs, register_family
from .rules import Rule, RuleOutcome, register

#: The chapter's settings (``book/stockpile.ipynb``, parameters cell).
CARRYING_COST, RESIDUAL_VALUE, GRID_POINTS = 0.05, 0.0, 20
DISRUPTION_HORIZON, PURCHASE_HORIZON = "short", "long"
MATERIAL_SPIKE, STABILISING_SHARE = 0.10, 0.5
SIDES = {"demand": "ed", "supply": "es"}
#: Clarabel's tolerances for the retry of a draw whose certificate fails at its defaults (1e-8): prices
#: are duals, and steep short-run curves turn quantity errors into price errors.
RETRY_OPTIONS = {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10}
NEEDS = ("insurance",)


def _other(horizon: str) -> str:
    return PURCHASE_HORIZON if horizon == DISRUPTION_HORIZON else DISRUPTION_HORIZON


def stocked_minerals(dataset, total: float) -> tuple:
    """The minerals the Vault's budget covers (:func:`~models.insurance_data.vault_budgets`)."""
    return tuple(vault_budgets(dataset, total=total, years=PURCHASE_YEARS).index)


def probability_input(name: str) -> str:
    """The drawn column of scenario ``name``'s annual probability."""
    return f"p_{name}"


def stockpile_ranges(inputs: FamilyInputs) -> dict:
    """``{name: Range}``: each scenario's annual probability (1/year) and the short-run elasticities
    of the stocked minerals other than the sweep's own (see the module docstring)."""
    spec, ds = inputs.spec, inputs.dataset
    minerals = stocked_minerals(ds, spec.vault_total_musd)
    if spec.mineral not in minerals:
        raise ModelInputError("mineral", spec.mineral, f"one of the minerals the stockpile holds {list(minerals)}")
    out = {}
    for name, r in probability_ranges(ds).iterrows():
        out[probability_input(name)] = Range(float(r["low"]), float(r["central"]), float(r["high"]),
                                             "data/disruptions.csv (probability_low, annual_probability, "
                                             "probability_high): assumption, stated in the row's source", "1/year")
    for m in minerals:
        if m == spec.mineral:
            continue
        for side, prefix in SIDES.items():
            out[f"{prefix}_{DISRUPTION_HORIZON}_{m}"] = elasticity_range(ds, m, side, DISRUPTION_HORIZON)
    return out


class StockpileContext:
    """One draw's insurance model, solved when the rule first asks (:meth:`result`)."""

    def __init__(self, state: "StockpileState", draw: Draw):
        self.state, self.draw, self.setting = state, draw, state.setting
        self._result = None

    def benchmarks(self) -> tuple[dict, dict]:
        """The draw's disruption (short-run) and purchase (long-run) benchmarks, by mineral."""
        s, row = self.state, self.draw.row
        by_horizon = {DISRUPTION_HORIZON: {}, PURCHASE_HORIZON: {}}
        own, other = s.horizon, _other(s.horizon)
        by_horizon[own][s.mineral] = self.draw.bench
        market = self.draw.bench.market
        moved = {}
        for side, prefix in SIDES.items():
            curves = market.demand_curve if side == "demand" else market.supply_curve
            moved[side] = {r: s.at_same_quantile(s.mineral, side, own, float(row[f"{prefix}_{r}"]))
                           for r in market.regions if curves(r) is not None}
        base = s.central[(s.mineral, other)]
        by_horizon[other][s.mineral] = base.recalibrated(
            moved["demand"], moved["supply"], export_wedge=kept_wedge(base, s.china, row["price_gap_share"]))
        for m in s.minerals:
            if m == s.mineral:
                continue
            short = {side: float(row[f"{prefix}_{DISRUPTION_HORIZON}_{m}"]) for side, prefix in SIDES.items()}
            long = {side: s.at_same_quantile(m, side, DISRUPTION_HORIZON, short[side]) for side in SIDES}
            for horizon, values in ((DISRUPTION_HORIZON, short), (PURCHASE_HORIZON, long)):
                by_horizon[horizon][m] = s.central[(m, horizon)].recalibrated(values["demand"], values["supply"])
        order = lambda d: {m: d[m] for m in s.minerals}            # noqa: E731  the chapter's order
        return order(by_horizon[DISRUPTION_HORIZON]), order(by_horizon[PURCHASE_HORIZON])

    def probabilities(self) -> dict:
        """The draw's annual probability of each scenario (1/year)."""
        return {d.name: float(self.draw.row[probability_input(d.name)]) for d in self.state.scenarios}

    def result(self):
        """The draw's :class:`~models.insurance_result.InsuranceResult` (world and bloc optima).

        Solved at Clarabel's defaults, as the chapter; a solve whose certificate fails is retried
        once at :data:`RETRY_OPTIONS` (tighter tolerances), and a second failure is the draw's error."""
        if self._result is None:
            s = self.state
            short, long = self.benchmarks()

            def solve(options):
                model = InsuranceModel(short, s.scenarios, budget=s.budgets, location=s.location, members=s.members,
                                       carrying_cost=CARRYING_COST, residual_value=RESIDUAL_VALUE,
                                       purchase_years=PURCHASE_YEARS, holding_years=HOLDING_YEARS,
                                       purchase_benchmarks=long, grid_points=GRID_POINTS, solver_options=options)
                return model.solve(probabilities=self.probabilities())
            try:
                self._result = solve(None)
            except InaccurateSolutionError:
                self._result = solve(RETRY_OPTIONS)
        return self._result


class StockpileState:
    """The chapter's stockpile: minerals, budgets, scenarios and central benchmarks, read once."""

    def __init__(self, inputs: FamilyInputs, rules: list):
        spec, ds = inputs.spec, inputs.dataset
        if spec.horizon not in (DISRUPTION_HORIZON, PURCHASE_HORIZON):
            raise ModelInputError("horizon", spec.horizon, f"{DISRUPTION_HORIZON!r} or {PURCHASE_HORIZON!r}")
        vault = vault_budgets(ds, total=spec.vault_total_musd, years=PURCHASE_YEARS)
        self.minerals = tuple(vault.index)
        if spec.mineral not in self.minerals:
            raise ModelInputError("mineral", spec.mineral, f"one of the minerals the stockpile holds {list(self.minerals)}")
        self.mineral, self.horizon, self.china = spec.mineral, spec.horizon, spec.china
        self.budgets = vault["budget_musd"].to_dict()
        self.location, self.members = spec.stockpile_location, BLOC_CORE
        self.scenarios = disruptions_from_dataset(ds)
        self.central = {(m, h): benchmark_from_dataset(ds, m, horizon=h, which="central")
                        for m in self.minerals for h in (DISRUPTION_HORIZON, PURCHASE_HORIZON)}
        self.ranges = {(m, side, h): elasticity_range(ds, m, side, h)
                       for m in self.minerals for side in SIDES for h in (DISRUPTION_HORIZON, PURCHASE_HORIZON)}
        self.setting = C14Setting(MATERIAL_SPIKE, STABILISING_SHARE, PURCHASE_YEARS, HOLDING_YEARS,
                                  float(vault["budget_musd"].sum()), self.minerals)

    def at_same_quantile(self, mineral: str, side: str, horizon: str, elasticity: float) -> float:
        """The other horizon's elasticity at the quantile ``elasticity`` has in ``horizon``'s range:
        ``ε_other = F_other⁻¹(F_horizon(ε))`` (see the module docstring)."""
        return self.ranges[(mineral, side, _other(horizon))].quantile(
            self.ranges[(mineral, side, horizon)].cdf(elasticity))

    def context(self, draw: Draw) -> StockpileContext:
        return StockpileContext(self, draw)


def c14(ctx: StockpileContext) -> RuleOutcome:
    """C14 as the chapter grades it (:func:`models.stockpile_verdicts.c14_verdict`) on the draw's
    insurance model; the first number is the smallest share of a biting pair's price rise the bloc's
    stockpile removes (NaN when no pair bites), then the chapter's evidence and the bloc's inventory."""
    result = ctx.result()
    verdict = c14_verdict(result, ctx.setting)
    _, bite, _ = c14_pairs(result, "bloc", ctx.setting)
    weakest = float(bite["spike_reduction"].min()) if len(bite) else float("nan")
    numbers = {"weakest_share_removed": weakest, **{k: float(v) for k, v in verdict.evidence.items()}}
    numbers.update({f"bloc_inventory_{m}_kt": float(result.bloc_inventory[m]) for m in ctx.state.minerals})
    return RuleOutcome(verdict.verdict, numbers)


register_family(Family("stockpile", StockpileState, ranges=stockpile_ranges, known_need=lambda name: name in NEEDS,
                       description="the stockpile chapter's insurance model, bloc and world optima (StockpileContext)"))
register(Rule("C14", "C14", NEEDS, c14, "the $12 billion stockpile ensures stable procurement", family="stockpile"))
