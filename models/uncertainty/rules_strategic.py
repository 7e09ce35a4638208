"""The ``strategic`` family: the flooding chapter's claims C17, C27 and C41 graded per draw.

``book/flooding.ipynb`` grades them on :class:`~models.strategic.StrategicMarket` (China a
leader choosing its export wedge, a competitive fringe and the projects of
``data/entrants.csv``) with :mod:`models.flooding_verdicts`; the rules here call the same
functions. :class:`StrategicState` builds, once per process and on the chapter's settings (its
bloc, the ``trade_club`` roster; headroom, discount rate, plant life, the preferential floor at
the reference price held in the United States):

* ``lever``: the market without projects (C41 reads it at today's wedge; C17 also at China's best
  wedge change when nobody can enter, a grid search);
* ``flood``: the market with the projects, without a floor and under the preferential floor
  (C27: :func:`models.strategic.flooding_analysis`, three grid searches each).

For a draw, every market takes the re-calibrated benchmark
(:meth:`~models.strategic.StrategicMarket.set_benchmark`: drawn elasticities and export wedge; the
instrument moves the drawn wedge). China's extra subsidy of the draw is not an input of these
claims. The family draws **no inputs of its own**: ``data/entrants.csv`` gives one value per
project and field (capital, capacity, operating cost) and no range; the chapter's high operating
cost (55 USD/kg) is a sensitivity setting of the notebook, not a range in ``data/``.

**Grid.** The chapter searches China's wedge change on 121 points from −60 to +120 USD/kg (its
sensitivity runs on 41); each search is refined by a bounded scalar search within one step of
the grid's best (:meth:`~models.strategic.StrategicMarket.best_response`). A draw here uses
:data:`GRID_POINTS` points on the same range with the same refinement: at central values the
three verdicts are the chapter's (``tests/test_uncertainty_families.py``).
"""
from __future__ import annotations

import numpy as np

from ..errors import ModelInputError
from ..flooding_verdicts import (FloodingSetting, flood_row, leverage_verdict, limit_pricing_verdict,
                                 lowest_cost_verdict)
from ..policies import Bloc, PreferentialFloor
from ..strategic import StrategicMarket, flooding_analysis, load_entrants
from .families import Draw, Family, FamilyInputs, register_family
from .rules import Rule, RuleOutcome, register

#: The chapter's settings (``book/flooding.ipynb``, parameters cell).
ROSTER, HEADROOM, RATE, LIFE, FLOOR_REFERENCE = "trade_club", 150.0, 0.08, 20.0, "USA"
LEVERAGE_THRESHOLD_PCT = 5.0
#: China's instrument grid: the chapter's range, fewer points (see the module docstring).
GRID_RANGE, GRID_POINTS = (-60.0, 120.0), 25
NEEDS = ("lever", "flood")


class StrategicContext:
    """One draw's strategic markets; each search is solved when a rule first asks for it."""

    def __init__(self, state: "StrategicState"):
        self.state, self.setting, self.entrants = state, state.setting, state.entrants
        self._cache: dict = {}

    def _get(self, key, make):
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def today(self):
        """The market at today's (drawn) wedge, without projects."""
        return self._get("today", lambda: self.state.markets["lever"].solve(0.0))

    def lever(self):
        """China's best wedge change with nobody able to enter, and the market there."""
        def make():
            sm = self.state.markets["lever"]
            br = sm.best_response(self.state.grid, entry="none")
            return br, sm.solve(br.refined)
        return self._get("lever", make)

    def flood(self, name: str) -> dict:
        """The chapter's flooding row (:func:`models.flooding_verdicts.flood_row`) of ``name``
        (``"none"`` or ``"pref"``)."""
        return self._get(("flood", name), lambda: flood_row(flooding_analysis(
            self.state.markets[name], self.state.grid, floor_level=self.setting.floor_level)))


class StrategicState:
    """The flooding chapter's markets, built once at central values; :meth:`context` puts a draw in."""

    def __init__(self, inputs: FamilyInputs, rules: list):
        spec, ds, bench = inputs.spec, inputs.dataset, inputs.bench
        self.entrants = load_entrants(spec.mineral, regions=ds.region_ids)
        if not self.entrants:
            raise ModelInputError("mineral", spec.mineral, "a mineral with projects in data/entrants.csv")
        members = ds.roster(ROSTER)
        if spec.china in members or spec.china not in bench.market.regions:
            raise ModelInputError("china", spec.china, "a region of the market outside the bloc")
        ref = ds.price(spec.mineral)
        self.setting = FloodingSetting(spec.mineral, tuple(members), spec.china, RATE, LIFE, ref,
                                       LEVERAGE_THRESHOLD_PCT)
        self.grid = np.linspace(GRID_RANGE[0], GRID_RANGE[1], GRID_POINTS)
        base = bench.base_scenario.extend(bloc=Bloc(members, 0.0))
        kw = dict(leader=spec.china, headroom=HEADROOM, rate=RATE, life=LIFE)
        needs = {s for rule in rules for s in rule.needs}
        self.markets = {"lever": StrategicMarket(bench, base, **kw)}
        if "flood" in needs:
            self.markets["none"] = StrategicMarket(bench, base, entrants=self.entrants, **kw)
            self.markets["pref"] = StrategicMarket(
                bench, base.extend(floors=(PreferentialFloor(ref, reference=FLOOR_REFERENCE),)),
                entrants=self.entrants, **kw)

    def context(self, draw: Draw) -> StrategicContext:
        for sm in self.markets.values():
            sm.set_benchmark(draw.bench)     # each solve rewinds the pinned solver: history-free
        return StrategicContext(self)


def _outcome(verdict) -> RuleOutcome:
    return RuleOutcome(verdict.verdict, {k: float(v) for k, v in verdict.evidence.items()})


def c41(ctx: StrategicContext) -> RuleOutcome:
    """C41 as the chapter grades it (:func:`models.flooding_verdicts.lowest_cost_verdict`)."""
    return _outcome(lowest_cost_verdict(ctx.setting, ctx.today(), ctx.entrants))


def c17(ctx: StrategicContext) -> RuleOutcome:
    """C17 as the chapter grades it (:func:`models.flooding_verdicts.leverage_verdict`)."""
    br, star = ctx.lever()
    return _outcome(leverage_verdict(ctx.setting, ctx.today(), star, br.refined))


def c27(ctx: StrategicContext) -> RuleOutcome:
    """C27 as the chapter grades it (:func:`models.flooding_verdicts.limit_pricing_verdict`): the
    preferential floor is solved only when China limit-prices without one (as the chapter's
    sensitivity runs); China's no-entry best is the one of the market with the projects kept out."""
    none = ctx.flood("none")
    limits = bool(none["limit prices"]) and float(none["gain vs accommodating (USD million)"]) > 0
    pref = ctx.flood("pref") if limits else None
    return _outcome(limit_pricing_verdict(ctx.setting, none, pref, float(none["e if no entry"])))


register_family(Family("strategic", StrategicState, known_need=lambda name: name in NEEDS,
                       description="the flooding chapter's strategic supplier and entrants (StrategicContext)"))
register(Rule("C41", "C41", ("lever",), c41, "China has the lowest cost and still profits", family="strategic"))
register(Rule("C17", "C17", ("lever",), c17, "dependence is a lever for China", family="strategic"))
register(Rule("C27", "C27", ("flood",), c27, "flooding calls for intervention", family="strategic"))
