"""Demand and supply curves of one region for one mineral.

Quantities are in kt and prices in USD/kg, so a price times a quantity is USD million.

Two families, both calibrated through a benchmark point ``(P0, Q0)`` with an elasticity:

* :class:`LinearCurve`, the tangent at the benchmark: inverse curve ``P(Q) = intercept + slope * Q``
  (``slope < 0`` for demand, ``> 0`` for supply). It makes the equilibrium a quadratic programme.
* :class:`IsoelasticCurve`: ``P(Q) = P0 * (Q / Q0) ** (1 / elasticity)``. It makes a power-cone
  programme.

Each curve knows the area under itself, ``A(Q) = ∫ P(q) dq`` (as a cvxpy expression for the
programme and as a number for the welfare accounting), and its quantity at a given price,
``Q(f)``, which the price-floor bounds use.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import cvxpy as cp
import numpy as np

from .errors import ModelInputError
from .validate import as_number, assign_parameter

Side = Literal["demand", "supply"]


def _check_side(side: str) -> None:
    if not isinstance(side, str) or side not in ("demand", "supply"):
        raise ModelInputError("side", side, "'demand' or 'supply'")


#: Elasticities (absolute values) whose equilibria are solved to the certificate's tolerance
#: (models/certificate.py), measured on seeded synthetic markets with Clarabel. Outside the range
#: a near-vertical linear curve gives a quantity right to 1e-9 and a price wrong by a factor
#: (the price error is the quantity error times the slope, ~1/elasticity), and a constant-
#: elasticity curve's power 1 + 1/elasticity overflows below 1e-2. Refused up front.
ELASTICITY_RANGE = {"linear": (1e-3, 1e3), "isoelastic": (1e-2, 1e3)}


def check_elasticity(field: str, side: str, elasticity: float, family: str = "linear") -> float:
    """Return ``elasticity`` as a float if its sign fits ``side`` (demand < 0 < supply) and its size
    is in :data:`ELASTICITY_RANGE` for the curve ``family``, else raise."""
    _check_side(side)
    value = as_number(field, elasticity, "a finite, non-zero number")
    if value == 0:
        raise ModelInputError(field, elasticity, "a finite, non-zero number")
    if side == "demand" and value >= 0:
        raise ModelInputError(field, elasticity, "a negative number (demand falls as price rises)")
    if side == "supply" and value <= 0:
        raise ModelInputError(field, elasticity, "a positive number (supply rises with price)")
    low, high = ELASTICITY_RANGE[family]
    if not low <= abs(value) <= high:
        sign = "-" if side == "demand" else ""
        raise ModelInputError(field, elasticity, f"a size between {low:g} and {high:g} for {family} curves "
                              f"({sign}{low:g} to {sign}{high:g}): outside it the equilibrium price cannot "
                              "be solved accurately (near-vertical or near-flat curves)")
    return value


def _check_benchmark(field: str, price: float, quantity: float) -> None:
    as_number(f"{field}.price", price, "a positive price in USD/kg")
    as_number(f"{field}.quantity", quantity, "a non-negative quantity in kt")
    if not np.isfinite(price) or price <= 0:
        raise ModelInputError(f"{field}.price", price, "a positive price in USD/kg")
    if not np.isfinite(quantity) or quantity < 0:
        raise ModelInputError(f"{field}.quantity", quantity, "a non-negative quantity in kt")


@dataclass(frozen=True)
class LinearCurve:
    """Linear inverse curve ``P(Q) = intercept + slope * Q``.

    Parameters
    ----------
    side : {"demand", "supply"}
    intercept : float
        Price at zero quantity, USD/kg (the choke price of demand, the entry price of supply).
    slope : float
        USD/kg per kt; negative for demand, positive for supply.
    """

    side: Side
    intercept: float
    slope: float

    def __post_init__(self):
        _check_side(self.side)
        object.__setattr__(self, "intercept", as_number(f"{self.side}.intercept", self.intercept))
        object.__setattr__(self, "slope", as_number(f"{self.side}.slope", self.slope))
        if not (math.isfinite(self.intercept) and math.isfinite(self.slope)):
            raise ModelInputError(f"{self.side}.intercept/slope", (self.intercept, self.slope),
                                  "finite numbers")
        if self.side == "demand" and self.slope >= 0:
            raise ModelInputError("demand.slope", self.slope, "a negative slope")
        if self.side == "supply" and self.slope <= 0:
            raise ModelInputError("supply.slope", self.slope, "a positive slope")
        if self.side == "demand" and self.intercept <= 0:
            raise ModelInputError("demand.intercept", self.intercept, "a positive choke price")

    @classmethod
    def through(cls, side: Side, price: float, quantity: float, elasticity: float) -> "LinearCurve":
        """The tangent at ``(price, quantity)`` with point elasticity ``elasticity``.

        ``slope = price / (elasticity * quantity)`` and ``intercept = price - slope * quantity``,
        so ``intercept = price * (1 - 1 / elasticity)``.
        """
        _check_benchmark(side, price, quantity)
        e = check_elasticity(f"{side}.elasticity", side, elasticity)
        if quantity == 0:
            raise ModelInputError(f"{side}.quantity", quantity,
                                  "a positive benchmark quantity to calibrate a curve through")
        slope = price / (e * quantity)
        return cls(side, price - slope * quantity, slope)

    def price(self, quantity):
        """Inverse curve ``P(Q)``."""
        return self.intercept + self.slope * np.asarray(quantity, dtype=float)

    def quantity_at(self, price: float) -> float:
        """``Q(f) = max(0, (f - intercept) / slope)``."""
        return float(max(0.0, (price - self.intercept) / self.slope))

    def area(self, quantity):
        """``A(Q) = intercept * Q + slope * Q**2 / 2``."""
        q = np.asarray(quantity, dtype=float)
        return self.intercept * q + 0.5 * self.slope * q ** 2

    def area_expr(self, q: cp.Expression, shift: cp.Expression | float = 0.0) -> cp.Expression:
        """cvxpy expression of ``A(Q) - shift * Q`` (``shift`` is a producer subsidy)."""
        return (self.intercept - shift) * q + 0.5 * self.slope * cp.square(q)


@dataclass(frozen=True)
class IsoelasticCurve:
    """Constant-elasticity inverse curve ``P(Q) = P0 * (Q / Q0) ** (1 / elasticity)``.

    The area under a constant-elasticity demand curve from zero is infinite when demand is
    inelastic, so :meth:`area` measures it from the benchmark quantity and adds the area under the
    tangent line up to the benchmark: ``A(Q) = A_lin(Q0) + ∫_{Q0}^{Q} P(q) dq``. Welfare *changes*
    are exact whatever the constant.
    """

    side: Side
    benchmark_price: float
    benchmark_quantity: float
    elasticity: float

    def __post_init__(self):
        _check_benchmark(self.side, self.benchmark_price, self.benchmark_quantity)
        check_elasticity(f"{self.side}.elasticity", self.side, self.elasticity, "isoelastic")
        if self.benchmark_quantity == 0:
            raise ModelInputError(f"{self.side}.quantity", 0.0, "a positive benchmark quantity")
        if self.elasticity == -1.0:
            raise ModelInputError("demand.elasticity", -1.0, "any negative value except exactly -1")

    @classmethod
    def through(cls, side: Side, price: float, quantity: float, elasticity: float) -> "IsoelasticCurve":
        return cls(side, float(price), float(quantity), float(elasticity))

    @property
    def _power(self) -> float:
        return 1.0 + 1.0 / self.elasticity

    @property
    def _scale(self) -> float:
        """Coefficient ``k`` of ``∫ P = k * Q**power``: ``k = P0 * Q0 / power / Q0**power``."""
        p0, q0 = self.benchmark_price, self.benchmark_quantity
        return p0 * q0 / self._power / q0 ** self._power

    def _offset(self) -> float:
        tangent = LinearCurve.through(self.side, self.benchmark_price, self.benchmark_quantity,
                                      self.elasticity)
        return float(tangent.area(self.benchmark_quantity)) - self._scale * self.benchmark_quantity ** self._power

    def price(self, quantity):
        q = np.asarray(quantity, dtype=float)
        return self.benchmark_price * (q / self.benchmark_quantity) ** (1.0 / self.elasticity)

    def quantity_at(self, price: float) -> float:
        return float(self.benchmark_quantity * (price / self.benchmark_price) ** self.elasticity)

    def area(self, quantity):
        q = np.asarray(quantity, dtype=float)
        return self._scale * q ** self._power + self._offset()

    def area_expr(self, q: cp.Expression, shift: cp.Expression | float = 0.0) -> cp.Expression:
        # Written as (P0 Q0 / power) * (Q / Q0) ** power, which equals _scale * Q ** power, so the
        # power cone works on numbers near 1: with Q ** power itself (Q ~ 100 kt, power ~ 5 for a
        # supply elasticity of 0.25) the cone variable reaches ~1e10 and the solver reports
        # "optimal" at a point far from the optimum.
        p0, q0 = self.benchmark_price, self.benchmark_quantity
        return (p0 * q0 / self._power) * cp.power(q / q0, self._power, approx=False) + self._offset() - shift * q


Curve = LinearCurve | IsoelasticCurve


def calibrate_curve(kind: str, side: Side, price: float, quantity: float, elasticity: float) -> Curve:
    """Build a curve of ``kind`` (``"linear"`` or ``"isoelastic"``) through a benchmark point."""
    if kind == "linear":
        return LinearCurve.through(side, price, quantity, elasticity)
    if kind == "isoelastic":
        return IsoelasticCurve.through(side, price, quantity, elasticity)
    raise ModelInputError("curve", kind, "'linear' or 'isoelastic'")


def total_area(q: cp.Expression, curves: list) -> cp.Expression:
    """``Σ_r A_r(q_r)``: each curve's area at its own entry of ``q``; vectorised when all are linear."""
    if not curves:
        return cp.Constant(0.0)
    if all(isinstance(c, LinearCurve) for c in curves):
        a = np.array([c.intercept for c in curves])
        b = np.array([c.slope for c in curves])
        return a @ q + cp.sum(cp.multiply(0.5 * b, cp.square(q)))
    return cp.sum(cp.hstack([c.area_expr(q[k]) for k, c in enumerate(curves)]))



class LinearCurveParameters:
    """The coefficients of a vector of linear curves as cvxpy Parameters (DPP), for re-solves.

    ``Σ_r A_r(q_r) = a·q + ½ Σ_r b_r q_r²`` with ``a`` the intercepts and ``b`` the slopes. The
    quadratic term is written through an auxiliary ``u = ρ ∘ q`` with the non-negative Parameter
    ``ρ_r = √(b_r / β_r)``, where ``β`` are the slopes the problem was built with (constants)::

        ½ Σ_r b_r q_r² = sign · ½ Σ_r |β_r| u_r²,   ρ_r q_r = u_r   (dual |β_r| u_r ≥ 0)

    ``sign`` is −1 for demand and +1 for supply. The objective's quadratic matrix is therefore
    constant (the Parameters enter the linear term and one row per curve), which keeps the fast
    path of :mod:`models.fastpath` (Clarabel's data updated in place) available when the curves
    change; at the built slopes ``ρ = 1`` and the programme is scaled as the plain ``½ β q²``.
    Written ``ρ ∘ q == u`` (in that order) the equality's dual is ``|β| u ≥ 0`` in cvxpy's
    convention, like every other constraint of the programme but the trade bill's. (An inequality
    ``u ≥ ρ ∘ q``, exact in theory, made Clarabel report badly scaled markets unbounded.)

    Parameters
    ----------
    q : cvxpy.Variable
        The quantities, one entry per curve.
    curves : list of LinearCurve
        The curves the problem is built with (their slopes are ``β``); also the first values.
    name : str
        Prefix of the Parameters' and the auxiliary variable's names.
    """

    def __init__(self, q: cp.Variable, curves: list, name: str):
        if not curves or not all(isinstance(c, LinearCurve) for c in curves):
            raise ModelInputError(f"{name} curves", [type(c).__name__ for c in curves], "LinearCurve objects")
        self.side = curves[0].side
        n = len(curves)
        self.built_slope = np.abs(np.array([c.slope for c in curves], dtype=float))
        self.intercept = cp.Parameter(n, name=f"{name}_intercept")
        self.root = cp.Parameter(n, nonneg=True, name=f"{name}_slope_root")
        self.u = cp.Variable(n, name=f"{name}_curvature")
        self.constraint = cp.multiply(self.root, q) == self.u
        sign = -1.0 if self.side == "demand" else 1.0
        self.area = self.intercept @ q + sign * 0.5 * cp.sum(cp.multiply(self.built_slope, cp.square(self.u)))
        self.set(curves)

    def set(self, curves: list) -> None:
        """Push the coefficients of ``curves`` (LinearCurve, one per entry) into the Parameters."""
        if not all(isinstance(c, LinearCurve) and c.side == self.side for c in curves):
            raise ModelInputError(f"{self.side} curves", [type(c).__name__ for c in curves],
                                  f"LinearCurve objects on the {self.side} side")
        if len(curves) != self.intercept.size:
            raise ModelInputError(f"{self.side} curves", len(curves), f"{self.intercept.size} curves")
        assign_parameter(self.intercept, np.array([c.intercept for c in curves], dtype=float))
        slope = np.abs(np.array([c.slope for c in curves], dtype=float))
        assign_parameter(self.root, np.sqrt(slope / self.built_slope))


def curve_welfare(market, D: cp.Variable, S: cp.Variable, demand_regions: list, supply_regions: list):
    """``Σ_r A^d_r(D_r) − Σ_r A^s_r(S_r)`` of ``market``'s curves, for the equilibrium programme.

    Returns ``(expression, params, constraints)``: linear curves enter through
    :class:`LinearCurveParameters` (``params`` by side, ``constraints`` their ``u = ρ ∘ q`` rows
    by name, ``"demand_curvature"`` and ``"supply_curvature"``); constant-elasticity curves are
    built in as numbers (``params`` and ``constraints`` then empty).
    """
    params: dict = {}
    constraints: dict = {}
    welfare = cp.Constant(0.0)
    for side, q, names in (("demand", D, demand_regions), ("supply", S, supply_regions)):
        curves = [market.demand_curve(r) if side == "demand" else market.supply_curve(r) for r in names]
        if market.curve_family == "linear" and names:
            params[side] = LinearCurveParameters(q, curves, side)
            constraints[f"{side}_curvature"] = params[side].constraint
            area = params[side].area
        else:
            area = total_area(q, curves)
        welfare = welfare + area if side == "demand" else welfare - area
    return welfare, params, constraints
