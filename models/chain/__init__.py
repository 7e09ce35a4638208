"""The value chain: stages of one mineral in one convex programme (MODEL.md §4).

``spec`` (stages and chains), ``data`` (the sourced CSVs and the calibration), ``build`` (the
programme), ``policies`` (instruments that compile themselves), ``search`` (the preferential
floors' tariff search), ``result`` (readback, certificate, accounts).
"""
from .build import ChainModel
from .policies import (ChainPolicy, ExportControl, StageCfd, StageFloor, StageStockpile, StageSubsidy,
                       StageTariff)
from .result import ChainResult, ChainSweep
from .spec import ChainMarket, Stage

__all__ = ["ChainMarket", "Stage", "ChainModel", "ChainPolicy", "StageTariff", "ExportControl",
           "StageSubsidy", "StageStockpile", "StageCfd", "StageFloor", "ChainResult", "ChainSweep"]
