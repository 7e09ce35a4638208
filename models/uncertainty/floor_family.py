"""The ``floors`` family: the price-floor chapter's instruments on one equilibrium, built once.

:class:`FloorState` builds one :class:`~models.equilibrium.EquilibriumModel` per instrument that
the sweep's rules need (the bloc without a floor, the preferential floor, the guaranteed price,
the CfD, the stockpile buying from anyone or from members only), all on the spec's roster with
China's producer subsidy as a parameter. For a draw, :meth:`FloorState.context` pushes the
re-calibrated curves into every model (:meth:`~models.equilibrium.EquilibriumModel.set_market`),
returns each model's Clarabel solver, set up once at the build's central data, to that set-up
(:func:`models.fastpath.rewind`: the draw's data replace the solver's whole, so a draw's numbers do not
depend on the draws the process solved before) and returns a :class:`~models.uncertainty.rules.RuleContext`
whose named solves (``pref@market+flood``, ...) are solved on demand.
"""
from __future__ import annotations

import numpy as np

from ..errors import ModelInputError
from ..fastpath import pin, rewind
from ..insurance_data import vault_budgets
from ..policies import Bloc, CfdFloor, GuaranteedPrice, PreferentialFloor, ProducerSubsidy, StockpileFloor
from ..trade_costs import policy_trade_costs
from .families import Draw, FamilyInputs
from .rules import FloorSetting, RuleContext


def floor_of(spec, dataset) -> float:
    """The sweep's floor ``f`` (USD/kg): ``spec.floor``, else the mineral's floor in
    ``data/floors.csv``, else NdPr's markup over its reference price applied to this mineral's."""
    floors = dataset.floors.set_index("mineral")["level_usd_per_kg"]
    if spec.floor is not None:
        return float(spec.floor)
    if spec.mineral in floors.index:
        return float(floors[spec.mineral])
    return float(floors["ndpr"]) / dataset.price("ndpr", "reference") * dataset.price(spec.mineral, "reference")


def budget_of(spec, dataset) -> float:
    """The sweep's stockpile budget (USD million): the mineral's share of ``spec.vault_total_musd``
    under the book's one convention (:func:`models.insurance_data.vault_budgets`)."""
    return float(vault_budgets(dataset, total=spec.vault_total_musd)["budget_musd"].get(spec.mineral, 0.0))


#: Clarabel settings of every solve of a sweep: iterative refinement off. On NdPr's benchmark draws it
#: cuts a one-solve draw from 5.4-6.0 to 3.8 ms with the same certified prices (to 1e-8 USD/kg); a
#: solve that fails or is not certified is retried with it back on (:func:`models.solving.robust`).
SWEEP_SOLVER_OPTIONS = {"iterative_refinement_enable": False}


def _instrument(name: str) -> str:
    return name.split("@")[0]


class FloorState:
    """The floors' models of one sweep, built once; :meth:`context` puts a draw into them."""

    def __init__(self, inputs: FamilyInputs, rules: list):
        spec, ds, bench = inputs.spec, inputs.dataset, inputs.bench
        self.bench = bench
        regions = list(ds.region_ids)
        members = tuple(spec.members) if spec.members else ds.roster(spec.roster)
        unknown = [r for r in members if r not in regions]
        if unknown or not members:
            raise ModelInputError("members", list(members), f"region ids among {regions}")
        if spec.china in members:
            raise ModelInputError("china", spec.china, "a region outside the bloc")
        ref = ds.price(spec.mineral, "reference")
        f = floor_of(spec, ds)
        sub = ds.subsidies[(ds.subsidies["region"] == spec.china) & (ds.subsidies["mineral"] == spec.mineral)]
        probe = float(sub["high"].iloc[0]) if len(sub) else 0.0
        budget = budget_of(spec, ds)
        common = dict(bloc=Bloc(members, 0.0), subsidies=ProducerSubsidy(spec.china, 1.0))
        scenarios = {"none": (), "pref": PreferentialFloor(f), "guar": GuaranteedPrice(members, f),
                     "cfd": CfdFloor(members, f),
                     "stock_all": StockpileFloor(spec.stockpile_location, f, budget),
                     "stock_members": StockpileFloor(spec.stockpile_location, f, budget, eligible_origins=members)}
        self.needs = sorted({s for rule in rules for s in rule.needs})
        base = bench.base_scenario
        lean = dict(solver_options=SWEEP_SOLVER_OPTIONS)
        self.models = {"baseline": bench.model(**lean)} if "baseline" in self.needs else {}
        for k in sorted({_instrument(s) for s in self.needs} - {"baseline"}):
            self.models[k] = bench.model(base.extend(name=k, floors=scenarios[k], **common), **lean)
        tau, _ = policy_trade_costs(bench.market, base.extend(**common), bench.prices)
        idx = [regions.index(r) for r in members]
        self.setting = FloorSetting(members, spec.china, tuple(r for r in regions if r not in members
                                                              and r != spec.china),
                                    f, spec.market_floor_markup * ref, probe, spec.shield_threshold,
                                    float(tau[np.ix_(idx, idx)].max()))
        self.budget = budget
        for model in self.models.values():
            pin(model)

    def _levels(self, name: str, subsidy: float) -> dict:
        s = self.setting
        if name == "baseline":
            return {}
        where = name.split("@")[1]
        level = s.floor if where.startswith("floor") else s.market_floor
        extra = subsidy if where.endswith("+flood") else s.probe_subsidy if where.endswith("+probe") else 0.0
        return {"floor_level": level, "subsidy": extra, "budget": self.budget}

    def context(self, draw: Draw) -> RuleContext:
        """Put ``draw`` into every model and return the context of its named solves."""
        for model in self.models.values():
            model.set_market(draw.bench.market, benchmark_prices=draw.bench.prices)
            rewind(model)
        discounts = draw.export_discounts

        def solve(name):
            model = self.models[_instrument(name)]
            return model.solve_raw(export_discounts=discounts, **self._levels(name, draw.subsidy))
        return RuleContext(self.setting, self.bench.market.regions, solve)
