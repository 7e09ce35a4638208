"""Shared builders and economic checks for the model tests (test_equilibrium, test_properties,
test_calibration, test_inputs).

Units throughout: quantities kt, prices USD/kg, money USD million. Every float comparison goes
through a tolerance; the checks here read only the public result (``result.regions``,
``result.flows``, ``result.welfare``, ...) plus ``result.raw`` for the policy matrices and the
quota masks, which the no-arbitrage condition needs.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from models import (CfdFloor, EquilibriumResult, GuaranteedPrice, LinearCurve, Market, StockpileFloor)

# Interior-point solvers (Clarabel) stop at ~1e-8 relative; prices here are O(10-100) USD/kg and
# quantities O(10-100) kt, so 1e-5 absolute is well above solver noise and far below any economics.
PRICE_TOL = 1e-5
QTY_TOL = 1e-5
FLOW_ACTIVE = 1e-6          # a flow above this (kt) counts as a used arc


def transport_matrix(regions, values) -> pd.DataFrame:
    """``t_ij`` as the labelled DataFrame a :class:`Market` expects (origin rows, destination columns)."""
    return pd.DataFrame(np.asarray(values, dtype=float), index=list(regions), columns=list(regions))


def symmetric_cost(regions, costs: dict[tuple[str, str], float]) -> pd.DataFrame:
    """A symmetric transport matrix from ``{(i, j): t_ij}`` (zero diagonal, unspecified pairs 0)."""
    regions = list(regions)
    t = pd.DataFrame(0.0, index=regions, columns=regions)
    for (i, j), c in costs.items():
        t.loc[i, j] = t.loc[j, i] = float(c)
    return t


def linear_market(demand: dict[str, tuple[float, float]], supply: dict[str, tuple[float, float]],
                  transport: pd.DataFrame, regions=None, mineral: str = "test") -> Market:
    """A linear market from ``{region: (intercept, slope)}`` for demand (slope > 0 given as the
    absolute value, stored negative) and supply."""
    regions = tuple(regions or transport.index)
    return Market(mineral, regions,
                  {r: LinearCurve("demand", a, -abs(b)) for r, (a, b) in demand.items()},
                  {r: LinearCurve("supply", c, d) for r, (c, d) in supply.items()},
                  transport)


# ---------------------------------------------------------------------- closed forms
@dataclass(frozen=True)
class Linear:
    """Excess-supply algebra of one region with ``P_d = a - b D`` and ``P_s = c + d S``.

    ``D(p) = (a - p) / b``, ``S(p) = (p - c) / d``; the excess supply
    ``ES(p) = S(p) - D(p) = beta * p - alpha`` with ``beta = 1/b + 1/d`` and
    ``alpha = a/b + c/d``; the autarky price is ``alpha / beta``.
    """

    a: float
    b: float
    c: float
    d: float

    @property
    def beta(self) -> float:
        return 1 / self.b + 1 / self.d

    @property
    def alpha(self) -> float:
        return self.a / self.b + self.c / self.d

    @property
    def autarky(self) -> float:
        return self.alpha / self.beta

    def D(self, p: float) -> float:
        return (self.a - p) / self.b

    def S(self, p: float) -> float:
        return (p - self.c) / self.d

    def ES(self, p: float) -> float:
        return self.S(p) - self.D(p)

    def price_for_excess_supply(self, x: float) -> float:
        """The price at which the region's excess supply equals ``x`` (``x < 0``: it imports ``-x``)."""
        return (x + self.alpha) / self.beta

    def cs(self, p: float) -> float:
        """Consumer surplus at consumer price ``p``: the triangle ``b D(p)^2 / 2``."""
        return 0.5 * self.b * self.D(p) ** 2

    def ps(self, p: float) -> float:
        """Producer surplus at producer price ``p``: ``d S(p)^2 / 2``."""
        return 0.5 * self.d * self.S(p) ** 2


# ---------------------------------------------------------------------- checks
def assert_no_nan(result: EquilibriumResult) -> None:
    """No NaN or infinity in any numeric table of the result."""
    for name in ("regions", "flows", "wedges", "welfare"):
        frame = getattr(result, name)
        values = frame.select_dtypes("number").to_numpy(dtype=float)
        assert np.all(np.isfinite(values)), f"non-finite values in result.{name}:\n{frame}"
    q = result.quota_rents[["shipped", "rent", "rent_total"]].to_numpy(dtype=float)
    assert np.all(np.isfinite(q)), f"non-finite quota rents:\n{result.quota_rents}"
    for key in ("level", "price_paid", "purchases", "cap", "outlay", "budget_used_share"):
        assert np.isfinite(float(result.stockpile[key])), f"stockpile[{key}] is not finite"
    assert np.isfinite(result.objective)


def welfare_scale(result: EquilibriumResult) -> float:
    """A magnitude (USD million) to make welfare residuals relative: the largest gross area or the objective."""
    w = result.welfare
    return max(1.0, abs(result.objective), float(w["consumer_surplus"].abs().sum()),
               float(w["producer_surplus"].abs().sum()))


def assert_welfare_identities(result: EquilibriumResult, rel: float = 1e-7) -> None:
    """Both welfare identities of :mod:`models.result` hold to ``rel`` of the objective's magnitude,
    and the total column is the sum of its components."""
    scale = welfare_scale(result)
    r1, r2 = result.welfare_identity_residuals()
    assert abs(r1) <= rel * scale, f"Σ W − (ΣA^d − ΣA^s − transport) = {r1} (scale {scale})"
    assert abs(r2) <= rel * scale, f"Σ W − (objective − Σ sS + τ-revenue − f K) = {r2} (scale {scale})"
    w = result.welfare
    parts = w[["consumer_surplus", "producer_surplus", "government", "quota_rent"]].sum(axis=1)
    np.testing.assert_allclose(w["total"], parts, atol=rel * scale)
    gov = (w["tariff_revenue"] + w["export_tax_revenue"] + w["zone_tariff_revenue"] + w["levy_revenue"]
           - w["cfd_cost"] - w["subsidy_cost"] - w["stockpile_outlay"])
    np.testing.assert_allclose(w["government"], gov, atol=rel * scale)


def arc_costs(result: EquilibriumResult) -> tuple[np.ndarray, np.ndarray]:
    """``(t + τ, Σ_q ρ_q mask_q)``: unit trade cost with policies, and the quota rents on each arc."""
    raw = result.raw
    rents = np.zeros_like(raw.transport)
    for mask, rho in zip(raw.quota_masks, raw.quota_rent):
        rents += rho * mask
    if raw.zone_mask is not None:
        rents += raw.zone_tariff * raw.zone_mask        # the preferential floor's tariff τ
    return raw.transport + raw.tariff + raw.export_tax, rents


def assert_market_clearing(result: EquilibriumResult, tol: float = QTY_TOL) -> None:
    """``D_j ≤ Σ_i x_ij`` with equality when ``p_j > 0``; ``Σ_j x_ij + y_i ≤ S_i`` with equality when ``w_i > 0``."""
    reg, x = result.regions, result.flows.to_numpy()
    y = result.stockpile_by_origin.to_numpy()
    inflow, outflow = x.sum(axis=0), x.sum(axis=1) + y
    D, S = reg["demand"].to_numpy(), reg["supply"].to_numpy()
    scale = max(1.0, float(S.sum()))
    assert np.all(D <= inflow + tol * scale), f"demand exceeds inflow: D={D}, inflow={inflow}"
    assert np.all(outflow <= S + tol * scale), f"outflow exceeds supply: out={outflow}, S={S}"
    p, w = reg["border_price"].to_numpy(), reg["supply_price"].to_numpy()
    has_d = np.array([result.market.demand_curve(r) is not None for r in result.market.regions])
    has_s = np.array([result.market.supply_curve(r) is not None for r in result.market.regions])
    # complementary slackness: (inflow − D) p = 0 and (S − outflow) w = 0
    for k in range(len(p)):
        if has_d[k] and p[k] > PRICE_TOL * 100:
            assert abs(inflow[k] - D[k]) <= tol * scale, (k, inflow[k], D[k], p[k])
        if has_s[k] and w[k] > PRICE_TOL * 100:
            assert abs(S[k] - outflow[k]) <= tol * scale, (k, S[k], outflow[k], w[k])
    assert np.all(x >= -tol) and np.all(y >= -tol)


def assert_no_arbitrage(result: EquilibriumResult, tol: float = 1e-4) -> None:
    """``p_j ≤ w_i + t_ij + τ_ij + ρ_ij`` on every arc, with equality where ``x_ij > 1e-6``;
    the same for the stockpile's arcs at the price it pays."""
    reg, x = result.regions, result.flows.to_numpy()
    p, w = reg["border_price"].to_numpy(), reg["supply_price"].to_numpy()
    cost, rents = arc_costs(result)
    m = result.market
    has_d = np.array([m.demand_curve(r) is not None for r in m.regions])
    has_s = np.array([m.supply_curve(r) is not None for r in m.regions])
    scale = max(1.0, float(np.abs(p).max()), float(np.abs(w).max()))
    gap = w[:, None] + cost + rents - p[None, :]          # ≥ 0, = 0 on used arcs
    relevant = has_s[:, None] & has_d[None, :]
    assert np.all(gap[relevant] >= -tol * scale), f"arbitrage: min gap {gap[relevant].min()}\n{gap}"
    # Equality on used arcs, read as complementary slackness x_ij * gap_ij ≈ 0: an interior-point
    # solver leaves flows of up to ~1e-4 kt on arcs with a positive margin, so "x > 1e-6 implies
    # gap = 0" is checked as a product, and as a plain equality on clearly used arcs.
    qscale = max(1.0, float(reg["supply"].sum()))
    used = (x > FLOW_ACTIVE) & relevant
    assert np.all(np.abs(gap[used] * x[used]) <= tol * scale * qscale), \
        f"used arc not at zero margin:\n{gap}\nflows:\n{x}"
    clearly = (x > 1e-3 * qscale) & relevant
    assert np.all(np.abs(gap[clearly]) <= tol * scale), f"used arc not at zero margin:\n{gap}\nflows:\n{x}"
    raw = result.raw
    if raw.stockpile_location is not None:
        loc = raw._loc_index
        price = float(result.stockpile["price_paid"])
        y = result.stockpile_by_origin.to_numpy()
        elig = _eligible_mask(result)
        stock_gap = w + cost[:, loc] + rents[:, loc] - price
        assert np.all(stock_gap[elig & has_s] >= -tol * scale), f"stockpile arbitrage: {stock_gap}"
        qscale = max(1.0, float(reg["supply"].sum()))
        sel = (y > FLOW_ACTIVE) & has_s
        assert np.all(np.abs(stock_gap[sel] * y[sel]) <= tol * scale * qscale), (stock_gap, y)
        sel = (y > 1e-3 * qscale) & has_s
        assert np.all(np.abs(stock_gap[sel]) <= tol * scale), (stock_gap, y)


def _eligible_mask(result: EquilibriumResult) -> np.ndarray:
    floor = next(f for f in result.scenario.floors if isinstance(f, StockpileFloor))
    regions = result.market.regions
    if floor.eligible_origins == "ALL":
        return np.ones(len(regions), dtype=bool)
    if floor.eligible_origins == "MEMBERS":
        return np.array([r in result.scenario.bloc.members for r in regions])
    return np.array([r in floor.eligible_origins for r in regions])


def floor_level(result: EquilibriumResult, floor) -> float:
    """The level a floor was solved at (a sweep override wins over the scenario's)."""
    override = result.parameters.get("floor_level")
    return float(floor.level if override is None else override)


def assert_complementary_slackness(result: EquilibriumResult, tol: float = 1e-5) -> None:
    """Dual × slack ≈ 0 for every floor bound, quota and the stockpile cap; every dual ≥ 0."""
    m, reg, wedges = result.market, result.regions, result.wedges
    scale = max(1.0, float(reg["supply"].sum()), float(reg["border_price"].abs().max()))
    subsidy = wedges["subsidy"]
    for floor in result.scenario.floors:
        f = floor_level(result, floor)
        if isinstance(floor, (GuaranteedPrice, CfdFloor)):
            for r in floor.regions:
                dc, sc = m.demand_curve(r), m.supply_curve(r)
                if isinstance(floor, GuaranteedPrice) and dc is not None:
                    lam = wedges.loc[r, "levy"]
                    slack = dc.quantity_at(f) - reg.loc[r, "demand"]
                    assert lam >= -tol and slack >= -tol * scale, (r, lam, slack)
                    assert abs(lam * slack) <= tol * scale * scale, f"levy CS at {r}: λ={lam}, slack={slack}"
                if sc is not None:
                    col = "levy_topup" if isinstance(floor, GuaranteedPrice) else "cfd_topup"
                    mu = wedges.loc[r, col]
                    slack = reg.loc[r, "supply"] - sc.quantity_at(f + subsidy[r])
                    assert mu >= -tol and slack >= -tol * scale, (r, mu, slack)
                    assert abs(mu * slack) <= tol * scale * scale, f"top-up CS at {r}: μ={mu}, slack={slack}"
    q = result.quota_rents
    for k, quota in enumerate(result.scenario.quotas):
        cap = quota.quantity if result.parameters.get("quota") is None else float(result.parameters["quota"])
        rho, shipped = float(q.loc[k, "rent"]), float(q.loc[k, "shipped"])
        assert rho >= -tol and shipped <= cap + tol * scale, (k, rho, shipped, cap)
        assert abs(rho * (cap - shipped)) <= tol * scale * scale, f"quota CS {k}: ρ={rho}, slack={cap - shipped}"
    zone = result.zone
    if not zone.empty:
        tau, slack = float(zone["tariff"]), float(zone["cap"]) - float(zone["imports_from_nonmembers"])
        assert tau >= -tol and slack >= -tol * scale, (tau, slack)
        assert abs(tau * slack) <= tol * scale * scale, f"zone cap CS: τ={tau}, slack={slack}"
        f = float(zone["level"])
        if zone["holds"]:
            assert float(zone["price"]) >= f * (1 - 1e-6), f"floor holds but zone price {zone['price']} < {f}"
        if zone["status"].startswith("holds"):
            assert abs(float(zone["price"]) - f) <= 1e-6 * f, (zone["price"], f)
        else:
            assert tau * float(zone["imports_from_nonmembers"]) <= tol * scale * scale or not zone["holds"]
    st = result.stockpile
    if st["location"] is not None:
        dual = float(st["level"]) - float(st["price_paid"])
        slack = float(st["cap"]) - float(st["purchases"])
        assert dual >= -tol and slack >= -tol * scale, (dual, slack)
        assert abs(dual * slack) <= tol * scale * scale, f"stockpile cap CS: dual={dual}, slack={slack}"


def assert_equilibrium(result: EquilibriumResult) -> None:
    """Every generic check: finite, market clearing, no arbitrage, complementary slackness, welfare."""
    assert_no_nan(result)
    assert_market_clearing(result)
    assert_no_arbitrage(result)
    assert_complementary_slackness(result)
    assert_welfare_identities(result)


# ---------------------------------------------------------------------- hand-solvable markets
# Importer A and exporter B, linear curves (MODEL.md §1). In excess-supply form (see Linear):
#   A: P_d = 120 - 1.5 D, P_s = 20 + S      -> alpha_A = 100, beta_A = 5/3, autarky 60
#   B: P_d =  70 -     D, P_s = 10 + 0.5 S  -> alpha_B =  90, beta_B = 3,   autarky 30
HAND_A = Linear(a=120.0, b=1.5, c=20.0, d=1.0)
HAND_B = Linear(a=70.0, b=1.0, c=10.0, d=0.5)
HAND_T = 4.0


def hand_market(t: float = HAND_T, a: Linear = HAND_A, b: Linear = HAND_B) -> Market:
    """The two-region market of HAND_A (importer) and HAND_B (exporter) with transport cost ``t``."""
    return linear_market({"A": (a.a, a.b), "B": (b.a, b.b)}, {"A": (a.c, a.d), "B": (b.c, b.d)},
                         symmetric_cost(("A", "B"), {("A", "B"): t}))


def two_region_trade(t: float, a: Linear = HAND_A, b: Linear = HAND_B) -> tuple[float, float, float]:
    """Closed-form free-trade equilibrium ``(p_A, p_B, x_BA)`` when B exports to A at unit cost ``t``.

    Trade clears A's excess demand with B's excess supply at prices linked by no arbitrage,
    ``p_A = p_B + t``::

        alpha_A - beta_A (p_B + t) = beta_B p_B - alpha_B
        =>  p_B = (alpha_A + alpha_B - beta_A t) / (beta_A + beta_B)

    and ``x_BA = beta_B p_B - alpha_B``, equivalently
    ``x_BA = beta_A beta_B / (beta_A + beta_B) * (autarky_A - autarky_B - t)``: positive only if
    the autarky price gap exceeds ``t``; otherwise there is no trade and each region sits at autarky.
    """
    x = a.beta * b.beta / (a.beta + b.beta) * (a.autarky - b.autarky - t)
    if x <= 0:
        return a.autarky, b.autarky, 0.0
    p_b = (a.alpha + b.alpha - a.beta * t) / (a.beta + b.beta)
    return p_b + t, p_b, b.ES(p_b)
