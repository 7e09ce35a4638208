"""Complementarity, a bloc's buying power, the price of a defection, and cost sharing by the
Shapley value (MODEL.md §4, "Bloc membership"). See :mod:`models.coalition` for the definitions.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from ..errors import ModelInputError
from ..result import EquilibriumResult
from .games import RosterGame
from .rosters import EXACT_LIMIT, WELFARE_TOL, RosterModel, _nonneg, check_roster


# ---------------------------------------------------------------------------- complementarity
def complementarity(supply: pd.Series, demand: pd.Series, members) -> dict:
    """Self-sufficiency and complementarity of a roster in one mineral.

    With net positions ``e_i = max(S_i − D_i, 0)`` (net exports) and ``m_i = max(D_i − S_i, 0)``
    (net imports) of the members ``i ∈ S``::

        self-sufficiency  σ(S) = Σ_S S_i / Σ_S D_i
        complementarity   C(S) = min(Σ_S e_i, Σ_S m_i) / Σ_S m_i

    ``C`` is the share of the members' net imports that other members' net exports could cover:
    1 = complementary (some members' surplus covers the others' deficits), 0 = "shared demand"
    (every member is a net importer). When no member is a net importer, ``C = 1``; when the
    members neither produce nor consume, ``σ`` is reported as 1.

    Returns a dict: ``self_sufficiency``, ``complementarity``, ``net_exports`` and
    ``net_imports`` (kt), ``exporters`` and ``importers`` (tuples of members).
    """
    supply, demand = pd.Series(supply, dtype=float), pd.Series(demand, dtype=float)
    members = check_roster(members, tuple(supply.index))
    s = supply.loc[list(members)]
    d = demand.reindex(list(members)).fillna(0.0)
    net = s - d
    exports = float(net.clip(lower=0).sum())
    imports = float((-net).clip(lower=0).sum())
    tol = 1e-9 * max(1.0, float(s.sum() + d.sum()))
    return {
        "self_sufficiency": float(s.sum() / d.sum()) if d.sum() > tol else 1.0,
        "complementarity": min(exports, imports) / imports if imports > tol else 1.0,
        "net_exports": exports, "net_imports": imports,
        "exporters": tuple(r for r in members if net[r] > tol),
        "importers": tuple(r for r in members if net[r] < -tol),
    }


def import_price(result: EquilibriumResult, members, weights: pd.DataFrame | None = None) -> float:
    """The price members pay non-members for imports, before their own tariff (USD/kg).

    ``Σ_{i∉S, j∈S} q_ij (w_i + τ^exp_ij + t_ij) / Σ_{i∉S, j∈S} q_ij``: the exporter's supply price
    plus its export tax and freight, weighted by shipments ``q``. With ``weights`` (a flow matrix,
    origin × destination, e.g. the benchmark's ``bench.flows``) the weights are fixed, so that a
    change in the index is a change in prices only (flows between equally cheap routes are not
    unique); without, the result's own flows are used. A fall in it is a bloc's "buying power":
    a terms-of-trade gain paid for by the exporters.
    """
    regions = tuple(result.market.regions)
    members = check_roster(members, regions)
    inside = np.array([r in members for r in regions])
    q = result.raw.flows if weights is None else \
        pd.DataFrame(weights).reindex(index=list(regions), columns=list(regions)).fillna(0.0).to_numpy()
    x = q[np.ix_(~inside, inside)]
    total = float(x.sum())
    if total <= 1e-9:
        raise ModelInputError("members", members, "a roster that imports from non-members "
                              "(under the weights used)")
    w = result.raw.supply_price[~inside][:, None]
    cost = w + result.raw.export_tax[np.ix_(~inside, inside)] + result.raw.transport[np.ix_(~inside, inside)]
    return float((x * cost).sum() / total)


def defection_price(model: RosterModel, members, region: str, *, level: float | None = None,
                    max_discount: float | None = None, tol: float = 1e-3, **solve_kwargs) -> dict:
    """The smallest preferential discount ``δ`` (USD/kg) from the supplier that makes ``region``
    leave the bloc: ``ΔW_r(S∖{r}; δ) ≥ ΔW_r(S)``, found by bisection (welfare rises with ``δ``).

    Returns ``discount`` (0 if leaving pays already; ``None`` if not even ``max_discount``
    suffices, default the benchmark price of ``region``), ``gain_from_staying`` (USD million /
    yr, without the deal), ``supplier_cost`` (``δ ×`` the supplier's shipments to ``region``) and
    ``supplier_gain`` (the supplier's welfare change from the defection, net of that cost).
    """
    members = check_roster(members, model.regions)
    if region not in members:
        raise ModelInputError("region", region, f"a member of {list(members)}")
    if region == model.supplier:
        raise ModelInputError("region", region, "a member other than the supplier")
    rest = tuple(m for m in members if m != region)
    if not rest:
        raise ModelInputError("members", members, "a roster that survives the defection (two or more)")
    k, s = model.regions.index(region), model.regions.index(model.supplier)
    stay = model.welfare_change(members, level=level, **solve_kwargs)
    target = float(stay.iloc[k])

    def leave(delta):
        res = model.solve_roster(rest, level=level, discounts={region: delta} if delta > 0 else None,
                                 **solve_kwargs)
        dw = res.welfare["total"] - model.baseline.welfare["total"]
        return float(dw.iloc[k]), res, float(dw.iloc[s])

    w0, res0, sup0 = leave(0.0)
    out = {"gain_from_staying": target - w0}
    hi = float(model.bench.prices[region]) if max_discount is None else _nonneg("max_discount", max_discount)
    if w0 >= target - WELFARE_TOL:
        delta, res, sup = 0.0, res0, sup0
    else:
        w_hi, res_hi, sup_hi = leave(hi)
        if w_hi < target:
            out.update(discount=None, supplier_cost=None, supplier_gain=None)
            return out
        lo, res, sup = 0.0, res_hi, sup_hi
        while hi - lo > tol:
            mid = 0.5 * (lo + hi)
            w_mid, res_mid, sup_mid = leave(mid)
            if w_mid >= target:
                hi, res, sup = mid, res_mid, sup_mid
            else:
                lo = mid
        delta = hi
    shipped = float(res.raw.flows[s, k])
    out.update(discount=delta, supplier_cost=delta * shipped,
               supplier_gain=sup - float(stay.iloc[s]))
    return out


# ---------------------------------------------------------------------------- Shapley value
@dataclass(frozen=True)
class ShapleyResult:
    """Shapley values of a game.

    ``values`` by player; ``std_error`` (0 when exact) and ``ci95`` (half-width of a 95 % normal
    interval) of a sampled estimate; ``method`` ("exact" or "sample"); ``n_worths`` distinct
    coalition worths evaluated; ``samples`` orderings drawn (0 when exact).
    """

    values: pd.Series
    std_error: pd.Series
    method: str
    n_worths: int
    samples: int = 0

    @property
    def ci95(self) -> pd.Series:
        return 1.959964 * self.std_error


def shapley_value(worth: Callable[[frozenset], float] | dict, players: Sequence[str], *,
                  method: str = "auto", samples: int = 2000, seed: int = 0) -> ShapleyResult:
    """The Shapley value of the transferable-utility game ``(N, v)``.

    Parameters
    ----------
    worth : callable frozenset -> float, or dict frozenset -> float
        ``v(S)``; ``v(∅)`` is taken as 0 when not given. Each coalition is evaluated once (cached).
    players : sequence of hashable ids
    method : {"auto", "exact", "sample"}
        ``exact`` enumerates the ``2^n`` coalitions (``n ≤`` :data:`EXACT_LIMIT`, else
        :class:`ModelInputError`); ``sample`` averages marginal contributions over ``samples``
        random orderings drawn with ``numpy.random.default_rng(seed)`` and reports the standard
        error of the mean; ``auto`` is exact up to :data:`EXACT_LIMIT` players, sampled above.
    """
    players = tuple(players)
    n = len(players)
    if n == 0:
        raise ModelInputError("players", players, "at least one player")
    if len(set(players)) != n:
        raise ModelInputError("players", players, "distinct players")
    if method not in ("auto", "exact", "sample"):
        raise ModelInputError("method", method, "'auto', 'exact' or 'sample'")
    if method == "exact" and n > EXACT_LIMIT:
        raise ModelInputError("method", method, f"'sample' for more than {EXACT_LIMIT} players "
                              f"({n} players: 2^{n} coalitions)")
    if method == "auto":
        method = "exact" if n <= EXACT_LIMIT else "sample"
    lookup = worth if isinstance(worth, dict) else None
    cache: dict[frozenset, float] = {}

    def v(coalition: frozenset) -> float:
        hit = cache.get(coalition)
        if hit is None:
            if lookup is not None:
                hit = float(lookup.get(coalition, 0.0))
            else:
                hit = 0.0 if not coalition else float(worth(coalition))
            if not np.isfinite(hit):
                raise ModelInputError(f"worth({sorted(coalition, key=str)})", hit, "a finite number")
            cache[coalition] = hit
        return hit

    index = pd.Index(players, name="player")
    if method == "exact":
        size = 1 << n
        values = np.empty(size)
        for mask in range(size):
            values[mask] = v(frozenset(players[i] for i in range(n) if mask >> i & 1))
        masks = np.arange(size)
        popcount = np.zeros(size, dtype=int)
        for i in range(n):
            popcount += (masks >> i) & 1
        fact = [math.factorial(k) for k in range(n + 1)]
        weight = np.array([fact[s] * fact[n - s - 1] / fact[n] if s < n else 0.0 for s in range(n + 1)])
        phi = np.empty(n)
        for i in range(n):
            without = masks[((masks >> i) & 1) == 0]
            phi[i] = float((weight[popcount[without]] * (values[without | (1 << i)] - values[without])).sum())
        return ShapleyResult(pd.Series(phi, index=index, name="shapley"),
                             pd.Series(0.0, index=index, name="std_error"), "exact", len(cache))
    if int(samples) != samples or samples < 2:
        raise ModelInputError("samples", samples, "an integer of at least 2")
    rng = np.random.default_rng(seed)
    contrib = np.zeros((int(samples), n))
    for t in range(int(samples)):
        order = rng.permutation(n)
        coalition: frozenset = frozenset()
        before = 0.0
        for i in order:
            coalition = coalition | {players[i]}
            after = v(coalition)
            contrib[t, i] = after - before
            before = after
    phi = contrib.mean(axis=0)
    se = contrib.std(axis=0, ddof=1) / np.sqrt(samples)
    return ShapleyResult(pd.Series(phi, index=index, name="shapley"),
                         pd.Series(se, index=index, name="std_error"), "sample", len(cache), int(samples))


#: :func:`bill_split`'s columns as a reader sees them: what each is and its unit.
BILL_SPLIT_HEADERS = {"gross_gain": "gross gain in the bloc (USD m/yr)", "shapley": "Shapley net gain (USD m/yr)",
                      "contribution": "contribution to the bill (USD m/yr)", "share": "share of the bill (fraction)",
                      "share_warning": "share warning"}


def bill_split_shown(table: pd.DataFrame) -> pd.DataFrame:
    """A :func:`bill_split` table with headers that say what each column is and its unit
    (:data:`BILL_SPLIT_HEADERS`; a ``<key>_share`` column becomes ``"<key> share (fraction)"``)."""
    unknown = [c for c in table.columns if c not in BILL_SPLIT_HEADERS and not str(c).endswith("_share")]
    if unknown:
        raise ModelInputError("bill_split table columns", unknown,
                              f"the columns of bill_split: {sorted(BILL_SPLIT_HEADERS)} and <key>_share")
    return table.rename(columns=lambda c: BILL_SPLIT_HEADERS.get(c) or f"{c[:-len('_share')]} share (fraction)")


def bill_split(game: RosterGame, members, weights: dict[str, pd.Series] | None = None, *,
               method: str = "auto", samples: int = 2000, seed: int = 0) -> pd.DataFrame:
    """How the bloc's net bill would split under the Shapley value, and under other keys.

    The game: players are ``members``, ``v(S) = game.joint_worth(S)``. Each member's gross gain
    in the full bloc is ``g_i = ΔW_i^private(N)`` (before the stockpile's account); the Shapley
    rule gives it a net gain ``φ_i``, so its contribution to the bill is ``c_i = g_i − φ_i``, and
    ``Σ c_i`` = the bill the rule splits: ``Σ_i g_i − v(N)``, which is the stockpile's outlay
    (USD million / yr; the inventory is not valued) when there is one, and otherwise the members'
    joint gain that the rule moves between them. A negative ``c_i`` is a transfer *to* the member.

    Columns: ``gross_gain``, ``shapley``, ``contribution``, ``share`` (``c_i / Σ c``),
    ``share_warning`` (a text where a member's share exceeds 100% or is negative, so that a reader
    sees that the rule pays it rather than charges it, or charges it more than the whole bill;
    empty otherwise), and ``<key>_share`` for each entry of ``weights`` (e.g. GDP, consumption:
    the member's share of the members' total). ``df.attrs``: ``net_bill`` and ``bill_name`` (what
    is split), ``method``, ``std_error`` (Series).
    """
    members = check_roster(members, game.regions)
    result = shapley_value(lambda S: game.joint_worth(tuple(S)), members, method=method,
                           samples=samples, seed=seed)
    gross = game.private_gains(members).loc[list(members)]
    contribution = gross - result.values.reindex(list(members)).to_numpy()
    net_bill = float(contribution.sum())
    table = pd.DataFrame({"gross_gain": gross.to_numpy(), "shapley": result.values.to_numpy(),
                          "contribution": contribution.to_numpy()}, index=pd.Index(members, name="region"))
    table["share"] = table["contribution"] / net_bill if abs(net_bill) > WELFARE_TOL else 0.0
    table["share_warning"] = [
        "negative: the rule pays this member" if sh < -1e-9 else
        "above 100%: charged more than the whole bill" if sh > 1 + 1e-9 else "" for sh in table["share"]]
    outlay = -game.stockpile_account(members)
    bill_name = (f"the stockpile's outlay, {outlay:,.1f} USD million a year" if outlay > WELFARE_TOL else
                 "the members' joint gain moved between them (no stockpile outlay)")
    for key, w in (weights or {}).items():
        w = pd.Series(w, dtype=float).reindex(list(members)).fillna(0.0)
        table[f"{key}_share"] = w / w.sum() if w.sum() > 0 else 0.0
    table.attrs.update(net_bill=net_bill, bill_name=bill_name, method=result.method, std_error=result.std_error,
                       n_worths=result.n_worths)
    return table
