"""Games over rosters: each region's welfare for any roster (cached), internal and external
stability, and the enumeration of every roster around a core (MODEL.md §4, "Bloc membership").

See :mod:`models.coalition` for the definitions.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from ..errors import ModelInputError
from .rosters import CORE, WELFARE_TOL, RosterModel, check_roster, rosters_containing


# ---------------------------------------------------------------------------- games over rosters
@dataclass(frozen=True)
class _Outcome:
    """Cached welfare of one (mineral, roster): arrays in region order, USD million / yr."""

    change: np.ndarray           # ΔW_i, the stockpile accounted at its location
    private: np.ndarray          # ΔW_i without the stockpile's account
    stockpile_net: float         # − outlay: the stockpile's own account (inventory not valued)


class RosterGame:
    """Welfare of every region for any roster, summed over one or more minerals, with a cache.

    Parameters
    ----------
    models : RosterModel or sequence of RosterModel
        One per mineral; all must share the same regions.
    level : float, optional
        Floor level for every model (default: each model's own).
    bill_shares : pandas.Series, optional
        Weights by region (e.g. GDP). When given, the stockpile's account (minus its outlay;
        the inventory is not valued) is shared among the members in proportion to them instead of staying with the
        stockpile's location.
    ban_members : bool
        The supplier bans its exports to every member (its response to the bloc).
    prune_inert : bool
        Cache outcomes by ``S ∩ active`` (exact; see the module docstring). ``False`` solves every
        distinct roster.
    solve_kwargs :
        Passed to :meth:`RosterModel.solve_roster` (e.g. ``external_tariff``).
    """

    def __init__(self, models, level: float | None = None, *, bill_shares: pd.Series | None = None,
                 ban_members: bool = False, prune_inert: bool = True, **solve_kwargs):
        models = (models,) if isinstance(models, RosterModel) else tuple(models)
        if not models or not all(isinstance(m, RosterModel) for m in models):
            raise ModelInputError("models", models, "one or more RosterModel")
        self.regions = models[0].regions
        if any(m.regions != self.regions for m in models):
            raise ModelInputError("models", [m.market.mineral for m in models], "models with the same regions")
        self.models, self.level, self.ban_members = models, level, bool(ban_members)
        self.prune_inert = bool(prune_inert)
        self.solve_kwargs = solve_kwargs
        if bill_shares is not None:
            bill_shares = pd.Series(bill_shares, dtype=float)
            check_roster(tuple(bill_shares.index), self.regions, field="bill_shares (index)")
            if (bill_shares < 0).any() or not np.all(np.isfinite(bill_shares)):
                raise ModelInputError("bill_shares", bill_shares.to_dict(), "finite non-negative weights")
            bill_shares = bill_shares.reindex(list(self.regions)).fillna(0.0)
        self.bill_shares = bill_shares
        self._cache: list[dict] = [dict() for _ in models]
        self._base = [m.baseline.welfare["total"].to_numpy() for m in models]

    @property
    def n_solves(self) -> int:
        """Distinct equilibria solved so far (over all minerals)."""
        return sum(len(c) for c in self._cache)

    def _outcome(self, k: int, members: tuple[str, ...]) -> _Outcome:
        model = self.models[k]
        key = frozenset(r for r in members if r in model.active) if self.prune_inert else frozenset(members)
        hit = self._cache[k].get(key)
        if hit is not None:
            return hit
        if not key:
            # no active member: nothing binds in this mineral, the benchmark holds
            zero = np.zeros(len(self.regions))
            out = _Outcome(zero, zero, 0.0)
        else:
            roster = tuple(sorted(key, key=self.regions.index))
            kwargs = dict(self.solve_kwargs)
            if self.ban_members:
                kwargs["ban"] = tuple(r for r in roster if r != model.supplier)
            res = model.solve_roster(roster, level=self.level, **kwargs)
            w = res.welfare
            change = w["total"].to_numpy() - self._base[k]
            account = -w["stockpile_outlay"].to_numpy()
            out = _Outcome(change, change - account, float(account.sum()))
        self._cache[k][key] = out
        return out

    def welfare(self, members) -> pd.Series:
        """``ΔW_i(S)`` by region (USD million / yr), summed over the game's minerals."""
        members = check_roster(members, self.regions)
        total = np.zeros(len(self.regions))
        for k in range(len(self.models)):
            out = self._outcome(k, members)
            if self.bill_shares is None:
                total += out.change
            else:
                total += out.private + self._allocate(out.stockpile_net, members)
        return pd.Series(total, index=pd.Index(self.regions, name="region"), name="welfare_change")

    def _allocate(self, amount: float, members) -> np.ndarray:
        w = self.bill_shares.to_numpy() * np.array([r in members for r in self.regions], dtype=float)
        if w.sum() <= 0:
            w = np.array([r in members for r in self.regions], dtype=float)
        return amount * w / w.sum()

    def joint_worth(self, members) -> float:
        """``v(S)``: the members' joint welfare gain, the stockpile's account belonging to the bloc.

        ``v(S) = Σ_{i∈S} ΔW_i^private(S) + stockpile account(S)``; ``v(∅) = 0``.
        """
        if members is None or len(tuple(members)) == 0:
            return 0.0
        members = check_roster(members, self.regions)
        mask = np.array([r in members for r in self.regions])
        total = 0.0
        for k in range(len(self.models)):
            out = self._outcome(k, members)
            total += float(out.private[mask].sum()) + out.stockpile_net
        return total

    def private_gains(self, members) -> pd.Series:
        """``ΔW_i`` before the stockpile's account (its outlay and inventory), USD million / yr."""
        members = check_roster(members, self.regions)
        total = np.zeros(len(self.regions))
        for k in range(len(self.models)):
            total += self._outcome(k, members).private
        return pd.Series(total, index=pd.Index(self.regions, name="region"), name="private_gain")

    def stockpile_account(self, members) -> float:
        """The bloc's stockpile account: minus its outlay (USD million / yr; 0 without one). The
        inventory is not valued (MODEL.md §3; :func:`models.accounting.inventory_account`)."""
        members = check_roster(members, self.regions)
        return float(sum(self._outcome(k, members).stockpile_net for k in range(len(self.models))))

    # ------------------------------------------------------------------ stability
    def stability(self, members, fixed: Sequence[str] = (), candidates: Sequence[str] | None = None,
                  barred: Sequence[str] = (), tol: float = WELFARE_TOL) -> pd.DataFrame:
        """Internal and external stability of roster ``members``, one row per region.

        Columns: ``member`` (bool), ``welfare`` ``ΔW_i(S)``, ``welfare_if_switch`` (``ΔW_i(S∖{i})``
        for a member, ``ΔW_i(S∪{j})`` for an outsider), ``gain_from_switch`` (their difference, USD
        million / yr), ``wants_to_switch`` (gain above ``tol``; never for ``fixed`` members, whose
        gain is still reported, nor for ``barred`` outsiders, who may not join, e.g. China in a
        "China-free" bloc). ``df.attrs`` holds ``internally_stable``, ``externally_stable``
        and ``stable``.
        """
        members = check_roster(members, self.regions)
        candidates = self.regions if candidates is None else check_roster(candidates, self.regions, field="candidates")
        base = self.welfare(members)
        rows = []
        for r in self.regions:
            inside = r in members
            if not inside and r not in candidates:
                continue
            if inside:
                rest = tuple(m for m in members if m != r)
                alt = float(self.welfare(rest)[r]) if rest else 0.0
            else:
                alt = float(self.welfare(members + (r,))[r])
            gain = alt - float(base[r])
            rows.append({"region": r, "member": inside, "welfare": float(base[r]),
                         "welfare_if_switch": alt, "gain_from_switch": gain,
                         "wants_to_switch": bool(gain > tol and r not in fixed and r not in barred)})
        table = pd.DataFrame(rows).set_index("region")
        internal = not table.loc[table["member"], "wants_to_switch"].any()
        external = not table.loc[~table["member"], "wants_to_switch"].any()
        table.attrs.update(internally_stable=bool(internal), externally_stable=bool(external),
                           stable=bool(internal and external))
        return table


@dataclass(frozen=True)
class Enumeration:
    """Every roster containing the core, with its stability (from :func:`enumerate_rosters`).

    ``table`` has one row per roster: ``roster`` (``+``-joined ids), ``size``, ``admissible`` (no
    barred region in it), one boolean column
    per candidate region, ``internally_stable``, ``externally_stable``, ``stable``, ``would_leave``
    and ``would_join`` (regions that gain by switching, ``+``-joined), ``max_gain_leave`` and
    ``max_gain_join`` (USD million / yr), ``joint_welfare`` (members' ΔW sum) and
    ``world_welfare`` (all regions). ``wall_time`` in seconds; ``n_solves`` distinct equilibria.
    """

    table: pd.DataFrame
    wall_time: float
    n_rosters: int
    n_solves: int
    welfare: pd.DataFrame = field(repr=False)   # ΔW by roster (rows) × region (columns)

    @property
    def stable(self) -> pd.DataFrame:
        """Stable and admissible rosters."""
        return self.table[self.table["stable"] & self.table["admissible"]]


def enumerate_rosters(game: RosterGame, core: Sequence[str] = CORE, candidates: Sequence[str] | None = None,
                      fixed: Sequence[str] | None = None, barred: Sequence[str] = (),
                      tol: float = WELFARE_TOL) -> Enumeration:
    """Stability of every roster ``core ∪ T``, ``T ⊆ candidates`` (default: all other regions).

    Members of ``fixed`` (default: the core) are not tested for leaving: the bloc is defined by
    its founders. Members of ``barred`` may not join: rosters containing them are still
    enumerated (``admissible`` is False) and their gain from joining is reported, but it does not
    make a roster externally unstable. Leaving by any other member and joining by any outsider lead to rosters that
    still contain the core, so the ``2^k`` solves cover every test.
    """
    regions = game.regions
    core = check_roster(core, regions, field="core")
    candidates = tuple(r for r in regions if r not in core) if candidates is None else \
        tuple(r for r in check_roster(candidates, regions, field="candidates") if r not in core)
    fixed = core if fixed is None else tuple(fixed)
    start = time.perf_counter()
    solves_before = game.n_solves
    rosters = rosters_containing(core, candidates)
    idx = {r: k for k, r in enumerate(regions)}
    W = {}
    for roster in rosters:
        W[frozenset(roster)] = game.welfare(roster).to_numpy()
    rows = []
    for roster in rosters:
        S = frozenset(roster)
        w = W[S]
        leave, join = {}, {}
        for i in roster:
            if i in fixed:
                continue
            leave[i] = W[S - {i}][idx[i]] - w[idx[i]]
        for j in candidates:
            if j not in S:
                join[j] = W[S | {j}][idx[j]] - w[idx[j]]
        would_leave = [i for i, g in leave.items() if g > tol]
        would_join = [j for j, g in join.items() if g > tol and j not in barred]
        mask = np.array([r in S for r in regions])
        row = {"roster": "+".join(r for r in regions if r in S), "size": len(S),
               "admissible": not any(b in S for b in barred)}
        row.update({c: c in S for c in candidates})
        row.update(internally_stable=not would_leave, externally_stable=not would_join,
                   stable=not would_leave and not would_join,
                   would_leave="+".join(would_leave), would_join="+".join(would_join),
                   max_gain_leave=max(leave.values(), default=0.0),
                   max_gain_join=max(join.values(), default=0.0),
                   joint_welfare=float(w[mask].sum()), world_welfare=float(w.sum()))
        rows.append(row)
    wall = time.perf_counter() - start
    table = pd.DataFrame(rows)
    welfare = pd.DataFrame([W[frozenset(r)] for r in rosters], columns=list(regions),
                           index=pd.Index(table["roster"], name="roster"))
    return Enumeration(table, wall, len(rosters), game.n_solves - solves_before, welfare)
