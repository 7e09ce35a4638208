r"""The stockpile chapter's verdict on C14 (``book/stockpile.ipynb``), as functions.

C14: the $12 billion stockpile is "ensuring stable procurement". The chapter and the Monte Carlo
sweep (:mod:`models.uncertainty.rules_stockpile`) grade it with the same code, on an
:class:`~models.insurance_result.InsuranceResult` (:meth:`models.insurance.InsuranceModel.solve`).

For each (mineral ``m``, scenario ``ω``) pair the insurance model reports the bloc's
(weighted by the members' base-year consumption) price in the benchmark ``p^0``, in the disruption without a stockpile ``p^ω_0``
and with the optimum's releases ``p^ω_I``, and the share of the rise the releases remove::

    rise_0 = p^ω_0 / p^0 − 1,   rise_I = p^ω_I / p^0 − 1,   removed = 1 − (p^ω_I − p^0) / (p^ω_0 − p^0)

A pair **bites** if ``rise_0 > material_spike``; the stockpile **stabilises** a biting pair if
``removed ≥ stabilising_share`` (in each year of the disruption: releases are equal across its
years). Graded on the inventory that maximises the **bloc's** expected welfare, since the bloc pays:

* ``supported`` if it stabilises every pair that bites;
* ``supported with conditions`` if some;
* ``not supported`` if none, or if no pair bites.

The same rule on the world optimum is reported beside it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .claims import Verdict
from .errors import ModelInputError

#: How the chapter names the minerals in prose.
MINERAL_NAMES = {"rare_earths": "rare-earth concentrate", "ndpr": "NdPr oxide", "gallium": "gallium",
                 "graphite": "graphite", "tungsten": "tungsten"}
#: How the chapter names the scenarios of ``data/disruptions.csv`` in prose.
SCENARIO_NAMES = {"bloc_ban": "the one-year ban on the bloc", "bloc_ban_2y": "the two-year ban on the bloc",
                  "world_cut": "the world cut"}
OPTIMA = ("bloc", "world")


@dataclass(frozen=True)
class C14Setting:
    """The thresholds of C14 and what its conditions text names (the chapter's parameters cell).

    Attributes
    ----------
    material_spike : float
        A disruption bites if it raises the bloc's price by more than this share.
    stabilising_share : float
        The stockpile stabilises a biting pair if it removes at least this share of the rise.
    purchase_years, holding_years : int
        ``N`` and ``H`` of the insurance model (named in the conditions).
    vault_total_musd : float
        The Vault's budget for the minerals stocked (USD million), the yardstick of the cost.
    vault_minerals : tuple of str
        The minerals stocked.
    """

    material_spike: float = 0.10
    stabilising_share: float = 0.5
    purchase_years: int = 3
    holding_years: int = 15
    vault_total_musd: float = 12_000.0
    vault_minerals: tuple = ("ndpr", "gallium", "graphite")

    def __post_init__(self):
        for name in ("material_spike", "stabilising_share", "vault_total_musd"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value) or value <= 0:
                raise ModelInputError(f"C14Setting.{name}", value, "a positive number")
        if self.stabilising_share > 1:
            raise ModelInputError("C14Setting.stabilising_share", self.stabilising_share, "a share in (0, 1]")


def kt(value: float) -> str:
    """A quantity in kt to three significant figures, e.g. 12.0, 0.101."""
    return np.format_float_positional(value, precision=3, unique=False, fractional=False, trim="k")


def listing(items, names: dict = MINERAL_NAMES) -> str:
    """``a, b and c``, each item by its name in ``names`` (itself where none)."""
    words = [names.get(i, i) for i in items]
    return " and ".join([", ".join(words[:-1]), words[-1]]) if len(words) > 1 else (words[0] if words else "")


def pairs_text(pairs) -> str:
    """(mineral, scenario) pairs in prose: ``NdPr oxide in the world cut and ...``."""
    return listing([f"{MINERAL_NAMES.get(m, m)} in {SCENARIO_NAMES.get(s, s)}" for m, s in pairs])


def with_rises(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` (``InsuranceResult.bloc`` or ``.bloc_at_bloc``) with the bloc's price rise in each
    disruption without (``rise_without``) and with (``rise_with``) the stockpile, shares of ``p^0``."""
    return table.assign(rise_without=table["price_without"] / table["price_benchmark"] - 1,
                        rise_with=table["price_with"] / table["price_benchmark"] - 1)


def c14_pairs(result, optimum: str, setting: C14Setting) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The pairs at ``optimum`` (``"bloc"`` or ``"world"``): all of them (with rises), those that
    bite, and those of the biting ones the stockpile stabilises."""
    if optimum not in OPTIMA:
        raise ModelInputError("optimum", optimum, f"one of {list(OPTIMA)}")
    table = with_rises(result.bloc_at_bloc if optimum == "bloc" else result.bloc)
    bite = table[table["rise_without"] > setting.material_spike]
    return table, bite, bite[bite["spike_reduction"] >= setting.stabilising_share]


def grade(bite: pd.DataFrame, ok: pd.DataFrame) -> str:
    """The verdict from the pairs that bite and those stabilised (module docstring)."""
    if len(bite) == 0 or len(ok) == 0:
        return "not supported"
    return "supported" if len(ok) == len(bite) else "supported with conditions"


def held_text(inventory: pd.Series) -> str:
    """The inventory held, in prose: ``12.0 kt of NdPr oxide and ...`` (``nothing`` if none)."""
    return listing([f"{kt(inventory[m])} kt of {MINERAL_NAMES.get(m, m)}" for m in inventory.index
                    if inventory[m] > 0]) or "nothing"


def c14_verdict(result, setting: C14Setting) -> Verdict:
    """C14 on ``result`` (an ``InsuranceResult``): the verdict at the bloc optimum, its conditions and
    evidence (pairs that bite and are stabilised at both optima, cost and expected gains)."""
    _, bite, ok = c14_pairs(result, "bloc", setting)
    _, wbite, wok = c14_pairs(result, "world", setting)
    s = result.summary
    conditions = (
        f"graded on the inventory that maximises the bloc's expected welfare ({held_text(result.bloc_inventory)}; "
        f"{s.loc['bloc', 'cost_musd']:,.0f} M USD actual cost, "
        f"{s.loc['bloc', 'cost_at_benchmark_musd'] / setting.vault_total_musd:.1%} "
        f"of the Vault's {setting.vault_total_musd:,.0f} M USD for {listing(setting.vault_minerals)}): it removes "
        f">= {setting.stabilising_share:.0%} of the bloc's price rise in {len(ok)} of the {len(bite)} (mineral, scenario) "
        f"pairs where a cut raises it by more than {setting.material_spike:.0%}"
        + (f", not in {pairs_text(bite.index.difference(ok.index))}" if len(bite) > len(ok) else "")
        + f"; expected gain to the bloc {s.loc['bloc', 'd_bloc']:,.0f} M USD over {setting.purchase_years}+"
        f"{setting.holding_years} years, China {s.loc['bloc', 'd_china']:,.0f}, other non-members "
        f"{s.loc['bloc', 'd_other']:,.0f}; the world optimum ({held_text(result.inventory)}) would be "
        f"'{grade(wbite, wok)}' ({len(wok)} of {len(wbite)} pairs); annual cut probabilities "
        f"{', '.join(f'{k} {p:.2f}' for k, p in result.probabilities.items())} (assumptions); "
        "tungsten is not named by the Vault and not stocked; the NdPr result treats oxide as a substitute for "
        "the magnets China exports, an upper bound")
    evidence = {"pairs_that_bite": len(bite), "pairs_stabilised": len(ok),
                "world_pairs_stabilised": len(wok), "world_pairs_that_bite": len(wbite),
                "bloc_inventory_cost_musd": float(s.loc["bloc", "cost_musd"]),
                "bloc_expected_gain_musd": float(s.loc["bloc", "d_bloc"]), "world_value_musd": float(result.value)}
    return Verdict("C14", grade(bite, ok), conditions, evidence)
