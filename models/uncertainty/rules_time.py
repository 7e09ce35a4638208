"""The ``time`` and ``investment`` families: the independence and investment chapters' model-graded claims.

``time`` grades C21, C34, C35, C42 and C43 (``book/independence.ipynb``), ``investment`` C24 and C39
(``book/investment.ipynb``; see :class:`InvestmentState`), one draw at a time.

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

import numpy as np

from ..dynamics import DynamicPath, PathSettings, project_blocks
from ..errors import ModelInputError
from ..independence_verdicts import (c21_verdict, c34_verdict, c35_verdict, c42_verdict, c43_verdict,
                                     implied_learning_rate)
from ..investment_verdicts import breakeven_price, build_probabilities, c24_verdict, c39_verdict
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


def time_ranges(inputs: FamilyInputs | None = None, names=(*PATH_INPUTS, *WHOLE_YEARS, *WRIGHT_INPUTS)) -> dict:
    """``{name: Range}`` of the rows ``names`` of ``data/dynamics_parameters.csv``, with their sources."""
    table = load_table("dynamics_parameters.csv").set_index("parameter")
    out = {}
    for name in names:
        if name not in table.index:
            raise ModelInputError("dynamics_parameters.csv[parameter]", name, "a row for every drawn input")
        r = table.loc[name]
        out[name] = Range(float(r["low"]), float(r["central"]), float(r["high"]),
                          f"data/dynamics_parameters.csv: {r['source']}", str(r["unit"]))
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


register_family(Family("time", TimeState, ranges=time_ranges, known_need=lambda name: name in NEEDS,
                       description="the independence chapter's year-by-year paths (TimeContext)"))
register(Rule("C21", "C21", ("path",), c21, "full self-sufficiency takes time", family="time"))
register(Rule("C34", "C34", ("path",), c34, "a large amount of US supply within a year", family="time"))
register(Rule("C35", "C35", ("wright",), c35, "experience explains China's cost lead", family="time"))
register(Rule("C42", "C42", ("path",), c42, "independence may take decades", family="time"))
register(Rule("C43", "C43", ("path",), c43, "not within the current US term", family="time"))


# ----------------------------------------------------------------------------- investment (C24, C39)
#: The investment chapter's settings (``book/investment.ipynb``, parameters cell).
PLANT, DEEP_SEA, PLANT_LIFE, CFD_YEARS, CALM_FACTOR, DECISION_WINDOW = "iluka_eneabba", "minamitorishima", 25, 10, 0.5, 6
RULES_QUANTILES, SUPPORT_PP, COSTLY_QUANTILE, SEED = (0.5, 0.2), 10.0, 0.75, 20260204
#: Rows of ``data/dynamics_parameters.csv`` the investment family draws.
INVESTMENT_INPUTS = ("discount_rate", "entrant_full_cost", "operating_cost_share", "lead_time_separation",
                     "lead_time_deep_sea", "capex_deep_sea")


def investment_ranges(inputs: FamilyInputs | None = None) -> dict:
    return time_ranges(inputs, INVESTMENT_INPUTS)


class InvestmentState:
    """The investment chapter's price process and projects, fitted and read once.

    A draw's new separator (``data/time_projects.csv``, Iluka's Eneabba) has its capital and
    operating cost scaled by the drawn entrants' full cost over the central one, the drawn
    operating-cost share and separation lead time; the deep-sea project (Minamitorishima) its
    capital scaled by the drawn deep-sea capex over the central, the drawn operating-cost share of
    its full cost and the drawn deep-sea lead time; both are discounted at the drawn rate. C24's
    build probabilities are the chapter's sensitivity runs (20,000 outer and 1,000 inner paths, the
    same seed); the price process (fitted to ``data/price_history.csv``), the floor (``data/floors.csv``),
    the calm factor, the project spread and the long-run price quantile are held as the chapter holds them.
    """

    def __init__(self, inputs: FamilyInputs, rules: list):
        from ..price_risk import calibrate_process
        from ..time_data import parameters, price_history
        ds = inputs.dataset
        if inputs.spec.mineral != "ndpr":
            raise ModelInputError("mineral", inputs.spec.mineral, "'ndpr' (the investment chapter's price history)")
        self.central = parameters("central")
        history = price_history("ndpr")
        self.process, _ = calibrate_process(history["date"], history["price_usd_per_kg"])
        self.p_today = float(history["price_usd_per_kg"].iloc[-1])
        fl = ds.floors[(ds.floors["mineral"] == "ndpr") & (ds.floors["instrument"] == "cfd")]
        self.floor = float(fl["level_usd_per_kg"].iloc[0])
        rows = projects()
        self.plant, self.deep_sea = rows.loc[PLANT], rows.loc[DEEP_SEA]
        self.cost_range = tuple(parameters(w)["entrant_full_cost"] / self.central["entrant_full_cost"]
                                for w in ("low", "high"))
        long_run = self.process.simulate(self.p_today, 40, 20_000, seed=SEED + 6)[:, 20:].ravel()
        self.price_quantile = float(np.quantile(long_run, COSTLY_QUANTILE))

    def context(self, draw: Draw) -> "InvestmentContext":
        return InvestmentContext(self, draw)


class InvestmentContext:
    """One draw's projects (:class:`models.price_risk.Project`) and discount rate."""

    def __init__(self, state: InvestmentState, draw: Draw):
        from ..price_risk import Project
        self.state, row, c = state, draw.row, state.central
        self.rate = float(row["discount_rate"])
        cf = float(row["entrant_full_cost"]) / c["entrant_full_cost"]
        share = float(row["operating_cost_share"])
        p, d = state.plant, state.deep_sea
        self.plant = Project(float(p["capacity_kt_ndpr"]), float(p["capex_musd"]) * cf,
                             int(round(float(row["lead_time_separation"]))), PLANT_LIFE,
                             share * c["entrant_full_cost"] * cf)
        self.deep_sea = Project(float(d["capacity_kt_ndpr"]),
                                float(d["capex_musd"]) * float(row["capex_deep_sea"]) / c["capex_deep_sea"],
                                int(round(float(row["lead_time_deep_sea"]))), PLANT_LIFE,
                                share * float(d["full_cost_usd_per_kg"]))

    def build_probabilities(self) -> dict:
        s = self.state
        kw = dict(rate=self.rate, p_start=s.p_today, window=DECISION_WINDOW, n_paths=20_000, seed=SEED + 7,
                  cost_range=s.cost_range, inner_paths=1_000)
        return build_probabilities([("today's prices", s.process, None), ("calmer prices", s.process.calm(CALM_FACTOR),
                                                                          None), ("CfD", s.process, s.floor)],
                                   self.plant, RULES_QUANTILES, CFD_YEARS, **kw)


def c24(ctx: InvestmentContext) -> RuleOutcome:
    """C24 as the chapter grades it (:func:`models.investment_verdicts.c24_verdict`)."""
    verdict, calm_up, floor_up = c24_verdict(ctx.build_probabilities(), SUPPORT_PP)
    return RuleOutcome(verdict, {"calm_pp_median": calm_up[0], "calm_pp_lender": calm_up[1],
                                 "floor_pp_median": floor_up[0], "floor_pp_lender": floor_up[1]})


def c39(ctx: InvestmentContext) -> RuleOutcome:
    """C39 as the chapter grades it (:func:`models.investment_verdicts.c39_verdict`)."""
    deep, land = breakeven_price(ctx.deep_sea, ctx.rate), breakeven_price(ctx.plant, ctx.rate)
    return RuleOutcome(c39_verdict(deep, land, ctx.state.price_quantile),
                       {"deep_sea_breakeven": deep, "land_breakeven": land, "price_quantile": ctx.state.price_quantile})


register_family(Family("investment", InvestmentState, ranges=investment_ranges,
                       known_need=lambda name: name == "projects",
                       description="the investment chapter's price process and projects (InvestmentContext)"))
register(Rule("C24", "C24", ("projects",), c24, "calmer prices and floors support investment", family="investment"))
register(Rule("C39", "C39", ("projects",), c39, "deep-sea mining is costly", family="investment"))
