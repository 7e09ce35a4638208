"""Tariff and export-tax matrices of a scenario (USD/kg, origin rows × destination columns).

Shared by the equilibrium model, the roster model and the insurance model, so that a bloc's
tariffs mean the same thing everywhere.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import ModelInputError
from .market import Market, check_regions
from .policies import ALL, Scenario


def _expand(regions: tuple[str, ...], value, exclude: str | None = None) -> list[str]:
    chosen = list(regions) if value == ALL else list(value)
    return [r for r in chosen if r != exclude]


def policy_trade_costs(market: Market, scenario: Scenario, benchmark_prices: pd.Series | None,
                       external_tariff: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Tariff and export-tax matrices ``(τ^imp, τ^exp)`` in USD/kg, origin rows × destination columns.

    Order of application: the scenario's tariffs; then the bloc removes tariffs between members
    and adds its common external tariff on imports into members from non-members. Export taxes
    are the exporter's and are not removed by the bloc. Ad valorem rates are converted to
    specific ones at benchmark prices: ``rate × (P0_i + t_ij)``.
    """
    regions, n = market.regions, market.n
    idx = {r: k for k, r in enumerate(regions)}
    transport = market.transport_cost.to_numpy()
    imp = np.zeros((n, n))
    for k, tariff in enumerate(scenario.tariffs):
        for o in _expand(regions, tariff.origin):
            check_regions(f"tariffs[{k}].origin", o, regions)
            for d in _expand(regions, tariff.destination, exclude=o):
                check_regions(f"tariffs[{k}].destination", d, regions)
                rate = tariff.specific
                if tariff.ad_valorem:
                    if benchmark_prices is None:
                        raise ModelInputError(f"tariffs[{k}].ad_valorem", tariff.ad_valorem,
                                              "0 unless benchmark prices are given to convert it")
                    rate += tariff.ad_valorem * (float(benchmark_prices[o]) + transport[idx[o], idx[d]])
                imp[idx[o], idx[d]] += rate
    bloc = scenario.bloc
    if bloc is not None:
        members = [idx[m] for m in check_regions("bloc.members", bloc.members, regions)]
        outsiders = [k for k in range(n) if k not in members]
        imp[np.ix_(members, members)] = 0.0
        rate = bloc.external_tariff if external_tariff is None else float(external_tariff)
        imp[np.ix_(outsiders, members)] += rate
    exp = np.zeros((n, n))
    for k, tax in enumerate(scenario.export_taxes):
        check_regions(f"export_taxes[{k}].origin", tax.origin, regions)
        for d in _expand(regions, tax.destinations, exclude=tax.origin):
            check_regions(f"export_taxes[{k}].destinations", d, regions)
            exp[idx[tax.origin], idx[d]] += tax.rate
    np.fill_diagonal(imp, 0.0)
    np.fill_diagonal(exp, 0.0)
    return imp, exp
