"""Setting the parameters of a built :class:`~models.equilibrium.EquilibriumModel` (the stage
between build and solve).

Every number a sweep or a roster changes is a ``cvxpy.Parameter`` of the one built problem;
:class:`ParameterStage` turns the scenario plus the overrides of ``solve(**updates)`` into their
values: the tariff matrix (the bloc's roster and external tariff, export discounts), route bans,
subsidies, quotas, the bounds of guaranteed-price and CfD floors (open for regions they do not
cover), the preferential zone's arcs and cap, and the stockpile's level, cap and eligible origins;
and :meth:`ParameterStage.set_market`, which puts new linear curves into the built problem.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import ModelInputError
from .market import Market, check_regions
from .policies import ALL, MEMBERS, Bloc, CfdFloor, GuaranteedPrice, Scenario
from .trade_costs import policy_trade_costs
from .validate import as_number, assign_parameter

#: Numeric parameters that :meth:`EquilibriumModel.solve` and ``sweep`` can change.
SWEEPABLE = ("floor_level", "budget", "external_tariff", "quota", "subsidy")
#: Other parameters that :meth:`EquilibriumModel.solve` can change (see its docstring).
SETTABLE = SWEEPABLE + ("members", "banned_routes", "export_discounts")
#: A non-binding quantity bound is this many times the market's largest quantity scale.
OPEN_MULTIPLE = 10.0


class ParameterStage:
    """Mixin of :class:`~models.equilibrium.EquilibriumModel`: validate overrides, set parameters."""

    def _check_update(self, key: str, value):
        """Validate one override of :meth:`solve`; return it in canonical form."""
        if key not in SETTABLE:
            raise ModelInputError("parameter", key, f"one of {SETTABLE}")
        regions = self.market.regions
        if value is None:
            return None
        if key == "members":
            if self.scenario.bloc is None:
                raise ModelInputError("members", value, "no override: the scenario has no bloc")
            members = check_regions("members", value, regions)
            if not members or len(set(members)) != len(members):
                raise ModelInputError("members", value, "a non-empty list of distinct region ids")
            return tuple(members)
        if key == "banned_routes":
            if not self.parametric_routes:
                raise ModelInputError("banned_routes", value, "no override unless the model is built with "
                                      "parametric_routes=True (or use an ExportBan in the scenario)")
            if not isinstance(value, dict):
                raise ModelInputError("banned_routes", value, "a mapping origin -> destinations")
            out = {}
            for origin, dests in value.items():
                check_regions("banned_routes (origin)", origin, regions)
                dests = (dests,) if isinstance(dests, str) else tuple(dests)
                out[origin] = tuple(d for d in check_regions(f"banned_routes[{origin}]", dests, regions) if d != origin)
            return out
        if key == "export_discounts":
            if not isinstance(value, dict):
                raise ModelInputError("export_discounts", value, "a mapping (origin, destination) -> USD/kg")
            out = {}
            for arc, amount in value.items():
                if not (isinstance(arc, tuple) and len(arc) == 2):
                    raise ModelInputError("export_discounts (key)", arc, "a pair (origin, destination)")
                check_regions("export_discounts (key)", arc, regions)
                v = float(amount)
                if not np.isfinite(v) or v < 0:
                    raise ModelInputError(f"export_discounts[{arc}]", amount, "a non-negative discount (USD/kg)")
                out[arc] = v
            return out
        allowed = {"floor_level": "a positive price (USD/kg)", "budget": "a non-negative budget (USD million)",
                   "external_tariff": "a non-negative tariff (USD/kg)", "quota": "a non-negative quantity (kt)",
                   "subsidy": "a non-negative subsidy (USD/kg)"}[key]
        v = as_number(key, value, allowed)
        if v < 0 or (key == "floor_level" and v == 0):
            raise ModelInputError(key, value, allowed)
        return v

    def _open_bound(self) -> float:
        """A quantity (kt) that no demand, supply, flow or purchase reaches at the current values.

        ``OPEN_MULTIPLE ×`` (every demand's quantity scale + every supply at the highest price
        any policy can pay). Used for bounds that must not bind (non-members' floor bounds, an
        open cap); large enough never to bind, small enough for the solver's scaling.
        """
        m, cur = self.market, self._current
        levels = [f.level for f in self.scenario.floors] + ([cur["floor_level"]] if cur["floor_level"] else [])
        chokes = [float(c.price(0.0)) if hasattr(c, "intercept") else 10.0 * c.benchmark_price
                  for c in (m.demand_curve(r) for r in self.demand_regions)]
        top = max([1.0, *chokes, *levels]) + float(np.max(self.subsidy_rates, initial=0.0)) \
            + float(cur["subsidy"] or 0.0)
        total = sum(c.benchmark_quantity if hasattr(c, "benchmark_quantity") else c.quantity_at(0.0)
                    for c in (m.demand_curve(r) for r in self.demand_regions))
        total += sum(c.quantity_at(top) for c in (m.supply_curve(r) for r in self.supply_regions))
        return OPEN_MULTIPLE * max(1.0, float(total))

    @property
    def members(self) -> tuple[str, ...] | None:
        """The bloc's roster at the next solve (``None`` without a bloc)."""
        if self._current["members"] is not None:
            return self._current["members"]
        return None if self.scenario.bloc is None else self.scenario.bloc.members

    def _policy_trade_costs(self) -> tuple[np.ndarray, np.ndarray]:
        """The scenario's tariff and export-tax matrices under the current roster and external
        tariff (:func:`models.trade_costs.policy_trade_costs`), before export discounts: copies of
        the last ones while the market, the benchmark prices, the roster and the tariff are the
        same objects and values (a draw sets its curves, then its discounts: one computation)."""
        cur = self._current
        key = (self.market, self.scenario, self.benchmark_prices, cur["members"], cur["external_tariff"])
        last = getattr(self, "_trade_cost_memo", None)
        if last is None or not (all(a is b for a, b in zip(last[0][:3], key[:3])) and last[0][3:] == key[3:]):
            sc = self.scenario
            if cur["members"] is not None:
                sc = sc.with_policies(bloc=Bloc(cur["members"], sc.bloc.external_tariff))
            last = (key, policy_trade_costs(self.market, sc, self.benchmark_prices, cur["external_tariff"]))
            self._trade_cost_memo = last
        imp, exp = last[1]
        return imp.copy(), exp.copy()

    def _apply(self, **updates) -> None:
        """Set every parameter from the scenario and the overrides ``updates``."""
        for key, value in updates.items():
            self._current[key] = self._check_update(key, value)
        cur, n, regions = self._current, self.market.n, self.market.regions
        members = self.members
        # the open bound is needed only where some bound must not bind (non-members' floor bounds,
        # the zone's open cap, the stockpile's eligible origins)
        self._open = (self._open_bound() if (cur["members"] is not None or self.zone is not None
                                             or self.stockpile is not None) else None)
        everything = not updates
        if everything or {"external_tariff", "members", "export_discounts"} & set(updates):
            imp, exp = self._policy_trade_costs()
            for (o, d), amount in (cur["export_discounts"] or {}).items():
                exp[self.idx[o], self.idx[d]] -= amount
            self.tariff_matrix, self.export_tax_matrix = imp, exp
            assign_parameter(self.policy_cost, imp + exp)
            self._trade_cost = self.transport + imp + exp
        if self.ban_mask is not None and (everything or "banned_routes" in updates):
            ban = np.zeros((n, n))
            for origin, dests in (cur["banned_routes"] or {}).items():
                ban[self.idx[origin], [self.idx[d] for d in dests]] = 1.0
            assign_parameter(self.ban_mask, ban)
        rates = self.subsidy_rates if cur["subsidy"] is None else np.where(self.subsidised, cur["subsidy"], 0.0)
        if everything or "subsidy" in updates:
            assign_parameter(self.subsidy, rates)
        if everything or "quota" in updates:
            for k, q in enumerate(self.scenario.quotas):
                assign_parameter(self.quota_params[k], q.quantity if cur["quota"] is None else float(cur["quota"]))
        covered = set(regions) if cur["members"] is None else set(members)
        for fb in self.floor_bounds:
            level = fb.floor.level if cur["floor_level"] is None else float(cur["floor_level"])
            if fb.demand_cap is not None:
                assign_parameter(fb.demand_cap, np.array([
                    self.market.demand_curve(r).quantity_at(level) if r in covered else self._open
                    for r in (self.demand_regions[p] for p in fb.demand_pos)]))
            if fb.supply_min is not None:
                assign_parameter(fb.supply_min, np.array([
                    self.market.supply_curve(self.supply_regions[p]).quantity_at(level + rates[p])
                    if self.supply_regions[p] in covered else 0.0 for p in fb.supply_pos]))
        member_set = set(members or ())
        if self.zone is not None:
            outsider = np.array([r not in member_set for r in regions], dtype=float)
            assign_parameter(self.zone_mask, np.outer(outsider, 1.0 - outsider))
            self.zone_members_idx = [self.idx[r] for r in members
                                     if self.market.demand_curve(r) is not None
                                     or self.market.supply_curve(r) is not None]
            if not self.zone_members_idx:
                raise ModelInputError("members", members, "a bloc with at least one member with a curve")
            assign_parameter(self.zone_cap, self._open)
        if self.stockpile is not None:
            level = self.stockpile.level if cur["floor_level"] is None else float(cur["floor_level"])
            budget = self.stockpile.budget if cur["budget"] is None else float(cur["budget"])
            assign_parameter(self.stock_level, level)
            assign_parameter(self.stock_cap, budget / level)
            rule = self.stockpile.eligible_origins
            eligible = set(regions) if rule == ALL else member_set if rule == MEMBERS else set(rule)
            loc = self.stockpile.location
            sellers = self.supply_regions
            assign_parameter(self.y_cap, np.array([self._open if r in eligible else 0.0 for r in sellers]))
            if self.ban_y is not None:
                assign_parameter(self.ban_y, np.array([
                    1.0 if loc in (cur["banned_routes"] or {}).get(r, ()) else 0.0 for r in sellers]))
            if self.zone is not None:
                assign_parameter(self.zone_y, np.array([r not in member_set for r in sellers], dtype=float)
                                 * float(loc in member_set))

    def set_market(self, market: Market, benchmark_prices: pd.Series | None = None) -> None:
        """Replace the market's curves by those of ``market`` in the built problem (no rebuild).

        ``market`` must be the same market with new linear curves: same mineral, regions,
        transport costs, and the same regions with a demand and a supply curve (e.g.
        :meth:`models.calibration.Benchmark.recalibrated` at new elasticities). The curves'
        intercepts and slopes are Parameters of the built problem (:class:`LinearCurveParameters`);
        they and every bound that depends on the curves (floor bounds, the open bound) are set
        anew, and the overrides of earlier solves stay in force. ``benchmark_prices``, if given,
        replaces the prices that convert ad valorem rates. Constant-elasticity curves are
        built into the problem as numbers: a model of them cannot change its curves (rebuild it).
        """
        if not isinstance(market, Market):
            raise ModelInputError("market", type(market).__name__, "a models.Market")
        if self.market.curve_family != "linear" or not self.curve_params:
            raise ModelInputError("market", "curves of a model built with constant-elasticity curves",
                                  "a model of linear curves (constant-elasticity curves are not parameters "
                                  "of the built problem: build a new EquilibriumModel instead)")
        old = self.market
        if market.curve_family != "linear":
            raise ModelInputError("market.curves", "isoelastic", "linear curves (the built problem's family)")
        if market.mineral != old.mineral or market.regions != old.regions:
            raise ModelInputError("market", (market.mineral, market.regions),
                                  f"the built market's mineral and regions ({old.mineral}, {list(old.regions)})")
        for side, names in (("demand", self.demand_regions), ("supply", self.supply_regions)):
            have = [r for r in market.regions if getattr(market, f"{side}_curve")(r) is not None]
            if have != list(names):
                raise ModelInputError(f"market.{side} (regions)", have, f"curves for exactly {list(names)}")
        if market.transport_cost is not old.transport_cost and not np.array_equal(
                market.transport_cost.to_numpy(), self.transport):
            raise ModelInputError("market.transport_cost", "different costs", "the built market's transport costs")
        if benchmark_prices is not None:
            if not isinstance(benchmark_prices, pd.Series):
                raise ModelInputError("benchmark_prices", type(benchmark_prices).__name__, "a pandas Series")
            self.benchmark_prices = benchmark_prices
        self.market = market
        self.curve_params["demand"].set([market.demand_curve(r) for r in self.demand_regions]) \
            if "demand" in self.curve_params else None
        self.curve_params["supply"].set([market.supply_curve(r) for r in self.supply_regions]) \
            if "supply" in self.curve_params else None
        self._apply()

    def effective_scenario(self) -> Scenario:
        """The scenario as solved: the bloc's roster, each floor's coverage and the stockpile's
        eligible origins after the overrides of the last :meth:`solve`."""
        sc, cur = self.scenario, self._current
        if cur["members"] is None:
            return sc
        members = cur["members"]
        floors = []
        for f in sc.floors:
            if isinstance(f, (GuaranteedPrice, CfdFloor)):
                covered = tuple(r for r in f.regions if r in members)
                if covered:
                    floors.append(type(f)(covered, f.level))
            else:
                floors.append(f)
        tariff = sc.bloc.external_tariff if cur["external_tariff"] is None else cur["external_tariff"]
        return sc.with_policies(bloc=Bloc(members, tariff), floors=tuple(floors))

