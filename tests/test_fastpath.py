"""The fast sweep path (``models/fastpath.py``) against plain cvxpy solves.

A sweep with Clarabel re-solves through :class:`models.fastpath.FastProblem` (Clarabel kept alive,
only ``q`` and ``b`` updated; a fresh setup per step for cone programmes). Every check compares it
with the reference: a fresh :class:`EquilibriumModel` solved once per value by cvxpy's
``Problem.solve`` (history-free, so the reference does not depend on the order of the sweep).

"Equal within 1e-6 relative" is taken field by field: ``|fast - reference| <= 1e-6 * max(1,
max |reference|)`` over the regions and values of one field. Prices here are O(10-100) USD/kg and
quantities O(1-100) kt, and many entries are exactly zero (a levy that does not bind, a flow not
used), where a purely relative test is meaningless.
"""
from __future__ import annotations

import types

import cvxpy as cp
import numpy as np
import pytest

from models import (ALL, Bloc, CfdFloor, ExportQuota, InaccurateSolutionError, InfeasibleError,
                    GuaranteedPrice, ProducerSubsidy, SolverError, StockpileFloor, UnboundedError, certificate,
                    fastpath)
from models.synthetic import synthetic_benchmark

REL = 1e-6
FIELDS = ("border_price", "consumer_price", "producer_price", "supply_price", "demand", "supply",
          "exports", "imports", "net_exports")


@pytest.fixture(scope="module")
def benches():
    return {"six": synthetic_benchmark(6, seed=1), "nine": synthetic_benchmark(9, seed=2),
            "iso": synthetic_benchmark(7, seed=3, curve="isoelastic")}


def _scenario(bench, kind: str):
    r = bench.market.regions
    base = bench.base_scenario
    if kind == "levy":
        return base.extend(floors=GuaranteedPrice(r[1:3], 85.0))
    if kind == "cfd":
        return base.extend(floors=CfdFloor(r[2:4], 85.0))
    if kind == "stockpile":
        return base.extend(floors=StockpileFloor(r[1], 85.0, 400.0))
    if kind == "mixed":   # every kind of parameter at once: bloc tariff, quota, subsidy, levy floor
        return base.extend(bloc=Bloc(r[1:4], 5.0), quotas=ExportQuota(r[0], r[1:3], 20.0),
                           subsidies=ProducerSubsidy(r[3], 2.0), floors=GuaranteedPrice(r[1:3], 90.0))
    if kind == "stockpile_quota":   # a quota covering the stockpile's purchases too
        return base.extend(quotas=ExportQuota(r[0], ALL, 30.0),
                           floors=StockpileFloor(r[2], 90.0, 1500.0, eligible_origins=r[:4]))
    raise ValueError(kind)


CASES = [
    ("six", "levy", "floor_level", (60.0, 75.0, 85.0, 95.0, 110.0, 140.0)),
    ("nine", "levy", "floor_level", (70.0, 90.0, 120.0)),
    ("six", "cfd", "floor_level", (60.0, 85.0, 100.0, 130.0)),
    ("nine", "cfd", "floor_level", (80.0, 95.0, 115.0)),
    ("six", "stockpile", "floor_level", (60.0, 85.0, 100.0, 130.0)),
    ("nine", "stockpile", "budget", (0.0, 100.0, 400.0, 3000.0)),
    ("nine", "mixed", "floor_level", (70.0, 90.0, 110.0)),
    ("nine", "mixed", "quota", (0.0, 10.0, 40.0)),
    ("nine", "mixed", "subsidy", (0.0, 3.0, 9.0)),
    ("nine", "mixed", "external_tariff", (0.0, 4.0, 15.0)),     # the tariff matrix enters A
    ("nine", "stockpile_quota", "quota", (0.0, 15.0, 60.0)),
    ("nine", "stockpile_quota", "floor_level", (70.0, 100.0)),
    ("iso", "levy", "floor_level", (70.0, 90.0, 110.0)),         # power cones: fresh setup per step
    ("iso", "stockpile", "budget", (0.0, 300.0, 2000.0)),
]


def assert_close(actual, expected, what: str) -> None:
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    err = float(np.max(np.abs(actual - expected), initial=0.0))
    assert err <= REL * scale, f"{what}: max |fast - cvxpy| = {err:.3g} > {REL:g} x {scale:.3g}"


@pytest.mark.parametrize("market, kind, name, values", CASES,
                         ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in CASES])
def test_sweep_equals_plain_cvxpy_solves(benches, market, kind, name, values):
    bench = benches[market]
    scenario = _scenario(bench, kind)
    model = bench.model(scenario)
    sweep = model.sweep(name, values, fields=FIELDS)
    assert fastpath.unavailable_reason(model) is None, "the sweep should have used the fast path"
    assert model.problem is not model._fastpath[1] and isinstance(model.problem, cp.Problem)
    assert sweep.solver_time > 0 and sweep.wall_time > 0
    for k, v in enumerate(values):
        reference = bench.model(scenario).solve(**{name: v})
        rows = sweep.table[sweep.table[name] == v]
        assert list(rows["region"]) == list(bench.market.regions)
        for field in FIELDS:
            assert_close(rows[field], reference.regions[field], f"{name}={v} {field}")
        totals = sweep.totals.iloc[k]
        assert totals[name] == v
        assert_close(totals["objective"], reference.objective, f"{name}={v} objective")
        assert_close(totals["stockpile_purchases"], reference.stockpile["purchases"], f"{name}={v} purchases")
        assert_close(totals["stockpile_price"], reference.raw.stockpile_price, f"{name}={v} stockpile price")


def test_sweep_equals_the_cvxpy_sweep_path(benches):
    """The same sweep with the fast path switched off gives the same table (linear market)."""
    bench = benches["nine"]
    scenario = _scenario(bench, "mixed")
    values = np.linspace(60.0, 130.0, 8)
    fast = bench.model(scenario).sweep("floor_level", values, fields=FIELDS)
    with fastpath.disabled():
        model = bench.model(scenario)
        slow = model.sweep("floor_level", values, fields=FIELDS)
        assert fastpath.unavailable_reason(model) == "disabled"
    for field in FIELDS:
        assert_close(fast.table[field], slow.table[field], field)
    assert_close(fast.totals["objective"], slow.totals["objective"], "objective")


@pytest.mark.parametrize("kind, name, value", [("mixed", "floor_level", 95.0),
                                               ("stockpile_quota", "quota", 15.0),
                                               ("cfd", "floor_level", 100.0)])
def test_every_variable_and_dual_equals_cvxpy_signs_included(benches, kind, name, value):
    """Primal values and the duals of every constraint, with cvxpy's sign conventions."""
    bench = benches["nine"]
    scenario = _scenario(bench, kind)
    model = bench.model(scenario)
    fast = fastpath.fast_problem(model)
    assert fast is not None
    model._apply(**{name: value})
    fast.solve(solver="CLARABEL", **model.solver_options)
    assert fast.status == cp.OPTIMAL

    reference = bench.model(scenario)
    reference._apply(**{name: value})
    reference.problem.solve(solver="CLARABEL", **reference.solver_options)
    assert reference.problem.status == cp.OPTIMAL
    assert fast.value == pytest.approx(reference.problem.value, rel=1e-9)

    for ours, theirs in zip(model.problem.variables(), reference.problem.variables()):
        assert ours.name() == theirs.name()
        assert np.shape(ours.value) == np.shape(theirs.value)
        assert_close(ours.value, theirs.value, f"variable {ours.name()}")
    names = list(model.constraints)
    assert len(names) == len(model.problem.constraints)
    for key, ours, theirs in zip(names, model.problem.constraints, reference.problem.constraints):
        a, b = np.asarray(ours.dual_value, dtype=float), np.asarray(theirs.dual_value, dtype=float)
        assert a.shape == b.shape, key
        if key in ("supply_balance", "demand_balance"):
            # the balance of a region with no curve on that side has no determined dual (the model
            # reports the no-arbitrage convention instead, models/readback.py): compare the rest
            side = model.supply_regions if key == "supply_balance" else model.demand_regions
            keep = np.array([r in side for r in model.market.regions])
            a, b = a[keep], b[keep]
        if key == "stockpile_origins":
            # y_i <= 0 for an origin that may not sell, with y_i >= 0: that dual is not determined
            # (the model never reads it); compare the eligible origins' duals only
            eligible = model.y_cap.value > 0
            a, b = a[eligible], b[eligible]
        assert_close(a, b, f"dual of {key}")
        big = np.abs(b) > 1e-4 * max(1.0, float(np.abs(b).max(initial=0.0)))
        assert np.array_equal(np.sign(a[big]), np.sign(b[big])), f"dual signs of {key}"
    # cvxpy's convention for a maximisation: a <= (or >=) constraint has a non-negative dual.
    prices = np.asarray(model.constraints["demand_balance"].dual_value)
    assert prices.min() > 0
    for key in names:
        if key != "trade_bill":
            assert np.asarray(model.constraints[key].dual_value).min() > -1e-6, key


def test_binding_floor_has_positive_levy_on_both_paths(benches):
    bench = benches["six"]
    scenario = _scenario(bench, "levy")
    sweep = bench.model(scenario).sweep("floor_level", [120.0], fields=FIELDS)
    reference = bench.model(scenario).solve(floor_level=120.0)
    covered = list(scenario.floors[-1].regions)
    rows = sweep.table.set_index("region").loc[covered]
    assert (rows["consumer_price"] >= 120.0 - 1e-6).all()
    assert (reference.wedges.loc[covered, "levy"] > 0).any()
    assert_close(rows["consumer_price"], reference.regions.loc[covered, "consumer_price"], "consumer price")


def test_cone_programmes_are_set_up_afresh_and_qps_updated(benches):
    iso = fastpath.fast_problem(benches["iso"].model(_scenario(benches["iso"], "levy")))
    lin = fastpath.fast_problem(benches["six"].model(_scenario(benches["six"], "levy")))
    assert iso.setup_each_solve and not lin.setup_each_solve


def test_model_state_is_restored_after_a_sweep(benches):
    bench = benches["six"]
    model = bench.model(_scenario(bench, "levy"))
    before = model.solve()
    problem = model.problem
    model.sweep("floor_level", [70.0, 120.0])
    assert model.problem is problem
    assert model._current["floor_level"] is None
    after = model.solve()
    assert_close(after.regions["border_price"], before.regions["border_price"], "border price")


def test_replaced_problem_is_recompiled(benches):
    """A caller that appends constraints (as models.coalition does) gets a fresh fast path."""
    bench = benches["six"]
    scenario = _scenario(bench, "levy")
    model = bench.model(scenario)
    first = fastpath.fast_problem(model)
    extra = model.S[0] <= 0.9 * float(bench.production.iloc[0])
    model.problem = cp.Problem(model.problem.objective, list(model.problem.constraints) + [extra])
    second = fastpath.fast_problem(model)
    assert second is not None and second is not first
    # The appended cap is no policy the certificate knows (its solution is not the scenario's
    # equilibrium), so both paths are compared uncertified.
    with certificate.disabled():
        sweep = model.sweep("floor_level", [80.0, 100.0], fields=FIELDS)
        reference = bench.model(scenario)
        reference.problem = cp.Problem(reference.problem.objective,
                                       list(reference.problem.constraints)
                                       + [reference.S[0] <= 0.9 * float(bench.production.iloc[0])])
        refs = {v: reference.solve(floor_level=v) for v in (80.0, 100.0)}
    for v in (80.0, 100.0):
        ref = refs[v]
        rows = sweep.table[sweep.table["floor_level"] == v]
        for field in FIELDS:
            assert_close(rows[field], ref.regions[field], f"{v} {field}")


def test_other_solvers_and_compilation_options_stay_on_cvxpy(benches):
    bench = benches["six"]
    scenario = _scenario(bench, "levy")
    scs = bench.model(scenario, solver="SCS")
    assert fastpath.fast_problem(scs) is None
    assert "SCS" in fastpath.unavailable_reason(scs)
    opts = bench.model(scenario, solver_options={"canon_backend": "SCIPY"})
    assert fastpath.fast_problem(opts) is None
    assert "canon_backend" in fastpath.unavailable_reason(opts)
    sweep = opts.sweep("floor_level", [80.0])
    assert_close(sweep.pivot("border_price").to_numpy().ravel(),
                 bench.model(scenario).solve(floor_level=80.0).regions["border_price"], "border price")


# ---------------------------------------------------------------------- statuses and typed errors
class _ForcedStatus:
    """Wraps a Clarabel solver; ``solve()`` returns its real solution under a forced status."""

    def __init__(self, real, status: str):
        self._real, self._status = real, status

    def solve(self):
        r = self._real.solve()
        return types.SimpleNamespace(status=self._status, x=r.x, z=r.z, s=r.s, obj_val=r.obj_val,
                                     obj_val_dual=r.obj_val_dual, solve_time=r.solve_time,
                                     iterations=r.iterations, r_prim=r.r_prim, r_dual=r.r_dual)

    def __getattr__(self, name):
        return getattr(self._real, name)


@pytest.mark.parametrize("status, kind, cvx_status", [
    ("PrimalInfeasible", InfeasibleError, cp.INFEASIBLE),
    ("AlmostPrimalInfeasible", InfeasibleError, cp.INFEASIBLE_INACCURATE),
    ("DualInfeasible", UnboundedError, cp.UNBOUNDED),
    ("AlmostSolved", InaccurateSolutionError, cp.OPTIMAL_INACCURATE),
    ("MaxIterations", SolverError, cp.USER_LIMIT),
    ("NumericalError", SolverError, "solver_error"),
    ("InsufficientProgress", SolverError, "solver_error"),
])
@pytest.mark.parametrize("tight", [True, False], ids=["tightened", "explicit-tolerances"])
def test_failed_statuses_raise_the_same_typed_errors_as_cvxpy(benches, monkeypatch, status, kind,
                                                              cvx_status, tight):
    """Every Clarabel status but Solved raises, on both paths, the same error with the same text
    (``tightened``: the model's retry at default tolerances runs too, and fails alike)."""
    import clarabel

    real = clarabel.DefaultSolver
    monkeypatch.setattr(clarabel, "DefaultSolver", lambda *a, **k: _ForcedStatus(real(*a, **k), status))
    bench = benches["six"]
    scenario = _scenario(bench, "levy")
    options = None if tight else {"tol_gap_abs": 1e-8, "tol_gap_rel": 1e-8, "tol_feas": 1e-8}
    errors = []
    for fast in (True, False):
        model = bench.model(scenario, solver_options=options)
        with pytest.raises(SolverError) as info:
            if fast:
                model.sweep("floor_level", [90.0, 100.0])
            else:
                with fastpath.disabled():
                    model.sweep("floor_level", [90.0, 100.0])
        assert (getattr(model, "_fastpath", None) is not None) == fast     # which path ran
        errors.append(info.value)
    ours, theirs = errors
    assert type(ours) is type(theirs) is kind
    assert ours.status == theirs.status == cvx_status
    assert str(ours) == str(theirs)
