"""Models of a critical-minerals trade bloc: a spatial price equilibrium with price floors.

Stages: validate inputs (:mod:`models.data`, :mod:`models.market`, :mod:`models.policies`) →
build the programme (:class:`EquilibriumModel`) → solve → read results into labelled pandas
objects (:class:`EquilibriumResult`). Quantities in kt, prices in USD/kg, money in USD million.
"""
from .calibration import Benchmark, benchmark_from_dataset, calibrate_benchmark
from .curves import IsoelasticCurve, LinearCurve, calibrate_curve
from .accounting import inventory_account
from .equilibrium import SETTABLE, SWEEPABLE, EquilibriumModel, SweepResult, policy_trade_costs, solve_equilibrium
from .errors import (DataValidationError, InaccurateSolutionError, InfeasibleError, ModelInputError,
                     ScenarioError, SolverError, UnboundedError)
from .market import Market
from .policies import (ALL, MEMBERS, Bloc, CfdFloor, ExportBan, ExportQuota, ExportTax, GuaranteedPrice,
                       PreferentialFloor, ProducerSubsidy, Scenario, StockpileFloor, Tariff)
from .result import EquilibriumResult

__all__ = [
    "ALL", "Benchmark", "Bloc", "benchmark_from_dataset", "calibrate_benchmark", "CfdFloor", "DataValidationError", "EquilibriumModel", "EquilibriumResult",
    "ExportBan", "ExportQuota", "ExportTax", "GuaranteedPrice", "InaccurateSolutionError", "InfeasibleError",
    "IsoelasticCurve", "LinearCurve", "MEMBERS", "Market", "ModelInputError", "PreferentialFloor",
    "ProducerSubsidy", "SETTABLE", "SWEEPABLE", "inventory_account",
    "Scenario", "ScenarioError", "SolverError", "StockpileFloor", "SweepResult", "Tariff",
    "UnboundedError", "calibrate_curve", "policy_trade_costs", "solve_equilibrium",
]
