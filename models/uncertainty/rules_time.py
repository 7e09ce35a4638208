"""The ``time`` family: the independence chapter's model-graded claims C21, C34, C35, C42, C43 per draw.

``book/independence.ipynb`` grades them on year-by-year paths (:class:`~models.dynamics.DynamicPath`,
NdPr, the named projects of ``data/time_projects.csv``) over its grid of learning rates and
demand growth, with :mod:`models.independence_verdicts`; the rules here call the same functions
on **one path per draw**, as the chapter's per-setting columns do:

* the path runs on the draw's re-calibrated benchmark (drawn elasticities and export wedge) to
  2075, demand growing until 2040 (the chapter's ``parity_horizon`` run) with the draw's values of
  every parameter of :meth:`~models.dynamics.PathSettings.from_data`;
* C21: first year with at least 90% of members' use not from China more than 5 years after 2025;
  C42: years to cost parity; C43: neither by 2028; C34: the US's own and non-Chinese supply from
  2025 to 2026 (the path's first years do not depend on its horizon);
* C35 is Wright's law on drawn costs and experience (no path): the implied learning rate against
  the learning-rate range of ``data/dynamics_parameters.csv`` (that range is the claim's yardstick,
  held fixed).

**Drawn inputs** (:func:`time_ranges`): every row of ``data/dynamics_parameters.csv`` these
claims read, triangular on its ``low, central, high`` with that row's source; lead times and the
magnet lifetime are rounded to whole years as ``PathSettings.from_data`` rounds them.

**No rule**: C40 (Minamitorishima's first output after March 2028) is a decision year read from a
plan (``data/time_projects.csv``) plus a deep-sea lead time; the chapter grades it on the lowest
lead time of the range (2027 + 3 = 2030 ≥ 2028), so no draw inside the range can move it.
"""
from __future__ import annotations

from dataclasses import replace

from ..dynamics import DynamicPath, PathSettings, project_blocks
from ..errors import ModelInputError
from ..independence_verdicts import (c21_verdict, c34_verdict, c35_verdict, c42_verdict, c43_verdict,
                                     implied_learning_rate)
from ..time_data import load_table, projects
from .draws import Range
from .families import Draw, Family, FamilyInputs, register_family
from .rules import Rule, RuleOutcome, register

#: The chapter's settings (``book/independence.ipynb``, parameters cell).
END_YEAR, PARITY_HORIZON, FULL_SHARE, TAKES_TIME_YEARS = 2040, 2075, 0.9, 5
LARGE_RISE, DECADES, TERM_END = 0.5, 20, 2028
#: ``PathSettings`` fields drawn from ``data/dynamics_parameters.csv`` (same names).
PATH_INPUTS = ("demand_growth", "learning_rate", "initial_experience", "entrant_full_cost", "china_cost",
               "operating_cost_share", "investment_response", "expectation_weight", "substitution_speed",
               "substitution_per_log_price", "substitution_max", "substitution_decay", "recycling_rate_base",
               "recycling_cost")
#: Drawn rows rounded to whole years, and the ``PathSettings`` field each sets.
WHOLE_YEARS = {"lead_time_separation": "lead_time", "magnet_lifetime": "magnet_lifetime"}
#: C35's extra input.
WRIGHT_INPUTS = ("china_cumulative_output",)
NEEDS = ("path", "wright")


def time_ranges(inputs: FamilyInputs | None = None) -> dict:
    """``{name: Range}`` of every drawn row of ``data/dynamics_parameters.csv``, with its source."""
    table = load_table("dynamics_parameters.csv").set_index("parameter")
    out = {}
    for name in (*PATH_INPUTS, *WHOLE_YEARS, *WRIGHT_INPUTS):
        if name not in table.index:
            raise ModelInputError("dynamics_parameters.csv[parameter]", name, "a row for every drawn input")
        r = table.loc[name]
        out[name] = Range(float(r["low"]), float(r["central"]), float(r["high"]),
                          f"data/dynamics_parameters.csv: {r['source']}")
    return out


class TimeContext:
    """One draw's path (run when a rule first asks) and its drawn Wright's-law inputs."""

    def __init__(self, state: "TimeState", draw: Draw):
        self.state, self.draw = state, draw
        self._path = None

    def settings(self) -> PathSettings:
        row = self.draw.row
        values = {k: float(row[k]) for k in PATH_INPUTS}
        values.update({field: int(round(float(row[k]))) for k, field in WHOLE_YEARS.items()})
        return replace(self.state.settings, **values)

    def path(self):
        if self._path is None:
            self._path = DynamicPath(self.draw.bench, self.settings(), self.state.blocks).run()
        return self._path

    def years(self) -> tuple[float, float]:
        """First year of full independence and of cost parity (NaN: not by the horizon)."""
        res = self.path()
        return float(res.first_year("not_from_china_share", FULL_SHARE)), float(res.parity_year())


class TimeState:
    """The named projects and the chapter's path settings, read once."""

    def __init__(self, inputs: FamilyInputs, rules: list):
        if inputs.spec.mineral != "ndpr":
            raise ModelInputError("mineral", inputs.spec.mineral, "'ndpr' (the independence chapter's paths)")
        self.blocks = project_blocks(projects())
        self.settings = PathSettings.from_data("central", end_year=PARITY_HORIZON, growth_until=END_YEAR)
        lr = time_ranges()["learning_rate"]
        self.learning_range = (lr.low, lr.high)

    def context(self, draw: Draw) -> TimeContext:
        return TimeContext(self, draw)


def c21(ctx: TimeContext) -> RuleOutcome:
    """C21 as the chapter grades one setting (:func:`models.independence_verdicts.c21_verdict`)."""
    full, _ = ctx.years()
    return RuleOutcome(c21_verdict([full], TAKES_TIME_YEARS), {"full_independence_year": full})


def c42(ctx: TimeContext) -> RuleOutcome:
    """C42 as the chapter grades one setting (:func:`models.independence_verdicts.c42_verdict`)."""
    _, parity = ctx.years()
    return RuleOutcome(c42_verdict(parity, DECADES), {"parity_year": parity})


def c43(ctx: TimeContext) -> RuleOutcome:
    """C43 as the chapter grades one setting (:func:`models.independence_verdicts.c43_verdict`)."""
    full, parity = ctx.years()
    share = float(ctx.path().totals.loc[TERM_END, "not_from_china_share"])
    return RuleOutcome(c43_verdict([full], [parity], TERM_END), {"share_term_end": share})


def c34(ctx: TimeContext) -> RuleOutcome:
    """C34 as the chapter grades it (:func:`models.independence_verdicts.c34_verdict`)."""
    r = ctx.path().regions
    us = r[r["region"] == "USA"].set_index("year")
    secure = us["demand"] - us["from_china"]
    own = float(us.loc[2026, "supply"] / us.loc[2025, "supply"] - 1)
    sec = float(secure.loc[2026] / secure.loc[2025] - 1)
    return RuleOutcome(c34_verdict(own, sec, LARGE_RISE), {"us_own_rise": own, "us_secure_rise": sec})


def c35(ctx: TimeContext) -> RuleOutcome:
    """C35 as the chapter grades it (:func:`models.independence_verdicts.c35_verdict`)."""
    row = ctx.draw.row
    lr = implied_learning_rate(float(row["china_cumulative_output"]), float(row["initial_experience"]),
                               float(row["entrant_full_cost"]), float(row["china_cost"]))
    low, high = ctx.state.learning_range
    return RuleOutcome(c35_verdict(lr, low, high), {"implied_lr": lr})


def _build(inputs, rules):
    return TimeState(inputs, rules)


register_family(Family("time", _build, ranges=time_ranges, known_need=lambda name: name in NEEDS,
                       description="the independence chapter's year-by-year paths (TimeContext)"))
register(Rule("C21", "C21", ("path",), c21, "full self-sufficiency takes time", family="time"))
register(Rule("C34", "C34", ("path",), c34, "a large amount of US supply within a year", family="time"))
register(Rule("C35", "C35", ("wright",), c35, "experience explains China's cost lead", family="time"))
register(Rule("C42", "C42", ("path",), c42, "independence may take decades", family="time"))
register(Rule("C43", "C43", ("path",), c43, "not within the current US term", family="time"))
