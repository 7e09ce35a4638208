"""The independence chapter's verdict rules (``book/independence.ipynb``) on C21, C34, C35, C42, C43.

The chapter grades on its grid of settings (learning rate × demand growth, low/central/high of
``data/dynamics_parameters.csv``), one :class:`~models.dynamics.DynamicPath` each; the Monte Carlo
sweep (:mod:`models.uncertainty.rules_time`) grades one drawn setting with the same functions.
Years are calendar years, ``NaN`` when never reached within the path's horizon.

* **C21** ("fully self-sufficient will take time"): every setting's first year with at least 90%
  of members' use not from China is more than ``takes_time`` years after 2025 (or never):
  ``supported``; some: ``supported with conditions``; none: ``not supported``.
* **C34** ("a large amount within a year"): the US's own output rises by ``large_rise`` from 2025
  to 2026: ``supported``; its supply not from China does: ``supported with conditions``.
* **C35** (experience explains China's cost lead): Wright's law ``c_China / c_new = (x_China / x_0)^−β``
  gives ``β = ln(c_new / c_China) / ln(x_China / x_0)`` and a learning rate ``LR = 1 − 2^−β``;
  ``supported with conditions`` if it lies in the experience-curve range, else ``not supported``.
* **C42** ("decades"): years from 2025 to cost parity ``n ≥ decades``: ``supported``;
  ``n ≥ 10``: ``supported with conditions``; else ``not supported``.
* **C43** (not within the term): ``not supported`` if in any setting full independence or cost
  parity comes by ``term_end``, else ``supported``.
"""
from __future__ import annotations

import numpy as np

START_YEAR = 2025


def c21_verdict(full_independence_years, takes_time_years: float = 5) -> str:
    """C21 from each setting's first year of full independence (NaN: never)."""
    ok = [(np.isnan(y) or y - START_YEAR > takes_time_years) for y in full_independence_years]
    return "supported" if all(ok) else ("supported with conditions" if any(ok) else "not supported")


def c34_verdict(us_own_rise: float, us_secure_rise: float, large_rise: float = 0.5) -> str:
    """C34 from the US's own output's and its non-Chinese supply's rise from 2025 to 2026 (shares)."""
    return ("supported" if us_own_rise >= large_rise else
            "supported with conditions" if us_secure_rise >= large_rise else "not supported")


def implied_learning_rate(china_cumulative: float, initial_experience: float, entrant_cost: float,
                          china_cost: float) -> float:
    """``LR = 1 − 2^−β``, ``β = ln(c_new / c_China) / ln(x_China / x_0)``: the learning rate at which
    newcomers' cost falls to China's once they have made what China has."""
    beta = np.log(entrant_cost / china_cost) / np.log(china_cumulative / initial_experience)
    return float(1 - 2 ** (-beta))


def c35_verdict(implied_lr: float, low: float, high: float) -> str:
    """C35: the implied learning rate inside the experience-curve range ``[low, high]``."""
    return "supported with conditions" if low <= implied_lr <= high else "not supported"


def c42_verdict(parity_year: float, decades: float = 20) -> str:
    """C42 from the year newcomers' full cost reaches China's (NaN: never)."""
    n = np.inf if np.isnan(parity_year) else parity_year - START_YEAR
    return "supported" if n >= decades else ("supported with conditions" if n >= 10 else "not supported")


def c43_verdict(full_independence_years, parity_years, term_end: int = 2028) -> str:
    """C43 from each setting's first year of full independence and of cost parity (NaN: never)."""
    early = [(not np.isnan(a) and a <= term_end) or (not np.isnan(b) and b <= term_end)
             for a, b in zip(full_independence_years, parity_years)]
    return "not supported" if any(early) else "supported"
