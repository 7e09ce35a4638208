"""Three levers against a Chinese export restriction, at the same cost to the government.

* ``demand``: cut members' demand for newly mined material: recycling above the base rate (up to
  the end-of-life stock allows) and then substitution, paid each year, available after a short
  lead time. Modelled as a block of "avoided primary use" in each member at a subsidised cost.
* ``domestic``: capital grants for new separation capacity in members, after the separation lead time.
* ``allies``: the same grants for capacity in allied, non-member hosts whose projects are further
  along (a shorter lead time).

Equal cost: the present value of the government's outlays is the same budget ``B`` for each. A
grant buys ``K = B / k`` kt/yr of capacity (``k`` the capex per kt/yr); the demand lever spends the
annuity ``a = B r / (1 − (1 + r)^{−N})`` for ``N`` years and buys ``a / c`` kt a year at unit cost
``c`` (recycling first, up to ``(ρ_max − ρ_0) E_t``, then substitution).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from .dynamics import Block, DynamicPath, PathSettings, Restriction
from .errors import ModelInputError


@dataclass(frozen=True)
class LeverSettings:
    """Costs, lead times and hosts of the three levers (defaults: ``data/dynamics_parameters.csv`` central)."""

    budget: float = 1000.0
    capex: float = 250.0
    recycling_cost: float = 40.0
    substitution_cost: float = 50.0
    recycling_rate_max: float = 0.4
    lead_demand: int = 2
    lead_domestic: int = 4
    lead_allies: int = 3
    domestic_hosts: tuple[str, ...] = ("USA",)
    ally_hosts: tuple[str, ...] = ("AUS", "CAN")
    decision_year: int = 2026


    @classmethod
    def from_data(cls, which: str = "central", **overrides) -> "LeverSettings":
        """Costs and lead times from ``data/dynamics_parameters.csv`` (allies' lead time: the low separation one)."""
        from .time_data import parameters
        p = parameters(which)
        values = dict(capex=p["capex_separation"], recycling_cost=p["recycling_cost"],
                      substitution_cost=p["substitution_cost"], recycling_rate_max=p["recycling_rate_max"],
                      lead_demand=int(round(p["lead_time_recycling"])),
                      lead_domestic=int(round(p["lead_time_separation"])),
                      lead_allies=int(np.ceil(parameters("low")["lead_time_separation"])))
        values.update(overrides)
        return cls(**values)


def annuity(budget: float, rate: float, years: int) -> float:
    """``a = B r / (1 − (1 + r)^{−N})``: the yearly outlay with present value ``B`` over ``N`` years."""
    if years <= 0:
        raise ModelInputError("years", years, "a positive number of years")
    return budget * rate / (1 - (1 + rate) ** (-years)) if rate > 0 else budget / years


def lever_blocks(kind: str, bench, path: PathSettings, lever: LeverSettings, rate: float) -> list[Block]:
    """The blocks that ``kind`` (``"demand"``, ``"domestic"``, ``"allies"``) adds to the path."""
    start = lever.decision_year
    if kind in ("domestic", "allies"):
        hosts = lever.domestic_hosts if kind == "domestic" else lever.ally_hosts
        lead = lever.lead_domestic if kind == "domestic" else lever.lead_allies
        k = lever.budget / lever.capex / len(hosts)
        return [Block(f"{h}+{kind}", h, {start + lead: k}, path.entrant_full_cost, kind=kind) for h in hosts]
    if kind != "demand":
        raise ModelInputError("lever", kind, "'demand', 'domestic' or 'allies'")
    first = start + lever.lead_demand
    years = path.end_year - first + 1
    yearly = annuity(lever.budget, rate, years) * (1 + rate) ** (lever.lead_demand)   # paid from `first`
    members = [m for m in path.members if bench.consumption[m] > 0]
    use = bench.consumption[members]
    eol = float(use.sum()) * path.growth(first - path.magnet_lifetime)
    recycled = min(yearly / lever.recycling_cost, (lever.recycling_rate_max - path.recycling_rate_base) * eol)
    avoided = recycled + (yearly - recycled * lever.recycling_cost) / lever.substitution_cost
    return [Block(f"{m}+demand", m, {first: avoided * use[m] / use.sum(), path.end_year + 1: -avoided * use[m] / use.sum()},
                  1.0, learns=False, operating_cost=0.5, kind="demand") for m in members]


def compare_levers(bench, path: PathSettings, restriction: Restriction, lever: LeverSettings, rate: float,
                   blocks=(), target_share: float = 0.45, column: str = "not_from_china_share",
                   own_target: float = 0.2) -> dict:
    """Run the restriction without a lever and with each lever; rank them.

    Returns ``table`` (one row per lever: members' welfare gain in present value net of the budget,
    USD million; the first year from which ``column`` stays at or above ``target_share`` once the
    restriction is over, and the same for members' own supply against ``own_target``) and the paths.
    """
    paths = {"none": DynamicPath(bench, path, list(blocks), restriction).run()}
    for kind in ("demand", "domestic", "allies"):
        extra = lever_blocks(kind, bench, path, lever, rate)
        paths[kind] = DynamicPath(bench, path, [*blocks, *extra], restriction).run()
    years = paths["none"].totals.index.to_numpy()
    disc = (1 + rate) ** -(years - path.start_year)
    rows = []
    for kind, res in paths.items():
        gain = float(((res.totals["members_welfare"] - paths["none"].totals["members_welfare"]) * disc).sum())
        cost = 0.0 if kind == "none" else lever.budget * (1 + rate) ** -(lever.decision_year - path.start_year)
        rows.append({"lever": kind, "members_welfare_pv": gain - cost, "members_gross_gain_pv": gain,
                     "budget_pv": cost,
                     "year_target": res.first_year(column, target_share, after=restriction.start + restriction.years),
                     "year_own_target": res.first_year("self_sufficiency", own_target),
                     "share_2030": float(res.totals.loc[2030, column]) if 2030 in res.totals.index else np.nan,
                     "world_welfare_pv": float(((res.totals["world_welfare"] - paths["none"].totals["world_welfare"])
                                               * disc).sum()) - cost})
    table = pd.DataFrame(rows).set_index("lever")
    ranked = table.drop(index="none")
    table["rank_welfare"] = ranked["members_welfare_pv"].rank(ascending=False, method="min")
    table["rank_years"] = ranked["year_target"].fillna(9999).rank(method="min")
    return {"table": table, "paths": paths}
