"""Price risk: closed forms, the CfD as a put, the calibration and the speed target."""

import numpy as np
import pytest

from models.errors import DataValidationError
from models.price_risk import (PriceProcess, Project, build_probability, calibrate_process, cfd_put_value,
                               lognormal_put, mean_and_se, project_npv, stockpile_floor_holds)
from models.time_data import load_table, price_history


def test_lognormal_put_matches_black_formula_and_parity():
    m, s, k = np.log(80.0) - 0.5 * 0.3 ** 2, 0.3, 100.0      # forward 80
    put = lognormal_put(m, s, k)
    rng = np.random.default_rng(0)
    p = np.exp(m + s * rng.standard_normal(2_000_000))
    mc, se = mean_and_se(np.maximum(k - p, 0))
    assert abs(put - mc) < 4 * se
    call = float(np.mean(np.maximum(p - k, 0)))
    assert put - call == pytest.approx(k - 80.0, abs=0.1)        # put-call parity on the forward
    assert lognormal_put(np.log(50.0), 0.0, 100.0) == pytest.approx(50.0)
    assert lognormal_put(np.log(150.0), 0.0, 100.0) == 0.0


def test_moments_are_exact_without_spikes_and_match_simulation_with_them():
    proc = PriceProcess(mu=np.log(60), kappa=0.7, sigma=0.4)
    m = proc.mu + np.exp(-0.7 * 3) * (np.log(90) - proc.mu)
    v = 0.4 ** 2 * (1 - np.exp(-2 * 0.7 * 3)) / (2 * 0.7)
    mean, _ = proc.moments(90.0, 3)
    assert mean == pytest.approx(np.exp(m + v / 2), rel=1e-10)
    spiky = PriceProcess(mu=np.log(60), kappa=0.7, sigma=0.4, jump_rate=0.2, jump_mean=1.0, jump_sd=0.2)
    paths = spiky.simulate(90.0, 3, 400_000, seed=3)
    mc, se = mean_and_se(paths[:, 3])
    assert abs(spiky.moments(90.0, 3)[0] - mc) < 4 * se


def test_cfd_value_to_producer_equals_expected_cost_to_government():
    """The identity: the producer's NPV gain from a CfD (simulated) equals the closed-form strip of puts."""
    proc = PriceProcess(mu=np.log(60), kappa=0.8, sigma=0.5)
    project = Project(capacity=1.3, capex=0.0, lead_time=0, life=10, operating_cost=20.0)
    paths = proc.simulate(60.0, 10, 100_000, seed=11)
    out = project_npv(paths, project, 0.08, floor=110.0)
    gain, se = mean_and_se(out["producer_gain"])
    closed = cfd_put_value(proc, 60.0, 110.0, 1.3, range(1, 11), 0.08)
    assert abs(gain - closed) < 3 * se
    cost, _ = mean_and_se(out["top_up"])
    assert cost == pytest.approx(gain, rel=1e-12)


def test_cfd_costs_more_than_it_is_worth_when_it_keeps_a_loss_making_plant_running():
    proc = PriceProcess(mu=np.log(60), kappa=0.8, sigma=0.5)
    flexible = Project(capacity=1.0, capex=0.0, lead_time=0, life=10, operating_cost=70.0, flexible=True)
    out = project_npv(proc.simulate(60.0, 10, 50_000, seed=2), flexible, 0.08, floor=110.0)
    assert out["top_up"].mean() > out["producer_gain"].mean() > 0


def test_calm_process_keeps_the_long_run_mean_price():
    proc = PriceProcess(mu=np.log(50), kappa=0.8, sigma=0.5, jump_rate=0.15, jump_mean=1.2, jump_sd=0.2)
    calm = proc.calm(0.5)
    assert calm.stationary_mean() == pytest.approx(proc.stationary_mean(), rel=1e-9)
    assert calm.sigma == pytest.approx(0.25)


def test_calibration_recovers_a_known_process():
    true = PriceProcess(mu=np.log(60), kappa=0.6, sigma=0.3)
    path = true.simulate(60.0, 400, 1, seed=5)[0]
    fitted, info = calibrate_process(np.arange(401.0), path)
    assert info["converged"]
    assert fitted.kappa == pytest.approx(0.6, rel=0.35)
    assert fitted.stationary_mean() == pytest.approx(path.mean(), rel=0.1)


def test_price_history_loads_and_calibrates():
    h = price_history("ndpr")
    proc, info = calibrate_process(h["date"], h["price_usd_per_kg"])
    assert 0 < proc.half_life < 10 and proc.sigma > 0


def test_bad_row_names_file_row_and_column(tmp_path):
    import pandas as pd
    from models.time_data import DATA
    src = pd.read_csv(DATA / "dynamics_parameters.csv", dtype=str, keep_default_na=False)
    good = src.copy()
    src.loc[2, "central"] = "abc"
    src.to_csv(tmp_path / "dynamics_parameters.csv", index=False)
    with pytest.raises(DataValidationError, match=r"dynamics_parameters.csv, row 4, column 'central'"):
        load_table("dynamics_parameters.csv", tmp_path)
    src = good.copy()
    src.loc[0, "source"] = "assumption:"
    src.to_csv(tmp_path / "dynamics_parameters.csv", index=False)
    with pytest.raises(DataValidationError, match="row 2, column 'source'"):
        load_table("dynamics_parameters.csv", tmp_path)


def test_a_floor_raises_the_probability_of_building():
    proc = PriceProcess(mu=np.log(55), kappa=0.8, sigma=0.5, jump_rate=0.14, jump_mean=1.4, jump_sd=0.15)
    project = Project(capacity=4.4, capex=1100.0, lead_time=4, life=25, operating_cost=60.0)
    kw = dict(rate=0.08, p_start=60.0, window=6, n_paths=5_000, cost_range=(0.8, 1.2))
    free = build_probability(proc, project, **kw)["probability"]
    floored = build_probability(proc, project, floor=110.0, floor_years=10, **kw)["probability"]
    assert floored > free


def test_stockpile_floor_stops_when_the_budget_is_spent():
    paths = np.full((2, 5), 50.0)
    holds = stockpile_floor_holds(paths, 100.0, budget=1000.0, slope_kt_per_usd=0.1)
    assert holds[0].tolist() == [True, True, False, False, False]     # 500 a year
