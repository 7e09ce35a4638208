"""Read a solved :class:`~models.equilibrium.EquilibriumModel` back into a :class:`RawSolution`.

Prices are the constraint duals (MODEL.md §1): ``p_j`` of the demand balance, ``w_i`` of the
supply balance; each policy's wedge is the dual of its own constraint. Where a dual is not
determined, the documented convention is reported instead of the solver's arbitrary number:

* a region without a demand (supply) curve: the tightest no-arbitrage value, the landed price
  ``min_i (w_i + c_ij)`` (the best netback ``max_j (p_j − c_ij)``);
* a region that trades nothing on one side: its own curve at zero quantity within the
  no-arbitrage bounds, the choke or the entry price (:func:`models.certificate.settle_indeterminate_prices`),
  identically for every solver;
* a constraint whose bound coincides with a variable's own bound (a ban, a zero budget, a cap of
  zero): the smallest value that supports the equilibrium, e.g. a quota's rent
  ``max(0, max_{arcs} (p_j − w_i − c_ij))``, and exactly that gap where the quota binds;
* a floor whose quantity bound is zero (above the choke price, below the entry price): the wedge
  that makes the region's buyers or sellers face the floor.

Every solution is then certified from the primal values, the prices and the curves
(:func:`models.certificate.certify`): a solution that fails raises ``InaccurateSolutionError``.
"""
from __future__ import annotations

import numpy as np

from . import certificate
from .policies import GuaranteedPrice
from .result import RawSolution


def _by_region(model, regions, values) -> np.ndarray:
    """``values`` (one per region of ``regions``) placed in the market's region order, zero
    elsewhere: ``Md @ values`` (``Ms @ values``) without the sparse product (``+ 0.0`` as in its
    sums, so that a ``-0.0`` reads ``0.0`` there too)."""
    out = np.zeros(model.market.n)
    out[[model.idx[r] for r in regions]] = np.asarray(values, dtype=float) + 0.0
    return out


def read_solution(model, objective: float, solve_time: float) -> RawSolution:
    """Primal values and duals of the last solve of ``model`` as a :class:`RawSolution`."""
    m = model
    n = m.market.n
    levy, topup, cfd_topup = np.zeros(n), np.zeros(n), np.zeros(n)
    for fb in m.floor_bounds:
        if fb.demand_cap is not None:
            dual = m.constraints[f"floor_demand[{fb.key}]"].dual_value
            for p, v in zip(fb.demand_pos, np.atleast_1d(dual)):
                levy[m.idx[m.demand_regions[p]]] += v
        if fb.supply_min is not None:
            dual = m.constraints[f"floor_supply[{fb.key}]"].dual_value
            target = topup if isinstance(fb.floor, GuaranteedPrice) else cfd_topup
            for p, v in zip(fb.supply_pos, np.atleast_1d(dual)):
                target[m.idx[m.supply_regions[p]]] += v
    quota_rent = np.array([float(m.constraints[f"quota[{k}]"].dual_value) for k in range(len(m.quota_params))])
    y = np.zeros(n)
    stock_price = 0.0
    if m.stockpile is not None:
        y = _by_region(m, m.supply_regions, np.maximum(np.asarray(m.y.value, dtype=float), 0.0))
        stock_price = float(m.stock_level.value - m.constraints["stockpile_cap"].dual_value)
    border = np.asarray(m.constraints["demand_balance"].dual_value, dtype=float).copy()
    supply_price = np.asarray(m.constraints["supply_balance"].dual_value, dtype=float).copy()
    cost = m._trade_cost
    demand = _by_region(m, m.demand_regions, m.D.value)
    supply = _by_region(m, m.supply_regions, m.S.value)
    subsidy = _by_region(m, m.supply_regions, m.subsidy.value)
    flows = np.maximum(np.asarray(m.x.value, dtype=float), 0.0)
    binding = certificate.binding_quotas(m)
    certificate.settle_indeterminate_prices(m.market, cost, certificate.open_arcs(m, binding), demand, supply,
                                            flows, border, supply_price, subsidy)
    sellers = [m.idx[r] for r in m.supply_regions] or list(range(n))
    for k in m._no_demand:          # landed from a region that can ship (one with supply)
        border[k] = float(np.min(supply_price[sellers] + cost[sellers, k]))
    for k in m._no_supply:
        supply_price[k] = float(np.max(border - cost[k, :]))
    margin = border[None, :] - supply_price[:, None] - cost          # p_j - w_i - c_ij
    margin = np.where(certificate.closed_arcs(m), -np.inf, margin)  # a barred route supports no rent
    loc = m.idx[m.stockpile.location] if m.stockpile is not None else -1
    eligible = (np.array(m.y_rows, dtype=int)[m.y_cap.value > 0] if m.stockpile is not None
                else np.array([], dtype=int))
    zone_y = _by_region(m, m.supply_regions, m.zone_y.value) if (m.zone is not None and m.stockpile is not None) else np.zeros(n)
    for k, mask in enumerate(m.quota_masks):
        gaps = margin[mask > 0]
        if m.stockpile is not None:
            rows = [o for o in eligible if mask[o, loc] > 0]
            gaps = np.append(gaps, stock_price - supply_price[rows] - cost[rows, loc])
        # a binding quota's rent is exactly the widest price gap it holds open, whatever dual an
        # inaccurate solver returns; a slack one's is zero (to tolerance)
        smallest = max(0.0, float(np.max(gaps, initial=0.0)))
        quota_rent[k] = smallest if binding[k] else min(float(quota_rent[k]), smallest)
    zone_tariff = 0.0
    zone_mask = np.zeros((n, n))
    if m.zone is not None:
        zone_mask = np.array(m.zone_mask.value, dtype=float)
        gaps = margin[zone_mask > 0]
        if m.stockpile is not None:
            rows = [o for o in eligible if zone_y[o] > 0]
            gaps = np.append(gaps, stock_price - supply_price[rows] - cost[rows, loc])
        smallest = max(0.0, float(np.max(gaps, initial=0.0)))
        zone_tariff = (smallest if certificate.zone_binds(m)
                       else min(float(m.constraints["zone_imports"].dual_value), smallest))
    if m.stockpile is not None:
        landed = supply_price[eligible] + cost[eligible, loc]
        for mask, rho in zip(m.quota_masks, quota_rent):
            landed = landed + rho * mask[eligible, loc]
        if m.zone is not None:
            landed = landed + zone_tariff * zone_y[eligible]
        stock_price = max(stock_price, min(float(m.stock_level.value), float(landed.min(initial=np.inf))))
    level = m._current["floor_level"]
    covered = set(m._current["members"]) if m._current["members"] is not None else None
    for fb in m.floor_bounds:
        f = fb.floor.level if level is None else float(level)
        for r in fb.floor.regions:
            k = m.idx[r]
            if covered is not None and r not in covered:
                # not covered at this solve (a non-member): its bounds are open, it faces no floor
                levy[k] = topup[k] = cfd_topup[k] = 0.0
                continue
            if isinstance(fb.floor, GuaranteedPrice):
                levy[k] = min(levy[k], max(0.0, f - border[k]))
                topup[k] = min(topup[k], max(0.0, f - supply_price[k]))
            else:
                cfd_topup[k] = min(cfd_topup[k], max(0.0, f - supply_price[k]))
            # a floor whose quantity bound is zero leaves its dual anywhere above a threshold:
            # report the wedge that makes the region's buyers or sellers face the floor
            d, c = m.market.demand_curve(r), m.market.supply_curve(r)
            if isinstance(fb.floor, GuaranteedPrice) and d is not None and d.quantity_at(f) == 0:
                levy[k] = max(0.0, f - border[k])
            if c is not None and c.quantity_at(f) == 0:
                target = topup if isinstance(fb.floor, GuaranteedPrice) else cfd_topup
                target[k] = max(0.0, f - supply_price[k])
    has_stock = m.stockpile is not None
    raw = RawSolution(
        demand=demand, supply=supply, flows=flows,
        border_price=border, supply_price=supply_price,
        levy=levy, levy_topup=topup, cfd_topup=cfd_topup,
        subsidy=subsidy, tariff=m.tariff_matrix,
        export_tax=m.export_tax_matrix, transport=m.transport,
        quota_rent=quota_rent, quota_masks=list(m.quota_masks),
        stockpile_purchases=y, stockpile_price=stock_price,
        stockpile_level=float(m.stock_level.value) if has_stock else 0.0,
        stockpile_cap=float(m.stock_cap.value) if has_stock else 0.0,
        stockpile_location=m.stockpile.location if has_stock else None,
        objective=objective, solve_time=solve_time,
        zone_tariff=zone_tariff, zone_mask=zone_mask,
        zone_y=zone_y,
        _loc_index=loc)
    raw.check_finite()
    if certificate.ENABLED:
        raw.certificate = certificate.certify(
            m.market, cost, raw, certificate.policy_checks(m, raw), solver=m.solver,
            closed_arcs=certificate.closed_arcs(m), arc_rents=zone_tariff * zone_mask if m.zone is not None else None)
    return raw
