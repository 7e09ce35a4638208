"""Reading a solved chain back: prices from duals, the certificate, the welfare accounts.

Every solution certifies itself (the complementarity conditions of :mod:`models.certificate`,
scored by its :func:`~models.certificate.evaluate`), stage by stage:

==========================  ===========================================  ===============================
condition                   quantity side                                 price side
==========================  ===========================================  ===============================
producers' balance          ``Y_{s,i} − Σ_j x^s_ij``                      ``w_{s,i}``
delivered balance           ``Σ_i x^s_ij − D_{s,j} − a_{s+1} Y_{s+1,j}``  ``p_{s,j}``
no arbitrage, every stage   ``x^s_ij``                                    ``w_{s,i} + c^s_ij + ρ^s_ij − p_{s,j}`` (*)
cost curve (stage ``s``)    ``Y_{s,i}``                                   ``c_{s,i}(Y) + a_s p_{s−1,i} + κ − σ − w_{s,i}``
capacity (the kink)         ``K_{s,i} − Y_{s,i}``                         ``κ_{s,i}``
final demand                ``D_{s,j}``                                   ``p_{s,j} + λ_{s,j} − P^d_{s,j}(D)``
each policy                 its own (:mod:`models.chain.policies`)
==========================  ===========================================  ===============================

``c^s_ij`` is freight plus tariffs on the arc, ``ρ`` the rents of quotas and the floor's tariff
that cover it, ``κ`` the capacity rent, ``σ`` subsidies and top-ups, ``λ`` a guaranteed price's
levy. (*) On a policy's own arcs (a stockpile buying from eligible origins) ``p_{s,j}`` is the
price the policy pays. Two identities close it:

* **value added adds up along the chain**: spending on final goods (and a stockpile's purchases)
  equals the value added at every stage plus the trade margins,
  ``Σ_s Σ_j p_{s,j} (D_{s,j} + K_{s,j}) = Σ_s Σ_i (w_{s,i} − a_s p_{s−1,i}) Y_{s,i} + Σ_s Σ_ij (p_{s,j} − w_{s,i}) x^s_ij``;
* **welfare**: the regions' surpluses, government accounts and rents sum to
  ``Σ A^d(D) − Σ C(Y) − Σ t x`` (gross benefit less resource costs).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..certificate import TOLERANCE, Complementarity, evaluate


def _clip(v):
    return np.maximum(np.asarray(v, dtype=float), 0.0) if v is not None else np.zeros(0)


def _curve_arrays(curves):
    a = np.array([c.intercept for c in curves], dtype=float)
    b = np.array([c.slope for c in curves], dtype=float)
    return a, b


def _arc_label(regions, block):
    """The label of an arc of ``block`` for the certificate's message, computed only when needed."""
    return lambda k: f"{block.name}: {regions[block.origin[k]]}->{regions[block.destination[k]]}"


def _region_label(regions, rows):
    return lambda k: regions[rows[k]]


def _uses(model, s, D, Yv):
    """Each user's draw on stage ``s``: final demand, the next stage's input, policies' uses."""
    b = model.blocks[s]
    use = np.zeros(len(b.user_rows))
    if len(D):
        use[np.searchsorted(b.user_rows, b.demand_rows)] += D
    if s + 1 < len(model.blocks):
        nb = model.blocks[s + 1]
        use[np.searchsorted(b.user_rows, nb.supply_rows)] += model.chain.stages[s + 1].coefficient * Yv[s + 1]
    for e in model.extra_use[s]:
        use = use + np.asarray(e.value, dtype=float)
    return use


def _cached_curves(cache, key, curves_of):
    if key not in cache:
        cache[key] = _curve_arrays(curves_of())
    return cache[key]


def read_solution(model, solve_time: float) -> "ChainResult":
    """Read primal values and duals of the solved ``model`` into a certified :class:`ChainResult`."""
    ch, n = model.chain, model.chain.n
    regions = ch.regions
    cache = model.__dict__.setdefault("_curve_cache", {})
    K = len(ch.stages)
    delivered, exworks, stage_price = [], [], []
    rows, flows, checks = [], [], []
    cs, ps = np.zeros(n), np.zeros(n)
    gross = 0.0
    spend, value_added, margins = 0.0, 0.0, 0.0
    q_max, p_max = 1.0, 1.0
    Yv = [_clip(b.Y.value) for b in model.blocks]
    for s, b in enumerate(model.blocks):
        st = ch.stages[s]
        m = st.market
        p = np.full(n, np.nan)
        w = np.full(n, np.nan)
        if len(b.user_rows):
            p[b.user_rows] = _clip(model.constraints[f"delivered[{b.name}]"].dual_value)
        if len(b.supply_rows):
            w[b.supply_rows] = _clip(model.constraints[f"supply[{b.name}]"].dual_value)
        delivered.append(p)
        exworks.append(w)
        stage_price.append(np.where(np.isfinite(p), p, w))
        q_max = max(q_max, float(np.max(Yv[s], initial=0.0)))
        p_max = max(p_max, float(np.nanmax(np.concatenate([p, w, [1.0]]))))
    for s, b in enumerate(model.blocks):
        st = ch.stages[s]
        m = st.market
        p, w = delivered[s], exworks[s]
        Y = Yv[s]
        D = _clip(b.D.value) if b.D is not None else np.zeros(0)
        x = _clip(b.x.value)
        tau = np.asarray(b.tau.value, dtype=float)
        # balances
        if len(b.supply_rows):
            slack = Y - (b.out_of @ x if len(x) else 0.0)
            for e in model.extra_out[s]:
                slack = slack - np.asarray(e.value, dtype=float)
            checks.append(Complementarity(f"producers' balance [{b.name}]", slack, w[b.supply_rows],
                                          _region_label(regions, b.supply_rows)))
        if len(b.user_rows):
            slack = (b.into @ x if len(x) else np.zeros(len(b.user_rows))) - _uses(model, s, D, Yv)
            checks.append(Complementarity(f"delivered balance [{b.name}]", slack, p[b.user_rows],
                                          _region_label(regions, b.user_rows)))
        # no arbitrage on every arc of the stage (a policy's own arcs end at its price, not at p)
        extra = np.zeros(len(x))
        at_end = p[b.destination] if len(x) else np.zeros(0)
        for pol in model.policies:
            wdg = pol.arc_wedge(model, s)
            if wdg is not None:
                extra = extra + wdg
            own = pol.own_arc_price(model, s)
            if own is not None:
                at_end = at_end.copy()
                at_end[own[0]] = own[1]
        if len(x):
            gap = w[b.origin] + b.transport + tau + extra - at_end
            checks.append(Complementarity(f"no arbitrage [{b.name}]", x, gap, _arc_label(ch.regions, b)))
        # cost curves: extraction (s = 0) or processing (value added)
        if len(b.supply_rows):
            a_int, a_slope = _cached_curves(cache, ("supply", s),
                                            lambda: [m.supply_curve(regions[k]) for k in b.supply_rows])
            p_in = delivered[s - 1][b.supply_rows] if s > 0 else np.zeros(len(Y))
            wedge = np.zeros(len(Y))
            for pol in model.policies:
                mw = pol.margin_wedge(model, s)
                if mw is not None:
                    wedge = wedge + mw
            rent = np.zeros(len(Y))
            if len(b.capacity_pos):
                rent[b.capacity_pos] = _clip(model.constraints[f"capacity[{b.name}]"].dual_value)
                checks.append(Complementarity(f"capacity [{b.name}]", b.capacity - Y[b.capacity_pos],
                                              rent[b.capacity_pos], _region_label(regions, b.supply_rows[b.capacity_pos])))
            margin = w[b.supply_rows] - st.coefficient * p_in           # value added per unit
            mc = a_int + a_slope * Y
            implied = np.maximum(0.0, (margin - wedge - rent - a_int) / a_slope)
            checks.append(Complementarity(f"cost curve [{b.name}]", Y, mc + rent + wedge - margin,
                                          _region_label(regions, b.supply_rows), quantity_gap=Y - implied))
            area = a_int * Y + 0.5 * a_slope * Y ** 2
            gross -= float(area.sum())
            value_added += float((margin * Y).sum())
            ps_stage = margin * Y - area          # subsidies and top-ups are added by the accounts below
            np.add.at(ps, b.supply_rows, ps_stage)
        # final demand
        d_price = np.full(len(D), np.nan)
        if len(D):
            d_int, d_slope = _cached_curves(cache, ("demand", s),
                                            lambda: [m.demand_curve(regions[k]) for k in b.demand_rows])
            border = p[b.demand_rows]
            d_price = border.copy()                 # what consumers pay: p plus any levy
            for pol in model.policies:
                lev = pol.demand_wedge(model, s)
                if lev is not None:
                    d_price = d_price + lev
            implied = np.maximum(0.0, (d_price - d_int) / d_slope)
            checks.append(Complementarity(f"demand curve [{b.name}]", D, d_price - (d_int + d_slope * D),
                                          _region_label(regions, b.demand_rows), quantity_gap=D - implied))
            area = d_int * D + 0.5 * d_slope * D ** 2
            gross += float(area.sum())
            np.add.at(cs, b.demand_rows, area - d_price * D)
            spend += float((border * D).sum())
        gross -= float((b.transport * x).sum())
        margins += float(((at_end - w[b.origin]) * x).sum()) if len(x) else 0.0
        # the stage's table
        prod = np.zeros(n)
        prod[b.supply_rows] = Y
        dem = np.zeros(n)
        dem[b.demand_rows] = D
        use = np.zeros(n)
        if s + 1 < K:
            use[model.blocks[s + 1].supply_rows] = ch.stages[s + 1].coefficient * Yv[s + 1]
        cross = b.origin != b.destination
        imports = np.bincount(b.destination[cross], weights=x[cross], minlength=n)
        exports = np.bincount(b.origin[cross], weights=x[cross], minlength=n)
        va = np.full(n, np.nan)
        if len(b.supply_rows):
            va[b.supply_rows] = w[b.supply_rows] - (st.coefficient * delivered[s - 1][b.supply_rows] if s > 0 else 0.0)
        rows.append(np.column_stack([stage_price[s], p, w, prod, dem, use, imports, exports, va]))
        shown = x > 1e-9 * q_max         # interior-point dust below the certificate's resolution
        flows.append((b.name, b.origin[shown], b.destination[shown], x[shown]))
    gov, rents = np.zeros(n), np.zeros(n)
    for pol in model.policies:
        acc = pol.accounts(model)
        gov += acc.get("government", 0.0)
        rents += acc.get("rents", 0.0)
        ps += acc.get("producer_transfer", 0.0)
        if pol.kind == "stockpile":
            spend += -float(np.sum(acc.get("government", 0.0)))
    welfare = np.column_stack([cs, ps, gov, rents])
    tol = TOLERANCE["linear"]
    money = max(1.0, p_max * q_max * n)
    residuals = evaluate(checks, p_max, q_max, tol, model.solver, {
        "value added adds up": abs(spend - value_added - margins) / money,
        "welfare identity": abs(float(welfare.sum()) - gross) / money,
    })
    res = ChainResult(ch.mineral, ch.stage_names, ch.regions, np.vstack(rows), flows, welfare,
                      float(model.problem.value), float(solve_time), residuals, stage_price)
    res.refresh_wedges(model)
    return res


class ChainResult:
    """A certified solution of a chain. Its tables are built from the solution's arrays when first read.

    Attributes
    ----------
    stages : DataFrame indexed by (stage, region)
        ``price`` (the stage's price there: delivered where the region uses the stage, else
        ex-works), ``delivered_price`` ``p``, ``producer_price`` ``w``, ``production``,
        ``final_demand``, ``input_use`` (the next stage's draw ``a_{s+1} Y_{s+1}``), ``imports``,
        ``exports`` (kt) and ``value_added`` (``w − a_s p_{s−1}``, USD/kg).
    flows : DataFrame
        ``stage, origin, destination, kt`` for every positive shipment (own use included).
    welfare : DataFrame by region
        Consumer and producer surplus over all stages, government, rents, total (USD million).
    wedges : dict
        Each policy's wedges by its key (tariff, licence rent, top-ups, purchases, status).
    certificate : dict
        The scaled residual of every condition checked.
    objective, solve_time : float
    """

    COLUMNS = ("price", "delivered_price", "producer_price", "production", "final_demand", "input_use",
               "imports", "exports", "value_added")

    def __init__(self, mineral, stage_names, regions, stage_rows, flow_parts, welfare_rows, objective, solve_time,
                 certificate, price_arrays):
        self.mineral, self.stage_names, self.regions = mineral, tuple(stage_names), tuple(regions)
        self._stage_rows, self._flow_parts, self._welfare_rows = stage_rows, flow_parts, welfare_rows
        self.objective, self.solve_time, self.certificate = objective, solve_time, certificate
        self.price_arrays = price_arrays
        self.wedges: dict = {}
        self._tables: dict = {}

    @property
    def stages(self) -> pd.DataFrame:
        if "stages" not in self._tables:
            index = pd.MultiIndex.from_product([list(self.stage_names), list(self.regions)], names=["stage", "region"])
            self._tables["stages"] = pd.DataFrame(self._stage_rows, index=index, columns=list(self.COLUMNS))
        return self._tables["stages"]

    @property
    def flows(self) -> pd.DataFrame:
        if "flows" not in self._tables:
            names = np.asarray(self.regions, dtype=object)
            parts = self._flow_parts
            self._tables["flows"] = pd.DataFrame({
                "stage": np.concatenate([[nm] * len(q) for nm, _, _, q in parts]).astype(object),
                "origin": np.concatenate([names[o] for _, o, _, _ in parts]),
                "destination": np.concatenate([names[d] for _, _, d, _ in parts]),
                "kt": np.concatenate([q for _, _, _, q in parts])})
        return self._tables["flows"]

    @property
    def welfare(self) -> pd.DataFrame:
        if "welfare" not in self._tables:
            w = pd.DataFrame(self._welfare_rows, index=pd.Index(self.regions, name="region"),
                             columns=["consumer_surplus", "producer_surplus", "government", "rents"])
            w["total"] = w.sum(axis=1)
            self._tables["welfare"] = w
        return self._tables["welfare"]

    def refresh_wedges(self, model) -> None:
        self.wedges = {pol.key: pol.wedge(model) for pol in model.policies}

    def stage(self, name: str) -> pd.DataFrame:
        """The table of one stage, indexed by region."""
        return self.stages.xs(name, level="stage")

    def share(self, stage: str, regions, column: str = "production") -> float:
        """The share of ``regions`` in the world total of ``column`` at ``stage``."""
        t = self.stage(stage)[column]
        total = float(t.sum())
        return float(t.loc[list(regions)].sum()) / total if total > 0 else float("nan")

    def welfare_change(self, base: "ChainResult") -> pd.DataFrame:
        """Welfare by region minus ``base``'s (USD million per year)."""
        return self.welfare - base.welfare


@dataclass
class ChainSweep:
    """Results of a parametric sweep of one policy key, with timings (seconds).

    ``wall_time`` is the whole sweep; ``solver_time`` the sum of the solvers' reported times;
    ``clarabel_wall`` the time measured inside Clarabel's ``solve()`` on the fast path
    (:mod:`models.fastpath`); ``counts`` the number of solves and whether the fast path ran.
    """

    key: str
    values: np.ndarray
    results: list
    wall_time: float
    solver_time: float
    clarabel_wall: float | None = None
    counts: dict = field(default_factory=dict)

    def table(self, column: str = "price") -> pd.DataFrame:
        """``column`` of every stage and region, one row per swept value."""
        return pd.DataFrame([r.stages[column] for r in self.results], index=pd.Index(self.values, name=self.key))
