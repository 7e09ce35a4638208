"""The value chain's data (``data/chain_*.csv``) and its calibration to the base year at every stage.

Files (one fact per row, a ``source`` on every row: a publication with its year, or
``assumption: <reason>``):

``chain_stages.csv``        mineral, stage, order, name, unit, input_per_unit ``a_s``, transport_basis
``chain_quantities.csv``    region, mineral, stage, variable (``production`` | ``final_demand``), value_kt, year
``chain_prices.csv``        mineral, stage, region (the anchor), price_usd_per_kg, year
``chain_elasticities.csv``  mineral, stage, side, horizon, central, low, high
``chain_capacity.csv``      region, mineral, stage, capacity_kt, year (the kink of a cost curve)

Calibration (MODEL.md §1, stage by stage). For each stage ``s`` the base flows solve the
transportation problem from producers ``Y0_{s,i}`` to users ``U0_{s,j} = D0_{s,j} + a_{s+1} Y0_{s+1,j}``::

    minimise Σ_ij t^s_ij x_ij   s.t.  Σ_j x_ij = Y0_{s,i},  Σ_i x_ij = U0_{s,j},  x ≥ 0

whose duals, anchored so that the anchor region's delivered price is the observed stage price,
give delivered prices ``p0_{s,j}`` and ex-works prices ``w0_{s,i}``. Each cost curve passes through
``(w0_{s,i} − a_s p0_{s−1,i}, Y0_{s,i})`` (value added at a processing stage, the price at stage 0)
and each final demand curve through ``(p0_{s,j}, D0_{s,j})``, with the stage's elasticities. With
no policy the chain then returns ``Y0``, ``D0``, ``p0`` and ``w0`` at every stage (tested).
The data must close at every stage (world production = world use) to 1e-6.

Transport: ``t^s = t^basis × P_s / P_basis``: freight and insurance the same share of value as
in ``data/trade_costs.csv`` for the ``transport_basis`` mineral (the assumption stated there).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cvxpy as cp
import numpy as np
import pandas as pd

from ..curves import LinearCurve, check_elasticity
from ..datapackage import read_table
from ..errors import DataValidationError, InfeasibleError, ModelInputError
from ..market import Market
from .spec import ChainMarket, Stage

DATA = Path(__file__).resolve().parents[2] / "data"
VARIABLES = ("production", "final_demand")
SIDES = ("demand", "supply")
HORIZONS = ("short", "long")
WHICH = ("central", "low", "high")
#: Relative tolerance on world production = world use at every stage.
BALANCE_TOL = 1e-6


@dataclass(frozen=True)
class ChainData:
    """The validated chain tables (pandas DataFrames, typed)."""

    stages: pd.DataFrame
    quantities: pd.DataFrame
    prices: pd.DataFrame
    elasticities: pd.DataFrame
    capacity: pd.DataFrame

    def minerals(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.stages["mineral"]))

    def stage_names(self, mineral: str) -> tuple[str, ...]:
        t = self.stages[self.stages["mineral"] == mineral].sort_values("order")
        return tuple(t["stage"])


def load_chain_data(directory: str | Path | None = None, regions=None) -> ChainData:
    """Read and validate ``chain_*.csv`` in ``directory`` (default ``data/``).

    Each file is checked against its resource in ``data/datapackage.json`` by
    :func:`models.datapackage.read_table` (types, units, required values, bounds, the source rule,
    the primary key, and the foreign keys: regions of ``regions.csv``, or of ``regions`` when given,
    and stages of ``chain_stages.csv``); then the rules that span rows: stage orders 0, 1, 2, … per
    chain, an input coefficient of 0 at order 0 and a positive one after, elasticities of the right
    sign and order. Every mistake raises :class:`DataValidationError` naming the file, the CSV line,
    the column, the value and what is allowed.
    """
    d = Path(directory) if directory is not None else DATA
    known = {"regions": read_table("regions", d) if regions is None else pd.DataFrame({"region": list(regions)})}
    tables = {}
    for name in ("chain_stages", "chain_quantities", "chain_prices", "chain_elasticities", "chain_capacity"):
        table = read_table(name, d, known, empty_ok=name == "chain_capacity")
        table["line"] = list(table.attrs["lines"])
        known[name] = tables[name] = table
    stages = tables["chain_stages"]
    for mineral, t in stages.groupby("mineral", sort=False):
        orders = sorted(t["order"])
        if orders != list(range(len(orders))):
            raise DataValidationError("chain_stages", int(t["line"].iloc[0]), "order",
                                      f"{orders} is not allowed for {mineral}: expected 0, 1, …, {len(orders) - 1}")
        for _, r in t.iterrows():
            if (r["order"] == 0) != (r["input_per_unit"] == 0):
                raise DataValidationError("chain_stages", int(r["line"]), "input_per_unit",
                                          f"{r['input_per_unit']!r} is not allowed: expected 0 at order 0 and a "
                                          "positive number at a processing stage")
    elasticities = tables["chain_elasticities"]
    for _, row in elasticities.iterrows():
        for col in WHICH:
            try:
                check_elasticity(col, row["side"], float(row[col]))
            except ModelInputError as exc:
                raise DataValidationError("chain_elasticities", int(row["line"]), col, f"{row[col]!r} is not allowed: "
                                          f"expected {exc.allowed}") from None
    return ChainData(stages, tables["chain_quantities"], tables["chain_prices"], elasticities,
                     tables["chain_capacity"])


@dataclass(frozen=True)
class ChainBenchmark:
    """A calibrated chain and the base-year data it replicates.

    ``production``, ``final_demand`` (kt), ``prices`` (delivered, USD/kg, NaN where a region does
    not use the stage) and ``producer_prices`` (ex-works) are DataFrames, stages × regions;
    ``flows`` maps a stage to its base flow matrix.
    """

    chain: ChainMarket
    production: pd.DataFrame
    final_demand: pd.DataFrame
    prices: pd.DataFrame
    producer_prices: pd.DataFrame
    value_added: pd.DataFrame
    flows: dict


def _stage_prices(regions, supply, use, cost, anchor, anchor_price, stage):
    n = len(regions)
    total_s, total_u = supply.sum(), use.sum()
    if total_s <= 0 or abs(total_s - total_u) > BALANCE_TOL * max(total_s, total_u):
        raise ModelInputError(f"{stage}: world production vs world use (kt)", (float(total_s), float(total_u)),
                              f"equal totals within {BALANCE_TOL:g} (relative): the stage's data must close")
    x = cp.Variable((n, n), nonneg=True)
    rows = cp.sum(x, axis=1) == supply
    cols = cp.sum(x, axis=0) == use * (total_s / total_u)
    problem = cp.Problem(cp.Minimize(cp.sum(cp.multiply(cost, x))), [rows, cols])
    problem.solve(solver=cp.CLARABEL)
    if problem.status != cp.OPTIMAL:
        raise InfeasibleError(str(problem.status), f"the base transportation problem of stage {stage} has no solution")
    p = -np.asarray(cols.dual_value, dtype=float)
    w = np.asarray(rows.dual_value, dtype=float)
    k = regions.index(anchor)
    if use[k] <= 0:
        raise ModelInputError(f"{stage}: price anchor", anchor, "a region that uses the stage in the base year")
    shift = anchor_price - p[k]
    return p + shift, w + shift, np.maximum(np.asarray(x.value), 0.0)


def calibrate_chain(data: ChainData, dataset, mineral: str, horizon: str = "long", which: str = "central",
                    supply_elasticity: float | None = None, demand_elasticity: float | None = None,
                    stages: tuple[str, ...] | None = None, capacity: bool = True) -> ChainBenchmark:
    """Calibrate the chain of ``mineral`` so that it replicates the base year at every stage.

    Parameters
    ----------
    data : ChainData
    dataset : models.data.Dataset
        For the regions and the transport costs of the ``transport_basis`` mineral.
    horizon, which : elasticity row of ``chain_elasticities.csv``
    supply_elasticity, demand_elasticity : float, optional
        One value for every stage, overriding the data (for sensitivity).
    stages : tuple of stage ids, optional
        A leading sub-chain (e.g. ``("concentrate", "oxide")``); the last stage's use by the
        dropped next stage becomes final demand.
    capacity : bool
        Build ``chain_capacity.csv``'s kinks (default) or leave every curve smooth.
    """
    if mineral not in data.minerals():
        raise ModelInputError("mineral", mineral, f"a mineral of chain_stages.csv, one of {list(data.minerals())}")
    if horizon not in HORIZONS:
        raise ModelInputError("horizon", horizon, f"one of {HORIZONS}")
    if which not in WHICH:
        raise ModelInputError("which", which, f"one of {WHICH}")
    regions = list(dataset.region_ids)
    names = data.stage_names(mineral)
    if stages is not None:
        stages = tuple(stages)
        if stages != names[:len(stages)] or not stages:
            raise ModelInputError("stages", stages, f"a leading part of {list(names)}")
        names_used = stages
    else:
        names_used = names
    st = data.stages[data.stages["mineral"] == mineral].set_index("stage")
    q = data.quantities[data.quantities["mineral"] == mineral]
    K = len(names_used)

    def table(variable):
        t = q[q["variable"] == variable].pivot(index="stage", columns="region", values="value_kt")
        t = t.reindex(index=list(names), columns=regions)
        missing = t.isna().stack()
        if missing.any():
            s, r = missing[missing].index[0]
            raise ModelInputError(f"chain_quantities.csv: {mineral}/{s}/{variable}", r,
                                  "a row for every region and stage (write 0 with a source where none)")
        return t

    Y0, D0 = table("production"), table("final_demand")
    coef = st["input_per_unit"].reindex(list(names)).astype(float)
    D0 = D0.copy()
    if K < len(names):        # the dropped stage's draw becomes final demand of the last kept stage
        D0.loc[names[K - 1]] = D0.loc[names[K - 1]] + coef[names[K]] * Y0.loc[names[K]]
    pr = data.prices[data.prices["mineral"] == mineral].set_index("stage")
    el = data.elasticities[(data.elasticities["mineral"] == mineral) & (data.elasticities["horizon"] == horizon)]
    prices, wprices, vadd, flows, out = {}, {}, {}, {}, []
    for s, name in enumerate(names_used):
        if name not in pr.index:
            raise ModelInputError(f"chain_prices.csv: {mineral}", name, "a price row for every stage")
        basis = st.loc[name, "transport_basis"]
        scale = float(pr.loc[name, "price_usd_per_kg"]) / dataset.price(basis, "reference")
        t = dataset.trade_cost_matrix(basis).loc[regions, regions] * scale
        use = D0.loc[name].to_numpy(dtype=float)
        if s + 1 < K:
            use = use + coef[names_used[s + 1]] * Y0.loc[names_used[s + 1]].to_numpy(dtype=float)
        p, w, x = _stage_prices(regions, Y0.loc[name].to_numpy(dtype=float), use, t.to_numpy(),
                                pr.loc[name, "region"], float(pr.loc[name, "price_usd_per_kg"]), f"{mineral}/{name}")
        y = Y0.loc[name].to_numpy(dtype=float)
        p = np.where(use > 0, p, np.nan)
        w = np.where(y > 0, w, np.nan)
        prices[name], wprices[name], flows[name] = p, w, pd.DataFrame(x, index=regions, columns=regions)
        va = w - (coef[name] * prices[names_used[s - 1]] if s > 0 else 0.0)
        vadd[name] = va

        def elas(side):
            override = supply_elasticity if side == "supply" else demand_elasticity
            if override is not None:
                return override
            row = el[(el["stage"] == name) & (el["side"] == side)]
            if row.empty:
                raise ModelInputError(f"chain_elasticities.csv: {mineral}/{name}/{side}/{horizon}", None,
                                      "a row for every stage, side and horizon")
            return float(row[which].iloc[0])

        supply, demand = {}, {}
        for k, r in enumerate(regions):
            if y[k] > 0:
                if not np.isfinite(va[k]) or va[k] <= 0:
                    raise ModelInputError(f"{mineral}/{name}: base value added [{r}]", float(va[k]),
                                          "a positive margin (output price above the input's cost): check the "
                                          "stage prices and input coefficients")
                supply[r] = LinearCurve.through("supply", float(va[k]), float(y[k]), elas("supply"))
            if D0.loc[name, r] > 0:
                demand[r] = LinearCurve.through("demand", float(p[k]), float(D0.loc[name, r]), elas("demand"))
        caps = {}
        if capacity:
            c = data.capacity[(data.capacity["mineral"] == mineral) & (data.capacity["stage"] == name)]
            for _, row in c.iterrows():
                if row["region"] not in supply:
                    raise DataValidationError("chain_capacity", int(row["line"]), "region",
                                              f"{row['region']!r} is not allowed: expected a region that produces "
                                              f"{name} in the base year (a kink needs a cost curve)")
                if row["capacity_kt"] < Y0.loc[name, row["region"]]:
                    raise DataValidationError("chain_capacity", int(row["line"]), "capacity_kt",
                                              f"{row['capacity_kt']!r} is not allowed: expected at least the base "
                                              f"output {Y0.loc[name, row['region']]} kt")
                caps[row["region"]] = float(row["capacity_kt"])
        out.append(Stage(name, Market(f"{mineral}:{name}", tuple(regions), demand, supply, t),
                         float(coef[name]) if s > 0 else 0.0, caps))
    frame = lambda d: pd.DataFrame(d, index=regions).T.loc[list(names_used)]  # noqa: E731
    return ChainBenchmark(ChainMarket(mineral, tuple(out)), Y0.loc[list(names_used)], D0.loc[list(names_used)],
                          frame(prices), frame(wprices), frame(vadd), flows)


def chain_benchmark(mineral: str = "rare_earths", dataset=None, directory=None, **kwargs) -> ChainBenchmark:
    """Load the project's data and calibrate ``mineral``'s chain (keywords as :func:`calibrate_chain`)."""
    from ..data import load_dataset
    dataset = dataset or load_dataset()
    return calibrate_chain(load_chain_data(directory, dataset.region_ids), dataset, mineral, **kwargs)
