"""Policies on a value chain, each compiling itself into the one programme (MODEL.md §2, §4).

A policy is an object with a ``stage`` and a ``key``. :class:`~models.chain.build.ChainModel`
calls, in order:

``validate(chain, field)``
    check stage and regions before anything is built (raises :class:`ModelInputError`);
``users(chain)``
    regions that must have a delivered balance at the policy's stage (a stockpile's location);
``own_arcs(chain)``
    arcs that end at the policy itself rather than at a delivered balance (a stockpile that buys
    from eligible origins only: ``y_i``, the single-good model's arcs into the stockpile); the
    build appends them to the stage's arcs, so freight, tariffs, quotas and the floor's zone cover
    them as they cover any arc from ``i`` to the policy's location;
``compile(model)``
    add variables, objective terms (``model.terms``), uses at delivered balances
    (``model.extra_use[s]``), outflows at producers' balances (``model.extra_out[s]``) and
    constraints (``model.constraints``); numbers a solve may change are cvxpy Parameters;
``tariff_free_arcs(model)``
    ``{stage: mask}`` of the arcs on which the policy removes import tariffs at this solve (a
    bloc's members' mutual trade); called for every policy before any ``apply``, and gathered in
    ``model.tariff_free``, which :class:`StageTariff` reads;
``apply(model, override)``
    set the Parameters (``override`` replaces the policy's own number when not ``None``; the bloc's
    roster, ``model.roster``, when not ``None``, replaces the regions a roster-bound policy covers);
``arc_wedge / margin_wedge / demand_wedge / own_arc_price / checks / accounts``
    read its wedges back from the solved duals: extra cost on arcs (quota rents, the floor's
    tariff), extra terms in producers' margins (subsidy, top-up) and in consumers' price (a levy),
    the price at the end of its own arcs, its complementarity conditions for the certificate, and
    its money flows by region for the welfare accounts.

So a new instrument is one new class; the build and the readback never name it. This module
holds the protocol and the trade instruments; the price floors (stockpile, CfD, guaranteed price,
the preferential floor) are in :mod:`models.chain.floors`; the bloc's tariffs, route bans and
export discounts, which a solve sets, in :mod:`models.chain.routes`.

==================  ===================================================  =====================
instrument          term or constraint                                   wedge (dual)
==================  ===================================================  =====================
StageTariff         ``τ^s_ij += r`` on covered arcs (a cost in the bill;   revenue ``r x_ij``
                    an import tariff not on a bloc's members' arcs)
ExportControl       ``Σ_{j∈J} x^s_oj ≤ Q`` (a ban is ``Q = 0``)            licence rent ``ρ``
StageSubsidy        ``+ σ Y_{s,r}`` in the objective                       outlay ``σ Y``
==================  ===================================================  =====================
"""
from __future__ import annotations

from types import SimpleNamespace

import cvxpy as cp
import numpy as np

from ..certificate import Complementarity
from ..errors import ModelInputError
from ..market import check_regions
from ..policies import ALL
from ..validate import as_number


def checked_number(field: str, value, allowed: str, minimum: float = 0.0, positive: bool = False) -> float:
    """``value`` as a finite float ``≥ minimum`` (``> 0`` if ``positive``); else a ModelInputError."""
    v = as_number(field, value, allowed)
    if not np.isfinite(v) or v < minimum or (positive and v <= 0):
        raise ModelInputError(field, value, allowed)
    return float(v)


class ChainPolicy:
    """Base class: a policy on one stage of a chain (see the module docstring for the protocol)."""

    kind = "policy"

    def __init__(self, stage, key: str | None = None):
        self.stage = stage
        self._key = key

    @property
    def key(self) -> str:
        return self._key or f"{self.kind}_{self.stage}"

    def validate(self, chain, field: str) -> None:
        self.s = chain.stage_index(self.stage, f"{field}.stage")
        self.stage = chain.stage_names[self.s]

    def users(self, chain) -> dict[int, set[int]]:
        return {}

    def own_arcs(self, chain) -> dict[int, tuple[int, list[int]]]:
        """``{stage: (location, origins)}`` (region indices) of the arcs that end at the policy."""
        return {}

    def tariff_free_arcs(self, model) -> dict[int, np.ndarray]:
        """``{stage: boolean mask over the stage's arcs}``: where this policy removes import tariffs."""
        return {}

    def compile(self, model) -> None:
        raise NotImplementedError

    def apply(self, model, override) -> None:
        pass

    def arc_wedge(self, model, s: int) -> np.ndarray | None:
        return None

    def margin_wedge(self, model, s: int) -> np.ndarray | None:
        return None

    def demand_wedge(self, model, s: int) -> np.ndarray | None:
        """Per final-demand entry of stage ``s``: added to the price consumers pay (a levy)."""
        return None

    def own_arc_price(self, model, s: int, settled: bool = True) -> tuple[np.ndarray, float] | None:
        """``(positions, price)``: the policy's own arcs in stage ``s`` and the price paid at their end
        (``settled=False``: the dual as solved, before the convention for undetermined duals that
        reads other policies' rents)."""
        return None

    def covered(self, model, regions) -> tuple[str, ...]:
        """``regions`` covered at this solve: all of them, or those in the roster when one is set."""
        if model.roster is None:
            return tuple(regions)
        return tuple(r for r in regions if r in model.roster)

    def checks(self, model) -> list[Complementarity]:
        return []

    def accounts(self, model) -> dict[str, np.ndarray]:
        """Money flows by region (USD million, length n): ``government`` and ``rents``."""
        return {}

    def wedge(self, model) -> dict:
        """The policy's wedges as plain numbers, for the result's ``wedges`` table."""
        return {}

    def h(self, model) -> SimpleNamespace:
        return model.handles[self.key]


def stage_prices(model, s: int) -> tuple[np.ndarray, np.ndarray]:
    """``(p, w)``: stage ``s``'s delivered and ex-works prices by region (NaN where a region has no
    such balance), the balances' duals clipped at zero as the result reads them."""
    b, n = model.blocks[s], model.chain.n
    p, w = np.full(n, np.nan), np.full(n, np.nan)
    if len(b.user_rows):
        p[b.user_rows] = np.maximum(0.0, np.asarray(model.constraints[f"delivered[{b.name}]"].dual_value, dtype=float))
    if len(b.supply_rows):
        w[b.supply_rows] = np.maximum(0.0, np.asarray(model.constraints[f"supply[{b.name}]"].dual_value, dtype=float))
    return p, w


def arc_margins(model, s: int) -> np.ndarray:
    """``p_end − w_i − t_ij − τ_ij`` on every arc of stage ``s``: the price gap no rent closes yet
    (``p_end`` the destination's delivered price, or the price a policy pays on its own arcs)."""
    b = model.blocks[s]
    p, w = stage_prices(model, s)
    end = p[b.destination]
    for pol in model.policies:
        own = pol.own_arc_price(model, s, settled=False)       # as the single-good readback orders it
        if own is not None:
            end[own[0]] = own[1]
    return end - w[b.origin] - b.transport - np.asarray(b.tau.value, dtype=float)


def arc_mask(block, origins, destinations, idx) -> np.ndarray:
    """1 on the arcs of ``block`` from ``origins`` to ``destinations`` (own use excluded), else 0."""
    o = np.isin(block.origin, [idx[r] for r in origins])
    d = np.isin(block.destination, [idx[r] for r in destinations])
    return (o & d & (block.origin != block.destination)).astype(float)


class StageTariff(ChainPolicy):
    """A specific tariff (or export tax) of ``rate`` USD/kg on a stage's covered arcs.

    ``τ^s_ij += rate`` for ``i`` in ``origins``, ``j`` in ``destinations``, ``i ≠ j``; the revenue
    ``rate · x_ij`` goes to the importer (``collected_by="importer"``, an import tariff) or the
    exporter (``"exporter"``, an export tax). An import tariff is roster-aware: it is not levied
    on arcs a bloc frees at this solve (``model.tariff_free``: both ends members of a
    :class:`~models.chain.StageBloc`), ``τ^s_ij += rate · 1[(i, j) not free]``; an export tax is
    the exporter's and stays (:func:`models.trade_costs.policy_trade_costs`).
    """

    kind = "tariff"

    def __init__(self, stage, rate: float, origins=ALL, destinations=ALL, key: str | None = None,
                 collected_by: str = "importer"):
        super().__init__(stage, key)
        self.rate = checked_number("StageTariff.rate", rate, "a non-negative rate in USD/kg")
        self.origins, self.destinations = origins, destinations
        if collected_by not in ("importer", "exporter"):
            raise ModelInputError("StageTariff.collected_by", collected_by, "'importer' or 'exporter'")
        self.collected_by = collected_by

    def validate(self, chain, field):
        super().validate(chain, field)
        regions = chain.regions
        self.origins = regions if self.origins == ALL else check_regions(f"{field}.origins", self.origins, regions)
        self.destinations = (regions if self.destinations == ALL
                             else check_regions(f"{field}.destinations", self.destinations, regions))

    def compile(self, model):
        b = model.blocks[self.s]
        model.handles[self.key] = SimpleNamespace(mask=arc_mask(b, self.origins, self.destinations, model.idx),
                                                  rate=self.rate)

    def apply(self, model, override):
        h = self.h(model)
        h.rate = self.rate if override is None else checked_number(self.key, override, "a non-negative rate in USD/kg")
        h.levied = h.mask * ~model.tariff_free[self.s] if self.collected_by == "importer" else h.mask
        model.tau_next[self.s] += h.rate * h.levied

    def accounts(self, model):
        h, b = self.h(model), model.blocks[self.s]
        who = b.destination if self.collected_by == "importer" else b.origin
        gov = np.bincount(who, weights=h.rate * h.levied * b.x.value, minlength=model.chain.n)
        return {"government": gov}

    def wedge(self, model):
        return {"rate": self.h(model).rate}


class ExportControl(ChainPolicy):
    """An export quota (``quota=0``: a ban) on a stage from ``origin`` to ``destinations``.

    ``Σ_{j∈J, j≠o} x^s_oj ≤ Q``; the dual ``ρ`` is the licence rent, earned by the origin. Where the
    dual is not unique (a ban on arcs that would carry nothing anyway: the bound coincides with
    ``x ≥ 0``, and any ``ρ`` above the widest gap supports the solution), the rent is settled as
    the single-good readback settles a quota's (:mod:`models.readback`): the smallest that
    supports the equilibrium, ``ρ = max(0, max_{covered arcs} (p_j − w_o − t_oj − τ_oj))``, exactly
    that where the quota binds (shipments within 1e-7, relative, of ``Q``), and at most that
    where it does not.
    """

    kind = "quota"

    def __init__(self, stage, origin: str, destinations=ALL, quota: float = 0.0, key: str | None = None):
        super().__init__(stage, key)
        self.origin, self.destinations = origin, destinations
        self.quota = checked_number("ExportControl.quota", quota, "a non-negative quantity in kt")

    @property
    def key(self):
        return self._key or f"quota_{self.stage}_{self.origin}"

    def validate(self, chain, field):
        super().validate(chain, field)
        check_regions(f"{field}.origin", self.origin, chain.regions)
        self.destinations = (chain.regions if self.destinations == ALL
                             else check_regions(f"{field}.destinations", self.destinations, chain.regions))

    def compile(self, model):
        b = model.blocks[self.s]
        mask = arc_mask(b, (self.origin,), self.destinations, model.idx)
        q = cp.Parameter(nonneg=True, name=self.key)
        shipped = mask @ b.x if b.x.size else cp.Constant(0.0)
        model.constraints[self.key] = shipped <= q
        model.handles[self.key] = SimpleNamespace(mask=mask, q=q)

    def apply(self, model, override):
        self.h(model).q.value = self.quota if override is None else checked_number(
            self.key, override, "a non-negative quantity in kt")

    def _rent(self, model):
        h, b = self.h(model), model.blocks[self.s]
        covered = h.mask > 0
        if not covered.any():
            return 0.0
        smallest = max(0.0, float(np.max(arc_margins(model, self.s)[covered], initial=0.0)))
        quota = float(h.q.value)
        if float(h.mask @ b.x.value) >= quota - 1e-7 * max(1.0, quota):      # binds
            return smallest
        return min(max(0.0, float(model.constraints[self.key].dual_value)), smallest)

    def arc_wedge(self, model, s):
        return self._rent(model) * self.h(model).mask if s == self.s else None

    def checks(self, model):
        h, b = self.h(model), model.blocks[self.s]
        return [Complementarity(f"{self.key} quota", np.array([h.q.value - h.mask @ b.x.value]),
                                np.array([self._rent(model)]), (self.origin,))]

    def accounts(self, model):
        h, b = self.h(model), model.blocks[self.s]
        rents = np.zeros(model.chain.n)
        rents[model.idx[self.origin]] = self._rent(model) * float(h.mask @ b.x.value)
        return {"rents": rents}

    def wedge(self, model):
        return {"licence_rent": self._rent(model), "quota": float(self.h(model).q.value)}


class StageSubsidy(ChainPolicy):
    """A producer subsidy of ``rate`` USD/kg on one region's output of a stage: ``+ σ Y_{s,r}``."""

    kind = "subsidy"

    def __init__(self, stage, region: str, rate: float, key: str | None = None):
        super().__init__(stage, key)
        self.region = region
        self.rate = checked_number("StageSubsidy.rate", rate, "a non-negative rate in USD/kg")

    @property
    def key(self):
        return self._key or f"subsidy_{self.stage}_{self.region}"

    def validate(self, chain, field):
        super().validate(chain, field)
        check_regions(f"{field}.region", self.region, chain.regions)
        if chain.stages[self.s].market.supply_curve(self.region) is None:
            raise ModelInputError(f"{field}.region", self.region,
                                  f"a region with a cost curve at stage {self.stage}")

    def compile(self, model):
        b = model.blocks[self.s]
        pos = b.supply_pos(model.idx[self.region])
        sigma = cp.Parameter(nonneg=True, name=self.key)
        model.terms.append(sigma * b.Y[pos])
        model.handles[self.key] = SimpleNamespace(pos=pos, sigma=sigma)

    def apply(self, model, override):
        self.h(model).sigma.value = self.rate if override is None else checked_number(
            self.key, override, "a non-negative rate in USD/kg")

    def margin_wedge(self, model, s):
        if s != self.s:
            return None
        h = self.h(model)
        out = np.zeros(len(model.blocks[s].supply_rows))
        out[h.pos] = -float(h.sigma.value)
        return out

    def accounts(self, model):
        h, b = self.h(model), model.blocks[self.s]
        gov = np.zeros(model.chain.n)
        gov[model.idx[self.region]] = -float(h.sigma.value) * float(b.Y.value[h.pos])
        return {"government": gov, "producer_transfer": -gov}

    def wedge(self, model):
        return {"rate": float(self.h(model).sigma.value)}
