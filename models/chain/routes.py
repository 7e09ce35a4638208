"""Instruments on a chain's arcs that a solve sets: the bloc's tariffs (MODEL.md §2, §4; the
single-good form is :func:`models.trade_costs.policy_trade_costs` with the ``members`` and
``external_tariff`` of :meth:`models.equilibrium.EquilibriumModel.solve`).

Each covers one stage (``stage="oxide"``) or every stage of the chain (``stage=ALL``): a stage is
always named or ``ALL`` given, never implied, because an export control or a discount on one
stage of a chain is a different policy from the same on all of them. All their numbers are cvxpy
Parameters of the built programme (the arc costs ``τ^s``), so a roster or a tariff set at
:meth:`~models.chain.ChainModel.solve` re-solves the same problem. Stage ``s``, arcs ``i → j`` with ``i ≠ j`` (a stockpile's own arcs ``i → L`` count as
arcs to ``L``):

=====================  ==================================================  =====================
instrument             term or constraint                                  wedge
=====================  ==================================================  =====================
StageBloc              ``τ^s_ij``: import tariffs removed for ``i, j ∈ S``;    revenue ``e x_ij`` to
                       ``+ e`` for ``i ∉ S, j ∈ S``                          the member ``j``
=====================  ==================================================  =====================

The default keys are the single-good model's keywords on a policy of every stage
(``external_tariff``) and carry the stage's name on a policy of one stage
(``external_tariff_oxide``), so that on the one-stage chain
``solve(members=..., external_tariff=...)`` reads as on
:class:`~models.equilibrium.EquilibriumModel`.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from ..errors import ModelInputError
from ..market import check_regions
from ..policies import ALL
from .policies import ChainPolicy, arc_mask, checked_number

TARIFF = "a non-negative tariff in USD/kg"


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
