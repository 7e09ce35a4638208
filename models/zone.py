"""The preferential floor's search: the smallest tariff on non-members that holds the zone at ``f``.

MODEL.md §2. With the bloc ``S`` and its floor ``f``, the built programme carries the cap

    Σ_{i∉S, j∈S} x_ij + Σ_{i∉S} y_i 1[L ∈ S] ≤ Q        (dual τ: the adjustable tariff)

and the zone's price ``P_S(Q)`` (see :func:`zone_price`) falls as ``Q`` rises. :func:`solve_zone`
finds ``Q*`` with ``P_S(Q*) = f`` by Brent's method on ``[0, M_0]``, where ``M_0`` is the zone's
imports from non-members with no cap, each step a parametric re-solve of the one built problem:

* ``P_S(∞) ≥ f``: the floor does not bind; ``τ = 0`` and the cap is left open.
* ``P_S(0) < f``: no tariff holds the floor (a prohibitive one reaches only ``P_S(0)``, the zone's
  autarky price or its export parity): the floor **fails**, and the solution at ``Q = 0`` is
  returned with that status.
* otherwise ``Q*`` in ``(0, M_0)``; the zone's price is ``f`` to :data:`PRICE_TOL` (relative), and
  ``τ`` is the cap's dual.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import brentq

from .errors import InaccurateSolutionError
from .validate import assign_parameter

#: Relative tolerance on the zone's price at the found cap: |P_S − f| ≤ PRICE_TOL · f.
PRICE_TOL = 1e-7
#: Status values of a preferential floor.
BINDS, NOT_BINDING, FAILS = "holds (tariff binds)", "not binding (zone price above f)", "fails"


def zone_price(raw, members_idx: list[int], has_demand: np.ndarray, reference: int | None) -> float:
    """The zone's price ``P_S`` of a solution (USD/kg).

    ``reference`` given: that member's border price. Otherwise the lowest price over members with a
    curve, ``min_{j∈S} P_j``, where ``P_j`` is the border price of a member with demand and the
    supply price of a member that only produces.
    """
    if reference is not None:
        return float(raw.border_price[reference])
    prices = [raw.border_price[j] if has_demand[j] else raw.supply_price[j] for j in members_idx]
    return float(min(prices))


def solve_zone(model, level: float, open_cap: float):
    """Solve ``model`` (an :class:`~models.equilibrium.EquilibriumModel` with a preferential
    floor) so that the zone's price is ``level``; return the raw solution, whose ``zone`` holds
    the record (level, status, cap, price, tariff, solves) and whose ``solve_time`` sums every
    re-solve of the search.

    The model's ``zone_cap`` parameter is left at the returned cap.
    """
    members = model.zone_members_idx
    has_demand, ref = model.has_demand, model.zone_reference_idx
    spent = {"time": 0.0, "solves": 0}

    def at(cap: float):
        assign_parameter(model.zone_cap, max(0.0, float(cap)))
        raw = model._solve_and_read()
        spent["time"] += raw.solve_time
        spent["solves"] += 1
        raw.solve_time = spent["time"]
        return raw

    def record(raw, status: str, cap: float, price: float):
        raw.zone = {"level": level, "status": status, "cap": cap, "price": price, "tariff": raw.zone_tariff,
                    "solves": spent["solves"]}
        return raw

    raw = at(open_cap)
    price = zone_price(raw, members, has_demand, ref)
    if price >= level * (1.0 - PRICE_TOL):
        return record(raw, NOT_BINDING, open_cap, price)
    imports_open = float((raw.zone_mask * raw.flows).sum() + (raw.zone_y * raw.stockpile_purchases).sum())
    raw0 = at(0.0)
    price = zone_price(raw0, members, has_demand, ref)
    if price < level * (1.0 - PRICE_TOL):
        return record(raw0, FAILS, 0.0, price)

    def gap(cap: float) -> float:
        return zone_price(at(cap), members, has_demand, ref) - level

    scale = max(imports_open, 1e-12)
    cap = brentq(gap, 0.0, imports_open, xtol=1e-13 * scale, rtol=4 * np.finfo(float).eps, maxiter=200)
    raw = at(cap)
    price = zone_price(raw, members, has_demand, ref)
    if abs(price - level) > 10 * PRICE_TOL * level:
        raise InaccurateSolutionError(
            "zone_price", f"the search for the preferential floor's tariff ended at a zone price of "
            f"{price:.9g} USD/kg for a floor of {level:.9g} (tolerance {10 * PRICE_TOL:g} relative)",
            model.solver)
    return record(raw, BINDS, cap, price)
