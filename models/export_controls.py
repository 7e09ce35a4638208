r"""Export controls by destination, of given size and duration, and the cushion a stockpile buys
(MODEL.md §2 "export quota / ban", §4 "Strategic supplier" and "Downstream losses").

**The control.** Origin ``o`` cuts its exports of one mineral to the destinations ``J`` by a share
``s`` of the benchmark flows ``X0_oJ = Σ_{j∈J} x0_oj`` (``s = 1`` is a ban) for ``m`` months. It is
an export quota of the one convex programme (:class:`~models.equilibrium.EquilibriumModel`)::

    Σ_{j∈J} x_oj ≤ (1 − s) X0_oJ                                  (ρ: the licence rent)

Every other route stays open: the origin sells more elsewhere and other suppliers redirect to
``J``, so a control aimed at some destinations leaks through the reshuffling of everyone else's
supply (the model has no re-exports of the origin's goods through third countries, and no
controls on them either). With ``diversion=False`` the other suppliers cannot raise their sales to
``J`` above the benchmark within the control's months (contracts, qualification of a new supplier)::

    Σ_{j∈J} x_ij ≤ Σ_{j∈J} x0_ij       for every other origin i

which brackets the answer: competitive reshuffling at one end, none at the other. The control
acts on the modelled stage of the mineral only (e.g. NdPr oxide); a control on magnets rather
than oxide needs the value-chain model.

**Duration convention.** The equilibrium is annual. A control of ``m ≤ 12`` months is solved as if
it held all year, with the **short-run** elasticities (those of ``horizon="short"`` in
``data/elasticities.csv``: the months of a control are too few for new capacity or substitution),
so its prices and quantities are the rates *during* the control; quantities (shortfall, release)
and money (welfare, downstream loss) over the control are the annual figures scaled by ``m/12``::

    Q_over_control = Q_annual · m / 12,     ΔW_over_control = ΔW_annual · m / 12

This ignores inventories held by firms (other than a released stockpile), and adjustment within
the months; a longer control needs the year-by-year model (:mod:`models.dynamics`).

**The cushion a stockpile buys.** A release of ``R`` kt over the control (``12 R / m`` a year)
from the Vault's inventory enters the destination ``L`` as the supply of a region of its own,
``VAULT``, placed at ``L`` (``L``'s trade costs, none to ``L``) and allowed to ship only to ``L``::

    P^s_VAULT(S) = ε_V (1 + S / D_w)   (inventory already bought: almost no marginal cost)
    Σ_j x_VAULT,j ≤ 12 R / m,   x_VAULT,j = 0 for j ≠ L

``ε_V = 0.01 · P0_L`` and ``D_w = Σ_r D0_r``: releasing as much as the world uses in a year would
cost no more than 2% of the benchmark price at the margin, so the release is sold in full whenever
the price at ``L`` stays above that (the positive intercept keeps the solver from "releasing" into
free disposal). A release only adds supply: it never raises a price (tested). Its sales
revenue is the ``VAULT`` row of the welfare table; the inventory's cost is sunk (counted when it
was bought) and is reported beside the welfare, never inside it (:mod:`models.accounting`).
The inventory available is the Vault's budget for the mineral (:func:`~models.insurance_data.vault_budgets`,
the book's one $12 billion convention) at the reference price: :func:`vault_inventory`.

**Downstream.** The shortfall ``σ_r = max(0, D0_r − D_r)`` (annual rate) stops the Leontief share
``φ_r = min(1, σ_r / D0_r)`` of the value added that needs the mineral, ``VA_r = Σ_s v_s Y_sr``
(``data/downstream_exposure.csv``, :func:`models.downstream.value_added_at_risk`)::

    L_r = φ_r · VA_r · m / 12

beside the mineral market's surplus change over the same months (:func:`models.downstream.downstream_loss`).

Units: kt, USD/kg, USD million.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .calibration import Benchmark
from .curves import LinearCurve
from .downstream import downstream_loss, shortfall
from .equilibrium import EquilibriumModel
from .errors import ModelInputError
from .insurance_data import vault_budgets
from .market import Market
from .policies import ALL, ExportQuota
from .policies import Scenario
from .result import EquilibriumResult
from .scenario_file import load_scenario_file

#: The region id of a stockpile's release.
VAULT = "VAULT"
#: ``ε_V``: the release's supply price at zero, as a share of the benchmark price (see the module docstring).
VAULT_SLOPE_SHARE = 0.01
#: The longest control the annual model with short-run elasticities represents (months).
MAX_MONTHS = 12.0


def _number(name: str, value, allowed: str) -> float:
    if isinstance(value, bool):
        raise ModelInputError(name, value, allowed)
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ModelInputError(name, value, allowed) from None
    if not np.isfinite(out):
        raise ModelInputError(name, value, allowed)
    return out


@dataclass(frozen=True)
class ExportControl:
    """A control: ``origin`` cuts its exports of ``mineral`` to ``destinations`` by ``cut_share``
    of the benchmark flows for ``months`` months (``cut_share = 1`` is a ban).

    Parameters
    ----------
    origin : str
        Region id of the exporter that imposes the control, e.g. ``"CHN"``.
    destinations : tuple of str or ``"ALL"``
        Region ids it targets (``"ALL"``: every other region).
    mineral : str
        The mineral (dataset id, e.g. ``"ndpr"``); must match the benchmark's market.
    cut_share : float
        ``s`` in [0, 1]: the share of the benchmark exports to ``destinations`` cut.
    months : float
        ``m`` in (0, 12]: the control's duration.
    name : str
        A label for tables.
    """

    origin: str
    destinations: tuple[str, ...] | str
    mineral: str
    cut_share: float = 1.0
    months: float = 12.0
    name: str = ""

    def __post_init__(self):
        if not isinstance(self.origin, str) or not self.origin:
            raise ModelInputError("control.origin", self.origin, "a region id (a non-empty string)")
        dest = self.destinations
        if isinstance(dest, str):
            dest = ALL if dest == ALL else (dest,)
        else:
            try:
                dest = tuple(dest)
            except TypeError:
                raise ModelInputError("control.destinations", self.destinations,
                                      "'ALL' or a list of region ids") from None
            if not dest or not all(isinstance(d, str) and d for d in dest):
                raise ModelInputError("control.destinations", self.destinations, "'ALL' or a non-empty list of region ids")
            if self.origin in dest:
                raise ModelInputError("control.destinations", list(dest), f"regions other than the origin {self.origin!r}")
        object.__setattr__(self, "destinations", dest)
        if not isinstance(self.mineral, str) or not self.mineral:
            raise ModelInputError("control.mineral", self.mineral, "a mineral id (a non-empty string)")
        s = _number("control.cut_share", self.cut_share, "a share of the benchmark exports in [0, 1] (1 is a ban)")
        if not 0.0 <= s <= 1.0:
            raise ModelInputError("control.cut_share", self.cut_share, "a share of the benchmark exports in [0, 1] (1 is a ban)")
        object.__setattr__(self, "cut_share", s)
        allowed = (f"a duration in months in (0, {MAX_MONTHS:g}]; a longer control needs the year-by-year "
                   "model (models/dynamics.py)")
        m = _number("control.months", self.months, allowed)
        if not 0.0 < m <= MAX_MONTHS:
            raise ModelInputError("control.months", self.months, allowed)
        object.__setattr__(self, "months", m)
        if not self.name:
            where = "all destinations" if dest == ALL else "+".join(dest)
            kind = "ban" if s == 1.0 else f"{s:.0%} cut"
            object.__setattr__(self, "name", f"{self.origin} {kind} on {self.mineral} to {where}, {m:g} months")

    @property
    def scale(self) -> float:
        """``m / 12``: annual figures to figures over the control."""
        return self.months / 12.0


def vault_inventory(dataset, mineral: str) -> float:
    """The Vault's inventory of ``mineral`` (kt): its share of the $12 billion under the book's one
    convention (:func:`~models.insurance_data.vault_budgets`) at the reference price; 0 for a
    mineral the Vault does not name."""
    budgets = vault_budgets(dataset)
    if mineral not in dataset.mineral_ids:
        raise ModelInputError("mineral", mineral, f"one of {list(dataset.mineral_ids)}")
    if mineral not in budgets.index:
        return 0.0
    return float(budgets.loc[mineral, "budget_musd"]) / dataset.price(mineral, "reference")


def control_from_scenario(path, benchmark: Benchmark, dataset=None, months: float = 12.0) -> ExportControl:
    """The export control of a scenario file (``scenarios/``, read by
    :func:`~models.scenario_file.load_scenario_file`) that holds exactly one quota and nothing else.

    A quota of ``quantity`` kt becomes ``cut_share = 1 − min(1, quantity / X0_oJ)`` of the
    benchmark's exports ``X0_oJ`` to its destinations (0 kt is a ban). The file must ask for
    short-run elasticities (the duration convention of this module) and the benchmark's mineral.
    """
    spec = load_scenario_file(path)
    if spec.mineral != benchmark.market.mineral:
        raise ModelInputError(f"{spec.path}: mineral", spec.mineral, f"the benchmark's mineral {benchmark.market.mineral!r}")
    if spec.horizon != "short":
        raise ModelInputError(f"{spec.path}: elasticities.horizon", spec.horizon,
                              "'short': a control of months is solved with short-run elasticities")
    scenario = spec.scenario(Scenario(), dataset)
    others = [k for k in ("tariffs", "export_taxes", "subsidies", "floors") if getattr(scenario, k)]
    if len(scenario.quotas) != 1 or others or scenario.bloc is not None:
        raise ModelInputError(f"{spec.path}: policies", f"{len(scenario.quotas)} quotas and {others or 'no'} other policies",
                              "exactly one quota (the control) and no other policy")
    q = scenario.quotas[0]
    regions = list(benchmark.market.regions)
    if q.origin not in regions:
        raise ModelInputError(f"{spec.path}: policies.quotas[0].origin", q.origin, f"a region id among {regions}")
    dests = [r for r in regions if r != q.origin and (q.destinations == ALL or r in q.destinations)]
    x0 = float(benchmark.flows.loc[q.origin, dests].sum())
    share = 1.0 if x0 <= 0 else 1.0 - min(1.0, q.quantity / x0)
    return ExportControl(q.origin, q.destinations, spec.mineral, share, months, name=f"{spec.name}, {float(months):g} months")


@dataclass(frozen=True)
class ControlResult:
    """An export control solved against its benchmark, with or without a stockpile release.

    Every table is indexed by the market's regions (``VAULT``, the release, appears only in
    ``welfare``), except ``prices``: only regions that consume or produce in the benchmark (a
    region with neither has no market, and the dual there is not a price). Prices are rates during the control; quantities and money are over the control
    (annual × ``m/12``).

    Attributes
    ----------
    control : ExportControl
    release_kt : float
        The stockpile's release over the control (kt) into ``release_into``.
    release_into : str
    prices : pandas.DataFrame
        ``base_price``, ``price`` (consumer prices, USD/kg), ``change`` (USD/kg), ``change_pct``.
    quantities : pandas.DataFrame
        ``base_demand``, ``demand``, ``base_supply``, ``supply`` (kt a year), ``shortfall_kt``
        (kt over the control), ``shortfall_share`` (``φ_r``).
    welfare : pandas.DataFrame
        Welfare change by region and component over the control (USD million); row ``VAULT`` is
        the release's sales revenue.
    downstream : pandas.DataFrame
        ``value_added_at_risk_musd`` (a year), ``downstream_loss`` and ``market_welfare_change``
        (USD million over the control), by region.
    quota_rent : float
        The control's licence rent per kg (USD/kg, the quota's dual; 0 when it does not bind).
    baseline, controlled : EquilibriumResult
        The annual solutions without and with the control (and the release).
    """

    control: ExportControl
    release_kt: float
    release_into: str
    prices: pd.DataFrame
    quantities: pd.DataFrame
    welfare: pd.DataFrame
    downstream: pd.DataFrame
    quota_rent: float
    baseline: EquilibriumResult = field(repr=False)
    controlled: EquilibriumResult = field(repr=False)

    @property
    def totals(self) -> pd.Series:
        """World totals over the control: shortfall (kt), market welfare change and downstream loss
        (USD million), and the largest price change (%)."""
        w = self.welfare["total"]
        return pd.Series({"shortfall_kt": float(self.quantities["shortfall_kt"].sum()),
                          "market_welfare_change": float(w.sum()),
                          "downstream_loss": float(self.downstream["downstream_loss"].sum()),
                          "max_price_change_pct": float(self.prices["change_pct"].max()),
                          "release_kt": self.release_kt}, name=self.control.name)


class ExportControlModel:
    """Solve an export control on a calibrated market (see the module docstring for the equations).

    Parameters
    ----------
    benchmark : Benchmark
        The calibrated market; by the duration convention, short-run elasticities
        (``benchmark_from_dataset(ds, mineral, "short")``).
    control : ExportControl
    release_into : str, optional
        Where a stockpile's release enters (default: the control's first destination, or ``"USA"``,
        the Vault's location, for a control on all destinations).
    inventory_kt : float, optional
        The inventory a release may draw on (kt; default: unlimited). Use :func:`vault_inventory`.
    value_added_at_risk : pandas.Series, optional
        ``VA_r``, USD million a year by region (:func:`models.downstream.value_added_at_risk`);
        regions missing have none.
    diversion : bool
        ``True`` (default): other suppliers may redirect to the destinations; ``False``: they are
        held at their benchmark sales to the destinations (see the module docstring).
    solver : str
    """

    def __init__(self, benchmark: Benchmark, control: ExportControl, release_into: str | None = None,
                 inventory_kt: float | None = None, value_added_at_risk: pd.Series | None = None,
                 diversion: bool = True, solver: str = "CLARABEL"):
        if not isinstance(benchmark, Benchmark):
            raise ModelInputError("benchmark", type(benchmark).__name__, "a models.Benchmark")
        if not isinstance(control, ExportControl):
            raise ModelInputError("control", type(control).__name__, "a models.export_controls.ExportControl")
        market = benchmark.market
        regions = list(market.regions)
        if control.mineral != market.mineral:
            raise ModelInputError("control.mineral", control.mineral, f"the benchmark's mineral {market.mineral!r}")
        if control.origin not in regions:
            raise ModelInputError("control.origin", control.origin, f"a region id among {regions}")
        if control.destinations != ALL:
            bad = [d for d in control.destinations if d not in regions]
            if bad:
                raise ModelInputError("control.destinations", bad, f"region ids among {regions}")
        if release_into is None:
            release_into = "USA" if control.destinations == ALL else control.destinations[0]
        if release_into not in regions:
            raise ModelInputError("release_into", release_into, f"a region id among {regions}")
        self.benchmark, self.control, self.release_into, self.solver = benchmark, control, release_into, solver
        self.inventory_kt = None if inventory_kt is None else _number(
            "inventory_kt", inventory_kt, "a non-negative inventory in kt")
        if self.inventory_kt is not None and self.inventory_kt < 0:
            raise ModelInputError("inventory_kt", inventory_kt, "a non-negative inventory in kt")
        va = pd.Series(dtype=float) if value_added_at_risk is None else pd.Series(value_added_at_risk, dtype=float)
        unknown = [r for r in va.index if r not in regions]
        if unknown:
            raise ModelInputError("value_added_at_risk", unknown, f"region ids among {regions}")
        if va.isna().any() or (va < 0).any() or not np.all(np.isfinite(va.to_numpy())):
            raise ModelInputError("value_added_at_risk", va.to_dict(), "finite non-negative USD million a year")
        self.value_added_at_risk = va.reindex(regions).fillna(0.0)
        flows = benchmark.flows.loc[regions, regions].to_numpy(dtype=float)
        o = regions.index(control.origin)
        dests = [j for j, r in enumerate(regions) if r != control.origin
                 and (control.destinations == ALL or r in control.destinations)]
        #: ``X0_oJ``, the benchmark exports the control acts on (kt a year)
        self.base_exports = float(flows[o, dests].sum())
        self.quota_kt = (1.0 - control.cut_share) * self.base_exports
        if not isinstance(diversion, bool):
            raise ModelInputError("diversion", diversion, "True or False")
        self.diversion = diversion
        #: benchmark sales of every other origin to the destinations (kt a year), held when ``diversion=False``
        self.other_exports = {r: float(flows[i, dests].sum()) for i, r in enumerate(regions)
                              if r != control.origin and benchmark.market.supply_curve(r) is not None}
        self.market = self._with_vault(market)
        self._baseline = None

    # ------------------------------------------------------------------ set-up
    def _with_vault(self, market: Market) -> Market:
        regions = list(market.regions) + [VAULT]
        t = market.transport_cost.copy()
        t.loc[VAULT] = t.loc[self.release_into]
        t[VAULT] = t[self.release_into]
        t.loc[VAULT, self.release_into] = t.loc[self.release_into, VAULT] = t.loc[VAULT, VAULT] = 0.0
        p0 = float(self.benchmark.prices[self.release_into])
        eps = VAULT_SLOPE_SHARE * p0
        supply = dict(market.supply)
        supply[VAULT] = LinearCurve("supply", eps, eps / float(self.benchmark.consumption.sum()))
        return Market(market.mineral, tuple(regions), dict(market.demand), supply,
                      t.loc[regions, regions], label=market.label)

    def _scenario(self, controlled: bool, release_rate: float):
        others = tuple(r for r in self.market.regions if r not in (VAULT, self.release_into))
        quotas = [ExportQuota(VAULT, (self.release_into,), release_rate), ExportQuota(VAULT, others, 0.0)]
        if controlled and self.control.cut_share > 0:
            quotas.append(ExportQuota(self.control.origin, self.control.destinations, self.quota_kt))
            if not self.diversion:
                quotas += [ExportQuota(r, self.control.destinations, x) for r, x in self.other_exports.items()]
        return self.benchmark.base_scenario.extend(name=self.control.name if controlled else "benchmark",
                                                   quotas=tuple(quotas))

    def _solve(self, controlled: bool, release_rate: float) -> EquilibriumResult:
        prices = self.benchmark.prices.copy()
        prices[VAULT] = prices[self.release_into]
        model = EquilibriumModel(self.market, self._scenario(controlled, release_rate),
                                 benchmark_prices=prices, solver=self.solver)
        return model.solve()

    @property
    def baseline(self) -> EquilibriumResult:
        """The benchmark on the same market (``VAULT`` present, releasing nothing)."""
        if self._baseline is None:
            self._baseline = self._solve(False, 0.0)
        return self._baseline

    # ------------------------------------------------------------------ solve
    def solve(self, release_kt: float = 0.0) -> ControlResult:
        """Solve the control with a release of ``release_kt`` kt over its months into ``release_into``."""
        allowed = "a non-negative release in kt over the control" + (
            "" if self.inventory_kt is None else f", at most the inventory of {self.inventory_kt:.4g} kt")
        r = _number("release_kt", release_kt, allowed)
        if r < 0 or (self.inventory_kt is not None and r > self.inventory_kt * (1 + 1e-12)):
            raise ModelInputError("release_kt", release_kt, allowed)
        scale = self.control.scale
        base = self.baseline
        res = self._solve(True, r / scale)
        regions = list(self.benchmark.market.regions)
        # a region with neither demand nor supply has no market: its dual is not a price
        traded = [r for r in regions if self.benchmark.consumption[r] > 0 or self.benchmark.production[r] > 0]
        p0 = base.regions.loc[traded, "consumer_price"].astype(float)
        p1 = res.regions.loc[traded, "consumer_price"].astype(float)
        prices = pd.DataFrame({"base_price": p0, "price": p1, "change": p1 - p0,
                               "change_pct": 100.0 * (p1 - p0) / p0})
        sigma = shortfall(res, base).loc[regions]
        d0 = base.regions.loc[regions, "demand"].astype(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            phi = pd.Series(np.where(d0 > 0, np.minimum(1.0, sigma / d0.where(d0 > 0, 1.0)), 0.0), index=regions)
        quantities = pd.DataFrame({
            "base_demand": d0, "demand": res.regions.loc[regions, "demand"].astype(float),
            "base_supply": base.regions.loc[regions, "supply"].astype(float),
            "supply": res.regions.loc[regions, "supply"].astype(float),
            "shortfall_kt": sigma * scale, "shortfall_share": phi})
        welfare = res.welfare_change(base) * scale
        loss = downstream_loss(sigma, d0, self.value_added_at_risk.loc[regions], 1.0, self.control.months)
        downstream = pd.DataFrame({"value_added_at_risk_musd": self.value_added_at_risk.loc[regions],
                                   "shortfall_share": phi, "downstream_loss": loss,
                                   "market_welfare_change": welfare.loc[regions, "total"]})
        # the control's quota comes after the two VAULT quotas; no quota when nothing is cut
        rent = float(res.quota_rents["rent"].iloc[2]) if len(res.quota_rents) > 2 else 0.0
        return ControlResult(self.control, r, self.release_into, prices, quantities, welfare, downstream,
                             rent, base, res)

    def cushion(self, releases) -> pd.DataFrame:
        """The control re-solved for each release in ``releases`` (kt over the control): one row per
        release with the price at ``release_into`` (USD/kg), its shortfall (kt over the control),
        the world market welfare change and the downstream loss (USD million over the control)."""
        rows = []
        for r in releases:
            out = self.solve(r)
            rows.append({"release_kt": out.release_kt,
                         "price": float(out.prices.loc[self.release_into, "price"]),
                         "shortfall_kt": float(out.quantities.loc[self.release_into, "shortfall_kt"]),
                         "market_welfare_change": float(out.welfare["total"].sum()),
                         "downstream_loss": float(out.downstream["downstream_loss"].sum())})
        return pd.DataFrame(rows).set_index("release_kt")
