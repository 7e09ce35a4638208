"""Instruments on a chain's arcs that a solve sets: the bloc's tariffs, route bans, export discounts
(MODEL.md §2, §4; the single-good forms are :func:`models.trade_costs.policy_trade_costs` and the
``members``, ``external_tariff``, ``banned_routes`` and ``export_discounts`` of
:meth:`models.equilibrium.EquilibriumModel.solve`).

Each covers one stage (``stage="oxide"``) or every stage of the chain (``stage=ALL``): a stage is
always named or ``ALL`` given, never implied, because an export control or a discount on one
stage of a chain is a different policy from the same on all of them. All their numbers are cvxpy
Parameters of the built programme (the arc costs ``τ^s``, a ban's arc mask), so a roster, a
tariff, a ban or a discount set at :meth:`~models.chain.ChainModel.solve` re-solves the same
problem. Stage ``s``, arcs ``i → j`` with ``i ≠ j`` (a stockpile's own arcs ``i → L`` count as
arcs to ``L``):

=====================  ==================================================  =====================
instrument             term or constraint                                  wedge
=====================  ==================================================  =====================
StageBloc              ``τ^s_ij``: import tariffs removed for ``i, j ∈ S``;    revenue ``e x_ij`` to
                       ``+ e`` for ``i ∉ S, j ∈ S``                          the member ``j``
RouteBans              ``Σ_ij b^s_ij x^s_ij ≤ 0``, ``b^s_ij ∈ {0, 1}``          arcs closed
ExportDiscounts        ``τ^s_ij −= d_ij``                                    ``−d_ij x_ij`` to ``i``
=====================  ==================================================  =====================

The default keys are the single-good model's keywords on a policy of every stage
(``external_tariff``, ``banned_routes``, ``export_discounts``) and carry the stage's name on a
policy of one stage (``external_tariff_oxide``), so that on the one-stage chain
``solve(members=..., external_tariff=..., banned_routes=..., export_discounts=...)`` reads as on
:class:`~models.equilibrium.EquilibriumModel`.
"""
from __future__ import annotations

from types import SimpleNamespace

import cvxpy as cp
import numpy as np

from ..errors import ModelInputError
from ..market import check_regions
from ..policies import ALL
from .policies import ChainPolicy, arc_mask, checked_number

TARIFF = "a non-negative tariff in USD/kg"
DISCOUNT = "a non-negative discount in USD/kg"


def checked_routes(field: str, value, regions) -> dict[str, tuple[str, ...]]:
    """``{origin: destinations}`` with known regions (an origin's own region dropped); else a
    ModelInputError naming ``field``, the value and what is allowed."""
    if not isinstance(value, dict):
        raise ModelInputError(field, value, "a mapping origin -> destinations (region ids)")
    out = {}
    for origin, dests in value.items():
        check_regions(f"{field} (origin)", origin, regions)
        dests = (dests,) if isinstance(dests, str) else dests
        try:
            dests = tuple(dests)
        except TypeError:
            raise ModelInputError(f"{field}[{origin}]", dests, "a region id or a list of region ids") from None
        out[origin] = tuple(d for d in check_regions(f"{field}[{origin}]", dests, regions) if d != origin)
    return out


def checked_discounts(field: str, value, regions) -> dict[tuple[str, str], float]:
    """``{(origin, destination): USD/kg}`` with two different known regions and a non-negative
    amount; else a ModelInputError naming ``field``, the value and what is allowed."""
    if not isinstance(value, dict):
        raise ModelInputError(field, value, "a mapping (origin, destination) -> USD/kg")
    out = {}
    for arc, amount in value.items():
        if not (isinstance(arc, tuple) and len(arc) == 2) or arc[0] == arc[1]:
            raise ModelInputError(f"{field} (key)", arc, "a pair (origin, destination) of two different regions")
        check_regions(f"{field} (key)", arc, regions)
        out[arc] = checked_number(f"{field}[{arc}]", amount, DISCOUNT)
    return out


class ArcPolicy(ChainPolicy):
    """Base of the instruments of this module: one stage, or every stage with ``stage=ALL``.

    ``stage_ids`` are the covered stages' positions; the default key is ``kind`` (every stage) or
    ``kind_<stage>`` (one stage).
    """

    def __init__(self, stage, key: str | None = None):
        if stage is None:
            raise ModelInputError(f"{type(self).__name__}.stage", stage, f"a stage's id or {ALL!r} (every stage)")
        super().__init__(stage, key)

    @property
    def key(self) -> str:
        return self._key or (self.kind if self.stage == ALL else f"{self.kind}_{self.stage}")

    def validate(self, chain, field: str) -> None:
        if isinstance(self.stage, str) and self.stage == ALL:
            self.s, self.stage_ids = None, list(range(len(chain.stages)))
        else:
            super().validate(chain, field)
            self.stage_ids = [self.s]

    def per_arc(self, model, s: int, amounts: dict[tuple[str, str], float]) -> np.ndarray:
        """``amounts`` by (origin, destination) spread over stage ``s``'s arcs (own arcs included)."""
        b, idx = model.blocks[s], model.idx
        out = np.zeros(b.x.size)
        for (o, d), v in amounts.items():
            out[(b.origin == idx[o]) & (b.destination == idx[d])] = v
        return out

    def by_region(self, model, s: int, per_arc: np.ndarray, side: str) -> np.ndarray:
        """``Σ per_arc · x`` on stage ``s`` by ``side`` (``"origin"`` or ``"destination"``), length n."""
        b = model.blocks[s]
        return np.bincount(getattr(b, side), weights=per_arc * np.asarray(b.x.value, dtype=float),
                           minlength=model.chain.n)


class StageBloc(ArcPolicy):
    """The bloc's tariffs on a stage (``stage=ALL``: every stage): members trade freely, non-members'
    goods pay the common external tariff.

    On each covered stage ``s``, after every :class:`~models.chain.StageTariff` is set::

        τ^s_ij  without its import tariffs   for i, j ∈ S, i ≠ j      (export taxes stay)
        τ^s_ij  += e                         for i ∉ S, j ∈ S

    the external tariff's revenue ``e x^s_ij`` collected by the importing member ``j``, exactly as
    :func:`models.trade_costs.policy_trade_costs` treats the single good. ``S`` is ``members``, or
    the roster set on the model (``ChainModel(members=...)`` or ``solve(members=...)``), which
    replaces it as it does for the floors; ``members=None`` takes the roster only. ``e`` is
    ``external_tariff``, or the value given at a solve under the policy's key (``external_tariff``
    for every stage, ``external_tariff_<stage>`` for one). Both only set the Parameters ``τ^s``:
    no rebuild.
    """

    kind = "external_tariff"

    def __init__(self, stage, members=None, external_tariff: float = 0.0, key: str | None = None):
        super().__init__(stage, key)
        self.members = members
        self.external_tariff = checked_number("StageBloc.external_tariff", external_tariff, TARIFF)

    def validate(self, chain, field):
        super().validate(chain, field)
        if self.members is not None:
            self.members = check_regions(f"{field}.members", self.members, chain.regions)
            if not self.members:
                raise ModelInputError(f"{field}.members", self.members, "None (the roster) or a non-empty list of region ids")

    def compile(self, model):
        model.handles[self.key] = SimpleNamespace(rate=self.external_tariff, members=self.members, outside={})

    def current_members(self, model) -> tuple[str, ...]:
        """``S`` at this solve: the roster where one is set, else ``members``."""
        members = model.roster if model.roster is not None else self.members
        if members is None:
            raise ModelInputError(f"{self.key}.members", None,
                                  "a roster: StageBloc(members=...), ChainModel(members=...) or solve(members=...)")
        return tuple(members)

    def tariff_free_arcs(self, model):
        members = self.current_members(model)
        return {s: arc_mask(model.blocks[s], members, members, model.idx) > 0 for s in self.stage_ids}

    def apply(self, model, override):
        h = self.h(model)
        h.rate = self.external_tariff if override is None else checked_number(self.key, override, TARIFF)
        h.members = self.current_members(model)
        outsiders = [r for r in model.chain.regions if r not in h.members]
        for s in self.stage_ids:
            h.outside[s] = arc_mask(model.blocks[s], outsiders, h.members, model.idx)
            model.tau_next[s] += h.rate * h.outside[s]

    def accounts(self, model):
        h = self.h(model)
        return {"government": sum(self.by_region(model, s, h.rate * h.outside[s], "destination")
                                  for s in self.stage_ids)}

    def wedge(self, model):
        h = self.h(model)
        return {"external_tariff": h.rate,
                "imports_from_non_members_kt": float(sum(h.outside[s] @ np.asarray(model.blocks[s].x.value)
                                                         for s in self.stage_ids))}


class RouteBans(ArcPolicy):
    """Routes barred on a stage (``stage=ALL``: every stage), set at a solve.

    ``Σ_ij b^s_ij x^s_ij ≤ 0`` on each covered stage, with the Parameter ``b^s_ij = 1`` on a banned
    route ``i → j`` and ``0`` elsewhere: shipments on it are barred, a stockpile's purchases at
    ``j`` from ``i`` (its own arcs ``i → j``) included, as ``banned_routes`` bars them in
    :meth:`models.equilibrium.EquilibriumModel.solve`. ``routes`` (``{origin: destinations}``) is
    the default; ``solve(banned_routes={...})`` (the policy's key) replaces it, ``{}`` lifts every
    ban. A banned arc is closed: its no-arbitrage condition does not apply and the certificate
    checks ``x^s_ij = 0`` there (the single-good certificate's closed arcs). With no route banned
    the row is ``0 ≤ 0``; build the policy only into models that set bans.
    """

    kind = "banned_routes"

    def __init__(self, stage, routes=None, key: str | None = None):
        super().__init__(stage, key)
        self.routes = {} if routes is None else routes

    def validate(self, chain, field):
        super().validate(chain, field)
        self.routes = checked_routes(f"{field}.routes", self.routes, chain.regions)

    def compile(self, model):
        bans = {}
        for s in self.stage_ids:
            b = model.blocks[s]
            if b.x.size:
                bans[s] = cp.Parameter(b.x.size, nonneg=True, name=f"{self.key}[{b.name}]")
                model.constraints[f"{self.key}[{b.name}]"] = bans[s] @ b.x <= 0
        model.handles[self.key] = SimpleNamespace(bans=bans, routes=self.routes)

    def apply(self, model, override):
        h = self.h(model)
        h.routes = self.routes if override is None else checked_routes(self.key, override, model.chain.regions)
        for s, param in h.bans.items():
            mask = self.per_arc(model, s, {(o, d): 1.0 for o, dests in h.routes.items() for d in dests})
            if param.value is None or not np.array_equal(param.value, mask):
                param.value = mask

    def arc_wedge(self, model, s):
        param = self.h(model).bans.get(s)
        if param is None or not np.any(param.value):
            return None
        return np.where(np.asarray(param.value) > 0, np.inf, 0.0)

    def wedge(self, model):
        h = self.h(model)
        return {"banned_arcs": int(sum(np.count_nonzero(p.value) for p in h.bans.values())),
                "shipped_on_banned_kt": float(sum(p.value @ np.asarray(model.blocks[s].x.value)
                                                  for s, p in h.bans.items()))}


class ExportDiscounts(ArcPolicy):
    """Price cuts exporters pay on routes of a stage (``stage=ALL``: every stage), set at a solve.

    ``τ^s_ij −= d_ij`` on each covered stage: buyers at ``j`` pay ``d_ij`` less than ``i``'s
    producers receive plus freight and tariffs, and ``i``'s government pays ``d_ij x^s_ij`` (a
    negative export tax in its accounts), as ``export_discounts`` in
    :meth:`models.equilibrium.EquilibriumModel.solve`. A stockpile's purchases at ``j`` from ``i``
    get the discount too. ``discounts`` (``{(origin, destination): USD/kg}``, ``d ≥ 0``) is the
    default; ``solve(export_discounts={...})`` (the policy's key) replaces it.
    """

    kind = "export_discounts"

    def __init__(self, stage, discounts=None, key: str | None = None):
        super().__init__(stage, key)
        self.discounts = {} if discounts is None else discounts

    def validate(self, chain, field):
        super().validate(chain, field)
        self.discounts = checked_discounts(f"{field}.discounts", self.discounts, chain.regions)

    def compile(self, model):
        model.handles[self.key] = SimpleNamespace(discounts=self.discounts, cut={})

    def apply(self, model, override):
        h = self.h(model)
        h.discounts = (self.discounts if override is None
                       else checked_discounts(self.key, override, model.chain.regions))
        for s in self.stage_ids:
            h.cut[s] = self.per_arc(model, s, h.discounts)
            model.tau_next[s] -= h.cut[s]

    def accounts(self, model):
        h = self.h(model)
        return {"government": -sum(self.by_region(model, s, h.cut[s], "origin") for s in self.stage_ids)}

    def wedge(self, model):
        return {f"discount[{o}->{d}]": v for (o, d), v in self.h(model).discounts.items()}
