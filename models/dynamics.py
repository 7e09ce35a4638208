"""A recursive-dynamic path: one equilibrium a year, capacity that follows expected prices.

Year ``t`` is the book's spatial equilibrium (``models.equilibrium``) of the calibrated base year,
moved by four state variables that the previous years set:

* **new capacity** ``K_{b,t}`` of each block ``b`` (a named project, a host region's entrants, or a
  block a government funds), a pseudo-region beside its host with the host's trade costs, a
  linear supply ``P = c_{op,t} + δ c_0 S / K`` capped at ``K`` (an export quota on the block), so
  it runs at full capacity once the price covers its operating cost;
* **entrants' cost** by Wright's law, ``c_t = c_0 (X_t / X_0)^{−β}``, ``β = −log₂(1 − LR)``,
  ``X_t`` the cumulative output of new producers (:func:`wright_cost`);
* **substitution and thrifting** ``z_{r,t}``, the share of region ``r``'s use designed out, moving
  towards ``z* = min(z_max, η ln⁺(P_{r,t−1}/P_{r,0}))`` at speed ``s`` (and decaying slowly when
  prices fall): demand becomes ``D_{r,t}(P) = g_t (1 − z_{r,t}) D_{r,0}(P)`` with growth ``g_t``;
* **recycling** from end-of-life stocks: ``R_{r,t} = ρ E_{r,t} − ρ E_{r,0}`` with ``E_{r,t}`` the
  use of ``L`` years before (a fixed product lifetime; use grew at the path's growth rate before
  the base year), which lowers the demand for primary material (recycling at the base rate is
  already in the base year, so only its growth moves the path).

Investment: each year entrants in host ``h`` start ``I_{h,t} = α D_0 w_h min(2, (R^e_{h,t}/c_t − 1)^+)``
kt a year of capacity (:func:`investment_starts`), arriving after the lead time; ``R^e`` is the
adaptive expectation ``E_t = ω P_t + (1 − ω) E_{t−1}`` of the host's price, plus the value of a
floor's put when a CfD covers entrants. With no growth, no shock and no policy, nothing moves
and every year replicates the base year (tested).

The path is for one stage (NdPr oxide); every state variable is keyed by block or region, so a
stage index can be added to both when the value chain lands.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from .curves import LinearCurve
from .equilibrium import EquilibriumModel
from .errors import ModelInputError
from .market import Market
from .policies import ExportQuota
from .price_risk import lognormal_put
from .time_data import parameters as data_parameters


def wright_cost(c0, cumulative, initial, learning_rate):
    """Wright's law: ``c = c₀ (X / X₀)^{−β}``, ``β = −log₂(1 − LR)``; each doubling of ``X`` cuts ``c`` by ``LR``."""
    if not 0 <= learning_rate < 1:
        raise ModelInputError("learning_rate", learning_rate, "a share in [0, 1)")
    beta = -np.log2(1.0 - learning_rate)
    return c0 * (np.asarray(cumulative, float) / initial) ** (-beta)


def capacity_path(starts, lead_time: int) -> np.ndarray:
    """Operating capacity when starts arrive after a fixed lead time: ``K_t = Σ_{s ≤ t − L} I_s``."""
    starts = np.asarray(starts, float)
    out = np.zeros_like(starts)
    if lead_time < len(starts):
        out[lead_time:] = np.cumsum(starts)[: len(starts) - lead_time]
    return out


def investment_starts(expected_revenue, full_cost, response, world_use, share):
    """New capacity started (kt/yr): ``I = α D₀ w min(2, (R^e / c − 1)^+)``."""
    margin = np.clip(np.asarray(expected_revenue, float) / full_cost - 1.0, 0.0, 2.0)
    return response * world_use * share * margin


@dataclass
class Block:
    """New capacity beside a host region: a named project, entrants, or a funded block.

    ``capacity`` maps year -> kt/yr added that year (cumulated); ``full_cost`` is its unit full cost
    at the start (USD/kg); ``learns`` applies Wright's law; ``operating_cost`` overrides the
    operating share of the (learning) full cost (e.g. a subsidised recycling block).
    """

    name: str
    host: str
    capacity: dict = field(default_factory=dict)
    full_cost: float = 110.0
    learns: bool = True
    operating_cost: float | None = None
    kind: str = "entrant"

    def capacity_in(self, year: int) -> float:
        return float(sum(v for y, v in self.capacity.items() if y <= year))


@dataclass(frozen=True)
class Restriction:
    """China's exports to ``destinations`` cut by ``share`` of their base-year flow for ``years`` from ``start``.

    ``destinations="ALL"`` (the default) is every other region of the base data: a cut aimed at a few
    buyers alone is undone by re-routing (others buy more from China and sell theirs on).
    """

    start: int
    years: int
    share: float
    destinations: tuple[str, ...] | str = "ALL"

    def __post_init__(self):
        if not 0 <= self.share <= 1 or self.years < 0:
            raise ModelInputError("restriction", (self.share, self.years), "a share in [0, 1] and years >= 0")

    def active(self, year: int) -> bool:
        return self.start <= year < self.start + self.years


@dataclass(frozen=True)
class PathSettings:
    """Everything a path needs besides the benchmark; :meth:`from_data` reads the CSV values."""

    start_year: int = 2025
    end_year: int = 2040
    demand_growth: float = 0.0
    learning_rate: float = 0.15
    initial_experience: float = 40.0
    entrant_full_cost: float = 110.0
    china_cost: float = 60.0
    operating_cost_share: float = 0.55
    investment_response: float = 0.02
    expectation_weight: float = 0.5
    lead_time: int = 4
    substitution_speed: float = 0.5
    substitution_per_log_price: float = 0.087
    substitution_max: float = 0.3
    substitution_decay: float = 0.05
    magnet_lifetime: int = 12
    recycling_rate_base: float = 0.01
    recycling_cost: float = 40.0
    band: float = 0.05
    hosts: dict = field(default_factory=lambda: {"USA": 0.3, "AUS": 0.3, "CAN": 0.1, "EU": 0.2, "SEA": 0.1})
    members: tuple[str, ...] = ("USA", "EU", "JPN")
    entrant_floor: float | None = None
    price_sd: float = 0.5
    growth_until: int | None = None

    def growth(self, year: int) -> float:
        """``g_t = (1 + γ)^{min(t, t_γ) − t₀}``: demand relative to the base year (flat after ``growth_until``)."""
        last = year if self.growth_until is None else min(year, self.growth_until)
        return (1.0 + self.demand_growth) ** (last - self.start_year)

    @classmethod
    def from_data(cls, which: str = "central", **overrides) -> "PathSettings":
        p = data_parameters(which)
        keys = ["demand_growth", "learning_rate", "initial_experience", "entrant_full_cost", "china_cost",
                "operating_cost_share", "investment_response", "expectation_weight", "substitution_speed",
                "substitution_per_log_price", "substitution_max", "substitution_decay", "recycling_rate_base",
                "recycling_cost"]
        values = {k: p[k] for k in keys}
        values["lead_time"] = int(round(p["lead_time_separation"]))
        values["magnet_lifetime"] = int(round(p["magnet_lifetime"]))
        values.update(overrides)
        return cls(**values)


class DynamicPath:
    """Year-by-year equilibria of one mineral (one stage) from a calibrated :class:`Benchmark`.

    Parameters
    ----------
    benchmark : models.calibration.Benchmark
        Linear curves (the path shifts and scales them).
    settings : PathSettings
    blocks : list of Block
        Exogenous new capacity (named projects, funded blocks); entrants are added endogenously.
    restriction : Restriction, optional
    """

    def __init__(self, benchmark, settings: PathSettings, blocks=(), restriction: Restriction | None = None):
        if benchmark.market.curve_family != "linear":
            raise ModelInputError("benchmark", "isoelastic", "a benchmark with linear curves")
        self.bench, self.s, self.restriction = benchmark, settings, restriction
        self.blocks = list(blocks)
        self.regions = list(benchmark.market.regions)
        for b in self.blocks:
            if b.host not in self.regions:
                raise ModelInputError(f"block {b.name}.host", b.host, f"a region among {self.regions}")
        self.years = list(range(settings.start_year, settings.end_year + 1))
        self.base_flows_to = benchmark.flows
        self._t0 = benchmark.market.transport_cost.loc[self.regions, self.regions].to_numpy(float)

    # ------------------------------------------------------------------ one year
    def _market(self, year, z, recycled, blocks_now, cost_index):
        """The year's market: scaled, substituted demand net of recycling, and blocks as pseudo-regions.

        Demand for primary material ``P = a + b' (D + R_r)``, ``b' = b / (g_t (1 − z_r))``; a block
        ``P = c_op + δ c₀ S / K`` capped at ``K`` by an export quota; a block trades at its host's costs.
        """
        m, s = self.bench.market, self.s
        g = s.growth(year)
        demand = {}
        for r, c in m.demand.items():
            if c is not None:
                slope = c.slope / (g * (1.0 - z[r]))
                demand[r] = LinearCurve("demand", c.intercept + slope * recycled.get(r, 0.0), slope)
        supply = dict(m.supply)
        names, hosts, caps = [], [], []
        for b, k in blocks_now:
            if k <= 1e-9:
                continue
            c_full = b.full_cost * (cost_index if b.learns else 1.0)
            c_op = b.operating_cost if b.operating_cost is not None else s.operating_cost_share * c_full
            supply[b.name] = LinearCurve("supply", c_op, s.band * b.full_cost / k)
            names.append(b.name), hosts.append(b.host), caps.append(k)
        regions = self.regions + names
        idx = [self.regions.index(h) for h in self.regions + hosts]
        t = self._t0[np.ix_(idx, idx)].copy()
        n0 = len(self.regions)
        for i, h in enumerate(hosts):
            t[n0 + i, self.regions.index(h)] = t[self.regions.index(h), n0 + i] = 0.0
            t[n0 + i, n0 + i] = 0.0
        market = Market(m.mineral, regions, demand, supply, pd.DataFrame(t, index=regions, columns=regions))
        quotas = [ExportQuota(n, "ALL", k) for n, k in zip(names, caps)]
        if self.restriction is not None and self.restriction.active(year):
            dest = self.restriction.destinations
            dest = tuple(r for r in self.regions if r != "CHN") if dest == "ALL" else tuple(dest)
            base = float(self.base_flows_to.loc["CHN", list(dest)].sum())
            quotas.append(ExportQuota("CHN", dest, (1 - self.restriction.share) * base))
        scenario = self.bench.base_scenario.extend(quotas=tuple(quotas))
        return market, scenario, dict(zip(names, hosts))

    # ------------------------------------------------------------------ the path
    def run(self) -> "PathResult":
        s, bench = self.s, self.bench
        start = time.perf_counter()
        base = EquilibriumModel(bench.market, bench.base_scenario).solve().regions
        p0 = base["consumer_price"]
        d0 = bench.consumption
        world_use = float(d0.sum())
        z = {r: 0.0 for r in self.regions}
        expected = {h: float(base.loc[h, "producer_price"]) for h in s.hosts}
        entrants = {h: Block(f"{h}+entrants", h, {}, s.entrant_full_cost, kind="entrant") for h in s.hosts}
        cumulative = s.initial_experience
        rows, totals = [], []
        started = {}
        lag = s.magnet_lifetime
        for year in self.years:
            cost_index = (cumulative / s.initial_experience) ** np.log2(1.0 - s.learning_rate)
            # end-of-life stock: use L years ago, on the growth path before the base year
            recycled = {r: max(0.0, s.recycling_rate_base * d0[r] * (s.growth(year - lag) - s.growth(s.start_year - lag)))
                        for r in self.regions if d0[r] > 0}
            blocks_now = [(b, b.capacity_in(year)) for b in [*self.blocks, *entrants.values()]]
            market, scenario, host_of = self._market(year, z, recycled, blocks_now, cost_index)
            result = EquilibriumModel(market, scenario).solve()
            reg, wel, flows = result.regions, result.welfare, result.flows
            supply_by_host = reg["supply"].rename(index=lambda n: host_of.get(n, n)).groupby(level=0).sum()
            welfare_by_host = wel["total"].rename(index=lambda n: host_of.get(n, n)).groupby(level=0).sum()
            new_output = float(sum(reg.loc[n, "supply"] for n in host_of
                                   if n.endswith("+entrants") or any(b.name == n and b.learns for b in self.blocks)))
            for r in self.regions:
                rows.append({"year": year, "region": r, "consumer_price": reg.loc[r, "consumer_price"],
                             "producer_price": reg.loc[r, "producer_price"], "demand": reg.loc[r, "demand"],
                             "supply": supply_by_host.get(r, 0.0), "from_china": flows.loc["CHN", r],
                             "welfare": welfare_by_host.get(r, 0.0), "substitution": z[r]})
            mem = list(s.members)
            use = float(reg.loc[mem, "demand"].sum())
            from_china = float(flows.loc["CHN", mem].sum())
            own = float(supply_by_host.reindex(mem).fillna(0).sum())
            totals.append({"year": year, "entrant_full_cost": s.entrant_full_cost * cost_index,
                           "cumulative_new_output": cumulative, "new_output": new_output,
                           "entrant_capacity": sum(b.capacity_in(year) for b in entrants.values()),
                           "block_capacity": sum(k for b, k in blocks_now),
                           "recycling": float(sum(recycled.values())),
                           "members_use": use, "members_from_china": from_china, "members_own_supply": own,
                           "not_from_china_share": 1 - from_china / use if use > 0 else np.nan,
                           "self_sufficiency": own / use if use > 0 else np.nan,
                           "members_welfare": float(welfare_by_host.reindex(mem).fillna(0).sum()),
                           "china_welfare": float(welfare_by_host.get("CHN", 0.0)),
                           "world_welfare": float(welfare_by_host.sum()),
                           "members_price": float((reg.loc[mem, "consumer_price"] * reg.loc[mem, "demand"]).sum() / use)})
            # ---- state updates for next year
            cumulative += new_output
            c_next = s.entrant_full_cost * (cumulative / s.initial_experience) ** np.log2(1.0 - s.learning_rate)
            for h, w in s.hosts.items():
                expected[h] = s.expectation_weight * float(reg.loc[h, "producer_price"]) + \
                    (1 - s.expectation_weight) * expected[h]
                revenue = expected[h]
                if s.entrant_floor is not None and h in s.members:
                    revenue += lognormal_put(np.log(expected[h]) - 0.5 * s.price_sd ** 2, s.price_sd, s.entrant_floor)
                start_kt = float(investment_starts(revenue, c_next, s.investment_response, world_use, w))
                started[year] = started.get(year, 0.0) + start_kt
                if start_kt > 0:
                    cap = dict(entrants[h].capacity)
                    cap[year + s.lead_time] = cap.get(year + s.lead_time, 0.0) + start_kt
                    entrants[h].capacity = cap
            for r in self.regions:
                if d0[r] <= 0:
                    continue
                ratio = float(reg.loc[r, "consumer_price"]) / float(p0[r])
                target = min(s.substitution_max, s.substitution_per_log_price * max(0.0, np.log(ratio)))
                if target > z[r]:
                    z[r] += s.substitution_speed * (target - z[r])
                else:
                    z[r] = max(target, z[r] * (1 - s.substitution_decay))
        totals = pd.DataFrame(totals).set_index("year")
        totals["entrant_starts"] = pd.Series(started).reindex(totals.index).fillna(0.0)
        return PathResult(pd.DataFrame(rows), totals,
                          time.perf_counter() - start, s)


@dataclass
class PathResult:
    """A path: ``regions`` (one row per year and region), ``totals`` (one row per year), wall time (s)."""

    regions: pd.DataFrame
    totals: pd.DataFrame
    wall_time: float
    settings: PathSettings

    def pivot(self, field: str) -> pd.DataFrame:
        return self.regions.pivot(index="year", columns="region", values=field)

    def first_year(self, column: str, threshold: float, lasting: bool = True, after: int | None = None) -> float:
        """First year in which ``totals[column] >= threshold`` (``nan`` if never in the horizon).

        ``lasting=True``: the first year from which it stays there to the end of the horizon;
        ``after``: only years from then on count (e.g. the end of a restriction, during which China's
        own cut lifts the share of members' use that does not come from China).
        """
        ok = (self.totals[column] >= threshold - 1e-12).to_numpy()
        if after is not None:
            ok = ok & (self.totals.index.to_numpy() >= after)
        if lasting:
            ok = np.flip(np.logical_and.accumulate(np.flip(ok)))
        hit = self.totals.index[ok]
        return float(hit[0]) if len(hit) else float("nan")

    def parity_year(self) -> float:
        """First year in which entrants' full cost is at or below China's cost (``nan`` if never)."""
        hit = self.totals.index[self.totals["entrant_full_cost"] <= self.settings.china_cost]
        return float(hit[0]) if len(hit) else float("nan")


def project_blocks(table: pd.DataFrame, stages=("separation", "deep_sea"), start_after: int = 2025) -> list[Block]:
    """Named projects of ``time_projects.csv`` as blocks (only stages the one-stage market holds,
    and only those starting after ``start_after``: earlier ones are in the base year)."""
    out = []
    for name, row in table.iterrows():
        if row["stage"] in stages and int(row["start_year"]) > start_after:
            out.append(Block(name, row["host"], {int(row["start_year"]): float(row["capacity_kt_ndpr"])},
                             float(row["full_cost_usd_per_kg"]), kind=row["stage"]))
    return out
