"""Small input checks shared by the modules: a number that must be finite and non-negative, or
finite and positive, turned into a float or refused with a :class:`ModelInputError` naming the
field, the value and what is allowed."""
from __future__ import annotations

import numpy as np

from .errors import ModelInputError


def nonneg_number(name: str, value, unit: str = "") -> float:
    """``float(value)`` if it is a finite number ``≥ 0``; else ``ModelInputError(name, value, ...)``."""
    allowed = f"a finite non-negative number ({unit})" if unit else "a finite non-negative number"
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ModelInputError(name, value, allowed) from None
    if not np.isfinite(v) or v < 0:
        raise ModelInputError(name, value, allowed)
    return v


def positive_number(name: str, value, unit: str = "") -> float:
    """``float(value)`` if it is a finite number ``> 0``; else ``ModelInputError(name, value, ...)``."""
    allowed = f"a finite positive number ({unit})" if unit else "a finite positive number"
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ModelInputError(name, value, allowed) from None
    if not np.isfinite(v) or v <= 0:
        raise ModelInputError(name, value, allowed)
    return v
