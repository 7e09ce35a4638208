"""Price floors on one stage of a chain, as policies of :mod:`models.chain.policies`' protocol
(MODEL.md §2, §4; the single-good forms are :mod:`models.policies`).

Stage ``s``; ``S`` the bloc (a floor's members, or the roster set at a solve); ``f`` the level:

=====================  ================================================  ==========================
instrument             term or constraint                                wedge (dual)
=====================  ================================================  ==========================
StageStockpile         ``+ f K``, ``K ≤ B / f``; ``K`` a use at ``L``'s    outlay ``p_L K``
                       delivered balance, or ``K = Σ_{i∈E} y_i`` on arcs   (``(f − ν) K`` on its own
                       of its own from eligible origins, ``y_i ≤ ȳ_i``     arcs)
StageCfd               ``Y_{s,r} ≥ Y_{s,r}(f)``                             top-up ``μ_r``
StageGuaranteedPrice   ``D_{s,r} ≤ D_{s,r}(f)`` and ``Y_{s,r} ≥ Y_{s,r}(f)``   levy ``λ_r``, refund ``μ_r``
StageFloor             ``Σ_{i∉S, j∈S} x^s_ij ≤ Q``, ``Q`` searched so that   tariff ``τ`` on
                       the zone's stage price is ``f`` (the plan's floor)  non-members' goods
=====================  ================================================  ==========================

Where a dual is not determined, each floor reports the convention of the single-good readback
(:mod:`models.readback`): a bound of zero quantity (a level above the choke price or below the
entry price) leaves its dual anywhere above a threshold, and the wedge that makes the region's
buyers or sellers face the floor is reported; a budget of zero leaves the stockpile's price at
the cheapest landed price of an eligible origin, capped at ``f``.
"""
from __future__ import annotations

from types import SimpleNamespace

import cvxpy as cp
import numpy as np
import scipy.sparse as sp

from ..certificate import Complementarity
from ..errors import ModelInputError
from ..market import check_regions
from ..policies import ALL, MEMBERS
from .policies import ChainPolicy, checked_number, stage_prices

POSITIVE_PRICE = "a positive price in USD/kg"


def _clipped(dual) -> np.ndarray:
    return np.maximum(0.0, np.atleast_1d(np.asarray(dual, dtype=float)))


class StageStockpile(ChainPolicy):
    """A buyer of last resort for a stage at ``location``: buys at ``level`` within ``budget``.

    ``+ f K`` in the objective and ``K ≤ B / f``; the floor holds while ``K < B / f``. The
    inventory is an asset, not welfare (MODEL.md §3): the outlay is the government's at ``L``.

    * ``eligible_origins=None`` (the default): ``K`` is a use at ``L``'s delivered balance, so the
      stockpile buys whatever is delivered to ``L``, at ``L``'s delivered price ``p_L``.
    * ``eligible_origins`` :data:`~models.policies.ALL`, :data:`~models.policies.MEMBERS` (the
      roster at each solve: ``model.roster``) or a list of regions: ``K = Σ_i y_i`` on arcs of its
      own from the stage's producers ``i`` to ``L`` (the single-good model's ``y_i``), each drawn
      from ``i``'s producers' balance at freight and tariffs ``t_iL + τ_iL``, with
      ``y_i ≤ ȳ_i`` (``ȳ_i = B / f`` for an eligible origin, ``0`` otherwise). Its price is
      ``f − ν`` (``ν`` the budget's dual); where ``ν`` is not determined (a budget of zero) the
      price reported is the smallest that supports the solution, ``min(f, min_{i∈E} (w_i + t_iL +
      τ_iL + rents))``, the cheapest landed price capped at ``f`` (:mod:`models.readback`). An ineligible origin's arc is closed by the rent that makes its
      landed price equal the stockpile's (the smallest that supports the solution).
    """

    kind = "stockpile"

    def __init__(self, stage, location: str, level: float, budget: float, key: str | None = None,
                 eligible_origins=None):
        super().__init__(stage, key)
        self.location = location
        self.level = checked_number("StageStockpile.level", level, POSITIVE_PRICE, positive=True)
        self.budget = checked_number("StageStockpile.budget", budget, "a non-negative budget in USD million")
        self.eligible_origins = eligible_origins

    def validate(self, chain, field):
        super().validate(chain, field)
        check_regions(f"{field}.location", self.location, chain.regions)
        e = self.eligible_origins
        if e is not None and e not in (ALL, MEMBERS):
            self.eligible_origins = check_regions(f"{field}.eligible_origins", e, chain.regions)
            if not self.eligible_origins:
                raise ModelInputError(f"{field}.eligible_origins", e, "None, 'ALL', 'MEMBERS' or a non-empty list")

    @property
    def own(self) -> bool:
        return self.eligible_origins is not None

    def users(self, chain):
        return {} if self.own else {self.s: {chain.regions.index(self.location)}}

    def own_arcs(self, chain):
        if not self.own:
            return {}
        return {self.s: (chain.regions.index(self.location), list(range(chain.n)))}

    def compile(self, model):
        b = model.blocks[self.s]
        f = cp.Parameter(nonneg=True, name=f"{self.key}_level")
        cap = cp.Parameter(nonneg=True, name=f"{self.key}_cap")
        if self.own:
            arcs = model.own_arc_positions[self.key]
            K = cp.sum(b.x[arcs])
            ybar = cp.Parameter(len(arcs), nonneg=True, name=f"{self.key}_origin_cap")
            model.constraints[f"{self.key}_origins"] = b.x[arcs] <= ybar
            pos = None
        else:
            arcs, ybar = None, None
            pos = b.user_pos(model.idx[self.location])
            K = cp.Variable(nonneg=True, name=f"K[{self.key}]")
            col = sp.csr_matrix(([1.0], ([pos], [0])), shape=(len(b.user_rows), 1))
            model.extra_use[self.s].append(col @ cp.reshape(K, (1,), order="F"))
        model.terms.append(f * K)
        model.constraints[self.key] = K <= cap
        model.handles[self.key] = SimpleNamespace(pos=pos, K=K, f=f, cap=cap, arcs=arcs, ybar=ybar)

    def eligible(self, model) -> np.ndarray:
        """Region indices that may sell to the stockpile at this solve (own arcs only)."""
        e = self.eligible_origins
        if e == ALL:
            return np.arange(model.chain.n)
        if e == MEMBERS:
            if model.roster is None:
                raise ModelInputError(f"{self.key}.eligible_origins", MEMBERS,
                                      "a roster: ChainModel(..., members=...) or solve(members=...)")
            e = model.roster
        return np.array([model.idx[r] for r in e], dtype=int)

    def apply(self, model, override):
        h = self.h(model)
        f = self.level if override is None else checked_number(self.key, override, POSITIVE_PRICE, positive=True)
        h.f.value, h.cap.value = f, self.budget / f
        if self.own:
            h.open = np.isin(model.blocks[self.s].origin[h.arcs], self.eligible(model))
            h.ybar.value = np.where(h.open, self.budget / f, 0.0)

    def _others_wedge(self, model) -> np.ndarray:
        """Rents of the other policies on the stockpile's arcs (quotas, the floor's tariff)."""
        h, out = self.h(model), 0.0
        for pol in model.policies:
            if not isinstance(pol, StageStockpile):     # another stockpile's wedges are on its own arcs
                w = pol.arc_wedge(model, self.s)
                if w is not None:
                    out = out + w[h.arcs]
        return out + np.zeros(len(h.arcs))

    def _landed(self, model) -> np.ndarray:
        h, b = self.h(model), model.blocks[self.s]
        _, w = stage_prices(model, self.s)
        return (w[b.origin[h.arcs]] + b.transport[h.arcs] + np.asarray(b.tau.value)[h.arcs]
                + self._others_wedge(model))

    def price(self, model, settled: bool = True) -> float:
        """The price the stockpile pays: ``p_L``, or ``f − ν`` settled on its own arcs (``settled=False``:
        ``f − ν`` as solved)."""
        h = self.h(model)
        if not self.own:
            return float(model.constraints[f"delivered[{self.stage}]"].dual_value[h.pos])
        f = float(h.f.value)
        if not settled:
            return f - float(_clipped(model.constraints[self.key].dual_value)[0])
        cheapest = min(f, float(self._landed(model)[h.open].min(initial=np.inf)))
        if float(h.cap.value) <= 0:         # K ≤ 0: ν is anywhere above f − cheapest; the smallest
            return cheapest
        nu = float(_clipped(model.constraints[self.key].dual_value)[0])
        return max(f - nu, cheapest)

    def purchases(self, model) -> float:
        return max(0.0, float(self.h(model).K.value))

    def own_arc_price(self, model, s, settled=True):
        if s != self.s or not self.own:
            return None
        return self.h(model).arcs, self.price(model, settled)

    def arc_wedge(self, model, s):
        if s != self.s or not self.own:
            return None
        h = self.h(model)
        closed = ~h.open
        if not closed.any():
            return None
        wedge = np.zeros(model.blocks[s].x.size)
        wedge[h.arcs[closed]] = np.maximum(0.0, self.price(model) - self._landed(model)[closed])
        return wedge

    def checks(self, model):
        h = self.h(model)
        nu = float(_clipped(model.constraints[self.key].dual_value)[0])
        if self.own and float(h.cap.value) <= 0:
            nu = float(h.f.value) - self.price(model)           # the smallest ν, as reported
        K = self.purchases(model)
        return [Complementarity(f"{self.key} purchases", np.array([K]),
                                np.array([self.price(model) + nu - float(h.f.value)]), (self.location,)),
                Complementarity(f"{self.key} budget", np.array([float(h.cap.value) - K]), np.array([nu]),
                                (self.location,))]

    def accounts(self, model):
        gov = np.zeros(model.chain.n)
        gov[model.idx[self.location]] = -self.price(model) * self.purchases(model)
        return {"government": gov}

    def wedge(self, model):
        h, K = self.h(model), self.purchases(model)
        out = {"level": float(h.f.value), "purchases_kt": K, "price": self.price(model),
               "outlay_usd_m": self.price(model) * K}
        if self.own:
            b = model.blocks[self.s]
            y = np.maximum(0.0, np.asarray(b.x.value)[h.arcs])
            out.update({f"from[{model.chain.regions[o]}]": float(v)
                        for o, v, open_ in zip(b.origin[h.arcs], y, h.open) if open_})
        return out


class StageCfd(ChainPolicy):
    """A contract for difference: covered producers of a stage are guaranteed ``level``.

    ``Y_{s,r} ≥ Y_{s,r}(f)``, the output at which the producer's marginal cost reaches ``f``:
    at stage 0 the supply curve's quantity at ``f``; at a processing stage the cost curve's
    quantity at the margin ``f − a_s p̄_{s−1}``, the strike net of the input priced at
    ``input_price`` (the contract's index, e.g. the benchmark input price). The dual ``μ_r`` is
    the top-up per unit, paid by ``r``'s government. With a roster set (``model.roster``) only
    the regions in it are covered (the others' bounds open: ``Y ≥ 0``), as in
    :class:`~models.equilibrium.EquilibriumModel`. Settled where not unique: ``μ_r ≤ max(0, f − w_r)``
    at stage 0, and a bound of zero output reports ``μ_r = max(0, min(f, c_r(0) + a_s p_{s−1,r}) − w_r)``.
    """

    kind = "cfd"
    covers_demand = False

    def __init__(self, stage, regions, level: float, input_price: float | None = None, key: str | None = None):
        super().__init__(stage, key)
        self.regions = regions
        self.level = checked_number(f"{type(self).__name__}.level", level, POSITIVE_PRICE, positive=True)
        self.input_price = None if input_price is None else checked_number(
            f"{type(self).__name__}.input_price", input_price, "a non-negative price in USD/kg")

    def validate(self, chain, field):
        super().validate(chain, field)
        self.regions = check_regions(f"{field}.regions", self.regions, chain.regions)
        m = chain.stages[self.s].market
        for r in self.regions:
            if m.supply_curve(r) is None and not (self.covers_demand and m.demand_curve(r) is not None):
                what = "a cost curve or final demand" if self.covers_demand else "a cost curve"
                raise ModelInputError(f"{field}.regions", r, f"regions with {what} at stage {self.stage}")
        producers = [r for r in self.regions if m.supply_curve(r) is not None]
        if self.s > 0 and producers and self.input_price is None:
            raise ModelInputError(f"{field}.input_price", None,
                                  "the input's index price (USD/kg) for a floor on a processing stage")

    def _producers(self, model):
        m = model.chain.stages[self.s].market
        return tuple(r for r in self.regions if m.supply_curve(r) is not None)

    def compile(self, model):
        b = model.blocks[self.s]
        producers = self._producers(model)
        pos = np.array([b.supply_pos(model.idx[r]) for r in producers], dtype=int)
        ymin = cp.Parameter(len(pos), nonneg=True, name=f"{self.key}_min") if len(pos) else None
        if ymin is not None:
            model.constraints[self.key] = b.Y[pos] >= ymin
        model.handles[self.key] = SimpleNamespace(pos=pos, ymin=ymin, level=self.level, producers=producers)

    def apply(self, model, override):
        h = self.h(model)
        h.level = self.level if override is None else checked_number(self.key, override, POSITIVE_PRICE, positive=True)
        h.covered = set(self.covered(model, self.regions))
        if h.ymin is not None:
            st = model.chain.stages[self.s]
            margin = h.level - (st.coefficient * self.input_price if self.s > 0 else 0.0)
            h.ymin.value = np.array([st.market.supply_curve(r).quantity_at(margin) if r in h.covered else 0.0
                                     for r in h.producers])

    def _topup(self, model):
        h, b = self.h(model), model.blocks[self.s]
        if h.ymin is None:
            return np.zeros(0)
        mu = _clipped(model.constraints[self.key].dual_value)
        st = model.chain.stages[self.s]
        w = np.maximum(0.0, np.asarray(model.constraints[f"supply[{self.stage}]"].dual_value, dtype=float))[h.pos]
        p_in = (np.maximum(0.0, np.asarray(model.constraints[f"delivered[{model.chain.stage_names[self.s - 1]}]"]
                                           .dual_value, dtype=float))[[model.blocks[self.s - 1].user_pos(k)
                                                                      for k in b.supply_rows[h.pos]]]
                if self.s > 0 else np.zeros(len(h.pos)))
        for k, r in enumerate(h.producers):
            if r not in h.covered:
                mu[k] = 0.0
            elif h.ymin.value[k] == 0:      # bound at zero output: the dual is anywhere above a threshold
                c0 = st.market.supply_curve(r).intercept
                mu[k] = max(0.0, min(h.level, c0 + st.coefficient * p_in[k]) - w[k])
            elif self.s == 0:
                mu[k] = min(mu[k], max(0.0, h.level - w[k]))
        return mu

    def margin_wedge(self, model, s):
        if s != self.s:
            return None
        out = np.zeros(len(model.blocks[s].supply_rows))
        out[self.h(model).pos] = -self._topup(model)
        return out

    def checks(self, model):
        h, b = self.h(model), model.blocks[self.s]
        if h.ymin is None:
            return []
        return [Complementarity(f"{self.key} output bound", b.Y.value[h.pos] - h.ymin.value, self._topup(model),
                                h.producers)]

    def accounts(self, model):
        h, b = self.h(model), model.blocks[self.s]
        gov = np.zeros(model.chain.n)
        if h.ymin is not None:
            gov[[model.idx[r] for r in h.producers]] = -self._topup(model) * b.Y.value[h.pos]
        return {"government": gov, "producer_transfer": -gov}

    def wedge(self, model):
        return {"level": self.h(model).level,
                **{f"top_up[{r}]": float(t) for r, t in zip(self.h(model).producers, self._topup(model))}}


class StageGuaranteedPrice(StageCfd):
    """A guaranteed price ``f`` on a stage in ``regions``: a variable levy on *all* imports, partners'
    included, plus a top-up to producers that acts as an export refund (the single-good
    :class:`~models.policies.GuaranteedPrice`; not the plan's instrument, kept for comparison).

    Final buyers and producers of the stage in each covered region face ``max(p, f)``::

        D_{s,r} ≤ D_{s,r}(f)   (λ_r, the levy)        Y_{s,r} ≥ Y_{s,r}(f)   (μ_r, the top-up)

    ``Y_{s,r}(f)`` as for :class:`StageCfd` (at a processing stage, at the margin ``f − a_s p̄_{s−1}``
    with ``input_price`` the index). Consumers pay ``p + λ``; the government collects
    ``λ_r D_r − μ_r Y_r`` (negative where the guarantee makes the region a net exporter: an export
    subsidy). The levy is on final demand; the next stage's processors buy the stage at ``p``.
    Settled where not unique: ``λ_r ≤ max(0, f − p_r)``, and a bound of zero demand (``f`` above the
    choke price) reports ``λ_r = max(0, f − p_r)``. A roster covers only the regions in it (the
    others' bounds open: ``D ≤ 2 D(0) + 1``, ``Y ≥ 0``).
    """

    kind = "guaranteed"
    covers_demand = True

    def compile(self, model):
        super().compile(model)
        b, h = model.blocks[self.s], self.h(model)
        m = model.chain.stages[self.s].market
        buyers = tuple(r for r in self.regions if m.demand_curve(r) is not None)
        dpos = np.array([int(np.flatnonzero(b.demand_rows == model.idx[r])[0]) for r in buyers], dtype=int)
        dcap = cp.Parameter(len(dpos), nonneg=True, name=f"{self.key}_demand_cap") if len(dpos) else None
        if dcap is not None:
            model.constraints[f"{self.key}_demand"] = b.D[dpos] <= dcap
        h.buyers, h.dpos, h.dcap = buyers, dpos, dcap

    def apply(self, model, override):
        super().apply(model, override)
        h = self.h(model)
        if h.dcap is not None:
            m = model.chain.stages[self.s].market
            h.dcap.value = np.array([m.demand_curve(r).quantity_at(h.level) if r in h.covered
                                     else 2.0 * m.demand_curve(r).quantity_at(0.0) + 1.0 for r in h.buyers])

    def _levy(self, model):
        h, b = self.h(model), model.blocks[self.s]
        if h.dcap is None:
            return np.zeros(0)
        lam = _clipped(model.constraints[f"{self.key}_demand"].dual_value)
        p = np.maximum(0.0, np.asarray(model.constraints[f"delivered[{self.stage}]"].dual_value, dtype=float))
        m = model.chain.stages[self.s].market
        for k, r in enumerate(h.buyers):
            border = p[b.user_pos(model.idx[r])]
            if r not in h.covered:
                lam[k] = 0.0
            elif m.demand_curve(r).quantity_at(h.level) == 0:
                lam[k] = max(0.0, h.level - border)
            else:
                lam[k] = min(lam[k], max(0.0, h.level - border))
        return lam

    def demand_wedge(self, model, s):
        if s != self.s or self.h(model).dcap is None:
            return None
        out = np.zeros(len(model.blocks[s].demand_rows))
        out[self.h(model).dpos] = self._levy(model)
        return out

    def checks(self, model):
        out = super().checks(model)
        h, b = self.h(model), model.blocks[self.s]
        if h.dcap is not None:
            out.append(Complementarity(f"{self.key} demand bound", h.dcap.value - b.D.value[h.dpos],
                                       self._levy(model), h.buyers))
        return out

    def accounts(self, model):
        acc = super().accounts(model)
        h, b = self.h(model), model.blocks[self.s]
        if h.dcap is not None:
            acc["government"][[model.idx[r] for r in h.buyers]] += self._levy(model) * b.D.value[h.dpos]
        return acc

    def wedge(self, model):
        h = self.h(model)
        return {**super().wedge(model), **{f"levy[{r}]": float(v) for r, v in zip(h.buyers, self._levy(model))}}


class StageFloor(ChainPolicy):
    """The plan's preferential floor on one stage: a reference price held by a tariff on non-members.

    Members trade the stage freely; the zone's imports of the stage from non-members are capped,
    ``Σ_{i∉S, j∈S} x^s_ij ≤ Q`` (dual ``τ``, the adjustable tariff, collected by the importing
    member), and :mod:`models.chain.search` finds ``Q`` so that the zone's price of the stage
    (``reference``'s, or the lowest member price) equals ``level``. Where even ``Q = 0`` leaves the
    zone below the floor (the zone exports the stage), the floor fails and says so. The zone's
    arcs are a Parameter: a roster set at a solve (``model.roster``) replaces ``members``.
    """

    kind = "floor"

    def __init__(self, stage, members, level: float, reference: str | None = None, key: str | None = None):
        super().__init__(stage, key)
        self.members = members
        self.level = checked_number("StageFloor.level", level, POSITIVE_PRICE, positive=True)
        self.reference = reference

    def validate(self, chain, field):
        super().validate(chain, field)
        self.members = check_regions(f"{field}.members", self.members, chain.regions)
        if not self.members:
            raise ModelInputError(f"{field}.members", self.members, "at least one member region")
        if self.reference is not None and self.reference not in self.members:
            raise ModelInputError(f"{field}.reference", self.reference, f"None or one of {list(self.members)}")

    def compile(self, model):
        b = model.blocks[self.s]
        mask = cp.Parameter(b.x.size, nonneg=True, name=f"{self.key}_arcs")
        cap = cp.Parameter(nonneg=True, name=f"{self.key}_cap")
        model.constraints[self.key] = (mask @ b.x if b.x.size else cp.Constant(0.0)) <= cap
        model.handles[self.key] = SimpleNamespace(mask=mask, cap=cap, level=self.level, record={},
                                                  members=self.members)

    def apply(self, model, override):
        h, b = self.h(model), model.blocks[self.s]
        h.level = self.level if override is None else checked_number(self.key, override, POSITIVE_PRICE,
                                                                     positive=True)
        h.members = self.members if model.roster is None else tuple(model.roster)
        if self.reference is not None and self.reference not in h.members:
            raise ModelInputError("members", h.members, f"a roster that includes {self.key}'s reference {self.reference}")
        inside = np.isin(b.origin, [model.idx[r] for r in h.members])
        into = np.isin(b.destination, [model.idx[r] for r in h.members])
        mask = (~inside & into).astype(float)
        if h.mask.value is None or not np.array_equal(h.mask.value, mask):
            h.mask.value = mask
        if h.cap.value is None:
            h.cap.value = 1e6

    def tariff(self, model) -> float:
        return max(0.0, float(model.constraints[self.key].dual_value))

    def zone_price(self, model, prices) -> float:
        """The zone's stage price: ``reference``'s delivered price, or the lowest member's price."""
        p = prices[self.s]
        if self.reference is not None:
            return float(p[model.idx[self.reference]])
        vals = [p[model.idx[r]] for r in self.h(model).members if np.isfinite(p[model.idx[r]])]
        return float(min(vals)) if vals else float("nan")

    def imports(self, model) -> float:
        return float(self.h(model).mask.value @ model.blocks[self.s].x.value)

    def arc_wedge(self, model, s):
        return self.tariff(model) * self.h(model).mask.value if s == self.s else None

    def checks(self, model):
        h = self.h(model)
        return [Complementarity(f"{self.key} zone imports", np.array([float(h.cap.value) - self.imports(model)]),
                                np.array([self.tariff(model)]), ("zone",))]

    def accounts(self, model):
        h, b = self.h(model), model.blocks[self.s]
        gov = np.bincount(b.destination, weights=self.tariff(model) * h.mask.value * b.x.value,
                          minlength=model.chain.n)
        return {"government": gov}

    def wedge(self, model):
        h = self.h(model)
        return {"level": h.level, "tariff": self.tariff(model), "imports_from_non_members_kt": self.imports(model),
                **{k: v for k, v in h.record.items() if k in ("status", "zone_price", "solves")}}
