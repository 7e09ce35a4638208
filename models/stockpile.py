"""The $12 billion stockpile (MODEL.md §4, "Stockpile").

Three questions, one function family each. Quantities in kt, prices in USD/kg, money in USD
million (so a budget divided by a price is kt).

(a) **What a budget buys and how long it defends a floor.** :func:`purchasing_power` turns a
    budget into tonnes at the reference price and into months of the bloc's consumption.
    :func:`floor_defence` puts a buyer of last resort (:class:`~models.policies.StockpileFloor`)
    in the stockpile's location, buying at the floor ``f`` from the eligible origins, and reads
    the purchases ``K(f)`` the equilibrium needs to hold the floor for a year. The annual outlay is
    ``f·K(f)``; a budget ``B`` then lasts ``B / (f·K(f))`` years. Purchases are recomputed each year
    in the same steady state and **the inventory is never resold** (selling it would push the price
    back below the floor): the budget is spent, not revolved.

(b) **Insurance value.** :class:`~models.insurance.InsuranceModel` (module :mod:`models.insurance`,
    inputs in :mod:`models.insurance_data`): the purchase as a first-stage demand that moves the
    price, release in disruptions of given size, duration and probability, the world optimum beside
    the bloc's. Re-exported here, with :func:`~models.insurance_data.vault_budgets`, the one
    convention for the $12 billion.

(c) **Cost sharing.** :func:`cost_shares` splits a bill among members by GDP and by the value of
    their consumption of the modelled minerals. (The Shapley split belongs to the coalition model.)
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from .calibration import Benchmark
from .validate import nonneg_number
from .errors import ModelInputError, SolverError
from .insurance_data import BLOC_CORE  # the bloc's core members (rosters.csv: roster "core")  # noqa: F401 (re-exported)
from .market import check_regions
from .policies import ALL, StockpileFloor

#: Eligible-origin rules of a stockpile floor.
ELIGIBILITY_RULES = ("all", "bloc", "ex_china")
#: The open budget that finds the purchases a floor needs is set so that the cap ``B / f`` is this
#: many times world production: it never binds, and stays small enough for the solver's scaling.
OPEN_CAP_MULTIPLE = 50.0


# ====================================================================== helpers
def _check_mineral(dataset, mineral: str) -> str:
    if mineral not in dataset.mineral_ids:
        raise ModelInputError("mineral", mineral, f"one of {list(dataset.mineral_ids)}")
    return mineral


def _minerals(dataset, minerals) -> list[str]:
    if minerals is None:
        return list(dataset.mineral_ids)
    if isinstance(minerals, str):
        minerals = [minerals]
    return [_check_mineral(dataset, m) for m in minerals]


# ====================================================================== (a) purchasing power
def purchasing_power(dataset, budget: float = 12_000.0, members: Sequence[str] = BLOC_CORE,
                     minerals: Sequence[str] | None = None, days: float = 60.0) -> pd.DataFrame:
    """What ``budget`` buys, mineral by mineral, if all of it went to that one mineral.

    ``tonnes = B / P_ref`` (kt, at the reference price of ``prices.csv``); months of the bloc's
    consumption ``= 12 · tonnes / Σ_{r∈bloc} D0_r``; the cost of ``days`` days of the bloc's
    consumption ``= P_ref · Σ D0_r · days / 365`` (USD million).

    Parameters
    ----------
    dataset : models.data.Dataset
    budget : float
        USD million (``12_000`` is $12 billion).
    members : sequence of str
        Region ids of the bloc whose consumption is the yardstick.
    minerals : sequence of str, optional
        Default: every mineral of the dataset.
    days : float
        The emergency-supply yardstick (Project Vault's stated aim is about 60 days).

    Returns
    -------
    pandas.DataFrame
        Index ``mineral``; columns ``reference_price`` (USD/kg), ``tonnes_kt``,
        ``bloc_consumption_kt`` and ``world_consumption_kt`` (kt/yr),
        ``months_of_bloc_consumption``, ``months_of_world_consumption``,
        ``cost_of_days_musd`` (USD million for ``days`` days of bloc consumption) and
        ``share_of_budget_for_days``.
    """
    budget = nonneg_number("budget", budget, "USD million")
    days = nonneg_number("days", days, "days")
    members = check_regions("members", members, dataset.region_ids)
    rows = {}
    for m in _minerals(dataset, minerals):
        price = dataset.price(m, "reference")
        cons = dataset.quantity(m, "consumption")
        bloc = float(cons.loc[list(members)].sum())
        world = float(cons.sum())
        tonnes = budget / price
        cost_days = price * bloc * days / 365.0
        rows[m] = {
            "reference_price": price, "tonnes_kt": tonnes, "bloc_consumption_kt": bloc,
            "world_consumption_kt": world,
            "months_of_bloc_consumption": 12.0 * tonnes / bloc if bloc > 0 else np.inf,
            "months_of_world_consumption": 12.0 * tonnes / world if world > 0 else np.inf,
            "cost_of_days_musd": cost_days,
            "share_of_budget_for_days": cost_days / budget if budget > 0 else np.inf,
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "mineral"
    return out


def eligible_origins(rule: str, regions: Sequence[str], members: Sequence[str] = BLOC_CORE,
                     excluded: str = "CHN"):
    """The origins a stockpile floor may buy from under ``rule``.

    ``"all"``: every region (:data:`~models.policies.ALL`); ``"bloc"``: the ``members`` only;
    ``"ex_china"``: every region but ``excluded``.
    """
    regions = tuple(regions)
    if rule == "all":
        return ALL
    if rule == "bloc":
        return check_regions("members", members, regions)
    if rule == "ex_china":
        check_regions("excluded", excluded, regions)
        return tuple(r for r in regions if r != excluded)
    raise ModelInputError("rule", rule, f"one of {ELIGIBILITY_RULES}")


def defence_years(budget: float, level: float, purchases: float) -> float:
    """Years a budget defends a floor: ``B / (f · K)`` (``inf`` when the floor needs no purchases).

    Parameters
    ----------
    budget : float
        USD million.
    level : float
        Floor ``f`` in USD/kg.
    purchases : float
        ``K``, kt per year.
    """
    budget = nonneg_number("budget", budget, "USD million")
    level = nonneg_number("level", level, "USD/kg")
    purchases = nonneg_number("purchases", purchases, "kt per year")
    outlay = level * purchases
    return budget / outlay if outlay > 0 else np.inf


def floor_defence(bench: Benchmark, levels: Sequence[float], budget: float = 12_000.0,
                  location: str = "USA", rules: Sequence[str] = ELIGIBILITY_RULES,
                  members: Sequence[str] = BLOC_CORE, excluded: str = "CHN",
                  purchase_tolerance: float = 1e-6) -> pd.DataFrame:
    """Annual cost of a stockpile floor at each level, and the years ``budget`` defends it.

    For each eligible-origin rule one :class:`~models.equilibrium.EquilibriumModel` is built with a
    :class:`~models.policies.StockpileFloor` at ``location`` and an open budget (the cap ``B/f``
    never binds), then re-solved at each level ``f``. The purchases ``K(f)`` (kt/yr) are what the
    equilibrium needs to hold the floor for one year; the annual outlay is ``f·K(f)`` and the budget
    lasts ``B / (f·K(f))`` years, with purchases recomputed each year (same steady state) and the
    inventory never resold.

    Parameters
    ----------
    bench : Benchmark
        A calibrated market (use long-run elasticities for a steady state).
    levels : sequence of float
        Floor levels in USD/kg.
    budget : float
        USD million.
    location : str
        Where the stockpile buys.
    rules : sequence of str
        Among :data:`ELIGIBILITY_RULES`.
    members, excluded :
        The bloc (for ``"bloc"``) and the region left out by ``"ex_china"``.

    Returns
    -------
    pandas.DataFrame
        One row per (rule, level): ``purchases_kt``, ``outlay_musd`` (per year),
        ``years_defended``, ``location_price`` (border price at the location, USD/kg),
        ``chn_supply_price`` (USD/kg), purchases from ``excluded`` (``purchases_from_excluded_kt``;
        not unique when several origins deliver at the same price, except that it is zero when
        ``excluded`` is not eligible; prices, totals and welfare are unique),
        and welfare changes against the benchmark in USD million per year, with the outlay
        counted and the inventory not valued (it is never sold; MODEL.md §3): ``d_world``, ``d_bloc``, ``d_excluded`` (the region left out by
        ``ex_china``, China by default), ``d_excluded_producers``, ``d_bloc_consumers``,
        ``d_bloc_producers``.
    """
    budget = nonneg_number("budget", budget, "USD million")
    levels = np.asarray(list(levels), dtype=float)
    if levels.size == 0 or not np.all(np.isfinite(levels)) or (levels <= 0).any():
        raise ModelInputError("levels", levels.tolist(), "a non-empty list of positive floor levels (USD/kg)")
    regions = bench.market.regions
    check_regions("location", location, regions)
    members = check_regions("members", members, regions)
    check_regions("excluded", excluded, regions)
    for rule in rules:
        if rule not in ELIGIBILITY_RULES:
            raise ModelInputError("rules", rule, f"among {ELIGIBILITY_RULES}")
    base = bench.solve()
    base_w = base.welfare
    open_budget = OPEN_CAP_MULTIPLE * float(bench.production.sum()) * float(levels.max())
    rows = []
    for rule in rules:
        origins = eligible_origins(rule, regions, members, excluded)
        floor = StockpileFloor(location, float(levels[0]), open_budget, origins)
        model = bench.model(bench.base_scenario.extend(name=f"stockpile floor, {rule}", floors=floor))
        for f in levels:
            res = model.solve(floor_level=float(f))
            k = float(res.stockpile["purchases"])
            if k < purchase_tolerance:
                k = 0.0
            if not res.stockpile["floor_holds"]:  # pragma: no cover - the open budget never binds
                raise SolverError("cap_binding", "the open budget bound the purchases; raise OPEN_CAP_MULTIPLE")
            outlay = float(f) * k
            dw = res.welfare - base_w
            net = dw["total"]
            rows.append({
                "rule": rule, "level": float(f), "purchases_kt": k, "outlay_musd": outlay,
                "years_defended": budget / outlay if outlay > 0 else np.inf,
                "location_price": float(res.regions.loc[location, "border_price"]),
                "chn_supply_price": float(res.regions.loc[excluded, "supply_price"]),
                "purchases_from_excluded_kt": float(res.stockpile_by_origin.loc[excluded]),
                "d_world": float(net.sum()),
                "d_bloc": float(net.loc[list(members)].sum()),
                "d_excluded": float(net.loc[excluded]),
                "d_excluded_producers": float(dw.loc[excluded, "producer_surplus"]),
                "d_bloc_consumers": float(dw.loc[list(members), "consumer_surplus"].sum()),
                "d_bloc_producers": float(dw.loc[list(members), "producer_surplus"].sum()),
            })
    return pd.DataFrame(rows)


# ====================================================================== (b) insurance value
# The insurance model lives in models/insurance.py (its inputs in models/insurance_data.py); the
# names are re-exported here for the chapters and tests that import them from this module.
from .insurance import InsuranceModel, InsuranceResult  # noqa: E402,F401
from .insurance_data import (Disruption, default_disruptions, disruptions_from_dataset,  # noqa: E402,F401
                             disruptions_in_force, vault_budgets)


def __getattr__(name: str):
    if name == "DEFAULT_DISRUPTIONS":
        return default_disruptions()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ====================================================================== (c) cost sharing
def cost_shares(dataset, members: Sequence[str] = BLOC_CORE, bill: float = 12_000.0,
                minerals: Sequence[str] | None = None) -> pd.DataFrame:
    """How ``bill`` (USD million) would split among ``members`` by GDP and by consumption.

    GDP from ``gdp.csv`` (USD billion, 2024); consumption as its value at reference prices,
    ``Σ_m P_ref_m · D0_{rm}`` (USD million per year) over ``minerals`` (default all).

    Returns
    -------
    pandas.DataFrame
        Index member; ``gdp_usd_bn``, ``gdp_share``, ``gdp_bill``, ``consumption_value_musd``,
        ``consumption_share``, ``consumption_bill`` (bills in USD million).
    """
    bill = nonneg_number("bill", bill, "USD million")
    members = check_regions("members", members, dataset.region_ids)
    if len(set(members)) != len(members):
        raise ModelInputError("members", members, "distinct region ids")
    gdp = dataset.gdp.set_index("region")["gdp_usd_bn"].astype(float).reindex(list(members))
    value = pd.Series(0.0, index=list(members))
    for m in _minerals(dataset, minerals):
        value += dataset.price(m, "reference") * dataset.quantity(m, "consumption").reindex(list(members))
    out = pd.DataFrame({"gdp_usd_bn": gdp, "gdp_share": gdp / gdp.sum()})
    out["gdp_bill"] = out["gdp_share"] * bill
    out["consumption_value_musd"] = value
    out["consumption_share"] = value / value.sum() if value.sum() > 0 else np.nan
    out["consumption_bill"] = out["consumption_share"] * bill
    out.index.name = "member"
    return out
