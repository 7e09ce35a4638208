"""The preferential floors' search on a chain: the cap on each floored stage's imports from
non-members such that the zone's price of that stage equals its floor (MODEL.md §2).

For one floor this is the single-good search of :mod:`models.zone`: the zone's price ``P_S(Q)``
falls as the cap ``Q`` rises; with ``M_0`` the zone's imports from non-members with no cap,

* ``P_S(open) ≥ f``: the floor does not bind (``τ = 0``);
* ``P_S(0) < f``: no tariff holds it (the zone exports the stage, or its autarky price is below
  ``f``): the floor **fails**, reported at ``Q = 0``;
* otherwise Brent's method finds ``Q*`` in ``(0, M_0)`` with ``P_S(Q*) = f`` to :data:`PRICE_TOL`.

With floors on several stages the caps interact (a floor on oxide moves the price of magnets);
they are found one stage at a time, holding the others, and the rounds repeat until every
zone price is at its floor (or its status is settled): a Gauss–Seidel iteration, finished by
Newton's method on the caps of the floors that hold when it creeps.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import brentq

from ..errors import InaccurateSolutionError, SolverError

PRICE_TOL = 1e-7
OPEN_CAP = 1e5          # kt: far above any stage's world output
MAX_ROUNDS = 30
#: Gauss–Seidel rounds before Newton's method finishes the search of interacting floors.
NEWTON_AFTER = 4
BINDS, NOT_BINDING, FAILS = "holds (tariff binds)", "not binding (zone price above f)", "fails"


def _solve_at(model, floor, cap, spent):
    model.handles[floor.key].cap.value = max(0.0, float(cap))
    res = model._solve_once()
    spent["time"] += res.solve_time
    spent["solves"] += 1
    return res


def _search_one(model, floor, spent):
    h = model.handles[floor.key]
    level = h.level
    res = _solve_at(model, floor, OPEN_CAP, spent)
    price = floor.zone_price(model, res.price_arrays)
    if price >= level * (1 - PRICE_TOL):
        h.record = {"status": NOT_BINDING, "cap": OPEN_CAP, "zone_price": price}
        return res
    imports_open = floor.imports(model)
    res0 = _solve_at(model, floor, 0.0, spent)
    price0 = floor.zone_price(model, res0.price_arrays)
    if price0 < level * (1 - PRICE_TOL):
        h.record = {"status": FAILS, "cap": 0.0, "zone_price": price0}
        return res0

    def gap(cap):
        r = _solve_at(model, floor, cap, spent)
        return floor.zone_price(model, r.price_arrays) - level

    scale = max(imports_open, 1e-12)
    cap = brentq(gap, 0.0, imports_open, xtol=1e-13 * scale, rtol=1e-14, maxiter=200)
    res = _solve_at(model, floor, cap, spent)
    price = floor.zone_price(model, res.price_arrays)
    if abs(price - level) > 10 * PRICE_TOL * level:
        raise InaccurateSolutionError("zone_price", f"the search for {floor.key}'s tariff ended at a zone price "
                                      f"of {price:.9g} USD/kg for a floor of {level:.9g}", model.solver)
    h.record = {"status": BINDS, "cap": cap, "zone_price": price}
    return res


def _newton(model, floors, spent, rounds: int = 12):
    """Newton's method on the caps of the floors that bind, ``P_s(Q) = f_s`` for every ``s`` at once,
    with a Jacobian from one-sided differences (the solution is piecewise affine in ``Q``, so a few
    steps suffice where the Gauss–Seidel rounds creep). Returns the result, or ``None``."""
    handles = [model.handles[f.key] for f in floors]
    levels = np.array([h.level for h in handles])

    def gap_at(caps):
        for h, c in zip(handles, caps):
            h.cap.value = max(0.0, float(c))
        res = model._solve_once()
        spent["time"] += res.solve_time
        spent["solves"] += 1
        return res, np.array([f.zone_price(model, res.price_arrays) for f in floors]) - levels

    caps = np.array([float(h.cap.value) for h in handles])
    start = caps.copy()
    try:
        return _newton_steps(gap_at, caps, levels, len(floors), rounds)
    except SolverError:         # a step far outside the bracket: back to the Gauss–Seidel rounds
        for h, c in zip(handles, start):
            h.cap.value = float(c)
        return None


def _newton_steps(gap_at, caps, levels, k, rounds):
    res, g = gap_at(caps)
    for _ in range(rounds):
        if np.all(np.abs(g) <= PRICE_TOL * levels):
            return res
        J = np.empty((k, k))
        for j in range(k):
            step = max(1e-7, 1e-4 * caps[j])
            shifted = caps.copy()
            shifted[j] += step
            J[:, j] = (gap_at(shifted)[1] - g) / step
        try:
            move = np.linalg.solve(J, -g)
        except np.linalg.LinAlgError:
            return None
        caps = np.clip(caps + move, 0.0, OPEN_CAP)
        res, g = gap_at(caps)
    return res if np.all(np.abs(g) <= 10 * PRICE_TOL * levels) else None


def solve_floors(model):
    """Solve ``model`` with every :class:`StageFloor` held at its level; return the result whose
    ``solve_time`` sums every re-solve and whose floor wedges carry status, zone price and solves.

    Gauss–Seidel rounds settle each floor's status (not binding, holds, fails); if the prices of
    the floors that hold still creep after :data:`NEWTON_AFTER` rounds, Newton's method on their
    caps finishes the search."""
    spent = {"time": 0.0, "solves": 0}
    res = None
    for round_ in range(MAX_ROUNDS):
        caps_before = [model.handles[f.key].cap.value for f in model.floors]
        for f in model.floors:
            res = _search_one(model, f, spent)
        settled = True
        for f, before in zip(model.floors, caps_before):
            h = model.handles[f.key]
            price = f.zone_price(model, res.price_arrays)
            if h.record["status"] == BINDS and abs(price - h.level) > 10 * PRICE_TOL * h.level:
                settled = False
            if h.record["status"] != BINDS and abs(h.cap.value - before) > 1e-12 and len(model.floors) > 1:
                settled = settled and h.record["status"] == NOT_BINDING and price >= h.level * (1 - PRICE_TOL)
            h.record["zone_price"] = price
        if settled or len(model.floors) == 1:
            break
        binding = [f for f in model.floors if model.handles[f.key].record["status"] == BINDS]
        if round_ + 1 >= NEWTON_AFTER and binding:
            polished = _newton(model, binding, spent)
            if polished is not None:
                res = polished
                for f in model.floors:
                    model.handles[f.key].record["zone_price"] = f.zone_price(model, res.price_arrays)
                break
    else:
        raise InaccurateSolutionError("zone_price", f"the floors' search did not settle in {MAX_ROUNDS} rounds",
                                      model.solver)
    for f in model.floors:
        model.handles[f.key].record["solves"] = spent["solves"]
    res.solve_time = spent["time"]
    res.refresh_wedges(model)
    return res
