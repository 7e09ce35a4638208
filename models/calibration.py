"""Benchmark calibration with exact replication (MODEL.md §1).

1. From base production ``S0_r`` and consumption ``D0_r``, solve the minimum-cost transportation
   problem of net exports to net imports under base trade costs (transport plus base tariffs)::

       minimise Σ_ij c_ij x_ij   s.t.  Σ_j x_ij = S0_i,  Σ_i x_ij = D0_j,  x ≥ 0

   Its duals are regional price differences; anchoring them so that the reference region's price
   equals the observed reference price gives base border prices ``P0_r``.
2. Where an exporter's observed domestic price lies below the price the duals imply (China's
   domestic NdPr price below the ex-China price), the gap is encoded as a base export wedge
   (an :class:`ExportTax` on all its exports). A uniform wedge on every arc out of one exporter
   does not change the cost-minimising flows (its total exports are fixed), only its price.
3. Each curve is calibrated through ``(P0_r, S0_r)`` and ``(P0_r, D0_r)`` with the elasticities.

With base policies the equilibrium then satisfies every KKT condition at ``(S0, D0, P0)``, so the
model returns the base data (tested).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import cvxpy as cp
import numpy as np
import pandas as pd

from .curves import calibrate_curve, check_elasticity
from .equilibrium import EquilibriumModel, policy_trade_costs
from .errors import InfeasibleError, ModelInputError
from .market import Market, check_regions
from .policies import ExportTax, Scenario


@dataclass(frozen=True)
class Benchmark:
    """A calibrated market together with the base policies and the base-year data it replicates.

    Attributes
    ----------
    market : Market
    base_scenario : Scenario
        Base-year policies (base tariffs and the export wedge); every scenario extends it.
    prices : pandas.Series
        ``P0_r``, base border prices (USD/kg).
    production, consumption : pandas.Series
        ``S0_r``, ``D0_r`` (kt).
    flows : pandas.DataFrame
        The base-year flows of the transportation problem (kt).
    export_wedge : pandas.Series
        Base export wedge by region (USD/kg), zero where none.
    """

    market: Market
    base_scenario: Scenario
    prices: pd.Series
    production: pd.Series
    consumption: pd.Series
    flows: pd.DataFrame
    export_wedge: pd.Series
    #: ``W0_r``, base supply prices (USD/kg), where supply curves are calibrated; ``None`` in a
    #: benchmark built by hand (then read off the supply curves at ``S0``).
    supply_prices: pd.Series | None = None
    #: Which curve family the benchmark was calibrated with.
    curve: str = "linear"

    def model(self, scenario: Scenario | None = None, **kwargs) -> EquilibriumModel:
        """An :class:`EquilibriumModel` of ``scenario`` (default: the base scenario)."""
        return EquilibriumModel(self.market, scenario or self.base_scenario,
                                benchmark_prices=self.prices, **kwargs)

    def solve(self, scenario: Scenario | None = None, **kwargs):
        return self.model(scenario, **kwargs).solve()

    def recalibrated(self, demand_elasticity=None, supply_elasticity=None,
                     export_wedge: dict | None = None) -> "Benchmark":
        """The same base year with new elasticities and (optionally) smaller export wedges.

        Step 3 of the calibration only: every curve is re-calibrated through the same benchmark
        point ``(P0_r, D0_r)`` / ``(W0_r, S0_r)``; the transportation problem is not solved again
        (its flows and price differences do not depend on the elasticities). A new export wedge
        ``g_r`` (USD/kg, ``0 ≤ g_r ≤`` the calibrated wedge) moves that exporter's base price to
        ``W0_r + (wedge_r − g_r)``; flows are unchanged (a uniform wedge on all of one exporter's
        arcs does not move them). Elasticities: a number, a Series by region, a dict covering the
        regions with a curve, or ``None`` to keep the current curves' elasticities.

        Use :meth:`models.equilibrium.EquilibriumModel.set_market` to push the new curves into a
        built model (a re-solve, not a rebuild).
        """
        m, regions = self.market, self.market.regions
        # element by element on numpy copies (a Monte Carlo calls this once per draw), then Series
        prices, wedge = self.prices, self.export_wedge
        supply_prices = self.supply_prices if self.supply_prices is not None else self._supply_prices()
        missing = [r for r in (export_wedge or {}) if r in regions and r not in wedge.index]
        if missing:           # a benchmark built by hand may list only the regions with a wedge
            wedge = pd.concat([wedge, pd.Series(0.0, index=missing)])
        p, w, g = (s.to_numpy(dtype=float, copy=True) for s in (prices, supply_prices, wedge))
        scenario = self.base_scenario
        for region, new in (export_wedge or {}).items():
            check_regions("export_wedge", region, regions)
            old = float(wedge.get(region, 0.0))
            new = float(new)
            if not np.isfinite(new) or new < 0 or new > old + 1e-12:
                raise ModelInputError(f"export_wedge[{region}]", new,
                                      f"a wedge between 0 and the calibrated {old:g} USD/kg")
            shift = old - new
            p[prices.index.get_loc(region)] += shift
            w[supply_prices.index.get_loc(region)] += shift
            g[wedge.index.get_loc(region)] = new
        prices = pd.Series(p, index=prices.index, name=prices.name)
        supply_prices = pd.Series(w, index=supply_prices.index, name=supply_prices.name)
        wedge = pd.Series(g, index=wedge.index, name=wedge.name)
        if export_wedge:
            taxes = tuple(t for t in scenario.export_taxes if t.origin not in export_wedge)
            taxes += tuple(ExportTax(r, float(g)) for r, g in export_wedge.items() if g > 0)
            scenario = scenario.with_policies(export_taxes=taxes)

        def elasticities(given, side):
            if isinstance(given, dict):          # {region: elasticity}, checked per curve below
                curves = m.demand if side == "demand" else m.supply
                missing = [r for r, c in curves.items() if c is not None and r not in given]
                if missing:
                    raise ModelInputError(f"{side}_elasticity", missing, "a value for every region with a curve")
                return given
            if given is not None:
                return _series(f"{side}_elasticity", given, regions)
            curves, price, qty = ((m.demand, self.prices, self.consumption) if side == "demand"
                                  else (m.supply, self._supply_prices(), self.production))
            return {r: _elasticity_of(c, price[r], qty[r]) for r, c in curves.items() if c is not None}

        ed, es = elasticities(demand_elasticity, "demand"), elasticities(supply_elasticity, "supply")
        p0, w0 = dict(zip(prices.index.tolist(), p.tolist())), dict(zip(supply_prices.index.tolist(), w.tolist()))
        d0, s0 = self.consumption.to_dict(), self.production.to_dict()
        demand = {r: calibrate_curve(self.curve, "demand", p0[r], d0[r], ed[r])
                  for r, c in m.demand.items() if c is not None}
        supply = {r: calibrate_curve(self.curve, "supply", w0[r], s0[r], es[r])
                  for r, c in m.supply.items() if c is not None}
        market = m.with_curves(demand, supply)
        return replace(self, market=market, base_scenario=scenario, prices=prices,
                       supply_prices=supply_prices, export_wedge=wedge)

    def _supply_prices(self) -> pd.Series:
        if self.supply_prices is not None:
            return self.supply_prices.copy()
        w = self.prices.copy()
        for r, c in self.market.supply.items():
            if c is not None:
                w[r] = float(c.price(self.production[r])) if hasattr(c, "intercept") else c.benchmark_price
        return w


def _elasticity_of(curve, price: float, quantity: float) -> float:
    """The point elasticity of a calibrated curve at its benchmark ``(price, quantity)``."""
    if hasattr(curve, "elasticity"):
        return float(curve.elasticity)
    return float(price / (curve.slope * quantity))


def _series(name: str, value, regions) -> pd.Series:
    if not isinstance(value, pd.Series) and hasattr(value, "keys"):
        value = pd.Series(dict(value), dtype=float)   # a mapping keeps its keys (np.ndim(dict) == 0)
    if not isinstance(value, pd.Series):
        value = pd.Series(value, index=list(regions)) if np.ndim(value) else pd.Series(float(value), index=list(regions))
    check_regions(f"{name} (index)", value.index, regions)
    missing = [r for r in regions if r not in value.index]
    if missing:
        raise ModelInputError(f"{name}", missing, f"a value for every region {list(regions)}")
    return value.loc[list(regions)].astype(float)


def calibrate_benchmark(mineral: str, regions, production, consumption, reference_price: float,
                        reference_region: str, transport_cost: pd.DataFrame, demand_elasticity,
                        supply_elasticity, base_scenario: Scenario | None = None,
                        observed_prices: dict[str, float] | None = None, curve: str = "linear",
                        balance_tolerance: float = 1e-6) -> Benchmark:
    """Calibrate a market that replicates the base year exactly.

    Parameters
    ----------
    production, consumption : pandas.Series or mapping, kt by region.
        World production must equal world consumption within ``balance_tolerance`` (relative).
    reference_price : float
        Observed price (USD/kg) in ``reference_region``, the anchor of all prices.
    transport_cost : pandas.DataFrame
        ``t_ij`` (USD/kg).
    demand_elasticity, supply_elasticity : float or Series by region
        Point elasticities at the benchmark (demand < 0 < supply).
    base_scenario : Scenario, optional
        Base-year tariffs; they enter the transport problem's costs.
    observed_prices : dict, optional
        Observed domestic prices of exporters below the implied price, e.g. ``{"CHN": 60.0}``:
        the gap becomes a base export wedge. An observed price above the implied one (an export
        subsidy) or below it for a region that is not a net exporter is refused (a typed error),
        never silently ignored; one equal to it gives no wedge.
    curve : {"linear", "isoelastic"}
    """
    regions = tuple(regions)
    check_regions("reference_region", reference_region, regions)
    s0 = _series("production", production, regions)
    d0 = _series("consumption", consumption, regions)
    for name, ser in (("production", s0), ("consumption", d0)):
        bad = ser[(ser < 0) | ~np.isfinite(ser)]
        if len(bad):
            raise ModelInputError(f"{name}[{bad.index[0]}]", bad.iloc[0], "a non-negative quantity (kt)")
    if not np.isfinite(reference_price) or reference_price <= 0:
        raise ModelInputError("reference_price", reference_price, "a positive price (USD/kg)")
    total_s, total_d = float(s0.sum()), float(d0.sum())
    if total_s <= 0 or abs(total_s - total_d) > balance_tolerance * max(total_s, total_d):
        raise ModelInputError("production vs consumption", (total_s, total_d),
                              f"equal world totals within {balance_tolerance:.0e} (relative)")
    ed = _series("demand_elasticity", demand_elasticity, regions)
    es = _series("supply_elasticity", supply_elasticity, regions)
    if curve not in ("linear", "isoelastic"):
        raise ModelInputError("curve", curve, "'linear' or 'isoelastic'")
    # check signs before the transport problem is solved, naming the region (where a curve is built)
    for r in regions:
        if d0[r] > 0:
            check_elasticity(f"demand_elasticity[{r}]", "demand", ed[r], curve)
        if s0[r] > 0:
            check_elasticity(f"supply_elasticity[{r}]", "supply", es[r], curve)
    for region, observed in (observed_prices or {}).items():
        check_regions("observed_prices", region, regions)
        if not np.isfinite(observed) or observed <= 0:
            raise ModelInputError(f"observed_prices[{region}]", observed, "a positive price (USD/kg)")
    base = base_scenario or Scenario(name="benchmark")

    # A placeholder market with the transport costs lets us reuse the policy-matrix code.
    shell = Market(mineral, regions, {}, {}, transport_cost)
    imp, exp = policy_trade_costs(shell, base, None)
    cost = shell.transport_cost.to_numpy() + imp + exp
    n = len(regions)
    x = cp.Variable((n, n), nonneg=True)
    supply_rows = cp.sum(x, axis=1) == s0.to_numpy() * (total_d / total_s)
    demand_cols = cp.sum(x, axis=0) == d0.to_numpy()
    problem = cp.Problem(cp.Minimize(cp.sum(cp.multiply(cost, x))), [supply_rows, demand_cols])
    problem.solve(solver=cp.CLARABEL)
    if problem.status != cp.OPTIMAL:
        raise InfeasibleError(str(problem.status), "the base transportation problem has no solution")
    # KKT of the transport problem: u_i + v_j <= c_ij; prices p_j = v_j, w_i = -u_i (up to a constant).
    v = np.asarray(demand_cols.dual_value, dtype=float)
    u = np.asarray(supply_rows.dual_value, dtype=float)
    # cvxpy's duals of equality constraints in a minimisation: gradient sign convention -> price = -dual
    p = -v
    w = u
    ref = regions.index(reference_region)
    shift = reference_price - p[ref]
    p, w = p + shift, w + shift
    wedge = pd.Series(0.0, index=list(regions), name="export_wedge")
    scenario = base
    no_imports: list[int] = []
    for region, observed in (observed_prices or {}).items():     # validated above
        k = regions.index(region)
        gap = float(w[k] - observed)
        if gap < -1e-9 * max(1.0, abs(observed)):
            raise ModelInputError(f"observed_prices[{region}]", observed,
                                  f"a price at or below the implied base price {w[k]:.6g} USD/kg: a domestic "
                                  "price above it would be an export subsidy, which the calibration does not encode")
        if gap > 0 and s0[region] <= d0[region]:
            raise ModelInputError(f"observed_prices[{region}]", observed,
                                  f"the price of a net exporter: {region} produces {s0[region]:.6g} kt and consumes "
                                  f"{d0[region]:.6g} kt in the base year, so a gap below the implied "
                                  f"{w[k]:.6g} USD/kg cannot be an export wedge")
        if gap > 0:
            # The wedge leaves the flows unchanged only if the exporter imports nothing. Costs that
            # meet the triangle inequality with equality through it (a tie) can route imports
            # through it at no extra cost: then take an equally cheap pattern without them (the
            # base prices support every cost-minimising pattern). Costs that break the inequality
            # make it import and export for real, and the model could not replicate the base year.
            no_imports.append(k)
            imported = float(np.asarray(x.value)[:, k].sum() - np.asarray(x.value)[k, k])
            if imported > 1e-4 * total_d:
                x_alt = cp.Variable((n, n), nonneg=True)
                closed = [x_alt[i, j] == 0 for j in no_imports for i in range(n) if i != j]
                alt = cp.Problem(cp.Minimize(cp.sum(cp.multiply(cost, x_alt))),
                                 [cp.sum(x_alt, axis=1) == s0.to_numpy() * (total_d / total_s),
                                  cp.sum(x_alt, axis=0) == d0.to_numpy(), *closed])
                alt.solve(solver=cp.CLARABEL)
                if alt.status != cp.OPTIMAL or alt.value > problem.value + 1e-7 * max(1.0, abs(problem.value)):
                    raise ModelInputError(f"observed_prices[{region}]", observed,
                                          f"no export wedge for a region that also imports in the base "
                                          f"flows ({imported:.4g} kt): check that the trade costs "
                                          f"satisfy the triangle inequality through {region}")
                x.value = np.maximum(np.asarray(x_alt.value), 0.0)
            wedge[region] = gap
            p[k] = w[k] = observed
            scenario = scenario.extend(export_taxes=ExportTax(region, gap))
    # consumers are calibrated at their border price p, producers at their supply price w
    prices = pd.Series(np.where(d0.to_numpy() > 0, p, w), index=list(regions), name="P0")
    supply_prices = pd.Series(w, index=list(regions), name="W0")
    for name, ser, qty in (("border", prices, d0), ("supply", supply_prices, s0)):
        bad = ser[(ser <= 0) & (qty > 0)]
        if len(bad):
            raise ModelInputError(f"implied base {name} price[{bad.index[0]}]", float(bad.iloc[0]),
                                  "a positive price: trade costs exceed the reference price")
    demand = {r: calibrate_curve(curve, "demand", prices[r], d0[r], ed[r]) for r in regions if d0[r] > 0}
    supply = {r: calibrate_curve(curve, "supply", supply_prices[r], s0[r], es[r])
              for r in regions if s0[r] > 0}
    market = Market(mineral, regions, demand, supply, transport_cost)
    flows = pd.DataFrame(np.asarray(x.value), index=pd.Index(regions, name="origin"),
                         columns=pd.Index(regions, name="destination")).clip(lower=0.0)
    return Benchmark(market, scenario, prices, s0, d0, flows, wedge, supply_prices, curve)


def benchmark_from_dataset(dataset, mineral: str, horizon: str = "long", which: str = "central",
                           curve: str = "linear", demand_elasticity=None, supply_elasticity=None,
                           balance_tolerance: float = 0.01) -> Benchmark:
    """Calibrate the benchmark of ``mineral`` from the project's data.

    Base production is the mineral's modelled stage (``minerals.csv: production_variable``),
    consumption its consumption; world consumption is scaled to world production when they
    differ by less than ``balance_tolerance`` (the data close within 1 %). Prices are anchored to
    the reference price in the mineral's reference region; a quoted China-domestic price below
    the implied one becomes China's base export wedge.

    Parameters
    ----------
    dataset : models.data.Dataset
    horizon : {"short", "long"}
    which : {"central", "low", "high"}
        Which point of the elasticity range in ``elasticities.csv`` to use.
    demand_elasticity, supply_elasticity : float, optional
        Overrides of the data's elasticities (e.g. for a sensitivity sweep).
    """
    if mineral not in dataset.mineral_ids:
        raise ModelInputError("mineral", mineral, f"one of {list(dataset.mineral_ids)}")
    regions = dataset.region_ids
    info = dataset.minerals.set_index("mineral").loc[mineral]
    production = dataset.quantity(mineral, info["production_variable"]).loc[list(regions)]
    consumption = dataset.quantity(mineral, "consumption").loc[list(regions)]
    ratio = float(production.sum() / consumption.sum())
    if abs(ratio - 1.0) > balance_tolerance:
        raise ModelInputError(f"{mineral}: world production / consumption", ratio,
                              f"1 within {balance_tolerance:.0%} (the data must close)")
    consumption = consumption * ratio
    ed = dataset.elasticity(mineral, "demand", horizon, which) if demand_elasticity is None else demand_elasticity
    es = dataset.elasticity(mineral, "supply", horizon, which) if supply_elasticity is None else supply_elasticity
    prices = dataset.prices[dataset.prices["mineral"] == mineral].set_index("market")["price_usd_per_kg"]
    observed = {"CHN": float(prices["china_domestic"])} if "china_domestic" in prices.index else None
    return calibrate_benchmark(
        mineral, regions, production, consumption, float(prices["reference"]),
        str(info["reference_region"]), dataset.trade_cost_matrix(mineral), ed, es,
        base_scenario=Scenario(name="benchmark"), observed_prices=observed, curve=curve)
