"""The value chain of one mineral: stages, each a :class:`~models.market.Market`, and the input
coefficients that link them (MODEL.md §4, "The value chain").

A chain of stages ``s = 0, 1, …, K−1`` (rare earths: concentrate → separated NdPr oxide → NdPr
metal → NdFeB magnet). Each stage is a :class:`~models.market.Market` over the same regions:

* its **demand** curves are the final demand for that stage's good (at the last stage, and
  wherever the data show final use of an intermediate);
* its **supply** curves are, at stage 0, the extraction supply curves ``P^s_r(Y)``; at a
  processing stage ``s ≥ 1``, the marginal processing cost ``c_{s,r}(Y)`` of turning delivered
  inputs into output, *excluding* the inputs: the value added per unit;
* its transport costs are that stage's own ``t^s_ij``.

Making one unit of stage ``s`` in region ``r`` uses ``a_s`` units of stage ``s−1`` delivered to
``r`` (``coefficient``; the stage-0 coefficient is 0). ``capacity`` optionally bounds a region's
output of a stage, ``Y_{s,r} ≤ K_{s,r}``: a kink in the cost curve (vertical at ``K``) whose dual
is a capacity rent. Without it the processing-cost curve is smooth (linear).

A one-stage chain is exactly a :class:`~models.market.Market`: the chain engine solves it as the
single-good model does (tested).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from ..errors import ModelInputError
from ..market import Market, check_regions


@dataclass(frozen=True)
class Stage:
    """One stage of a chain.

    Parameters
    ----------
    name : str
        The stage's id, e.g. ``"oxide"``.
    market : Market
        Final demand, the stage's cost (supply) curves and its transport costs.
    coefficient : float
        ``a_s``: units of the previous stage per unit of this one (kg/kg); 0 at stage 0.
    capacity : mapping region -> kt, optional
        ``K_{s,r}``, the kink of region ``r``'s cost curve (no entry: no capacity bound).
    """

    name: str
    market: Market
    coefficient: float = 0.0
    capacity: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ModelInputError("stage.name", self.name, "a stage id (a non-empty string)")
        if not isinstance(self.market, Market):
            raise ModelInputError(f"stage[{self.name}].market", type(self.market).__name__, "a models.Market")
        try:
            a = float(self.coefficient)
        except (TypeError, ValueError):
            raise ModelInputError(f"stage[{self.name}].coefficient", self.coefficient,
                                  "a finite non-negative number (kg of input per kg of output)") from None
        if not np.isfinite(a) or a < 0:
            raise ModelInputError(f"stage[{self.name}].coefficient", self.coefficient,
                                  "a finite non-negative number (kg of input per kg of output)")
        object.__setattr__(self, "coefficient", a)
        caps = dict(self.capacity or {})
        check_regions(f"stage[{self.name}].capacity (keys)", caps.keys(), self.market.regions)
        for r, k in caps.items():
            if not isinstance(k, (int, float)) or not np.isfinite(k) or k < 0:
                raise ModelInputError(f"stage[{self.name}].capacity[{r}]", k, "a finite non-negative quantity (kt)")
            if self.market.supply_curve(r) is None:
                raise ModelInputError(f"stage[{self.name}].capacity[{r}]", k,
                                      "a capacity only for regions with a cost curve at this stage")
        object.__setattr__(self, "capacity", caps)


@dataclass(frozen=True)
class ChainMarket:
    """The stages of one mineral, upstream first, over one list of regions.

    Every stage's market has the same regions in the same order; the first stage's coefficient
    is 0 and every later one's is positive.
    """

    mineral: str
    stages: tuple[Stage, ...]

    def __post_init__(self):
        stages = tuple(self.stages)
        if not stages:
            raise ModelInputError("stages", stages, "at least one stage")
        for k, st in enumerate(stages):
            if not isinstance(st, Stage):
                raise ModelInputError(f"stages[{k}]", type(st).__name__, "a models.chain.Stage")
        names = [st.name for st in stages]
        if len(set(names)) != len(names):
            raise ModelInputError("stages (names)", names, "distinct stage ids")
        regions = stages[0].market.regions
        for st in stages[1:]:
            if st.market.regions != regions:
                raise ModelInputError(f"stage[{st.name}].market.regions", st.market.regions,
                                      f"the regions of the first stage, in order: {list(regions)}")
        if stages[0].coefficient != 0:
            raise ModelInputError(f"stage[{stages[0].name}].coefficient", stages[0].coefficient,
                                  "0 at the first stage (it has no input)")
        for st in stages[1:]:
            if st.coefficient <= 0:
                raise ModelInputError(f"stage[{st.name}].coefficient", st.coefficient,
                                      "a positive number at a processing stage (kg of input per kg)")
        families = {st.market.curve_family for st in stages}
        if families != {"linear"}:
            raise ModelInputError("curves", sorted(families), "linear curves at every stage (a QP)")
        object.__setattr__(self, "stages", stages)

    @property
    def regions(self) -> tuple[str, ...]:
        return self.stages[0].market.regions

    @property
    def n(self) -> int:
        return len(self.regions)

    @property
    def stage_names(self) -> tuple[str, ...]:
        return tuple(st.name for st in self.stages)

    def stage_index(self, stage: str | int, field_name: str = "stage") -> int:
        """Position of ``stage`` (an id or an index); raise naming the known stages otherwise."""
        if isinstance(stage, (int, np.integer)) and not isinstance(stage, bool):
            if 0 <= int(stage) < len(self.stages):
                return int(stage)
        elif stage in self.stage_names:
            return self.stage_names.index(stage)
        raise ModelInputError(field_name, stage, f"a stage of {self.mineral} among {list(self.stage_names)}")

    @classmethod
    def one_stage(cls, market: Market, name: str = "good") -> "ChainMarket":
        """The one-stage chain of a single-good market."""
        return cls(market.mineral, (Stage(name, market),))
