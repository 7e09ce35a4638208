"""Accounts of the insurance model: one mineral at a fixed inventory, the bloc's allocation on the
grid, and the result tables (:class:`~models.insurance_result.InsuranceResult`).

Every inventory is valued through :func:`models.accounting.inventory_account` (MODEL.md §3): the
welfare tables count the purchase as an outlay and never add unsold inventory at a market price.
"""
from __future__ import annotations

import cvxpy as cp
import numpy as np
import pandas as pd

from .accounting import inventory_account
from .errors import InaccurateSolutionError
from .insurance_result import InsuranceResult

#: Tolerances of the certificate (:func:`read_block`): prices relative to the largest benchmark
#: price (0.1%), quantities relative to world output. The price tolerance is set by graphite, whose
#: prices ($0.46/kg) are small against its quantities (1,600 kt): Clarabel's duals there are
#: accurate to ~1e-4 of the price.
PRICE_TOL, QUANTITY_TOL = 1e-3, 1e-5


def read_block(model, b) -> dict:
    """Primal values, prices (duals / weight) and per-region welfare of one block, certified.

    The certificate, from the primal values and the curves: market clearing (equality where the
    price is positive, free disposal where it is zero), each price equal to its curve where the
    quantity is positive, no arbitrage ``p_j ≤ w_i + t_ij + τ_ij + ρ 1[ij under the quota]`` on
    every arc, and equality on every arc that carries flow.

    Raises :class:`~models.errors.InaccurateSolutionError` if market clearing or no-arbitrage
    fails beyond :data:`QUANTITY_TOL` / :data:`PRICE_TOL` (above).
    """
    n, loc = len(model.regions), model.regions.index(model.location)
    idx = {r: i for i, r in enumerate(model.regions)}
    market = b.bench.market
    scale = float(b.scale.value) if isinstance(b.scale, cp.Expression) else float(b.scale)
    D, S = np.zeros(n), np.zeros(n)
    di, si = [idx[r] for r in b.dreg], [idx[r] for r in b.sreg]
    D[di], S[si] = b.D.value, b.S.value
    D, S = np.maximum(D, 0.0), np.maximum(S, 0.0)
    x = np.maximum(np.asarray(b.x.value, dtype=float), 0.0)
    R = max(float(b.R.value), 0.0) if b.R is not None else 0.0
    stock = float(b.extra_demand.value) if b.extra_demand is not None else 0.0
    p = np.asarray(b.demand_balance.dual_value, dtype=float) / scale
    w = np.asarray(b.supply_balance.dual_value, dtype=float) / scale
    rho = float(b.quota.dual_value) / scale if b.quota is not None else 0.0
    # --- certificate: clearing, curve prices, no arbitrage
    world = float(b.bench.production.sum())
    ptol, qtol = PRICE_TOL * float(b.bench.prices.max()), QUANTITY_TOL * world
    demand_side = D + stock * (np.arange(n) == loc) - x.sum(axis=0)
    supply_side = x.sum(axis=1) - S - R * (np.arange(n) == loc)
    pc, wc = p.copy(), w.copy()
    for r in b.dreg:
        if D[idx[r]] > qtol:
            pc[idx[r]] = float(market.demand_curve(r).price(D[idx[r]]))
    for r in b.sreg:
        if S[idx[r]] > qtol:
            wc[idx[r]] = float(market.supply_curve(r).price(S[idx[r]]))
    cost = model.trade_cost[b.mineral] + (rho * b.quota_mask if b.quota_mask is not None else 0.0)
    gap = pc[None, :] - wc[:, None] - cost
    has_d = np.isin(np.arange(n), di) | ((np.arange(n) == loc) & (stock > 0))
    has_s = np.isin(np.arange(n), si) | ((np.arange(n) == loc) & (R > 0))
    arb = np.where(has_s[:, None] & has_d[None, :], gap, -np.inf)
    idle = np.where(x > qtol, -gap, -np.inf)
    # a zero price allows free disposal (excess delivered), a positive one needs equality
    checks = {"demand balance (kt)": (np.where(p > ptol, np.abs(demand_side), demand_side).max(), qtol),
              "supply balance (kt)": (np.where(w > ptol, np.abs(supply_side), supply_side).max(), qtol),
              "demand price vs curve (USD/kg)": (np.abs(pc - p)[di].max(initial=0.0), ptol),
              "supply price vs curve (USD/kg)": (np.abs(wc - w)[si].max(initial=0.0), ptol),
              "spatial arbitrage (USD/kg)": (arb.max(), ptol),
              "flow on a losing arc (USD/kg)": (idle.max(), ptol)}
    worst = max(checks, key=lambda k: checks[k][0] / checks[k][1])
    if checks[worst][0] > checks[worst][1]:
        tag = "purchase years" if b.scenario is None else model.disruptions[b.scenario].name
        raise InaccurateSolutionError(
            "certificate", f"{b.mineral}, {tag}: {worst} off by {checks[worst][0]:.3g} "
            f"(tolerance {checks[worst][1]:.3g}); try solver='SCS' or rescale the market", model.solver)
    # --- indeterminate prices where a region has no curve: the tightest no-arbitrage value
    for r in model.regions:
        if r not in b.dreg:
            p[idx[r]] = float(np.min(w + model.trade_cost[b.mineral][:, idx[r]]))
    for r in model.regions:
        if r not in b.sreg and r != model.location:
            w[idx[r]] = float(np.max(p - model.trade_cost[b.mineral][idx[r], :]))
    ad = np.array([float(market.demand_curve(r).area(D[i])) if market.demand_curve(r) else 0.0
                   for i, r in enumerate(model.regions)])
    as_ = np.array([float(market.supply_curve(r).area(S[i])) if market.supply_curve(r) else 0.0
                    for i, r in enumerate(model.regions)])
    imp, exp = model.policy_matrix[b.mineral]
    rent = np.zeros(n)
    if b.quota_mask is not None:
        rent[idx[model.disruptions[b.scenario].origin]] = rho * float((b.quota_mask * x).sum())
    welfare = ad - p * D + w * S - as_ + (imp * x).sum(axis=0) + (exp * x).sum(axis=1) + rent
    return {"D": D, "S": S, "x": x, "R": R, "p": p, "w": w, "rho": rho, "welfare": welfare,
            "tax": float((imp * x).sum() + (exp * x).sum()), "weight": scale,
            "release_value": float(np.max(p - model.trade_cost[b.mineral][loc, :])),
            "objective_welfare": float(ad.sum() - as_.sum() - (model.trade_cost[b.mineral] * x).sum())}


def evaluate_mineral(model, mineral: str, level: float, reads: list[dict], blocks: list, objective: float) -> dict:
    r"""Expected accounts of one mineral with inventory ``I = level`` (absolute, not yet differenced).

    With block weights ``N`` (purchase years) and ``q_ω T_ω`` (disruption ``ω``)::

        U_r     = N u^0_r + Σ_ω q_ω T_ω u_{rω}          (consumer + producer surplus + tax + rent)
        agency  = − p^0_L I − c h̄ P0 I + Σ_ω q_ω T_ω w_{Lω} R_ω + v (I − Σ_ω q_ω T_ω R_ω)
        release = Σ_ω q_ω T_ω (Σ_r u_{rω} + w_{Lω} R_ω)       (world; members only for the bloc)

    and the identity ``Σ_r U_r + agency = objective + Σ weight·τx + (v − c h̄ P0) I`` (the
    objective of the fixed-inventory programme leaves the terms in ``I`` alone out).
    """
    regions = list(model.regions)
    loc = regions.index(model.location)
    members = [regions.index(r) for r in model.members]
    p0, v = float(model.P0[mineral]), float(model.v[mineral])
    carry = float(model.carry.value) * p0 * level
    purchase, scen = reads[0], reads[1:]
    market = purchase["weight"] * purchase["welfare"]
    price = float(purchase["p"][loc])
    agency = -price * level - carry + v * level
    rel_world = rel_bloc = released = tax = 0.0
    tax = purchase["weight"] * purchase["tax"]
    for r in scen:
        wt = r["weight"]
        market = market + wt * r["welfare"]
        revenue = r["w"][loc] * r["R"]
        agency += wt * (revenue - v * r["R"])
        released += wt * r["R"]
        rel_world += wt * (float(r["welfare"].sum()) + revenue)
        rel_bloc += wt * (float(r["welfare"][members].sum()) + revenue)
        tax += wt * r["tax"]
    others = [i for i, r in enumerate(regions) if r not in model.members and r != "CHN"]
    return {
        "level": level, "reads": reads, "blocks": blocks, "market": market, "agency": agency,
        "d_world": float(market.sum()) + agency, "d_bloc": float(market[members].sum()) + agency,
        "d_china": float(market[regions.index("CHN")]) if "CHN" in regions else 0.0,
        "d_other": float(market[others].sum()), "purchase_price": price, "outlay": price * level,
        "carrying": carry, "residual": v * (level - released), "release_world": rel_world,
        "release_bloc": rel_bloc,
        "identity": float(market.sum()) + agency - (objective + tax + (v * level - carry)),
    }


def pareto_allocation(grid: pd.DataFrame, minerals: list[str], budget: float | None) -> list[float]:
    """The inventory per mineral that maximises the bloc's welfare on the grid.

    ``budget`` ``None`` (per-mineral budgets, already the grid's range): each mineral's best level.
    Otherwise maximise ``Σ_m ΔB_m(I_m)`` s.t. ``Σ_m P0_m I_m ≤ B`` exactly over the grid, merging
    mineral by mineral the (cost, welfare) pairs and keeping only those not dominated (cheaper or
    better); ties go to the cheaper inventory.
    """
    if budget is None:
        out = []
        for m in minerals:
            g = grid[grid["mineral"] == m].sort_values("inventory_kt")
            out.append(float(g.loc[g["d_bloc"].idxmax(), "inventory_kt"]))
        return out
    frontier = [(0.0, 0.0, ())]
    slack = budget * (1 + 1e-9) + 1e-9
    for m in minerals:
        g = grid[grid["mineral"] == m]
        merged = [(c + gc, val + gv, ch + (lv,)) for c, val, ch in frontier
                  for gc, gv, lv in zip(g["cost_at_benchmark_musd"], g["d_bloc"], g["inventory_kt"]) if c + gc <= slack]
        merged.sort(key=lambda t: (t[0], -t[1]))
        frontier, best = [], -np.inf
        for item in merged:
            if item[1] > best + 1e-9:
                frontier.append(item)
                best = item[1]
    return list(max(frontier, key=lambda t: t[1])[2])


def _optimum_rows(model, name: str, at: dict, base: dict) -> list[dict]:
    rows = []
    for m in model.minerals:
        a, b = at[m], base[m]
        p0 = float(model.P0[m])
        rows.append({"optimum": name, "mineral": m, "inventory_kt": a["level"], "cost_at_benchmark_musd": p0 * a["level"],
                     "cost_musd": a["outlay"], "purchase_price": a["purchase_price"],
                     "purchase_price_rise": a["purchase_price"] / p0 - 1,
                     **{k: a[k] - b[k] for k in ("d_world", "d_bloc", "d_china", "d_other")}})
    return rows


def _account(model, at: dict, base: dict, which: str) -> pd.DataFrame:
    idx = pd.Index(model.minerals, name="mineral")
    held = pd.Series({m: at[m]["level"] for m in model.minerals}, index=idx)
    cost = pd.Series({m: at[m]["outlay"] for m in model.minerals}, index=idx)
    benefit = pd.Series({m: at[m][which] - base[m][which] + at[m]["residual"] for m in model.minerals}, index=idx)
    carrying = pd.Series({m: at[m]["carrying"] for m in model.minerals}, index=idx)
    return inventory_account(held, cost, benefit, carrying)


def _welfare(model, at: dict, base: dict) -> pd.DataFrame:
    regions = list(model.regions)
    market = sum(at[m]["market"] - base[m]["market"] for m in model.minerals)
    stock = np.zeros(len(regions))
    stock[regions.index(model.location)] = sum(at[m]["agency"] - base[m]["agency"] for m in model.minerals)
    out = pd.DataFrame({"market": market, "stockpile": stock}, index=pd.Index(regions, name="region"))
    out["total"] = out["market"] + out["stockpile"]
    return out


def _scenario_tables(model, at: dict, base: dict):
    names = [d.name for d in model.disruptions]
    regions = list(model.regions)
    midx = [regions.index(r) for r in model.members]
    idx = pd.Index(model.minerals, name="mineral")
    rel = pd.DataFrame(0.0, index=idx, columns=pd.Index(names, name="scenario"))
    rv1, rv0 = pd.DataFrame(np.nan, index=idx, columns=rel.columns), pd.DataFrame(np.nan, index=idx, columns=rel.columns)
    price_rows, bloc_rows = [], []
    for m in model.minerals:
        bench = model.benchmarks[m]
        P0, D0 = bench.prices.to_numpy(), bench.consumption.to_numpy()
        for blk, r1, r0 in zip(at[m]["blocks"][1:], at[m]["reads"][1:], base[m]["reads"][1:]):
            name = names[blk.scenario]
            rel.loc[m, name] = r1["R"] if r1["R"] * model.P0[m] > 1e-2 else 0.0
            rv1.loc[m, name], rv0.loc[m, name] = r1["release_value"], r0["release_value"]
            for i, r in enumerate(regions):
                price_rows.append({"mineral": m, "scenario": name, "region": r, "with": r1["p"][i], "without": r0["p"][i],
                                   "benchmark": P0[i], "demand_with": r1["D"][i], "demand_without": r0["D"][i],
                                   "demand_benchmark": D0[i]})
            wts = D0[midx]
            tot = wts.sum()
            if tot > 0:
                pw, pwo, pb = (float(wts @ r1["p"][midx] / tot), float(wts @ r0["p"][midx] / tot), float(wts @ P0[midx] / tot))
                spike = pwo - pb
                bloc_rows.append({
                    "mineral": m, "scenario": name, "price_benchmark": pb, "price_without": pwo, "price_with": pw,
                    "spike_reduction": (1 - (pw - pb) / spike) if spike > 1e-6 * max(pb, 1e-9) else np.nan,
                    "shortfall_without": 1 - float(r0["D"][midx].sum()) / tot,
                    "shortfall_with": 1 - float(r1["D"][midx].sum()) / tot,
                    "release_kt": rel.loc[m, name], "bloc_consumption_kt": float(tot)})
    bloc = pd.DataFrame(bloc_rows)
    if not bloc.empty:
        bloc = bloc.set_index(["mineral", "scenario"])
    return rel, rv1, rv0, pd.DataFrame(price_rows), bloc


def result_tables(model, world: pd.Series, choice: pd.Series, base: dict, at_world: dict, at_bloc: dict,
                  grid: pd.DataFrame | None, elapsed: float) -> InsuranceResult:
    """Assemble :class:`~models.insurance_result.InsuranceResult` from the evaluated minerals."""
    optima = pd.DataFrame(_optimum_rows(model, "world", at_world, base) + _optimum_rows(model, "bloc", at_bloc, base))
    optima = optima.set_index(["optimum", "mineral"])
    summary = optima.groupby(level="optimum", sort=False)[
        ["cost_at_benchmark_musd", "cost_musd", "d_world", "d_bloc", "d_china", "d_other"]].sum()
    names = [d.name for d in model.disruptions]
    rel, rv1, rv0, prices, bloc = _scenario_tables(model, at_world, base)
    rel_b, _, _, _, bloc_b = _scenario_tables(model, at_bloc, base)
    if grid is None:
        grid = pd.DataFrame(columns=["mineral", "inventory_kt", "cost_at_benchmark_musd", "d_world", "d_bloc"])
        step = pd.Series(np.nan, index=model.minerals)
        err = pd.Series(np.nan, index=model.minerals)
    else:
        step = grid.attrs["step_kt"]
        err = {}
        for m in model.minerals:
            g = grid[grid["mineral"] == m].sort_values("inventory_kt").reset_index(drop=True)
            k = int(np.argmin(np.abs(g["inventory_kt"].to_numpy() - choice[m])))
            near = [g.loc[j, "d_bloc"] for j in (k - 1, k + 1) if 0 <= j < len(g)]
            err[m] = max([abs(x - g.loc[k, "d_bloc"]) for x in near], default=0.0)
        err = pd.Series(err)
    spent = float((model.P0 * world).sum())
    outlay = float(sum(at_world[m]["outlay"] for m in model.minerals))
    weights = pd.Series(np.asarray(model.q.value, dtype=float), index=pd.Index(names, name="scenario"), name="weight")
    weights.attrs["durations"] = model.durations
    budget = (pd.Series(model.default_budget, index=model.minerals, name="budget_musd") if model.per_mineral
              else float(model.default_budget))
    return InsuranceResult(
        inventory=world, bloc_inventory=choice, inventory_cost=(model.P0 * world).rename("inventory_cost_musd"),
        optima=optima, summary=summary,
        inventory_account=_account(model, at_world, base, "release_world"),
        bloc_inventory_account=_account(model, at_bloc, base, "release_bloc"),
        welfare_change=_welfare(model, at_world, base), welfare_change_bloc=_welfare(model, at_bloc, base),
        value=float(summary.loc["world", "d_world"]), bloc_value=float(summary.loc["bloc", "d_bloc"]),
        grid=grid, grid_step=step, grid_error=err, releases=rel, release_value=rv1, release_value_without=rv0,
        prices=prices, bloc=bloc, probabilities=pd.Series(model.pi, index=weights.index, name="probability"),
        weights=weights, budget=budget, budget_gap=(outlay / spent - 1) if spent > 0 else 0.0,
        identity_residual=float(sum(at_world[m]["identity"] for m in model.minerals)), solve_time=elapsed,
        purchase_price=pd.Series({m: at_world[m]["purchase_price"] for m in model.minerals}, name="purchase_price"),
        benchmark_price=model.P0.copy(), residual_value=model.v.copy(), carrying_cost=model.carrying_cost,
        holding_years=model.H, bloc_at_bloc=bloc_b, releases_bloc=rel_b)
