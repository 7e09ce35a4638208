"""The ``export_controls`` and ``substitution`` families: C16 and C30, graded per draw.

Both grade through :mod:`models.ban_verdicts`, the code their chapters call.

``export_controls`` (C16, ``book/export_controls.ipynb``). The chapter solves NdPr with
**short-run** elasticities (the duration convention of :mod:`models.export_controls`), which are
not the sweep's market draw (``SweepSpec.horizon``). The family draws them as its own inputs:
``ed_short_ndpr`` and ``es_short_ndpr``, one draw per side shared by every region, triangular over
the short-run row of ``data/elasticities.csv``. A draw re-calibrates the short-run NdPr benchmark
through the same base year at those elasticities, keeping the draw's share of today's price gap
(``price_gap_share``), and solves the largest (every destination, a year) and the targeted (Japan,
three months) ban. Value added at risk and world GDP are data (not drawn).

``substitution`` (C30, ``book/model.ipynb``). Substitution is the move from the least to the most
elastic demand of the data, so the demand elasticities are the treatment, not an uncertain input.
What is uncertain is each mineral's supply elasticity, at the sweep's horizon: drawn as
``es_<horizon>_<mineral>`` (one per mineral, shared by its regions, as the chapter's calibration
does). A draw recomputes the cut of the core bloc's ban loss over every mineral of the data.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from ..ban_verdicts import (disruption_losses, significant_impact_verdict, substitution_cut, substitution_models,
                            substitution_verdict)
from ..calibration import benchmark_from_dataset
from ..coalition import CORE
from ..downstream import value_added_at_risk
from .draws import elasticity_range, kept_wedge
from .families import Draw, Family, FamilyInputs, register_family
from .rules import Rule, RuleOutcome, register

#: The chapters' parameters: C16's threshold share of world GDP, the targeted ban's months;
#: C30's threshold cut.
GDP_THRESHOLD = 0.001
TARGETED_MONTHS = 3.0
SUBSTITUTION_THRESHOLD = 0.5
C16_MINERAL = "ndpr"


def _elasticity_range(ds, mineral: str, side: str, horizon: str):
    """The mineral's elasticity row, its source named by its file as the market's own elasticity
    rows are in :func:`~models.uncertainty.draws.draw_ranges_table`."""
    return replace(elasticity_range(ds, mineral, side, horizon), source="data/elasticities.csv")


# ----------------------------------------------------------------------------- C16
@dataclass(frozen=True)
class DisruptionContext:
    """C16's numbers for one draw: the two downstream losses and world GDP (USD million)."""

    largest: float
    targeted: float
    market: float
    world_gdp_musd: float


class DisruptionState:
    def __init__(self, inputs: FamilyInputs, rules: list):
        ds, spec = inputs.dataset, inputs.spec
        self.china = spec.china
        self.bench = benchmark_from_dataset(ds, C16_MINERAL, "short", "central")
        self.value_added = value_added_at_risk(ds, C16_MINERAL, None)
        self.world_gdp_musd = 1000.0 * float(ds.gdp["gdp_usd_bn"].astype(float).sum())

    def context(self, draw: Draw) -> DisruptionContext:
        row = draw.row
        wedge = kept_wedge(self.bench, self.china, row.get("price_gap_share", 1.0))
        bench = self.bench.recalibrated(float(row["ed_short_ndpr"]), float(row["es_short_ndpr"]), export_wedge=wedge)
        out = disruption_losses(bench, self.value_added, self.china, TARGETED_MONTHS)
        return DisruptionContext(out["largest"], out["targeted"], out["market"], self.world_gdp_musd)


def _disruption_ranges(inputs: FamilyInputs) -> dict:
    ds = inputs.dataset
    return {"ed_short_ndpr": _elasticity_range(ds, C16_MINERAL, "demand", "short"),
            "es_short_ndpr": _elasticity_range(ds, C16_MINERAL, "supply", "short")}


register_family(Family("export_controls", DisruptionState,
                       ranges=_disruption_ranges, known_need=lambda name: name == "disruptions",
                       description="the export-controls chapter's NdPr bans, short run (models.ban_verdicts)"))


def c16(ctx: DisruptionContext) -> RuleOutcome:
    """C16: a year-long ban on every destination costs at least ``GDP_THRESHOLD`` of world GDP
    downstream (with conditions), and so does the targeted ban on Japan (supported); else not."""
    v = significant_impact_verdict(ctx.largest, ctx.targeted, ctx.world_gdp_musd, GDP_THRESHOLD)
    return RuleOutcome(v, {"largest_share_of_world_gdp": ctx.largest / ctx.world_gdp_musd,
                           "targeted_share_of_world_gdp": ctx.targeted / ctx.world_gdp_musd})


register(Rule("C16", "C16", ("disruptions",), c16, "a supply-chain disruption has a significant impact on the "
              "world economy", family="export_controls"))


# ----------------------------------------------------------------------------- C30
@dataclass(frozen=True)
class SubstitutionContext:
    """C30's table for one draw (:func:`models.ban_verdicts.substitution_cut`)."""

    table: object


class SubstitutionState:
    def __init__(self, inputs: FamilyInputs, rules: list):
        self.dataset, self.spec = inputs.dataset, inputs.spec
        self.minerals = tuple(inputs.dataset.mineral_ids)
        self.models = substitution_models(self.dataset, self.minerals, self.spec.horizon, "central",
                                          origin=self.spec.china)

    def context(self, draw: Draw) -> SubstitutionContext:
        h = self.spec.horizon
        es = {m: float(draw.row[f"es_{h}_{m}"]) for m in self.minerals}
        return SubstitutionContext(substitution_cut(self.dataset, self.minerals, h, "central", members=CORE,
                                                    origin=self.spec.china, supply_elasticity=es,
                                                    models=self.models))


def _substitution_ranges(inputs: FamilyInputs) -> dict:
    ds, h = inputs.dataset, inputs.spec.horizon
    return {f"es_{h}_{m}": _elasticity_range(ds, m, "supply", h) for m in ds.mineral_ids}


register_family(Family("substitution", SubstitutionState,
                       ranges=_substitution_ranges, known_need=lambda name: name == "ban_losses",
                       description="the model chapter's complete Chinese ban, least and most elastic demand"))


def c30(ctx: SubstitutionContext) -> RuleOutcome:
    """C30: substitution cuts the core bloc's loss from a complete ban by at least
    ``SUBSTITUTION_THRESHOLD`` (with conditions: recycling is not modelled), else not supported."""
    return RuleOutcome(substitution_verdict(ctx.table, SUBSTITUTION_THRESHOLD),
                       {"cut_pct": float(ctx.table.loc["all minerals", "cut (%)"])})


register(Rule("C30", "C30", ("ban_losses",), c30, "substitution is a road to autonomy (it cuts the loss "
              "from a ban)", family="substitution"))
