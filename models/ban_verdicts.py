r"""The verdicts on Chinese export bans: C16 (a disruption's impact on the world economy) and C30
(substitution as the road to autonomy), as functions the chapters and a Monte Carlo sweep share.

**C16** (``book/export_controls.ipynb``). Two NdPr disruptions on the short-run market
(:class:`~models.export_controls.ExportControlModel`): the *largest*, a year-long ban on every
destination, and the *targeted*, a ban on Japan for ``m`` months that other suppliers may offset.
Their downstream losses ``L`` (USD million, the Leontief bound of :mod:`models.downstream`),
optionally scaled by ``k = anchor / L_JPN(a year, no diversion)`` to a published estimate, are
compared with a share ``θ`` of world GDP ``Y``::

    supported                  if L_largest ≥ θ·Y and L_targeted ≥ θ·Y
    supported with conditions  if L_largest ≥ θ·Y > L_targeted
    not supported              if L_largest < θ·Y

**C30** (``book/model.ipynb``). Substitution is modelled as the most instead of the least elastic
demand of ``data/elasticities.csv``. For each mineral where a complete ban by China binds, the core
bloc's loss ``ℓ_m(ε_d)`` (welfare change against the replicated benchmark, USD million a year) is
solved at both ends; the cut over those minerals::

    cut = 1 − Σ_m ℓ_m(ε_d^most elastic) / Σ_m ℓ_m(ε_d^least elastic)

``supported with conditions`` if ``cut ≥`` the threshold (recycling is not modelled), else
``not supported``.
"""
from __future__ import annotations

import pandas as pd

from .calibration import benchmark_from_dataset
from .errors import ModelInputError, SolverError
from .export_controls import ExportControl, ExportControlModel
from .policies import ExportBan

# ----------------------------------------------------------------------------- C16


def disruption_losses(bench, value_added: pd.Series, origin: str = "CHN", targeted_months: float = 3.0,
                      anchor_musd: float | None = None) -> dict:
    """C16's two NdPr disruptions on ``bench`` (short-run elasticities, the duration convention).

    Returns ``largest`` and ``targeted`` (downstream losses, USD million, times ``factor``),
    ``market`` (the world's market welfare loss under the largest, USD million) and ``factor``
    (``anchor_musd / L_JPN`` for a year-long ban on Japan without diversion; 1 without an anchor).
    """
    mineral = bench.market.mineral
    big = ExportControlModel(bench, ExportControl(origin, "ALL", mineral, 1.0, 12),
                             value_added_at_risk=value_added).solve()
    small = ExportControlModel(bench, ExportControl(origin, ("JPN",), mineral, 1.0, targeted_months),
                               value_added_at_risk=value_added).solve()
    factor = 1.0
    if anchor_musd is not None:
        ref = ExportControlModel(bench, ExportControl(origin, ("JPN",), mineral, 1.0, 12),
                                 value_added_at_risk=value_added, diversion=False).solve()
        factor = float(anchor_musd) / float(ref.downstream.loc["JPN", "downstream_loss"])
    return {"largest": factor * float(big.downstream["downstream_loss"].sum()),
            "targeted": factor * float(small.downstream["downstream_loss"].sum()),
            "market": float(-big.welfare["total"].sum()), "factor": factor}


def significant_impact_verdict(largest: float, targeted: float, world_gdp_musd: float,
                               gdp_threshold: float = 0.001) -> str:
    """C16's verdict from the two losses (USD million) and the threshold share of world GDP."""
    if not world_gdp_musd > 0:
        raise ModelInputError("world_gdp_musd", world_gdp_musd, "a positive world GDP (USD million)")
    bar = gdp_threshold * world_gdp_musd
    if largest >= bar:
        return "supported" if targeted >= bar else "supported with conditions"
    return "not supported"


# ----------------------------------------------------------------------------- C30


def solve_robust(bench, scenario=None):
    """Solve with Clarabel; fall back to OSQP in the rare case Clarabel stalls numerically."""
    try:
        return bench.model(scenario).solve()
    except SolverError:
        return bench.model(scenario, solver="OSQP").solve()


def solve_complete_ban(bench, origin: str = "CHN"):
    """A complete export ban by ``origin`` on ``bench``."""
    return solve_robust(bench, bench.base_scenario.extend(name="ban", quotas=ExportBan(origin)))


def substitution_models(dataset, minerals, horizon: str = "long", supply_which: str = "central",
                        curve: str = "linear", origin: str = "CHN") -> dict:
    """``{(mineral, end): (benchmark, base model, ban model)}``: each mineral calibrated with its most
    (``end="low"``) and least (``"high"``) elastic demand of ``horizon``, supply at the ``supply_which``
    point, and its two programmes built once (a draw re-solves them at new supply curves)."""
    out = {}
    for m in minerals:
        for end in ("low", "high"):
            b = benchmark_from_dataset(dataset, m, horizon=horizon, which=supply_which, curve=curve,
                                       demand_elasticity=dataset.elasticity(m, "demand", horizon, end))
            out[m, end] = (b, b.model(), b.model(b.base_scenario.extend(name="ban", quotas=ExportBan(origin))))
    return out


def _drawn_losses(models: dict, m: str, end: str, supply_elasticity: float, origin: str):
    """Base and ban solves of ``models[m, end]`` at a drawn supply elasticity (built programmes re-solved;
    a fresh build, with OSQP as the fallback, if Clarabel fails)."""
    bench, base_model, ban_model = models[m, end]
    b = bench.recalibrated(None, float(supply_elasticity))
    try:
        for model in (base_model, ban_model):
            model.set_market(b.market, benchmark_prices=b.prices)
        return base_model.solve(), ban_model.solve()
    except SolverError:
        return solve_robust(b), solve_complete_ban(b, origin)


def substitution_cut(dataset, minerals, horizon: str = "long", supply_which: str = "central",
                     members=("USA", "EU", "JPN"), origin: str = "CHN", curve: str = "linear",
                     supply_elasticity: dict | None = None, models: dict | None = None) -> pd.DataFrame:
    """Share of the core bloc's ban loss avoided when demand is most rather than least elastic.

    One row per mineral where the ban binds (the members lose more than 1e-6 USD million with the
    least elastic demand) and a row ``all minerals``: the losses at both ends and ``cut (%)``.
    Supply elasticities are the ``supply_which`` point of ``horizon``; with ``supply_elasticity``
    ``{mineral: value}`` (a Monte Carlo draw) and ``models`` (:func:`substitution_models`), those
    minerals' curves are re-calibrated through the same base year at the values and re-solved.
    """
    out = {}
    for m in minerals:
        losses = {}
        for end in ("low", "high"):      # demand: "low" is the most elastic (most negative) value
            if supply_elasticity is not None and m in supply_elasticity:
                if models is None:
                    raise ModelInputError("models", None, "substitution_models(...) with supply_elasticity")
                b0, res = _drawn_losses(models, m, end, supply_elasticity[m], origin)
            else:
                e_d = dataset.elasticity(m, "demand", horizon, end)
                b = benchmark_from_dataset(dataset, m, horizon=horizon, which=supply_which, curve=curve,
                                           demand_elasticity=e_d)
                b0, res = solve_robust(b), solve_complete_ban(b, origin)
            losses[end] = -float(res.welfare_change(b0)["total"][list(members)].sum())
        if losses["high"] > 1e-6:        # only where the ban binds
            out[m] = {"core loss, least elastic demand": losses["high"],
                      "core loss, most elastic demand": losses["low"],
                      "cut (%)": 100 * (1 - losses["low"] / losses["high"])}
    table = pd.DataFrame(out).T
    if table.empty:
        raise ModelInputError("minerals", list(minerals), "minerals where a complete ban by the origin binds")
    total = table[["core loss, least elastic demand", "core loss, most elastic demand"]].sum()
    table.loc["all minerals"] = [*total, 100 * (1 - total.iloc[1] / total.iloc[0])]
    return table


def substitution_verdict(table: pd.DataFrame, threshold: float = 0.5) -> str:
    """C30's verdict from :func:`substitution_cut`'s table."""
    cut = float(table.loc["all minerals", "cut (%)"])
    return "supported with conditions" if cut >= 100 * threshold else "not supported"
