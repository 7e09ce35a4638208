"""Small argument checks shared by the constructors, so that misuse raises the package's errors.

A wrong type given to a public constructor or method raises :class:`~models.errors.ModelInputError`
naming the argument, the value and what is allowed, never a bare ``TypeError`` or ``KeyError``.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from .errors import ModelInputError


def as_number(field: str, value, allowed: str = "a finite number") -> float:
    """``value`` as a finite float; a bool, a string or any non-real refused by name."""
    if type(value) is float:            # the common case, checked without the ABC machinery
        if math.isfinite(value):
            return value
        raise ModelInputError(field, value, allowed)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ModelInputError(field, value, allowed)
    v = float(value)
    if not np.isfinite(v):
        raise ModelInputError(field, value, allowed)
    return v


def as_names(field: str, value, allowed: str) -> tuple[str, ...]:
    """A string or an iterable of non-empty strings as a tuple; anything else refused by name."""
    if isinstance(value, str):
        value = (value,)
    if isinstance(value, (dict, bytes)) or not hasattr(value, "__iter__"):
        raise ModelInputError(field, value, allowed)
    value = tuple(value)
    if not all(isinstance(v, str) and v for v in value):
        raise ModelInputError(field, value, allowed)
    return value


def assign_parameter(param, value) -> None:
    """``param.value = value`` for a ``cvxpy.Parameter``, skipped when it already holds that value.

    A float array of the Parameter's shape, finite and (for a ``nonneg`` Parameter) non-negative,
    is stored directly; anything else goes through cvxpy's own setter, which checks it against
    the Parameter's attributes and raises as it does. Re-solves of one built problem set the same
    values many times, and cvxpy's check costs more than comparing them.
    """
    array = np.float64(value) if np.isscalar(value) else np.asarray(value, dtype=float)
    current = param.value
    if current is not None and np.shape(current) == array.shape and np.array_equal(current, array):
        return
    attrs = param.attributes
    plain = not any(v for k, v in attrs.items() if k != "nonneg")
    if (plain and array.shape == param.shape and np.all(np.isfinite(array))
            and (not attrs["nonneg"] or np.all(array >= 0))):
        param.save_value(array)
    else:
        param.value = value


SWEEP_FIELDS = ("border_price", "consumer_price", "producer_price", "supply_price", "demand", "supply",
                "exports", "imports", "net_exports")


def sweep_arguments(name, values, fields, sweepable) -> tuple[np.ndarray, list[str]]:
    """Check a sweep's parameter, values (numbers, distinct, at least one) and fields."""
    if not isinstance(name, str) or name not in sweepable:
        raise ModelInputError("sweep parameter", name, f"one of {sweepable}")
    if isinstance(values, (str, bytes, dict)) or not hasattr(values, "__iter__"):
        raise ModelInputError("sweep values", values, "a non-empty sequence of numbers")
    values = [as_number(name, v, f"a finite number (sweep values[{k}])") for k, v in enumerate(values)]
    if not values:
        raise ModelInputError("sweep values", values, "a non-empty sequence of numbers")
    repeated = sorted({v for v in values if values.count(v) > 1})
    if repeated:
        raise ModelInputError("sweep values", repeated, "distinct values (each value once)")
    fields = [fields] if isinstance(fields, str) else list(fields)
    unknown = [f for f in fields if f not in SWEEP_FIELDS]
    if unknown or not fields:
        raise ModelInputError("sweep fields", unknown or fields, f"a non-empty list among {SWEEP_FIELDS}")
    return np.asarray(values, dtype=float), fields


def nonneg_number(name: str, value, unit: str = "") -> float:
    """``float(value)`` if it is a finite number ``≥ 0``; else ``ModelInputError(name, value, ...)``."""
    allowed = f"a finite non-negative number ({unit})" if unit else "a finite non-negative number"
    v = as_number(name, value, allowed)
    if v < 0:
        raise ModelInputError(name, value, allowed)
    return v


def positive_number(name: str, value, unit: str = "") -> float:
    """``float(value)`` if it is a finite number ``> 0``; else ``ModelInputError(name, value, ...)``."""
    allowed = f"a finite positive number ({unit})" if unit else "a finite positive number"
    v = as_number(name, value, allowed)
    if v <= 0:
        raise ModelInputError(name, value, allowed)
    return v
