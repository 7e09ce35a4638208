"""Reading a solved chain back: prices from duals, the certificate, the welfare accounts.

Every solution certifies itself (the complementarity conditions of :mod:`models.certificate`,
scored by its :func:`~models.certificate.evaluate`), stage by stage:

==========================  ===========================================  ===============================
condition                   quantity side                                 price side
==========================  ===========================================  ===============================
producers' balance          ``Y_{s,i} − Σ_j x^s_ij``                      ``w_{s,i}``
delivered balance           ``Σ_i x^s_ij − D_{s,j} − a_{s+1} Y_{s+1,j}``  ``p_{s,j}``
no arbitrage, every stage   ``x^s_ij``                                    ``w_{s,i} + c^s_ij + ρ^s_ij − p_{s,j}``
cost curve (stage ``s``)    ``Y_{s,i}``                                   ``c_{s,i}(Y) + a_s p_{s−1,i} + κ − σ − w_{s,i}``
capacity (the kink)         ``K_{s,i} − Y_{s,i}``                         ``κ_{s,i}``
final demand                ``D_{s,j}``                                   ``p_{s,j} − P^d_{s,j}(D)``
each policy                 its own (:mod:`models.chain.policies`)
==========================  ===========================================  ===============================

``c^s_ij`` is freight plus tariffs on the arc, ``ρ`` the rents of quotas and the floor's tariff
that cover it, ``κ`` the capacity rent, ``σ`` subsidies and CfD top-ups. Two identities close it:

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


def read_solution(model, solve_time: float) -> "ChainResult":
    """Read primal values and duals of the solved ``model`` into a certified :class:`ChainResult`."""
    ch, n = model.chain, model.chain.n
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
            slack = -np.asarray(model.constraints[f"supply[{b.name}]"].expr.value, dtype=float)
            checks.append(Complementarity(f"producers' balance [{b.name}]", slack, w[b.supply_rows],
                                          [ch.regions[k] for k in b.supply_rows]))
        if len(b.user_rows):
            slack = -np.asarray(model.constraints[f"delivered[{b.name}]"].expr.value, dtype=float)
            checks.append(Complementarity(f"delivered balance [{b.name}]", slack, p[b.user_rows],
                                          [ch.regions[k] for k in b.user_rows]))
        # no arbitrage on every arc of the stage
        extra = np.zeros(len(x))
        for pol in model.policies:
            wdg = pol.arc_wedge(model, s)
            if wdg is not None:
                extra = extra + wdg
        if len(x):
            gap = w[b.origin] + b.transport + tau + extra - p[b.destination]
            labels = [f"{b.name}: {ch.regions[o]}->{ch.regions[d]}" for o, d in zip(b.origin, b.destination)]
            checks.append(Complementarity(f"no arbitrage [{b.name}]", x, gap, labels))
        # cost curves: extraction (s = 0) or processing (value added)
        if len(b.supply_rows):
            a_int, a_slope = _curve_arrays([m.supply_curve(ch.regions[k]) for k in b.supply_rows])
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
                                              rent[b.capacity_pos], [ch.regions[b.supply_rows[k]] for k in b.capacity_pos]))
            margin = w[b.supply_rows] - st.coefficient * p_in           # value added per unit
            mc = a_int + a_slope * Y
            implied = np.maximum(0.0, (margin - wedge - rent - a_int) / a_slope)
            checks.append(Complementarity(f"cost curve [{b.name}]", Y, mc + rent + wedge - margin,
                                          [ch.regions[k] for k in b.supply_rows], quantity_gap=Y - implied))
            area = a_int * Y + 0.5 * a_slope * Y ** 2
            gross -= float(area.sum())
            value_added += float((margin * Y).sum())
            ps_stage = margin * Y - area          # subsidies and top-ups are added by the accounts below
            np.add.at(ps, b.supply_rows, ps_stage)
        # final demand
        d_price = np.full(len(D), np.nan)
        if len(D):
            d_int, d_slope = _curve_arrays([m.demand_curve(ch.regions[k]) for k in b.demand_rows])
            d_price = p[b.demand_rows]
            implied = np.maximum(0.0, (d_price - d_int) / d_slope)
            checks.append(Complementarity(f"demand curve [{b.name}]", D, d_price - (d_int + d_slope * D),
                                          [ch.regions[k] for k in b.demand_rows], quantity_gap=D - implied))
            area = d_int * D + 0.5 * d_slope * D ** 2
            gross += float(area.sum())
            np.add.at(cs, b.demand_rows, area - d_price * D)
            spend += float((d_price * D).sum())
        gross -= float((b.transport * x).sum())
        margins += float(((p[b.destination] - w[b.origin]) * x).sum()) if len(x) else 0.0
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
        for k, r in enumerate(ch.regions):
            rows.append((b.name, r, stage_price[s][k], p[k], w[k], prod[k], dem[k], use[k], imports[k],
                         exports[k], va[k]))
        shown = x > 1e-9 * q_max         # interior-point dust below the certificate's resolution
        for o, d, q in zip(b.origin[shown], b.destination[shown], x[shown]):
            flows.append((b.name, ch.regions[o], ch.regions[d], q))
    gov, rents = np.zeros(n), np.zeros(n)
    for pol in model.policies:
        acc = pol.accounts(model)
        gov += acc.get("government", 0.0)
        rents += acc.get("rents", 0.0)
        ps += acc.get("producer_transfer", 0.0)
        if pol.kind == "stockpile":
            spend += -float(np.sum(acc.get("government", 0.0)))
    welfare = pd.DataFrame({"consumer_surplus": cs, "producer_surplus": ps, "government": gov, "rents": rents},
                           index=pd.Index(ch.regions, name="region"))
    welfare["total"] = welfare.sum(axis=1)
    tol = TOLERANCE["linear"]
    money = max(1.0, p_max * q_max * n)
    residuals = evaluate(checks, p_max, q_max, tol, model.solver, {
        "value added adds up": abs(spend - value_added - margins) / money,
        "welfare identity": abs(float(welfare["total"].sum()) - gross) / money,
    })
    stages = pd.DataFrame(rows, columns=["stage", "region", "price", "delivered_price", "producer_price",
                                         "production", "final_demand", "input_use", "imports", "exports",
                                         "value_added"]).set_index(["stage", "region"])
    flow_table = pd.DataFrame(flows, columns=["stage", "origin", "destination", "kt"])
    res = ChainResult(ch.mineral, ch.stage_names, stages, flow_table, welfare, {}, float(model.problem.value),
                      float(solve_time), residuals, stage_price)
    res.refresh_wedges(model)
    return res


@dataclass
class ChainResult:
    """A certified solution of a chain.

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
    """

    mineral: str
    stage_names: tuple
    stages: pd.DataFrame
    flows: pd.DataFrame
    welfare: pd.DataFrame
    wedges: dict
    objective: float
    solve_time: float
    certificate: dict
    price_arrays: list = field(repr=False, default_factory=list)

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
    """Results of a parametric sweep of one policy key, with timings (seconds)."""

    key: str
    values: np.ndarray
    results: list
    wall_time: float
    solver_time: float
    clarabel_wall: float | None = None

    def table(self, column: str = "price") -> pd.DataFrame:
        """``column`` of every stage and region, one row per swept value."""
        return pd.DataFrame([r.stages[column] for r in self.results], index=pd.Index(self.values, name=self.key))
