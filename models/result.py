"""The result of one equilibrium solve, read into labelled pandas objects.

Welfare accounting (MODEL.md §3), per region ``r``, in USD million per year::

    CS_r  = A^d_r(D_r) − P^c_r D_r                    consumer price P^c = p + λ (guaranteed price)
    PS_r  = P^p_r S_r − A^s_r(S_r)                    producer price P^p = w + μ + s
    G_r   = tariff revenue + export-tax revenue + τ_S × (r's imports from non-members, r ∈ S)
            + λ_r D_r − μ_r S_r − s_r S_r − stockpile outlay
    R_r   = Σ_q ρ_q × (shipments under quota q from r)   (licence rent of export controls)
    W_r   = CS_r + PS_r + G_r + R_r

``τ_S`` is the preferential floor's tariff, collected by the importing member. The stockpile's
purchases are an outlay of the government at its location; the inventory it holds is **not**
valued in the year's welfare (MODEL.md §3): it is shown beside it by :attr:`EquilibriumResult.inventory`
(:func:`models.accounting.inventory_account`).

Identities (tested): ``Σ_r W_r = Σ A^d − Σ A^s − transport cost`` and
``Σ_r W_r = objective − Σ s·S + tariff and export-tax revenue − f_K K``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from .accounting import inventory_account
from .errors import ModelInputError, SolverError
from .market import Market

WELFARE_COLUMNS = ("consumer_surplus", "producer_surplus", "tariff_revenue", "export_tax_revenue",
                   "zone_tariff_revenue", "levy_revenue", "cfd_cost", "subsidy_cost", "stockpile_outlay",
                   "government", "quota_rent", "total")


@dataclass
class RawSolution:
    """Primal values and duals as numpy arrays in the market's region order (internal)."""

    demand: np.ndarray
    supply: np.ndarray
    flows: np.ndarray
    border_price: np.ndarray
    supply_price: np.ndarray
    levy: np.ndarray
    levy_topup: np.ndarray
    cfd_topup: np.ndarray
    subsidy: np.ndarray
    tariff: np.ndarray
    export_tax: np.ndarray
    transport: np.ndarray
    quota_rent: np.ndarray
    quota_masks: list
    stockpile_purchases: np.ndarray
    stockpile_price: float
    stockpile_level: float
    stockpile_cap: float
    stockpile_location: str | None
    objective: float
    solve_time: float
    zone_tariff: float = 0.0
    zone_mask: np.ndarray | None = None
    zone_y: np.ndarray | None = None
    zone: dict = field(default_factory=dict)

    def check_finite(self) -> None:
        """Raise if any value is NaN or infinite: never hand a NaN to a caller."""
        for name, value in vars(self).items():
            if isinstance(value, np.ndarray) and value.dtype.kind == "f" and not np.isfinite(value).all():
                raise SolverError("nan", f"the solver returned non-finite values in {name}")

    def region_arrays(self) -> dict[str, np.ndarray]:
        """Per-region prices and quantities (fast path used by sweeps)."""
        x = self.flows
        off = x - np.diag(np.diag(x))
        exports = off.sum(axis=1)
        imports = off.sum(axis=0)
        y = self.stockpile_purchases
        if y.any():
            loc = self._loc_index
            y_off = y.copy()
            y_off[loc] = 0.0
            exports = exports + y_off
            imports = imports.copy()
            imports[loc] += y_off.sum()
        return {
            "consumer_price": self.border_price + self.levy,
            "producer_price": self.supply_price + self.levy_topup + self.cfd_topup + self.subsidy,
            "border_price": self.border_price,
            "supply_price": self.supply_price,
            "demand": self.demand,
            "supply": self.supply,
            "exports": exports,
            "imports": imports,
            "net_exports": exports - imports,
        }

    _loc_index: int = field(default=-1, repr=False)
    #: Worst scaled residual of each equilibrium condition (models.certificate), or None if uncertified.
    certificate: dict | None = field(default=None, repr=False)


def same_market(a: Market, b: Market) -> bool:
    """Same mineral, regions, curves and transport costs (welfare levels are then comparable)."""
    def curves(side):
        return {r: c for r, c in side.items() if c is not None}
    return (a is b) or (a.mineral == b.mineral and a.regions == b.regions
                        and curves(a.demand) == curves(b.demand) and curves(a.supply) == curves(b.supply)
                        and a.transport_cost.equals(b.transport_cost))


class EquilibriumResult:
    """One solved equilibrium.

    Attributes
    ----------
    market, scenario : the inputs.
    regions : pandas.DataFrame
        Index region. ``consumer_price`` (``p + λ``), ``producer_price`` (``w + μ + s``),
        ``border_price`` (``p``, dual of the demand balance), ``supply_price`` (``w``, dual of the
        supply balance) in USD/kg; ``demand``, ``supply``, ``exports``, ``imports``,
        ``net_exports`` in kt.
    flows : pandas.DataFrame
        ``x_ij`` in kt, origin index × destination columns (stockpile purchases excluded).
    wedges : pandas.DataFrame
        Index region. ``zone_tariff`` (τ, the preferential floor's tariff a member levies on
        non-members' goods), ``levy`` (λ), ``levy_topup`` (μ of a guaranteed price),
        ``cfd_topup``, ``subsidy`` in USD/kg; ``implicit_export_subsidy`` in USD million (the
        cost of a guaranteed price that makes the region a net exporter below it).
    zone : pandas.Series
        The preferential floor (empty without one): ``level``, ``status`` ("holds (tariff
        binds)", "not binding (zone price above f)" or "fails"), ``price`` (the zone's price,
        USD/kg; where the floor fails, the highest a prohibitive tariff reaches), ``tariff``
        (τ, USD/kg), ``cap`` (kt), ``imports_from_nonmembers`` (kt), ``reference``, ``members``,
        ``holds`` (bool).
    quota_rents : pandas.DataFrame
        One row per export quota: origin, shipped (kt), rent (USD/kg), rent_total (USD million).
    stockpile : pandas.Series
        location, level, price paid, purchases (kt), cap (kt), outlay and budget used (USD million),
        ``floor_holds`` (purchases below the cap), and purchases by origin.
    welfare : pandas.DataFrame
        Index region, columns ``WELFARE_COLUMNS`` in USD million per year.
    inventory : pandas.DataFrame
        The stockpile's inventory account beside the welfare table
        (:func:`models.accounting.inventory_account`): kt held and its cost; not valued.
    transport_cost : float
        USD million per year spent on freight (a real resource cost, not a transfer).
    objective, solve_time, solver, parameters : the programme's value, the solver's time (s),
        the solver's name, and the parameter values solved at.
    certificate : pandas.Series
        The worst scaled residual of each equilibrium condition (:mod:`models.certificate`); every
        one is below the tolerance, or the solve would have raised.
    """

    def __init__(self, market: Market, scenario, raw: RawSolution, solver: str, parameters: dict):
        self.market, self.scenario, self.raw = market, scenario, raw
        self.solver, self.parameters = solver, parameters
        self.objective, self.solve_time = raw.objective, raw.solve_time

    # The tables are built on first access and kept (a sweep or a Monte Carlo reads few of them:
    # on a dozen regions the pandas tables cost more than the solve).
    @cached_property
    def certificate(self) -> pd.Series | None:
        raw = self.raw
        return pd.Series(raw.certificate, name="residual", dtype=float) if raw.certificate is not None else None

    @cached_property
    def _arrays(self) -> dict:
        return self.raw.region_arrays()

    @cached_property
    def regions(self) -> pd.DataFrame:
        return pd.DataFrame(self._arrays, index=pd.Index(list(self.market.regions), name="region"))

    @cached_property
    def flows(self) -> pd.DataFrame:
        regions = list(self.market.regions)
        return pd.DataFrame(self.raw.flows, index=pd.Index(regions, name="origin"),
                            columns=pd.Index(regions, name="destination"))

    @cached_property
    def welfare(self) -> pd.DataFrame:
        return self._welfare(self._arrays)

    @cached_property
    def wedges(self) -> pd.DataFrame:
        raw = self.raw
        levy_rev = self.welfare["levy_revenue"].to_numpy()
        return pd.DataFrame({
            "zone_tariff": self._zone_tariffs(),
            "levy": raw.levy, "levy_topup": raw.levy_topup, "cfd_topup": raw.cfd_topup,
            "subsidy": raw.subsidy,
            "implicit_export_subsidy": np.where(self._arrays["net_exports"] > 1e-9,
                                                np.maximum(0.0, -levy_rev), 0.0) + 0.0,
        }, index=pd.Index(list(self.market.regions), name="region"))

    @cached_property
    def quota_rents(self) -> pd.DataFrame:
        table = pd.DataFrame({
            "origin": [q.origin for q in self.scenario.quotas],
            "shipped": self._quota_shipments(),
            "rent": self.raw.quota_rent,
        })
        table["rent_total"] = table["shipped"] * table["rent"]
        return table

    @cached_property
    def stockpile(self) -> pd.Series:
        return self._stockpile_series()

    @cached_property
    def zone(self) -> pd.Series:
        return self._zone_series()

    # ------------------------------------------------------------------ accounting
    def _zone_tariffs(self) -> np.ndarray:
        """τ for members (the importers that levy it), 0 elsewhere."""
        raw = self.raw
        if raw.zone_mask is None or not raw.zone:
            return np.zeros(self.market.n)
        return raw.zone_tariff * (raw.zone_mask.max(axis=0) > 0)

    def _zone_imports(self) -> np.ndarray:
        """The zone's imports from non-members (kt), attributed to the members that import.

        The total ``M`` (the stockpile's purchases from non-members included) is unique. Which
        member's border it crosses is not: with free trade inside the zone, a member that
        produces can sell its output to a partner and import from a non-member for its own use at
        the same cost, and the solver picks one routing arbitrarily. So ``M`` is attributed to the
        members in proportion to their net imports, ``M · max(0, −NX_j) / Σ_k max(0, −NX_k)``,
        which are unique; a member's share of the tariff revenue ``τ M`` follows. Where no member
        is a net importer, the solver's own routing is used.
        """
        raw = self.raw
        if raw.zone_mask is None or not raw.zone:
            return np.zeros(self.market.n)
        routed = (raw.zone_mask * raw.flows).sum(axis=0)
        if raw.stockpile_location is not None and raw.zone_y is not None:
            routed[raw._loc_index] += float((raw.zone_y * raw.stockpile_purchases).sum())
        members = raw.zone_mask.max(axis=0) > 0
        net_imports = np.where(members, np.maximum(0.0, -raw.region_arrays()["net_exports"]), 0.0)
        if net_imports.sum() <= 1e-12:
            return routed
        return routed.sum() * net_imports / net_imports.sum()

    def _zone_series(self) -> pd.Series:
        z = dict(self.raw.zone)
        if not z:
            return pd.Series(dtype=object)
        z["imports_from_nonmembers"] = float(self._zone_imports().sum())
        z["holds"] = z["status"] != "fails"
        return pd.Series(z, dtype=object)

    def _quota_shipments(self) -> np.ndarray:
        raw, out = self.raw, []
        for mask in raw.quota_masks:
            shipped = float((mask * raw.flows).sum())
            if raw.stockpile_location is not None:
                loc = raw._loc_index
                shipped += float((mask[:, loc] * raw.stockpile_purchases).sum())
            out.append(shipped)
        return np.array(out, dtype=float)

    def _areas(self) -> tuple[np.ndarray, np.ndarray]:
        m, raw = self.market, self.raw
        ad = np.array([float(m.demand_curve(r).area(raw.demand[k])) if m.demand_curve(r) else 0.0
                       for k, r in enumerate(m.regions)])
        as_ = np.array([float(m.supply_curve(r).area(raw.supply[k])) if m.supply_curve(r) else 0.0
                        for k, r in enumerate(m.regions)])
        return ad, as_

    def _welfare(self, arrays: dict) -> pd.DataFrame:
        raw = self.raw
        x, y = raw.flows, raw.stockpile_purchases
        ad, as_ = self._areas()
        tariff_rev = (raw.tariff * x).sum(axis=0)
        extax_rev = (raw.export_tax * x).sum(axis=1)
        outlay = np.zeros_like(ad)
        if raw.stockpile_location is not None:
            loc = raw._loc_index
            tariff_rev[loc] += float((raw.tariff[:, loc] * y).sum())
            extax_rev += raw.export_tax[:, loc] * y
            outlay[loc] = raw.stockpile_price * y.sum()
        zone_rev = raw.zone_tariff * self._zone_imports()
        levy_rev = raw.levy * raw.demand - raw.levy_topup * raw.supply
        cfd_cost = raw.cfd_topup * raw.supply
        subsidy_cost = raw.subsidy * raw.supply
        rent = np.zeros_like(ad)
        for q, shipped, rho in zip(self.scenario.quotas, self._quota_shipments(), raw.quota_rent):
            rent[self.market.regions.index(q.origin)] += shipped * rho
        cs = ad - arrays["consumer_price"] * raw.demand
        ps = arrays["producer_price"] * raw.supply - as_
        gov = tariff_rev + extax_rev + zone_rev + levy_rev - cfd_cost - subsidy_cost - outlay
        total = cs + ps + gov + rent
        return pd.DataFrame(dict(zip(WELFARE_COLUMNS, (
            cs, ps, tariff_rev, extax_rev, zone_rev, levy_rev, cfd_cost, subsidy_cost, outlay, gov, rent,
            total))), index=pd.Index(self.market.regions, name="region"))

    def _stockpile_series(self) -> pd.Series:
        raw = self.raw
        k = float(raw.stockpile_purchases.sum())
        outlay = raw.stockpile_price * k
        return pd.Series({
            "location": raw.stockpile_location, "level": raw.stockpile_level,
            "price_paid": raw.stockpile_price if raw.stockpile_location else 0.0,
            "purchases": k, "cap": raw.stockpile_cap, "outlay": outlay,
            "budget_used_share": outlay / (raw.stockpile_cap * raw.stockpile_level)
            if raw.stockpile_cap > 0 else 0.0,
            "floor_holds": bool(raw.stockpile_location is not None and k < raw.stockpile_cap * (1 - 1e-6)),
        }, dtype=object)

    @property
    def inventory(self) -> pd.DataFrame:
        """The stockpile's inventory account, beside the welfare table, never inside it.

        One row (the stockpile's location): kt bought this year and their cost (the outlay already
        in the location's government welfare). An annual equilibrium never sells the inventory, so
        it is not valued (:func:`models.accounting.inventory_account`).
        """
        sp = self.stockpile
        where = sp["location"] or "none"
        return inventory_account(pd.Series({where: float(sp["purchases"])}),
                                 pd.Series({where: float(sp["outlay"])}))

    @property
    def stockpile_by_origin(self) -> pd.Series:
        """Stockpile purchases (kt) by origin region."""
        return pd.Series(self.raw.stockpile_purchases, index=pd.Index(self.market.regions, name="origin"))

    @property
    def transport_cost(self) -> float:
        raw = self.raw
        cost = float((raw.transport * raw.flows).sum())
        if raw.stockpile_location is not None:
            cost += float((raw.transport[:, raw._loc_index] * raw.stockpile_purchases).sum())
        return cost

    def welfare_identity_residuals(self) -> tuple[float, float]:
        """The two welfare identities of the module docstring, as residuals (USD million)."""
        raw, w = self.raw, self.welfare
        ad, as_ = self._areas()
        total = float(w["total"].sum())
        gross = float(ad.sum() - as_.sum()) - self.transport_cost
        from_objective = (self.objective - float((raw.subsidy * raw.supply).sum())
                          + float(w["tariff_revenue"].sum() + w["export_tax_revenue"].sum())
                          - raw.stockpile_level * float(raw.stockpile_purchases.sum()))
        return total - gross, total - from_objective

    def welfare_change(self, baseline: "EquilibriumResult") -> pd.DataFrame:
        """``welfare − baseline.welfare`` by region and component (USD million per year)."""
        if not isinstance(baseline, EquilibriumResult):
            raise ModelInputError("baseline", type(baseline).__name__, "an EquilibriumResult")
        if not same_market(baseline.market, self.market):
            raise ModelInputError("baseline", f"{baseline.market.mineral} market {list(baseline.market.regions)}",
                                  f"a result of the same market ({self.market.mineral}, the same regions, "
                                  "curves and transport costs): welfare of different markets is not comparable")
        return self.welfare - baseline.welfare

    def summary(self) -> pd.DataFrame:
        """Prices, quantities and welfare side by side, one row per region."""
        return self.regions.join(self.welfare[["government", "total"]].rename(
            columns={"total": "welfare"}))

    def __repr__(self) -> str:
        return (f"EquilibriumResult(mineral={self.market.mineral!r}, scenario={self.scenario.name!r}, "
                f"objective={self.objective:.3f}, solver={self.solver})")
