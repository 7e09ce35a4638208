"""The value chain: stages of one mineral in one convex programme (MODEL.md §4).

``spec`` (stages and chains), ``data`` (the sourced CSVs and the calibration), ``build`` (the
programme), ``policies`` (instruments that compile themselves), ``search`` (the preferential
floors' tariff search), ``result`` (readback, certificate, accounts), ``synthetic`` (a seeded
chain for benchmarks).

**The single-good model is the one-stage chain.** ``ChainModel(ChainMarket.one_stage(market),
policies)`` returns the prices, quantities, welfare and floor tariff of
:class:`models.equilibrium.EquilibriumModel` on the same market to solver precision
(``tests/test_chain.py``). What :class:`EquilibriumModel` would need to become a thin wrapper:

* its scenario translated into chain policies: tariffs, export taxes and the bloc's external
  tariff into :class:`StageTariff` (a matrix form, or one object per rate as now), quotas and
  bans into :class:`ExportControl`, subsidies into :class:`StageSubsidy`, the preferential floor
  into :class:`StageFloor`, the CfD into :class:`StageCfd`;
* two instruments the chain does not have yet: the guaranteed price (levy and export refund:
  bounds on every covered region's demand and supply) and a stockpile restricted to eligible
  origins (arcs of its own, as ``y_i`` in the single-good model);
* the settable parameters of a built problem: the roster (``members``), ``banned_routes`` and
  ``export_discounts`` as Parameters of the chain's policies rather than policy constants;
* isoelastic curves (the chain accepts linear ones only) and the single-good result's columns
  (``border_price``/``supply_price``, the settled convention for undetermined prices);
* then ``EquilibriumResult`` read from a ``ChainResult`` and every chapter re-run against the
  register.
"""
from .build import ChainModel
from .floors import StageCfd, StageFloor, StageGuaranteedPrice, StageStockpile
from .policies import ChainPolicy, ExportControl, StageSubsidy, StageTariff
from .result import ChainResult, ChainSweep
from .spec import ChainMarket, Stage

__all__ = ["ChainMarket", "Stage", "ChainModel", "ChainPolicy", "StageTariff", "ExportControl",
           "StageSubsidy", "StageStockpile", "StageCfd", "StageGuaranteedPrice", "StageFloor", "ChainResult", "ChainSweep"]
