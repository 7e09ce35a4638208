"""The result record of :class:`models.insurance.InsuranceModel` (one solve, both optima)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .errors import ModelInputError
from .insurance_data import scenario_weights


@dataclass
class InsuranceResult:
    """One solve of :class:`~models.insurance.InsuranceModel`: the world and the bloc optimum.

    Quantities kt, prices USD/kg, money USD million **over the horizon** (the purchase years plus
    the holding horizon, undiscounted), all against the same markets with no inventory.

    Attributes
    ----------
    inventory : pandas.Series
        World optimum ``I^W_m`` (kt): the inventory that maximises the programme's objective, i.e.
        what competitive private storage would hold under the budget. The objective is world
        welfare less the change in revenue from base policy wedges (China's export wedge on NdPr),
        so with a wedge ``d_world`` at the bloc optimum can in principle exceed it; on the
        calibrated data it does not.
    bloc_inventory : pandas.Series
        Bloc optimum ``I^B_m`` (kt): the inventory on the search grid that maximises the members'
        expected welfare, the stockpile's account included, given competitive markets.
    inventory_cost : pandas.Series
        ``P0_m I^W_m`` (USD million): the world optimum at the benchmark price, the budget
        convention.
    optima : pandas.DataFrame
        Index (``optimum`` ∈ {world, bloc}, ``mineral``). Columns ``inventory_kt``,
        ``cost_at_benchmark_musd`` (``P0 I``), ``cost_musd`` (actual outlay ``p^0_L I`` at the
        first-stage price), ``purchase_price`` (``p^0_L``, USD/kg), ``purchase_price_rise``
        (``p^0_L / P0 − 1``), ``d_world``, ``d_bloc``, ``d_china``, ``d_other`` (non-members
        other than China) — expected welfare changes, the stockpile's account included in
        ``d_bloc`` and ``d_world``.
    summary : pandas.DataFrame
        The same welfare changes summed over minerals, one row per optimum.
    inventory_account, bloc_inventory_account : pandas.DataFrame
        :func:`models.accounting.inventory_account` at each optimum: ``held_kt``, ``cost_musd``
        (actual outlay), ``expected_release_benefit_musd`` (world, resp. bloc), ``carrying_cost_musd``,
        ``value_musd`` = benefit − carrying cost.
    welfare_change, welfare_change_bloc : pandas.DataFrame
        By region at the world (bloc) optimum: ``market`` (consumer and producer surplus, tax and
        licence revenue over the purchase years and the disruptions, weighted), ``stockpile`` (the
        agency at the location), ``total``.
    value, bloc_value : float
        World welfare change at the world optimum; bloc welfare change at the bloc optimum.
    grid : pandas.DataFrame
        The bloc search: one row per mineral and inventory level (``inventory_kt``, ``d_world``,
        ``d_bloc``); ``grid_step`` (kt) and ``grid_error`` (USD million) by mineral: the largest
        change of bloc welfare to a neighbouring level at the chosen one, a bound on what the grid
        can miss if bloc welfare is single-peaked.
    releases : pandas.DataFrame
        Release per year of the disruption at the world optimum (kt), mineral × scenario.
    release_value, release_value_without : pandas.DataFrame
        Marginal value of a unit released at the location ``max_j (p_j − t_{Lj})`` (USD/kg) at
        the world optimum and with no inventory.
    prices : pandas.DataFrame
        Long: mineral, scenario, region, ``with``, ``without``, ``benchmark`` border prices and
        ``demand_with``, ``demand_without``, ``demand_benchmark`` (kt/yr).
    bloc : pandas.DataFrame
        By (mineral, scenario): the members' consumption-weighted prices, spike reduction and
        consumption shortfall, at the world optimum.
    bloc_at_bloc, releases_bloc : pandas.DataFrame
        The same as ``bloc`` and ``releases``, at the bloc optimum (what the members' own
        stockpile does to their prices in each disruption).
    probabilities, weights : pandas.Series
        Annual probabilities ``π`` and horizon weights ``q`` (:func:`~models.insurance_data.scenario_weights`).
    budget_gap : float
        Actual outlay at the first-stage price over its benchmark-price value, minus one, at the
        world optimum: how far the linear budget convention is from the true cost.
    identity_residual : float
        ``ΔW − (Δobjective + Δ tax revenue)`` at the world optimum, summed over minerals: zero up
        to solver tolerance.
    solve_time : float
        Seconds, all solves.
    """

    inventory: pd.Series
    bloc_inventory: pd.Series
    inventory_cost: pd.Series
    optima: pd.DataFrame
    summary: pd.DataFrame
    inventory_account: pd.DataFrame
    bloc_inventory_account: pd.DataFrame
    welfare_change: pd.DataFrame
    welfare_change_bloc: pd.DataFrame
    value: float
    bloc_value: float
    grid: pd.DataFrame
    grid_step: pd.Series
    grid_error: pd.Series
    releases: pd.DataFrame
    release_value: pd.DataFrame
    release_value_without: pd.DataFrame
    prices: pd.DataFrame
    bloc: pd.DataFrame
    probabilities: pd.Series
    weights: pd.Series
    budget: float | pd.Series
    budget_gap: float
    identity_residual: float
    solve_time: float
    purchase_price: pd.Series = field(default_factory=pd.Series)
    benchmark_price: pd.Series = field(default_factory=pd.Series)
    residual_value: pd.Series = field(default_factory=pd.Series)
    carrying_cost: float = 0.0
    holding_years: int = 1
    bloc_at_bloc: pd.DataFrame = field(default_factory=pd.DataFrame)
    releases_bloc: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def budget_used(self) -> float:
        """Share of the budget the world optimum spends (at the benchmark price)."""
        total = float(np.sum(self.budget))
        return float(self.inventory_cost.sum() / total) if total > 0 else 0.0

    def break_even_probability(self, scenario: str) -> pd.Series:
        r"""Annual probability of ``scenario`` (others at their values) above which the first kt of
        each mineral pays, from the no-inventory release values ``rv_ω(0)``: the smallest ``π_ω``
        with::

            Σ_ω' q_ω'(π) T_ω' (rv_ω'(0) − v)^+ + v ≥ (1 + c h̄(π)) P0

        found by bisection (``q``, ``h̄`` of :func:`~models.insurance_data.scenario_weights`);
        ``inf`` where even the largest admissible probability does not make it pay.
        """
        names = list(self.probabilities.index)
        if scenario not in names:
            raise ModelInputError("scenario", scenario, f"one of {names}")
        k = names.index(scenario)
        durations = self.weights.attrs.get("durations", np.ones(len(names)))
        rv = self.release_value_without.reindex(columns=names)
        out = {}
        for m in rv.index:
            v, p0 = float(self.residual_value[m]), float(self.benchmark_price[m])
            gain = (rv.loc[m].fillna(v) - v).clip(lower=0.0).to_numpy() * durations

            def pays(p):
                pi = self.probabilities.to_numpy(dtype=float).copy()
                pi[k] = p
                q, hbar = scenario_weights(pi, self.holding_years)
                return float(q @ gain) + v - (1 + self.carrying_cost * hbar) * p0

            hi = 1.0 - float(self.probabilities.drop(scenario).sum())
            if hi <= 0 or pays(hi) < 0:
                out[m] = np.inf
                continue
            lo = 1e-12
            if pays(lo) >= 0:
                out[m] = 0.0
                continue
            for _ in range(60):
                mid = 0.5 * (lo + hi)
                lo, hi = (mid, hi) if pays(mid) < 0 else (lo, mid)
            out[m] = hi
        return pd.Series(out, name=f"break_even_probability[{scenario}]")
