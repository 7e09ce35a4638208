"""The value chain: stages of one mineral in one convex programme (MODEL.md §4).

``spec`` (stages and chains), ``data`` (the sourced CSVs and the calibration), ``build`` (the
programme), ``policies`` (the policy protocol and the trade instruments), ``floors`` (the price
floors), ``routes`` (the bloc's tariffs, route bans and export discounts, set at a solve),
``search`` (the preferential floors' tariff search), ``result`` (readback, certificate,
accounts), ``synthetic`` (a seeded chain for benchmarks).

**The single-good model is the one-stage chain.** ``ChainModel(ChainMarket.one_stage(market),
policies)`` returns the prices, quantities, welfare and wedges of
:class:`models.equilibrium.EquilibriumModel` on the same market to solver precision
(``tests/test_chain.py``, ``tests/test_chain_core.py``): with the preferential floor, the
guaranteed price (:class:`StageGuaranteedPrice`: levy and export refund), a stockpile restricted
to eligible origins (:class:`StageStockpile` with ``eligible_origins``: arcs of its own, the
single-good ``y_i``), the bloc's roster set on the built programme (``solve(members=...)``,
as EquilibriumModel's settable ``members``), and the arc instruments of :mod:`.routes`, all
Parameters set at a solve (``tests/test_chain_roster.py``): the bloc's tariffs
(:class:`StageBloc`: members' mutual import tariffs removed and the common external tariff on
non-members' goods, both following the roster; ``solve(external_tariff=...)``), and
``solve(banned_routes=...)`` (:class:`RouteBans`) and ``solve(export_discounts=...)``
(:class:`ExportDiscounts`). Each names its stage, or covers every stage with ``stage=ALL``
(then its key is the single-good keyword). A licence rent the solver leaves undetermined is
settled as the single-good readback settles it.

What :class:`EquilibriumModel` still needs to become a thin wrapper:

* its scenario translated into chain policies: tariffs and export taxes into
  :class:`StageTariff` (one object per rate; a matrix form would save objects on large
  scenarios) and the bloc into :class:`StageBloc`, quotas and bans into :class:`ExportControl`,
  subsidies into :class:`StageSubsidy`, the preferential floor into :class:`StageFloor`, the CfD
  into :class:`StageCfd`; ad valorem rates converted at benchmark prices before they reach the
  chain (the chain takes specific rates only);
* isoelastic curves (the chain accepts linear ones only) and the single-good result's columns
  (``border_price``/``supply_price``, with the settled convention for the prices of regions that
  trade nothing on one side, :func:`models.certificate.settle_indeterminate_prices`, which the
  chain does not apply yet; the preferential floor's tariff where its cap binds at zero);
* then ``EquilibriumResult`` read from a ``ChainResult`` and every chapter re-run against the
  register.

Speed (``benchmarks/bench_chain.py``): a sweep may turn off Clarabel's equilibration and
iterative refinement (:data:`models.solving.SPEED_SETTINGS`; a failed step is retried with
both on). The single-good fast path (:mod:`models.fastpath`) is shared as is: it stands in for
any built cvxpy problem.
"""
from .build import ChainModel
from .floors import StageCfd, StageFloor, StageGuaranteedPrice, StageStockpile
from .policies import ChainPolicy, ExportControl, StageSubsidy, StageTariff
from .result import ChainResult, ChainSweep
from .routes import ExportDiscounts, RouteBans, StageBloc
from .spec import ChainMarket, Stage

__all__ = ["ChainMarket", "Stage", "ChainModel", "ChainPolicy", "StageTariff", "ExportControl",
           "StageSubsidy", "StageStockpile", "StageCfd", "StageGuaranteedPrice", "StageFloor", "StageBloc",
           "RouteBans", "ExportDiscounts", "ChainResult", "ChainSweep"]
