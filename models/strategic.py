"""A strategic supplier: China as a leader with a competitive fringe and entrants (MODEL.md §4).

The leader ``L`` (China) chooses one number, its **export instrument** ``e`` (USD/kg): a change
in the wedge on every one of its export routes against the benchmark. ``e > 0`` is an export tax
on top of the base wedge, ``e < 0`` lowers the wedge and, below ``−wedge``, is an export subsidy
("flooding"). Everyone else (the fringe: other producers, consumers, the bloc's instrument) is the
competitive equilibrium of :class:`~models.equilibrium.EquilibriumModel` given ``e``. The
leader's payoff is its own welfare, read from ``EquilibriumResult.welfare``::

    W_L(e) = CS_L + PS_L + G_L,      G_L = Σ_j (w_base + e) x_Lj   (export revenue; < 0 a subsidy)

**One built problem.** The instrument is a parameter of one built programme: the scenario gets
an extra export tax ``H`` (the ``headroom``, the largest ``e`` allowed) on all of ``L``'s
exports, and each solve sets the public override ``export_discounts = {(L, j): H − e}``, so the
wedge on ``L → j`` is ``w_base + H − (H − e) = w_base + e`` with a non-negative discount.

**Entrants.** A project ``k`` (``data/entrants.csv``) is a region of its own beside its host,
with the host's trade costs, an inverse supply ``c_k + S/K_k`` (USD/kg; ``c_k`` the operating
cost: flat up to capacity) and an export quota ``K_k`` (its capacity; the quota's rent is its
capacity rent). Unbuilt, its routes are barred (``banned_routes``). It builds when the
operating profit it earns *with* its own capacity in the market covers its annualised capital::

    π_k = PS_k + ρ_k K_k − a·I_k ≥ 0,      a = r / (1 − (1 + r)^−T)

(``I_k`` capital cost, ``r`` discount rate, ``T`` life): the prices it expects are the ones
its entry makes. Entry is decided after the leader moves (the leader anticipates it).

**Re-solves.** Every solve re-solves the one built programme through the Clarabel fast path
(:mod:`models.fastpath`): its solver is set up once, at the build's data, and each solve
replaces its data whole (``pin``/``rewind``), so a solve's answer does not depend on the order of
the solves before it (a grid, a refinement, a Monte Carlo draw); where the fast path does not
apply (another solver, constant-elasticity curves) each solve goes through cvxpy.

**Best responses** are found on a grid of ``e`` and checked by a bounded scalar search in the two
cells around the grid's best; :class:`BestResponse` reports the grid step and the payoff the grid
gives up (the honest error), and :func:`brute_force_payoffs` re-builds a fresh model at each
point to verify the parametric re-solves.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import minimize_scalar

from .curves import LinearCurve
from .equilibrium import EquilibriumModel
from .csvfile import read_rows
from .errors import DataValidationError, ModelInputError
from .fastpath import pin, rewind
from .market import Market
from .policies import ALL, Bloc, ExportQuota, ExportTax, Scenario

ENTRANTS = Path(__file__).resolve().parents[1] / "data" / "entrants.csv"
_FIELDS = {"capex_musd": "pos", "capacity_kt": "pos", "opex_usd_per_kg": "nonneg"}


@dataclass(frozen=True)
class Entrant:
    """A project outside the leader that builds only if it covers its costs.

    Attributes
    ----------
    project : str
        Its id, e.g. ``"iluka_eneabba"``; its model region is ``"E:" + project``.
    host : str
        The region it sits in (its trade costs and bloc membership are the host's).
    capacity : float
        kt a year.
    capex : float
        Capital cost, USD million.
    opex : float
        Operating cost, USD/kg.
    """

    project: str
    host: str
    capacity: float
    capex: float
    opex: float

    @property
    def region(self) -> str:
        return "E:" + self.project

    def annual_capital(self, rate: float, life: float) -> float:
        """``a·I``: the capital cost as an annuity, USD million a year (``a = r / (1 − (1+r)^−T)``)."""
        return self.capex * rate / (1.0 - (1.0 + rate) ** (-life))

    def full_cost(self, rate: float, life: float) -> float:
        """Operating cost plus annualised capital per unit at capacity, USD/kg."""
        return self.opex + self.annual_capital(rate, life) / self.capacity


def load_entrants(mineral: str, path: str | Path | None = None, regions=None) -> tuple[Entrant, ...]:
    """The projects of ``mineral`` in ``data/entrants.csv`` (long format: one number per row).

    Columns ``mineral, project, region, field, value, source``; ``field`` one of ``capex_musd``,
    ``capacity_kt``, ``opex_usd_per_kg``; every row has a source (a citation with a year or
    ``assumption: <reason>``). Errors name the file, the CSV line and the column.
    """
    path = Path(path or ENTRANTS)
    name = path.stem
    need = ["mineral", "project", "region", "field", "value", "source"]
    values: dict[tuple[str, str], dict] = {}
    for line, row in read_rows(path, need):
        src = row["source"]
        if not (src.startswith("assumption: ") and len(src) > 12) and not any(
                str(y) in src for y in range(1990, 2031)):
            raise DataValidationError(name, line, "source", f"{src!r}: 'assumption: <reason>' or a citation with a year")
        if row["field"] not in _FIELDS:
            raise DataValidationError(name, line, "field", f"{row['field']!r}: not one of {list(_FIELDS)}")
        try:
            v = float(row["value"])
        except ValueError:
            raise DataValidationError(name, line, "value", f"{row['value']!r}: not a number") from None
        if not np.isfinite(v) or v < 0 or (_FIELDS[row["field"]] == "pos" and v == 0):
            raise DataValidationError(name, line, "value", f"{v}: must be {_FIELDS[row['field']]}")
        if regions is not None and row["region"] not in regions:
            raise DataValidationError(name, line, "region", f"{row['region']!r}: unknown region")
        key = (row["mineral"], row["project"])
        entry = values.setdefault(key, {"host": row["region"], "line": line})
        if entry["host"] != row["region"]:
            raise DataValidationError(name, line, "region", f"project {key[1]} has two regions")
        if row["field"] in entry:
            raise DataValidationError(name, line, "field", f"duplicate {row['field']} for {key[1]}")
        entry[row["field"]] = v
    out = []
    for (min_, project), entry in values.items():
        if min_ != mineral:
            continue
        missing = [f for f in _FIELDS if f not in entry]
        if missing:
            raise DataValidationError(name, entry["line"], "field", f"project {project} lacks {missing}")
        out.append(Entrant(project, entry["host"], entry["capacity_kt"], entry["capex_musd"],
                           entry["opex_usd_per_kg"]))
    return tuple(out)


@dataclass
class Outcome:
    """The market after the leader's move ``instrument`` and the entrants' decisions."""

    instrument: float
    built: tuple[str, ...]
    result: object                  # EquilibriumResult
    leader_welfare: float           # USD million a year
    entrant_profit: dict            # project -> π_k (USD million a year, capital included)


@dataclass
class BestResponse:
    """The leader's best response on a grid, and what the grid gives up.

    ``payoff`` is the leader's welfare at each grid point; ``best`` the grid's argmax;
    ``refined`` the argmax of a bounded scalar search within one step either side of it;
    ``grid_error`` = payoff(refined) − payoff(best) ≥ 0, the welfare the grid leaves on the
    table (USD million a year), and ``step / 2`` the most the grid's instrument can be off
    where the payoff is single-peaked.
    """

    grid: np.ndarray
    payoff: np.ndarray
    built: list
    best: float
    best_payoff: float
    refined: float
    refined_payoff: float
    step: float
    wall_time: float
    solves: int

    @property
    def at_edge(self) -> bool:
        """The best lies on the grid's first or last point: widen the grid before trusting it."""
        return bool(self.refined <= self.grid[0] + 1e-9 or self.refined >= self.grid[-1] - 1e-9)

    @property
    def grid_error(self) -> float:
        return max(0.0, self.refined_payoff - self.best_payoff)

    def table(self) -> pd.DataFrame:
        return pd.DataFrame({"instrument": self.grid, "leader_welfare": self.payoff,
                             "built": [", ".join(b) for b in self.built]})


class StrategicMarket:
    """A leader's export instrument and entrants' decisions on one built equilibrium model.

    Parameters
    ----------
    benchmark : models.calibration.Benchmark
        The calibrated market (its base scenario holds the base export wedge).
    scenario : Scenario, optional
        The bloc's policies on top of the benchmark's (default: the base scenario).
    leader : str
        The strategic supplier's region (default ``"CHN"``).
    entrants : sequence of Entrant
        Projects that may build (see the module docstring).
    headroom : float
        The largest export-tax change ``e`` the leader may choose (USD/kg).
    rate, life : float
        Discount rate and plant life (years) that annualise an entrant's capital.
    """

    def __init__(self, benchmark, scenario: Scenario | None = None, leader: str = "CHN",
                 entrants=(), headroom: float = 200.0, rate: float = 0.08, life: float = 20.0,
                 solver: str = "CLARABEL"):
        market = benchmark.market
        if leader not in market.regions:
            raise ModelInputError("leader", leader, f"one of {list(market.regions)}")
        if not np.isfinite(headroom) or headroom <= 0:
            raise ModelInputError("headroom", headroom, "a positive export-tax change (USD/kg)")
        self.benchmark, self.leader, self.headroom = benchmark, leader, float(headroom)
        self.rate, self.life = float(rate), float(life)
        self.entrants = tuple(entrants)
        for e in self.entrants:
            if e.host not in market.regions:
                raise ModelInputError(f"entrant {e.project}.host", e.host, f"one of {list(market.regions)}")
        base = scenario if scenario is not None else benchmark.base_scenario
        self.market = self._with_entrants(market)
        extra = dict(export_taxes=(ExportTax(leader, self.headroom),))
        if self.entrants:
            extra["quotas"] = tuple(ExportQuota(e.region, ALL, e.capacity) for e in self.entrants)
        if base.bloc is not None:
            extra["bloc"] = Bloc(self.members_with_entrants(base.bloc.members), base.bloc.external_tariff)
        self.scenario = base.extend(**extra)
        prices = benchmark.prices.copy()
        for e in self.entrants:
            prices[e.region] = prices[e.host]
        self.model = EquilibriumModel(self.market, self.scenario, benchmark_prices=prices,
                                      solver=solver, parametric_routes=bool(self.entrants))
        pin(self.model)
        self.arcs = [(leader, j) for j in self.market.regions if j != leader]
        #: the leader's base export wedge (USD/kg): ``w_base + e < 0`` is an export subsidy
        self.base_wedge = self.built_wedge = float(benchmark.export_wedge.get(leader, 0.0))

    def set_benchmark(self, benchmark) -> None:
        """Put ``benchmark`` (the built one :meth:`~models.calibration.Benchmark.recalibrated`: new
        curves, a base wedge ``w ≤`` the built ``w_0``) into the built model, no rebuild. The
        instrument then moves the new wedge: each arc's discount is ``H − e + (w_0 − w)``."""
        wedge = float(benchmark.export_wedge.get(self.leader, 0.0))
        if not 0.0 <= wedge <= self.built_wedge + 1e-9:
            raise ModelInputError("benchmark.export_wedge", wedge, f"a wedge between 0 and the built {self.built_wedge:g}")
        self.market = self._with_entrants(benchmark.market)
        prices = benchmark.prices.copy()
        for e in self.entrants:
            prices[e.region] = prices[e.host]
        self.model.set_market(self.market, benchmark_prices=prices)
        self.benchmark, self.base_wedge = benchmark, wedge

    # ------------------------------------------------------------------ set-up
    def _with_entrants(self, market: Market) -> Market:
        if not self.entrants:
            return market
        regions = list(market.regions) + [e.region for e in self.entrants]
        t = market.transport_cost.copy()
        for e in self.entrants:
            t.loc[e.region] = t.loc[e.host]
            t[e.region] = t[e.host]
        for e in self.entrants:             # entrant ↔ host at no cost, entrant ↔ entrant as hosts
            t.loc[e.region, e.host] = t.loc[e.host, e.region] = 0.0
            t.loc[e.region, e.region] = 0.0
        t = t.loc[regions, regions]
        supply = dict(market.supply)
        for e in self.entrants:
            # c_k + S / K_k: flat at the operating cost (1 USD/kg across the capacity), capped by the quota
            supply[e.region] = LinearCurve("supply", e.opex, 1.0 / e.capacity)
        return Market(market.mineral, tuple(regions), dict(market.demand), supply, t, label=market.label)

    def members_with_entrants(self, members) -> tuple[str, ...]:
        """A roster plus the entrants hosted by its members."""
        members = tuple(members)
        return members + tuple(e.region for e in self.entrants if e.host in members)

    # ------------------------------------------------------------------ solve
    def solve(self, instrument: float, built=(), **updates):
        """Solve with the leader's instrument ``e`` (USD/kg) and the entrants in ``built``.

        ``updates`` are the model's public overrides (``floor_level``, ``budget``, ``members``
        (a roster of the original regions; entrants hosted by members are added), ...).
        """
        e = float(instrument)
        if not np.isfinite(e) or e > self.headroom:
            raise ModelInputError("instrument", instrument, f"a finite change ≤ the headroom {self.headroom}")
        if "members" in updates and updates["members"] is not None:
            updates["members"] = self.members_with_entrants(updates["members"])
        updates["export_discounts"] = {arc: self.headroom - e + self.built_wedge - self.base_wedge for arc in self.arcs}
        if self.entrants:
            others = [r for r in self.market.regions]
            updates["banned_routes"] = {k.region: others for k in self.entrants if k.project not in built}
        rewind(self.model)
        _, result = self.model.solve_raw(**updates)
        return result()

    def leader_welfare(self, result) -> float:
        """``W_L``: the leader's consumer and producer surplus plus its government's revenue."""
        return float(result.welfare.loc[self.leader, "total"])

    def entrant_price(self, result, entrant: Entrant) -> float:
        """The price an entrant's output fetches: its supply price plus its capacity rent (USD/kg)."""
        out = float(result.regions.loc[entrant.region, "supply"])
        if out <= 1e-9:
            return float(result.regions.loc[entrant.region, "producer_price"])
        return float(result.regions.loc[entrant.region, "producer_price"]) + \
            float(result.welfare.loc[entrant.region, "quota_rent"]) / out

    def guarantee_payment(self, result, entrant: Entrant, guarantee: float | None) -> float:
        """A contract for difference to a member-hosted entrant: ``(g − p_k)⁺ S_k`` (USD million)."""
        if guarantee is None or entrant.region not in (self.model.members or ()):
            return 0.0
        out = float(result.regions.loc[entrant.region, "supply"])
        return max(0.0, float(guarantee) - self.entrant_price(result, entrant)) * out

    def entrant_profit(self, result, entrant: Entrant, guarantee: float | None = None) -> float:
        """``π_k = PS_k + ρ_k K_k + (g − p_k)⁺ S_k − a·I_k`` (USD million a year); ``g`` a
        guaranteed price paid by the host's government when the host is a member (else 0)."""
        return float(result.welfare.loc[entrant.region, "total"]) + self.guarantee_payment(result, entrant, guarantee) \
            - entrant.annual_capital(self.rate, self.life)

    def bloc_welfare(self, outcome: "Outcome", guarantee: float | None = None) -> float:
        """Members' welfare (entrants they host included, net of annualised capital; a guarantee
        is a transfer inside the bloc and nets out), USD million a year."""
        res = outcome.result
        members = self.model.members or ()
        total = float(res.welfare.loc[[r for r in members], "total"].sum())
        for k in self.entrants:
            if k.region in members and k.project in outcome.built:
                total -= k.annual_capital(self.rate, self.life)
        return total

    def outcome(self, instrument: float, entry: str = "anticipate", guarantee: float | None = None,
                **updates) -> Outcome:
        """The market after the leader's move and the entrants' decisions.

        ``entry``: ``"anticipate"`` (entrants build where they cover their costs with their own
        capacity in the market; cheapest full cost first, each checked given those already in),
        ``"none"`` (no entrant may build), ``"all"`` (every entrant is in, whatever it earns).
        ``guarantee``: a price (USD/kg) that members guarantee to the entrants they host, paid as a
        difference (a contract for difference on new capacity, like the DoD–MP floor).
        """
        if entry not in ("anticipate", "none", "all"):
            raise ModelInputError("entry", entry, "'anticipate', 'none' or 'all'")
        built: list[str] = [e.project for e in self.entrants] if entry == "all" else []
        result = self.solve(instrument, built, **updates)
        if entry == "anticipate":
            for k in sorted(self.entrants, key=lambda e: e.full_cost(self.rate, self.life)):
                trial = self.solve(instrument, built + [k.project], **updates)
                if self.entrant_profit(trial, k, guarantee) >= 0.0:
                    built.append(k.project)
                    result = trial
        profits = {k.project: self.entrant_profit(result, k, guarantee) for k in self.entrants if k.project in built}
        return Outcome(float(instrument), tuple(built), result, self.leader_welfare(result), profits)

    def best_response(self, grid, entry: str = "anticipate", refine: bool = True, guarantee: float | None = None,
                      **updates) -> BestResponse:
        """The leader's best instrument on ``grid`` (an evenly spaced array, USD/kg).

        ``e* = argmax_{e ∈ grid} W_L(e)``, then a bounded scalar search of ``W_L`` on
        ``[e* − step, e* + step]`` (``refine``) that measures what the grid gives up.
        """
        grid = np.asarray(grid, dtype=float)
        if grid.ndim != 1 or len(grid) < 2 or np.any(np.diff(grid) <= 0):
            raise ModelInputError("grid", grid, "an increasing array of at least two instruments")
        step = float(np.max(np.diff(grid)))
        start = time.perf_counter()
        solves = 0
        payoff, built = np.empty(len(grid)), []
        for k, e in enumerate(grid):
            out = self.outcome(e, entry, guarantee, **updates)
            payoff[k] = out.leader_welfare
            built.append(out.built)
            solves += 1 + (len(self.entrants) if entry == "anticipate" else 0)
        i = int(np.argmax(payoff))
        best, best_payoff = float(grid[i]), float(payoff[i])
        refined, refined_payoff = best, best_payoff
        if refine:
            lo, hi = max(grid[0], best - step), min(grid[-1], best + step)
            res = minimize_scalar(lambda e: -self.outcome(e, entry, guarantee, **updates).leader_welfare,
                                  bounds=(lo, hi), method="bounded", options={"xatol": step * 1e-3})
            solves += int(res.nfev) * (1 + (len(self.entrants) if entry == "anticipate" else 0))
            if -res.fun > best_payoff:
                refined, refined_payoff = float(res.x), float(-res.fun)
        return BestResponse(grid, payoff, built, best, best_payoff, refined, refined_payoff, step,
                            time.perf_counter() - start, solves)


def brute_force_payoffs(benchmark, grid, scenario: Scenario | None = None, leader: str = "CHN") -> np.ndarray:
    """The leader's welfare at each ``e`` of ``grid``, each from a freshly built model (no entrants).

    The check on :meth:`StrategicMarket.best_response`: the scenario gets an
    :class:`~models.policies.ExportTax` of ``max(e, 0)`` on every leader route, and a negative ``e``
    is set as an export discount; nothing is re-used between points.
    """
    base = scenario if scenario is not None else benchmark.base_scenario
    out = []
    for e in np.asarray(grid, dtype=float):
        sc = base.extend(export_taxes=(ExportTax(leader, max(e, 0.0)),)) if e > 0 else base
        model = EquilibriumModel(benchmark.market, sc, benchmark_prices=benchmark.prices)
        disc = {(leader, j): -e for j in benchmark.market.regions if j != leader} if e < 0 else None
        out.append(float(model.solve(export_discounts=disc).welfare.loc[leader, "total"]))
    return np.array(out)


def leader_fringe_closed_form(a: float, b: float, c: float, d: float, alpha: float, beta: float,
                              t: float = 0.0) -> dict:
    """The optimal export tax of a leader with no home demand facing a competitive fringe.

    Importer: demand ``D = a − b p``, fringe supply ``S_f = c + d p``, so residual import demand
    ``X = A − B p`` with ``A = a − c``, ``B = b + d``. Leader: inverse supply ``α + β X``, freight
    ``t``. The leader's welfare ``p X − t X − ∫ (α + β X)`` is largest where marginal revenue meets
    marginal cost plus freight::

        X* = (A − B(α + t)) / (2 + B β),   p* = (A − X*) / B,   τ* = p* − t − (α + β X*) = X* / B

    Returns a dict with ``exports``, ``price`` (importer), ``supply_price`` (leader), ``tax``
    and, for comparison, the competitive ``free_trade_exports`` and ``free_trade_price``.
    """
    A, B = a - c, b + d
    x = (A - B * (alpha + t)) / (2.0 + B * beta)
    p = (A - x) / B
    x_ft = (A - B * (alpha + t)) / (1.0 + B * beta)
    return {"exports": x, "price": p, "supply_price": alpha + beta * x, "tax": x / B,
            "free_trade_exports": x_ft, "free_trade_price": (A - x_ft) / B}


def flooding_analysis(sm: StrategicMarket, grid, guarantee: float | None = None, **updates) -> dict:
    """Whether flooding pays: the leader's best responses without and with the threat of entry.

    * ``no_entry``: the best instrument if no project could ever build (``entry="none"``);
    * ``threat``: the best instrument when projects build wherever they cover their costs;
    * ``accommodate``: the best instrument once every project is in (``entry="all"``).

    **Limit pricing** is the leader choosing, under the threat, an instrument below its no-entry
    optimum that keeps projects out (``deters``); it is **flooding** in the articles' sense when
    the wedge it then sets is an export subsidy (``w_base + e < 0``: selling abroad below the
    home price). Either **pays** when it beats accommodating the projects
    (``gain_vs_accommodate > 0``); its **cost** is the welfare given up against a world without
    entrants (``cost_vs_no_entry``). USD million a year; instruments in USD/kg.
    """
    br = {k: sm.best_response(grid, entry=k, guarantee=guarantee, **updates) for k in ("none", "anticipate", "all")}
    thr = sm.outcome(br["anticipate"].refined, "anticipate", guarantee, **updates)
    free = sm.outcome(br["none"].refined, "anticipate", guarantee, **updates)   # what the no-entry optimum invites
    deters = len(thr.built) < len(free.built)
    return {
        "no_entry_instrument": br["none"].refined, "no_entry_welfare": br["none"].refined_payoff,
        "threat_instrument": br["anticipate"].refined, "threat_welfare": br["anticipate"].refined_payoff,
        "accommodate_instrument": br["all"].refined, "accommodate_welfare": br["all"].refined_payoff,
        "built_under_threat": thr.built, "built_at_no_entry_optimum": free.built,
        "deters": deters, "limit_prices": deters and br["anticipate"].refined < br["none"].refined,
        "floods": deters and sm.base_wedge + br["anticipate"].refined < 0.0,
        "threat_wedge": sm.base_wedge + br["anticipate"].refined,
        "at_edge": any(b.at_edge for b in br.values()),
        "gain_vs_accommodate": br["anticipate"].refined_payoff - br["all"].refined_payoff,
        "cost_vs_no_entry": br["none"].refined_payoff - br["anticipate"].refined_payoff,
        "grid_error": max(b.grid_error for b in br.values()), "step": br["none"].step,
        "best_responses": br,
    }


def _weighted_price(result, members) -> float:
    """Members' demand-weighted consumer price (USD/kg; NaN without demand)."""
    r = result.regions.loc[list(members)]
    d = r["demand"].to_numpy()
    return float((r["consumer_price"].to_numpy() * d).sum() / d.sum()) if d.sum() > 1e-12 else float("nan")


def floor_game(markets: dict, levels, grid, guaranteed=(), **updates) -> pd.DataFrame:
    """The floor game: the bloc picks an instrument and a level, the leader best-responds.

    ``markets`` maps an instrument's name to a :class:`StrategicMarket` built with that
    instrument in its scenario (``"none"``: no floor); each is solved at every ``floor_level`` of
    ``levels`` (once for ``"none"``). For the names in ``guaranteed`` the level is instead (or
    also) a price guaranteed to member-hosted entrants (a CfD on new capacity; their market may
    be the no-floor one, on which ``floor_level`` has no effect). For each cell: the leader's best instrument
    ``e*`` (entry anticipated), the projects built, the leader's and the bloc's welfare, the
    members' consumer surplus and the grid's error. The bloc's equilibrium choice is the row with
    the highest bloc welfare (``bloc_choice``): both then play best responses, the bloc on the
    finite menu it is offered, the leader on its grid.
    """
    rows = []
    for name, sm in markets.items():
        for level in ([None] if name == "none" else list(levels)):
            kw = dict(updates)
            if level is not None:
                kw["floor_level"] = float(level)
            g = float(level) if (name in guaranteed and level is not None) else None
            br = sm.best_response(grid, entry="anticipate", guarantee=g, **kw)
            out = sm.outcome(br.refined, "anticipate", g, **kw)
            members = sm.model.members or ()
            rows.append({"instrument": name, "level": np.nan if level is None else float(level),
                         "leader_instrument": br.refined, "built": ", ".join(out.built),
                         "leader_welfare": out.leader_welfare, "bloc_welfare": sm.bloc_welfare(out, g),
                         "members_consumer_surplus": float(out.result.welfare.loc[list(members), "consumer_surplus"].sum()),
                         "members_price": _weighted_price(out.result, members),
                         "grid_error": br.grid_error})
    table = pd.DataFrame(rows)
    # the bloc's choice; rows within solver tolerance of the best are ties, won by the first
    # (simplest) row, so that a floor that does not bind is never "chosen" over no floor
    best = table["bloc_welfare"].max()
    tied = table.index[table["bloc_welfare"] >= best - 1e-6 * max(1.0, abs(best))]
    table["bloc_choice"] = False
    table.loc[tied[0], "bloc_choice"] = True
    return table


#: :func:`floor_game`'s columns as a reader sees them, with their units.
FLOOR_GAME_HEADERS = {"instrument": "instrument", "level": "floor level (USD/kg)",
                      "leader_instrument": "leader's best wedge change e* (USD/kg)", "built": "projects built",
                      "leader_welfare": "leader's welfare (USD million/yr)",
                      "bloc_welfare": "bloc's welfare (USD million/yr)",
                      "members_consumer_surplus": "members' consumer surplus (USD million/yr)",
                      "members_price": "members' price (USD/kg)", "grid_error": "grid error (USD million/yr)",
                      "bloc_choice": "the bloc's choice"}


def floor_game_shown(table: pd.DataFrame) -> pd.DataFrame:
    """A :func:`floor_game` table with headers that say what each column is and its unit."""
    return table.rename(columns=FLOOR_GAME_HEADERS)

