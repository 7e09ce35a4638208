"""Policies on a value chain, each compiling itself into the one programme (MODEL.md §2, §4).

A policy is an object with a ``stage`` and a ``key``. :class:`~models.chain.build.ChainModel`
calls, in order:

``validate(chain, field)``
    check stage and regions before anything is built (raises :class:`ModelInputError`);
``users(chain)``
    regions that must have a delivered balance at the policy's stage (a stockpile's location);
``compile(model)``
    add variables, objective terms (``model.terms``), uses at delivered balances
    (``model.extra_use[s]``), outflows at producers' balances (``model.extra_out[s]``) and
    constraints (``model.constraints``); numbers a solve may change are cvxpy Parameters;
``apply(model, override)``
    set the Parameters (``override`` replaces the policy's own number when not ``None``);
``arc_wedge / margin_wedge / checks / accounts``
    read its wedges back from the solved duals: extra cost on arcs (quota rents, the floor's
    tariff), extra terms in producers' margins (subsidy, top-up), its complementarity conditions
    for the certificate, and its money flows by region for the welfare accounts.

So a new instrument is one new class here; the build and the readback never name it.

Equations, per instrument (stage ``s``; ``S`` the bloc; ``M`` its imports from non-members):

==================  ===================================================  =====================
instrument          term or constraint                                   wedge (dual)
==================  ===================================================  =====================
StageTariff         ``τ^s_ij += r`` on covered arcs (a cost in the bill)   revenue ``r x_ij``
ExportControl       ``Σ_{j∈J} x^s_oj ≤ Q`` (a ban is ``Q = 0``)            licence rent ``ρ``
StageSubsidy        ``+ σ Y_{s,r}`` in the objective                       outlay ``σ Y``
StageStockpile      ``+ f K`` in the objective, ``K`` a use at ``L``,      outlay ``p_L K``
                    ``K ≤ B / f``
StageCfd            ``Y_{s,r} ≥ Y_{s,r}(f)``                               top-up ``μ_r``
StageFloor          ``Σ_{i∉S, j∈S} x^s_ij ≤ Q``, ``Q`` searched so that     tariff ``τ`` on
                    the zone's stage price is ``f`` (the plan's floor)     non-members' goods
==================  ===================================================  =====================
"""
from __future__ import annotations

from types import SimpleNamespace

import cvxpy as cp
import numpy as np
import scipy.sparse as sp

from ..certificate import Complementarity
from ..errors import ModelInputError
from ..market import check_regions
from ..policies import ALL
from ..validate import as_number


def _number(field: str, value, allowed: str, minimum: float = 0.0, positive: bool = False) -> float:
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

    def compile(self, model) -> None:
        raise NotImplementedError

    def apply(self, model, override) -> None:
        pass

    def arc_wedge(self, model, s: int) -> np.ndarray | None:
        return None

    def margin_wedge(self, model, s: int) -> np.ndarray | None:
        return None

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


def _arc_mask(block, origins, destinations, idx) -> np.ndarray:
    o = np.isin(block.origin, [idx[r] for r in origins])
    d = np.isin(block.destination, [idx[r] for r in destinations])
    return (o & d & (block.origin != block.destination)).astype(float)


class StageTariff(ChainPolicy):
    """A specific tariff (or export tax) of ``rate`` USD/kg on a stage's covered arcs.

    ``τ^s_ij += rate`` for ``i`` in ``origins``, ``j`` in ``destinations``, ``i ≠ j``; the revenue
    ``rate · x_ij`` goes to the importer (``kind="tariff"``) or the exporter (``"export_tax"``).
    """

    kind = "tariff"

    def __init__(self, stage, rate: float, origins=ALL, destinations=ALL, key: str | None = None,
                 collected_by: str = "importer"):
        super().__init__(stage, key)
        self.rate = _number("StageTariff.rate", rate, "a non-negative rate in USD/kg")
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
        model.handles[self.key] = SimpleNamespace(mask=_arc_mask(b, self.origins, self.destinations, model.idx),
                                                  rate=self.rate)

    def apply(self, model, override):
        h = self.h(model)
        h.rate = self.rate if override is None else _number(self.key, override, "a non-negative rate in USD/kg")
        model.tau_next[self.s] += h.rate * h.mask

    def accounts(self, model):
        h, b = self.h(model), model.blocks[self.s]
        who = b.destination if self.collected_by == "importer" else b.origin
        gov = np.bincount(who, weights=h.rate * h.mask * b.x.value, minlength=model.chain.n)
        return {"government": gov}

    def wedge(self, model):
        return {"rate": self.h(model).rate}


class ExportControl(ChainPolicy):
    """An export quota (``quota=0``: a ban) on a stage from ``origin`` to ``destinations``.

    ``Σ_{j∈J, j≠o} x^s_oj ≤ Q``; the dual ``ρ`` is the licence rent, earned by the origin.
    """

    kind = "quota"

    def __init__(self, stage, origin: str, destinations=ALL, quota: float = 0.0, key: str | None = None):
        super().__init__(stage, key)
        self.origin, self.destinations = origin, destinations
        self.quota = _number("ExportControl.quota", quota, "a non-negative quantity in kt")

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
        mask = _arc_mask(b, (self.origin,), self.destinations, model.idx)
        q = cp.Parameter(nonneg=True, name=self.key)
        shipped = mask @ b.x if b.x.size else cp.Constant(0.0)
        model.constraints[self.key] = shipped <= q
        model.handles[self.key] = SimpleNamespace(mask=mask, q=q)

    def apply(self, model, override):
        self.h(model).q.value = self.quota if override is None else _number(
            self.key, override, "a non-negative quantity in kt")

    def _rent(self, model):
        return max(0.0, float(model.constraints[self.key].dual_value))

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
        self.rate = _number("StageSubsidy.rate", rate, "a non-negative rate in USD/kg")

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
        self.h(model).sigma.value = self.rate if override is None else _number(
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


class StageStockpile(ChainPolicy):
    """A buyer of last resort for a stage at ``location``: buys at ``level`` within ``budget``.

    ``+ f K`` in the objective, ``K`` a use at ``L``'s delivered balance, ``K ≤ B / f``. The floor
    holds at ``L`` while ``K < B / f``; the outlay is ``p_L K`` (the inventory is an asset, not
    welfare: MODEL.md §3). Buys from any origin (eligibility by origin is not modelled here).
    """

    kind = "stockpile"

    def __init__(self, stage, location: str, level: float, budget: float, key: str | None = None):
        super().__init__(stage, key)
        self.location = location
        self.level = _number("StageStockpile.level", level, "a positive price in USD/kg", positive=True)
        self.budget = _number("StageStockpile.budget", budget, "a non-negative budget in USD million")

    def validate(self, chain, field):
        super().validate(chain, field)
        check_regions(f"{field}.location", self.location, chain.regions)

    def users(self, chain):
        return {self.s: {chain.regions.index(self.location)}}

    def compile(self, model):
        b = model.blocks[self.s]
        pos = b.user_pos(model.idx[self.location])
        K = cp.Variable(nonneg=True, name=f"K[{self.key}]")
        f = cp.Parameter(nonneg=True, name=f"{self.key}_level")
        cap = cp.Parameter(nonneg=True, name=f"{self.key}_cap")
        col = sp.csr_matrix(([1.0], ([pos], [0])), shape=(len(b.user_rows), 1))
        model.extra_use[self.s].append(col @ cp.reshape(K, (1,), order="F"))
        model.terms.append(f * K)
        model.constraints[self.key] = K <= cap
        model.handles[self.key] = SimpleNamespace(pos=pos, K=K, f=f, cap=cap)

    def apply(self, model, override):
        h = self.h(model)
        f = self.level if override is None else _number(self.key, override, "a positive price in USD/kg", positive=True)
        h.f.value, h.cap.value = f, self.budget / f

    def _price(self, model):
        return float(model.constraints[f"delivered[{self.stage}]"].dual_value[self.h(model).pos])

    def checks(self, model):
        h = self.h(model)
        nu = max(0.0, float(model.constraints[self.key].dual_value))
        K = float(h.K.value)
        return [Complementarity(f"{self.key} purchases", np.array([K]),
                                np.array([self._price(model) + nu - float(h.f.value)]), (self.location,)),
                Complementarity(f"{self.key} budget", np.array([float(h.cap.value) - K]), np.array([nu]),
                                (self.location,))]

    def accounts(self, model):
        gov = np.zeros(model.chain.n)
        gov[model.idx[self.location]] = -self._price(model) * float(self.h(model).K.value)
        return {"government": gov}

    def wedge(self, model):
        h = self.h(model)
        return {"level": float(h.f.value), "purchases_kt": float(h.K.value),
                "outlay_usd_m": self._price(model) * float(h.K.value)}


class StageCfd(ChainPolicy):
    """A contract for difference: covered producers of a stage are guaranteed ``level``.

    ``Y_{s,r} ≥ Y_{s,r}(f)``, the output at which the producer's marginal cost reaches ``f``:
    at stage 0 the supply curve's quantity at ``f``; at a processing stage the cost curve's
    quantity at the margin ``f − a_s p̄_{s−1}``, the strike net of the input priced at
    ``input_price`` (the contract's index, e.g. the benchmark input price). The dual ``μ_r`` is
    the top-up per unit, paid by ``r``'s government.
    """

    kind = "cfd"

    def __init__(self, stage, regions, level: float, input_price: float | None = None, key: str | None = None):
        super().__init__(stage, key)
        self.regions = regions
        self.level = _number("StageCfd.level", level, "a positive price in USD/kg", positive=True)
        self.input_price = None if input_price is None else _number(
            "StageCfd.input_price", input_price, "a non-negative price in USD/kg")

    def validate(self, chain, field):
        super().validate(chain, field)
        self.regions = check_regions(f"{field}.regions", self.regions, chain.regions)
        m = chain.stages[self.s].market
        for r in self.regions:
            if m.supply_curve(r) is None:
                raise ModelInputError(f"{field}.regions", r, f"regions with a cost curve at stage {self.stage}")
        if self.s > 0 and self.input_price is None:
            raise ModelInputError(f"{field}.input_price", None,
                                  "the input's index price (USD/kg) for a CfD on a processing stage")

    def compile(self, model):
        b = model.blocks[self.s]
        pos = np.array([b.supply_pos(model.idx[r]) for r in self.regions], dtype=int)
        ymin = cp.Parameter(len(pos), nonneg=True, name=f"{self.key}_min")
        model.constraints[self.key] = b.Y[pos] >= ymin
        model.handles[self.key] = SimpleNamespace(pos=pos, ymin=ymin, level=self.level)

    def apply(self, model, override):
        h = self.h(model)
        h.level = self.level if override is None else _number(self.key, override, "a positive price in USD/kg",
                                                             positive=True)
        st = model.chain.stages[self.s]
        margin = h.level - (st.coefficient * self.input_price if self.s > 0 else 0.0)
        h.ymin.value = np.array([st.market.supply_curve(r).quantity_at(margin) for r in self.regions])

    def _topup(self, model):
        return np.maximum(0.0, np.asarray(model.constraints[self.key].dual_value, dtype=float))

    def margin_wedge(self, model, s):
        if s != self.s:
            return None
        out = np.zeros(len(model.blocks[s].supply_rows))
        out[self.h(model).pos] = -self._topup(model)
        return out

    def checks(self, model):
        h, b = self.h(model), model.blocks[self.s]
        return [Complementarity(f"{self.key} output bound", b.Y.value[h.pos] - h.ymin.value, self._topup(model),
                                self.regions)]

    def accounts(self, model):
        h, b = self.h(model), model.blocks[self.s]
        gov = np.zeros(model.chain.n)
        gov[[model.idx[r] for r in self.regions]] = -self._topup(model) * b.Y.value[h.pos]
        return {"government": gov, "producer_transfer": -gov}

    def wedge(self, model):
        return {"level": self.h(model).level,
                **{f"top_up[{r}]": float(t) for r, t in zip(self.regions, self._topup(model))}}


class StageFloor(ChainPolicy):
    """The plan's preferential floor on one stage: a reference price held by a tariff on non-members.

    Members trade the stage freely; the zone's imports of the stage from non-members are capped,
    ``Σ_{i∉S, j∈S} x^s_ij ≤ Q`` (dual ``τ``, the adjustable tariff, collected by the importing
    member), and :mod:`models.chain.search` finds ``Q`` so that the zone's price of the stage
    (``reference``'s, or the lowest member price) equals ``level``. Where even ``Q = 0`` leaves the
    zone below the floor (the zone exports the stage), the floor fails and says so.
    """

    kind = "floor"

    def __init__(self, stage, members, level: float, reference: str | None = None, key: str | None = None):
        super().__init__(stage, key)
        self.members = members
        self.level = _number("StageFloor.level", level, "a positive price in USD/kg", positive=True)
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
        inside = set(model.idx[r] for r in self.members)
        mask = np.array([(o not in inside) and (d in inside) for o, d in zip(b.origin, b.destination)], dtype=float)
        cap = cp.Parameter(nonneg=True, name=f"{self.key}_cap")
        model.constraints[self.key] = (mask @ b.x if b.x.size else cp.Constant(0.0)) <= cap
        model.handles[self.key] = SimpleNamespace(mask=mask, cap=cap, level=self.level, record={})

    def apply(self, model, override):
        h = self.h(model)
        h.level = self.level if override is None else _number(self.key, override, "a positive price in USD/kg",
                                                             positive=True)
        if h.cap.value is None:
            h.cap.value = 1e6

    def tariff(self, model) -> float:
        return max(0.0, float(model.constraints[self.key].dual_value))

    def zone_price(self, model, prices) -> float:
        """The zone's stage price: ``reference``'s delivered price, or the lowest member's price."""
        p = prices[self.s]
        if self.reference is not None:
            return float(p[model.idx[self.reference]])
        vals = [p[model.idx[r]] for r in self.members if np.isfinite(p[model.idx[r]])]
        return float(min(vals)) if vals else float("nan")

    def imports(self, model) -> float:
        return float(self.h(model).mask @ model.blocks[self.s].x.value)

    def arc_wedge(self, model, s):
        return self.tariff(model) * self.h(model).mask if s == self.s else None

    def checks(self, model):
        h = self.h(model)
        return [Complementarity(f"{self.key} zone imports", np.array([float(h.cap.value) - self.imports(model)]),
                                np.array([self.tariff(model)]), ("zone",))]

    def accounts(self, model):
        h, b = self.h(model), model.blocks[self.s]
        gov = np.bincount(b.destination, weights=self.tariff(model) * h.mask * b.x.value, minlength=model.chain.n)
        return {"government": gov}

    def wedge(self, model):
        h = self.h(model)
        return {"level": h.level, "tariff": self.tariff(model), "imports_from_non_members_kt": self.imports(model),
                **{k: v for k, v in h.record.items() if k in ("status", "zone_price", "solves")}}
