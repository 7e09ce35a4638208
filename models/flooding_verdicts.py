"""The flooding chapter's verdicts on C17, C27 and C41 (``book/flooding.ipynb``), as functions.

The chapter and the Monte Carlo sweep (:mod:`models.uncertainty.rules_strategic`) grade with the
same code: each function takes the solved numbers (results of
:class:`~models.strategic.StrategicMarket`, rows of :func:`flood_row`) and returns a
:class:`~models.claims.Verdict`.

* **C41** (China has the lowest cost and still profits): China's supply price today
  ``p_L`` against each project's full cost ``c_k + a·I_k / K_k``; ``supported`` if ``p_L`` is below
  every project's and China's producer surplus is positive, ``supported with conditions`` if below
  some, else ``not supported``.
* **C27** (flooding needs intervention): ``supported with conditions`` if, without a floor, China
  limit-prices under the threat of entry at a gain against accommodating, and the preferential
  floor stops it; else ``not supported``.
* **C17** (dependence is leverage): China's best export wedge with nobody able to enter must gain
  China welfare and cost the members at least ``threshold`` % of their spending today::

      loss% = 100 · (W_members(0) − W_members(e*)) / Σ_members p_r D_r     (``supported with conditions``)
"""
from __future__ import annotations

from dataclasses import dataclass

from .claims import Verdict

#: Project ids as the chapter names them.
PROJECT_NAME = {"iluka_eneabba": "Iluka, Eneabba (Australia)", "lynas_expansion": "Lynas, NdPr expansion (Malaysia)"}


@dataclass(frozen=True)
class FloodingSetting:
    """What the flooding chapter's verdicts hold fixed (its parameters cell).

    Attributes
    ----------
    mineral : str
    members : tuple of str
        The bloc.
    leader : str
        The strategic supplier.
    rate, life : float
        Discount rate and plant life that annualise a project's capital.
    floor_level : float
        The preferential floor of C27 (USD/kg; the chapter's reference price).
    leverage_threshold_pct : float
        C17: China's best response must cost the members this % of their spending.
    """

    mineral: str
    members: tuple
    leader: str = "CHN"
    rate: float = 0.08
    life: float = 20.0
    floor_level: float = 0.0
    leverage_threshold_pct: float = 5.0


def members_spending(result, members) -> float:
    """``Σ_members p_r D_r``: what the members spend on the mineral (USD million a year)."""
    r = result.regions.loc[list(members)]
    return float((r["consumer_price"] * r["demand"]).sum())


def flood_row(analysis: dict) -> dict:
    """One row of the chapter's flooding table from :func:`models.strategic.flooding_analysis`."""
    fa = analysis
    return {"e if no entry": fa["no_entry_instrument"], "e under threat": fa["threat_instrument"],
            "wedge under threat": fa["threat_wedge"], "built under threat": ", ".join(fa["built_under_threat"]) or "none",
            "built at the no-entry e": ", ".join(fa["built_at_no_entry_optimum"]) or "none",
            "limit prices": fa["limit_prices"], "floods": fa["floods"],
            "gain vs accommodating (USD million)": fa["gain_vs_accommodate"],
            "cost vs no entry (USD million)": fa["cost_vs_no_entry"],
            "grid error (USD million)": fa["grid_error"], "on grid edge": fa["at_edge"]}


def lowest_cost_verdict(setting: FloodingSetting, today, entrants) -> Verdict:
    """C41 from the market today (``today``, an ``EquilibriumResult``) and the projects."""
    s, leader = setting, setting.leader
    china_cost = float(today.regions.loc[leader, "producer_price"])
    costs = {e.project: e.full_cost(s.rate, s.life) for e in entrants}
    below = [k for k, c in costs.items() if china_cost < c]
    ps = float(today.welfare.loc[leader, "producer_surplus"])
    v41 = ("supported" if len(below) == len(costs) and ps > 0 else
           "supported with conditions" if below and ps > 0 else "not supported")
    return Verdict("C41", v41, (
        f"{s.mineral}: China's supply price today is {china_cost:.1f} USD/kg, its producer surplus {ps:.0f} USD million; "
        + "; ".join(f"{PROJECT_NAME.get(k, k)}: full cost {c:.1f} USD/kg" for k, c in costs.items())
        + f" (capital at {s.rate:.0%} over {s.life:.0f} years). China is below "
        + (", ".join(PROJECT_NAME.get(k, k) for k in below) or "no project")
        + ". The entrants' costs rest on stated assumptions (NdPr share, operating cost)."),
        {"china_supply_price": china_cost, "china_producer_surplus": ps, "n_projects_above_china": float(len(below)),
         **{f"full_cost_{k}": c for k, c in costs.items()}})


def limit_pricing_verdict(setting: FloodingSetting, none: dict, pref: dict | None, no_entry_best: float) -> Verdict:
    """C27 from the flooding rows (:func:`flood_row`) without a floor and under the preferential
    floor (``None``: not solved, as when China does not limit-price without one), and China's best
    wedge change with nobody able to enter (``no_entry_best``)."""
    lp = bool(none["limit prices"]) and float(none["gain vs accommodating (USD million)"]) > 0
    stopped = pref is not None and not bool(pref["limit prices"])
    v27 = "supported with conditions" if lp and stopped else "not supported"
    return Verdict("C27", v27, (
        f"{setting.mineral}: without a floor China {'limit-prices' if lp else 'does not limit-price'} "
        f"(best wedge change under the threat of entry {float(none['e under threat']):.1f} USD/kg, wedge "
        f"{float(none['wedge under threat']):.1f} USD/kg, {'an export subsidy' if bool(none['floods']) else 'not an export subsidy'}; "
        f"built: {none['built under threat']}; gain against accommodating {float(none['gain vs accommodating (USD million)']):.0f} USD million)"
        + ("" if pref is None else f"; under the preferential floor at {setting.floor_level:.2f} USD/kg it "
           f"{'still limit-prices' if not stopped else 'does not limit-price'}")
        + (f". With nobody able to enter China's best wedge change is {no_entry_best:+.1f} USD/kg"
           + ("" if not lp else (": limit pricing is a lower export tax, not a subsidy" if not bool(none["floods"])
                                 else ": limit pricing takes an export subsidy")) + ".")),
        {"no_floor_limit_prices": lp, "threat_wedge": float(none["wedge under threat"]),
         "floor_stops_it": bool(stopped)})


def leverage_verdict(setting: FloodingSetting, today, star, best: float) -> Verdict:
    """C17 from the market today, the market at China's best wedge change ``best`` (``star``)."""
    s, leader, members = setting, setting.leader, list(setting.members)
    china_gain = float(star.welfare.loc[leader, "total"] - today.welfare.loc[leader, "total"])
    loss = float(today.welfare.loc[members, "total"].sum() - star.welfare.loc[members, "total"].sum())
    pct = 100 * loss / members_spending(today, members)
    v17 = "supported with conditions" if china_gain > 0 and pct >= s.leverage_threshold_pct else "not supported"
    return Verdict("C17", v17, (
        f"{s.mineral}: China's best export wedge (+{best:.1f} USD/kg on today's, nobody able to enter) "
        f"gains China {china_gain:.0f} USD million a year and costs the members {loss:.0f} USD million, "
        f"{pct:.1f}% of their spending (threshold {s.leverage_threshold_pct:.0f}%). A static lever on one market; "
        "what a cut-off costs downstream needs the downstream-loss model (models/downstream.py)."),
        {"china_gain": china_gain, "members_loss_pct": pct, "best_wedge_change": float(best)})
