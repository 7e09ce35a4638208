"""Small argument checks shared by the constructors, so that misuse raises the package's errors.

A wrong type given to a public constructor or method raises :class:`~models.errors.ModelInputError`
naming the argument, the value and what is allowed, never a bare ``TypeError`` or ``KeyError``.
"""
from __future__ import annotations

import numbers

import numpy as np

from .errors import ModelInputError


def as_number(field: str, value, allowed: str = "a finite number") -> float:
    """``value`` as a finite float; a bool, a string or any non-real refused by name."""
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
