"""Every solution certifies itself: the equilibrium conditions checked on the numbers returned.

A solver's "optimal" is its own word on its own scaled programme. The certificate re-checks the
answer in the book's units, from the primal quantities, the reported prices and the curves
themselves (MODEL.md §1–2). Each condition is a complementarity pair ``0 ≤ a ⊥ b ≥ 0``, one
side a quantity (kt), the other a price (USD/kg), and is scored by its natural residual

.. math::

    r = \\left| \\min\\left( \\frac{a}{Q}, \\frac{b}{P} \\right) \\right|,

which is zero exactly when ``a ≥ 0``, ``b ≥ 0`` and ``a b = 0``. ``Q`` and ``P`` are the market's
quantity and price scales (the largest quantity and the largest price in the solution, at least
1), so the tolerance (:data:`TOLERANCE`) is relative. A curve's condition is also read along the
quantity axis, ``|D_j − D_j(P^c_j)| / Q``, and scored by the smaller of the two readings: the
scaled distance from the point to the curve's graph (on a steep curve a quantity within solver
tolerance moves the price by its slope; elasticities outside the range where that stays small
are refused up front, :data:`models.curves.ELASTICITY_RANGE`). The conditions:

==========================  ==============================================  =====================
condition                   quantity side ``a``                              price side ``b``
==========================  ==============================================  =====================
market clearing at ``j``    ``Σ_i x_ij − D_j``                                ``p_j``
supply balance at ``i``     ``S_i − Σ_j x_ij − y_i``                          ``w_i``
no spatial arbitrage        ``x_ij``                                          ``w_i + c_ij + ρ_ij − p_j``
stockpile arcs (eligible)   ``y_i``                                           ``w_i + c_iL + ρ_iL − f_paid``
demand curve at ``j``       ``D_j``                                           ``P^c_j − P^d_j(D_j)``
supply curve at ``i``       ``S_i``                                           ``P^s_i(S_i) − P^p_i``
each policy constraint      its slack (e.g. ``D_j(f) − D_j``)                 its multiplier (``λ_j``)
==========================  ==============================================  =====================

``c_ij`` is the trade cost actually used (freight, tariffs, export taxes), ``ρ_ij`` the sum of the
rents of the quotas covering arc ``ij``, ``P^c = p + λ`` the consumer and ``P^p = w + μ + s`` the
producer price. The welfare identity closes the list: the programme's objective recomputed from
the curves, ``Σ A^d(D) − Σ A^s(S) + s·S − Σ c_ij x_ij − Σ c_iL y_i + f_K K``, must equal the
solver's objective to ``tol × max(1, |objective|, n P Q)``.

Prices the equilibrium leaves undetermined are set by one convention before the check
(:func:`settle_indeterminate_prices`), so every solver reports the same ones.

Cost: one vectorised pass over all conditions (``n × n`` arcs included), about 0.2–0.4 ms on 13
regions: ~3 % of a solve through cvxpy, ~10–20 % of a step of a fast-path sweep, under 1 % from 50
regions (``benchmarks/bench_equilibrium.py`` prints it).
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

from .curves import LinearCurve
from .errors import InaccurateSolutionError
from .policies import GuaranteedPrice

#: Relative tolerance of every condition (see the module docstring for the scales), by curve
#: family. On the quadratic programme of linear curves Clarabel reaches 1e-8 and OSQP (polished)
#: and SCS at the tolerances the model sets 1e-6, so 1e-5 leaves a margin. The power-cone
#: programme of constant-elasticity curves is solved to ~1e-5 only (Clarabel's defaults; tighter
#: ones stop as "almost solved"), and a steep curve turns that into a price residual of ~1e-4.
#: Both are far below any economic difference the book draws.
TOLERANCE = {"linear": 1e-5, "isoelastic": 1e-3}

#: Set to False (or use :func:`disabled`) to skip the certificate (the benchmark measures its cost).
ENABLED = True


@contextlib.contextmanager
def disabled() -> Iterator[None]:
    """Within the block, solves are not certified (for measuring the certificate's cost only)."""
    global ENABLED
    saved, ENABLED = ENABLED, False
    try:
        yield
    finally:
        ENABLED = saved


@dataclass(frozen=True)
class Complementarity:
    """One complementarity condition ``0 ≤ slack ⊥ multiplier ≥ 0``.

    Parameters
    ----------
    name : str
        What it is about, e.g. ``"floor[0] demand bound (levy)"``.
    slack : array
        The quantity side, in kt (scaled by the quantity scale).
    multiplier : array
        The price side, in USD/kg (scaled by the price scale).
    labels : sequence of str, or callable
        One label per entry (the region or arc), or a function of the flat position giving it;
        used in the error message.
    """

    name: str
    slack: np.ndarray
    multiplier: np.ndarray
    labels: object = field(default=())
    quantity_gap: np.ndarray | None = None

    def residuals(self, q_scale: float, p_scale: float) -> np.ndarray:
        """``|min(slack / Q, multiplier / P)|`` entry by entry.

        For a curve, ``quantity_gap`` is the same condition read along the quantity axis
        (``D_j − D_j(P^c_j)``), and the residual is the smaller of the two: the distance from the
        point to the curve's graph, in scaled units, is at most either. On a steep curve a
        quantity within solver tolerance moves the price by much more; the converse on a flat one.
        """
        a = np.asarray(self.slack, dtype=float).ravel() / q_scale
        b = np.asarray(self.multiplier, dtype=float).ravel() / p_scale
        r = np.abs(np.minimum(a, b))
        if self.quantity_gap is not None:
            r = np.minimum(r, np.abs(np.asarray(self.quantity_gap, dtype=float).ravel()) / q_scale)
        return r


class _Curves:
    """One side's curves as vectors (linear) or a list (constant elasticity), built once per market."""

    def __init__(self, curves: list):
        self.curves = curves
        self.has = np.array([c is not None for c in curves])
        self.linear = all(isinstance(c, LinearCurve) for c in curves if c is not None)
        self.a = np.array([c.intercept if c is not None and self.linear else 0.0 for c in curves])
        self.b = np.array([c.slope if c is not None and self.linear else 1.0 for c in curves])
        self.supply = bool(curves) and all(c.side == "supply" for c in curves if c is not None)

    def price(self, q: np.ndarray) -> np.ndarray:
        """``P(Q)`` (NaN where the region has no curve)."""
        q = np.maximum(q, 0.0)
        if self.linear:
            return np.where(self.has, self.a + self.b * q, np.nan)
        with np.errstate(divide="ignore", over="ignore"):
            return np.array([float(c.price(v)) if c is not None else np.nan for c, v in zip(self.curves, q)])

    def quantity(self, p: np.ndarray) -> np.ndarray:
        """``Q(P)``: 0 outside the curve's range (below the entry price, above the choke price)."""
        if self.linear:
            return np.where(self.has, np.maximum(0.0, (p - self.a) / self.b), np.nan)
        out = np.full(len(self.curves), np.nan)
        for k, c in enumerate(self.curves):
            if c is not None:
                with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
                    out[k] = c.quantity_at(float(p[k])) if p[k] > 0 else (0.0 if c.side == "supply" else np.inf)
        return out

    def area(self, q: np.ndarray) -> float:
        """``Σ A(Q)`` over the regions with a curve."""
        q = np.maximum(q, 0.0)
        if self.linear:
            return float(np.sum(np.where(self.has, self.a * q + 0.5 * self.b * q ** 2, 0.0)))
        return float(sum(float(c.area(v)) for c, v in zip(self.curves, q) if c is not None))


_CACHE: dict[int, tuple] = {}


def _curves(market) -> tuple[_Curves, _Curves]:
    """The market's demand and supply curves as :class:`_Curves`, cached by market identity."""
    hit = _CACHE.get(id(market))
    if hit is None or hit[0] is not market:
        if len(_CACHE) > 64:
            _CACHE.clear()
        regions = market.regions
        hit = (market, _Curves([market.demand_curve(r) for r in regions]),
               _Curves([market.supply_curve(r) for r in regions]))
        _CACHE[id(market)] = hit
    return hit[1], hit[2]


def equilibrium_checks(market, trade_cost: np.ndarray, raw, closed_arcs: np.ndarray | None = None,
                       arc_rents: np.ndarray | None = None) -> list[Complementarity]:
    """The conditions every solution must meet, whatever the policies (first five rows of the table).

    ``closed_arcs`` marks arcs a constraint outside the scenario forces to zero (a model that
    adds its own ``x_ij ≤ 0``, as :mod:`models.coalition` does for a supplier's ban): there the
    no-arbitrage inequality does not apply and only ``x_ij = 0`` is checked. ``arc_rents`` adds
    the rents of any other constraint on arcs (USD/kg, origin × destination), e.g. the adjustable
    tariff of a cap on imports from non-members, to those of the quotas.
    """
    regions = list(market.regions)
    n = len(regions)
    consumer = raw.border_price + raw.levy
    producer = raw.supply_price + raw.levy_topup + raw.cfd_topup + raw.subsidy
    x, y = raw.flows, raw.stockpile_purchases
    p, w = raw.border_price, raw.supply_price
    inflow, outflow = x.sum(axis=0), x.sum(axis=1) + y
    rents = np.zeros((n, n))
    for mask, rho in zip(raw.quota_masks, raw.quota_rent):
        rents += rho * mask
    if arc_rents is not None:
        rents = rents + arc_rents
    if closed_arcs is not None:
        rents = np.where(closed_arcs, np.inf, rents)
    dem, sup = _curves(market)
    has_d, has_s = dem.has, sup.has
    pd_, ps_ = dem.price(raw.demand), sup.price(raw.supply)
    dq, sq = dem.quantity(consumer), sup.quantity(producer)
    labels = np.array(regions)
    checks = [
        Complementarity("market clearing", inflow - raw.demand, p, regions),
        Complementarity("supply balance", raw.supply - outflow, w, regions),
        Complementarity("no spatial arbitrage", x, w[:, None] + trade_cost + rents - p[None, :],
                        lambda k: f"{regions[k // n]}->{regions[k % n]}"),
        Complementarity("demand curve", raw.demand[has_d], consumer[has_d] - pd_[has_d],
                        labels[has_d], raw.demand[has_d] - dq[has_d]),
        Complementarity("supply curve", raw.supply[has_s], ps_[has_s] - producer[has_s],
                        labels[has_s], raw.supply[has_s] - sq[has_s]),
    ]
    return checks


def certify(market, trade_cost: np.ndarray, raw, checks: list[Complementarity] = (),
            tol: float | None = None, solver: str | None = None,
            closed_arcs: np.ndarray | None = None, arc_rents: np.ndarray | None = None) -> dict:
    """Check a solution against the equilibrium conditions; return the worst residual of each.

    Parameters
    ----------
    market : Market
        The curves the solution must lie on.
    trade_cost : array (n, n)
        ``c_ij``: freight plus tariffs plus export taxes actually used in the programme.
    raw : RawSolution
        Primal values and prices.
    checks : list of Complementarity
        The policy constraints' own conditions (floors, caps, quotas), added to the
        market-wide ones of :func:`equilibrium_checks`.
    tol : float, optional
        Relative tolerance of every condition; default :data:`TOLERANCE` of the market's curves.
    closed_arcs : bool array (n, n), optional
        Arcs forced to zero by a constraint outside the scenario (see :func:`equilibrium_checks`).
    arc_rents : array (n, n), optional
        Rents of constraints on arcs other than the quotas (see :func:`equilibrium_checks`); a
        policy adding such a constraint passes its dual here and its own check in ``checks``.

    Returns
    -------
    dict
        Condition name -> worst scaled residual (``welfare identity`` included).

    Raises
    ------
    InaccurateSolutionError
        When any residual exceeds ``tol``; the message names the worst condition, where it
        fails and the residual.
    """
    tol = TOLERANCE[market.curve_family] if tol is None else float(tol)
    prices = np.concatenate([np.abs(raw.border_price), np.abs(raw.supply_price),
                             np.abs(raw.levy), np.abs(raw.levy_topup), np.abs(raw.cfd_topup)])
    quantities = np.concatenate([raw.demand, raw.supply, raw.flows.ravel(), raw.stockpile_purchases])
    p_scale = max(1.0, float(np.max(prices, initial=0.0)))
    q_scale = max(1.0, float(np.max(np.abs(quantities), initial=0.0)))
    gap = raw.objective - recomputed_objective(market, trade_cost, raw)
    scale = max(1.0, abs(raw.objective), market.n * p_scale * q_scale)
    conditions = [*equilibrium_checks(market, trade_cost, raw, closed_arcs, arc_rents), *checks]
    return evaluate(conditions, p_scale, q_scale, tol, solver, {"welfare identity": abs(gap) / scale})


def evaluate(checks: list[Complementarity], p_scale: float, q_scale: float, tol: float,
             solver: str | None = None, extra: dict | None = None) -> dict:
    """Score ``checks`` (and ``extra`` residuals already scaled) and raise if the worst exceeds ``tol``.

    All conditions go into one vector, so the cost is one pass of numpy whatever their number.
    """
    every = [c for c in checks if np.size(c.slack)]
    a = np.concatenate([np.ravel(c.slack) for c in every]) / q_scale
    b = np.concatenate([np.ravel(c.multiplier) for c in every]) / p_scale
    g = np.concatenate([np.full(np.size(c.slack), np.inf) if c.quantity_gap is None
                        else np.abs(np.ravel(c.quantity_gap)) for c in every]) / q_scale
    r = np.minimum(np.abs(np.minimum(a, b)), g)
    r[np.isnan(r)] = np.inf
    starts = np.cumsum([0] + [np.size(c.slack) for c in every[:-1]])
    worst_each = np.maximum.reduceat(r, starts)
    residuals = {}
    for c, value in zip(every, worst_each.tolist()):
        residuals[c.name] = max(residuals.get(c.name, 0.0), value)
    k = int(np.argmax(r))
    i = int(np.searchsorted(starts, k, side="right")) - 1
    check, k = every[i], k - int(starts[i])
    where = (check.labels(k) if callable(check.labels)
             else str(check.labels[k]) if len(check.labels) == np.size(check.slack) else "")
    worst = (float(r.max()), check.name, where)
    for name, value in (extra or {}).items():
        residuals[name] = value
        if value > worst[0]:
            worst = (value, name, "")
    if worst[0] > tol:
        value, name, where = worst
        at = f" at {where}" if where else ""
        raise InaccurateSolutionError(
            "uncertified",
            f"the solution fails the equilibrium condition '{name}'{at} with scaled residual "
            f"{value:.3g} (tolerance {tol:g}); try another solver or rescale the inputs (kt, USD/kg)",
            solver)
    return residuals


def market_checks(market, trade_cost: np.ndarray, demand, supply, flows, border, supply_price,
                  extra_supply=None, rents=None, prefix: str = "") -> list[Complementarity]:
    """The five market-wide conditions for a bare market (no floors): clearing, balance with
    ``extra_supply`` (e.g. a stockpile release), no arbitrage with arc ``rents``, both curves."""
    n, regions = market.n, market.regions
    extra = np.zeros(n) if extra_supply is None else extra_supply
    rents = np.zeros((n, n)) if rents is None else rents
    dem, sup = _curves(market)
    inflow, outflow = flows.sum(axis=0), flows.sum(axis=1)
    labels = np.array(regions)
    return [
        Complementarity(f"{prefix}market clearing", inflow - demand, border, regions),
        Complementarity(f"{prefix}supply balance", supply + extra - outflow, supply_price, regions),
        Complementarity(f"{prefix}no spatial arbitrage", flows,
                        supply_price[:, None] + trade_cost + rents - border[None, :],
                        lambda k: f"{regions[k // n]}->{regions[k % n]}"),
        Complementarity(f"{prefix}demand curve", demand[dem.has], border[dem.has] - dem.price(demand)[dem.has],
                        labels[dem.has], (demand - dem.quantity(border))[dem.has]),
        Complementarity(f"{prefix}supply curve", supply[sup.has], sup.price(supply)[sup.has] - supply_price[sup.has],
                        labels[sup.has], (supply - sup.quantity(supply_price))[sup.has]),
    ]


def recomputed_objective(market, trade_cost: np.ndarray, raw) -> float:
    """``Σ A^d(D) − Σ A^s(S) + s·S − Σ c_ij x_ij − Σ c_iL y_i + f_K K`` from the primal and the curves."""
    dem, sup = _curves(market)
    value = dem.area(raw.demand) - sup.area(raw.supply)
    value += float(raw.subsidy @ raw.supply) - float((trade_cost * raw.flows).sum())
    if raw.stockpile_location is not None:
        y = raw.stockpile_purchases
        value += raw.stockpile_level * float(y.sum()) - float(trade_cost[:, raw._loc_index] @ y)
    return value


def policy_checks(model, raw) -> list[Complementarity]:
    """Each policy constraint of a built :class:`~models.equilibrium.EquilibriumModel` as a check.

    ==========================  ==========================  ==============================
    constraint                  slack (kt)                  multiplier (USD/kg)
    ==========================  ==========================  ==============================
    levy floor, demand bound    ``D_j(f) − D_j``            levy ``λ_j``
    levy floor, supply bound    ``S_j − S_j(f)``            top-up ``μ_j``
    stockpile, eligible arcs    ``y_i``                     ``w_i + c_iL + ρ_iL − f_paid``
    CfD floor                   ``S_i − S_i(f)``            top-up ``μ_i``
    export quota ``q``          ``Q_q − shipped_q``         rent ``ρ_q``
    stockpile budget            ``B / f − K``               ``f − f_paid``
    ==========================  ==========================  ==============================
    """
    regions, checks = model.market.regions, []
    for fb in model.floor_bounds:
        kind = type(fb.floor).__name__
        if fb.demand_cap is not None:
            rows = [model.idx[model.demand_regions[p]] for p in fb.demand_pos]
            checks.append(Complementarity(
                f"floors[{fb.key}] demand bound ({kind})", fb.demand_cap.value - raw.demand[rows],
                raw.levy[rows], tuple(regions[r] for r in rows)))
        if fb.supply_min is not None:
            rows = [model.idx[model.supply_regions[p]] for p in fb.supply_pos]
            topup = raw.levy_topup if isinstance(fb.floor, GuaranteedPrice) else raw.cfd_topup
            checks.append(Complementarity(
                f"floors[{fb.key}] supply bound ({kind})", raw.supply[rows] - fb.supply_min.value,
                topup[rows], tuple(regions[r] for r in rows)))
    for k, (param, mask) in enumerate(zip(model.quota_params, raw.quota_masks)):
        shipped = float((mask * raw.flows).sum())
        if raw.stockpile_location is not None:
            shipped += float((mask[:, raw._loc_index] * raw.stockpile_purchases).sum())
        checks.append(Complementarity(f"quotas[{k}]", np.array([float(param.value) - shipped]),
                                      raw.quota_rent[k:k + 1], (model.scenario.quotas[k].origin,)))
    zone_rent = raw.zone_tariff if getattr(model, "zone", None) is not None else 0.0
    if getattr(model, "zone", None) is not None:
        imports = float((raw.zone_mask * raw.flows).sum() + (raw.zone_y * raw.stockpile_purchases).sum())
        members = tuple(r for r in regions if raw.zone_mask[:, model.idx[r]].any())
        checks.append(Complementarity("preferential floor: cap on imports from non-members",
                                      np.array([float(model.zone_cap.value) - imports]),
                                      np.array([raw.zone_tariff]), members or ("zone",)))
    if raw.stockpile_location is not None:
        loc, rows = raw._loc_index, list(model.y_rows)
        rents = sum((rho * mask[rows, loc] for mask, rho in zip(raw.quota_masks, raw.quota_rent)),
                    np.zeros(len(rows)))
        if raw.zone_y is not None:
            rents = rents + zone_rent * raw.zone_y[rows]
        closed = np.asarray(model.y_cap.value) <= 0          # origins that may not sell to it
        if model.ban_y is not None:
            closed = closed | (np.asarray(model.ban_y.value) > 0)
        rents = np.where(closed, np.inf, rents)
        checks.append(Complementarity(
            f"stockpile purchases at {raw.stockpile_location}", raw.stockpile_purchases[rows],
            raw.supply_price[rows] + model._trade_cost[rows, loc] + rents - raw.stockpile_price,
            tuple(regions[r] for r in rows)))
        checks.append(Complementarity(
            "stockpile budget", np.array([raw.stockpile_cap - raw.stockpile_purchases.sum()]),
            np.array([raw.stockpile_level - raw.stockpile_price]), (raw.stockpile_location,)))
    return checks


def settle_indeterminate_prices(market, trade_cost: np.ndarray, open_arcs: np.ndarray, demand: np.ndarray,
                                supply: np.ndarray, flows: np.ndarray, border: np.ndarray,
                                supply_price: np.ndarray, subsidy: np.ndarray, tol: float = 1e-5) -> None:
    """Replace, in place, the prices the equilibrium leaves undetermined by the documented convention.

    Where a region trades nothing on one side, the duals are anywhere in an interval and each
    solver returns a different point of it. The convention reports the region's own curve at
    zero quantity, within the no-arbitrage bounds, so that every solver reports the same price:

    * a region with a supply curve that supplies nothing and ships nothing: its entry price,
      ``w_i = max(P^s_i(0) − s_i, max_j (p_j − c_ij))`` over open arcs (the smallest price at which
      its producers would start to sell; the intercept of the supply curve in autarky);
    * a region with a demand curve that consumes nothing and receives nothing: its choke price,
      ``p_j = min(P^d_j(0), min_i (w_i + c_ij))`` over open arcs (the highest price at which its
      buyers stay out; the choke price when every route into it is banned).

    ``open_arcs`` marks the arcs no binding quota covers (a binding quota's rent fills the gap).
    Quantities count as zero below ``tol`` times the market's quantity scale (the certificate's
    own tolerance on the quadratic programme: an interior-point solver leaves ~1e-7 of it).
    """
    q_scale = max(1.0, float(np.max(np.abs(np.concatenate([demand, supply, flows.ravel()])), initial=0.0)))
    small = tol * q_scale
    inflow, outflow = flows.sum(axis=0), flows.sum(axis=1)
    dem, sup = _curves(market)
    open_arcs = open_arcs & sup.has[:, None] & dem.has[None, :]
    idle_sellers = np.flatnonzero(sup.has & (supply <= small) & (outflow <= small))
    if idle_sellers.size:
        entry = sup.price(np.zeros(market.n))
        for k in idle_sellers:
            netback = np.max(np.where(open_arcs[k], border - trade_cost[k], -np.inf), initial=0.0)
            supply_price[k] = max(entry[k] - subsidy[k], netback, 0.0)
    idle_buyers = np.flatnonzero(dem.has & (demand <= small) & (inflow <= small))
    if idle_buyers.size:
        with np.errstate(divide="ignore"):
            choke = dem.price(np.zeros(market.n))    # infinite for a constant-elasticity demand
        big = np.where(open_arcs, trade_cost, np.inf)
        for k in idle_buyers:
            landed = float(np.min(supply_price + big[:, k]))
            border[k] = max(0.0, min(choke[k], landed))


def binding_quotas(model) -> list[bool]:
    """Which quotas of a solved model bind: shipments within 1e-7 (relative) of the quota."""
    x = model.x.value
    out = []
    for k, (param, mask) in enumerate(zip(model.quota_params, model.quota_masks)):
        shipped = float(np.sum(mask * x))
        if model.stockpile is not None:
            loc = model.idx[model.stockpile.location]
            rows = [j for j, o in enumerate(model.y_rows) if mask[o, loc] > 0]
            shipped += float(np.sum(model.y.value[rows]))
        out.append(shipped >= float(param.value) - 1e-7 * max(1.0, float(param.value)))
    return out


def open_arcs(model, binding: list[bool] | None = None) -> np.ndarray:
    """Arcs of a solved model that no binding quota covers (a binding quota's rent closes the price
    gap on its arcs), nor a route barred by ``banned_routes``; a binding cap of the preferential
    floor closes its arcs the same way."""
    arcs = ~closed_arcs(model)
    for bind, mask in zip(binding_quotas(model) if binding is None else binding, model.quota_masks):
        if bind:
            arcs = arcs & ~(mask > 0)
    if getattr(model, "zone", None) is not None and zone_binds(model):
        arcs = arcs & ~(np.asarray(model.zone_mask.value) > 0)
    return arcs


def closed_arcs(model) -> np.ndarray:
    """Arcs a solve's ``banned_routes`` forces to zero (none unless the model has parametric routes)."""
    n = model.market.n
    if getattr(model, "ban_mask", None) is None:
        return np.zeros((n, n), dtype=bool)
    return np.asarray(model.ban_mask.value) > 0


def zone_binds(model) -> bool:
    """Whether the preferential floor's cap on imports from non-members binds (within 1e-7)."""
    x = np.asarray(model.x.value)
    imports = float(np.sum(np.asarray(model.zone_mask.value) * x))
    if model.zone_y is not None:
        imports += float(np.asarray(model.zone_y.value) @ np.asarray(model.y.value))
    cap = float(model.zone_cap.value)
    return imports >= cap - 1e-7 * max(1.0, cap)
