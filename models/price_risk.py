"""Price risk: a mean-reverting log-price process with spikes, project NPVs, and floors as puts.

Notation (the book's): ``p_t = ln P_t``, years as the unit of time, prices in USD/kg, quantities
in kt, so price × quantity is USD million.

The process (an Ornstein–Uhlenbeck log price with compound jumps, the "spikes")::

    p_{t+Δ} = μ + e^{-κΔ} (p_t − μ) + σ_Δ ε + B J,      σ_Δ² = σ² (1 − e^{-2κΔ}) / (2κ),
    ε ~ N(0, 1),  B ~ Bernoulli(1 − e^{-λΔ}),  J ~ N(μ_J, σ_J²).

A spike is a jump that mean reversion then erodes, as the 2011 and 2022 NdPr peaks did.
A contract for difference at strike ``f`` pays ``Q (f − P_t)^+`` in each covered year: a strip of
puts. Under a lognormal ``P_t`` each put has the closed form of :func:`lognormal_put`.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.optimize import minimize
from scipy.special import ndtr

from .errors import ModelInputError


def lognormal_put(mean_log, sd_log, strike):
    """``E[(K − P)^+]`` for ``ln P ~ N(m, s²)``.

    With the forward ``F = E[P] = e^{m + s²/2}``,

        E[(K − P)^+] = K Φ(−d₂) − F Φ(−d₁),   d₁ = (ln(F/K) + s²/2)/s,   d₂ = d₁ − s,

    and ``(K − e^m)^+`` when ``s = 0``. Arrays broadcast.
    """
    m, s, k = (np.atleast_1d(a) for a in np.broadcast_arrays(
        np.asarray(mean_log, float), np.asarray(sd_log, float), np.asarray(strike, float)))
    scalar = np.ndim(mean_log) == 0 and np.ndim(sd_log) == 0 and np.ndim(strike) == 0
    out = np.maximum(k - np.exp(m), 0.0).astype(float)
    pos = s > 0
    if np.any(pos):
        f = np.exp(m[pos] + 0.5 * s[pos] ** 2)
        d1 = (np.log(f / k[pos]) + 0.5 * s[pos] ** 2) / s[pos]
        d2 = d1 - s[pos]
        out[pos] = k[pos] * ndtr(-d2) - f * ndtr(-d1)
    return float(out[0]) if scalar else out


@dataclass(frozen=True)
class PriceProcess:
    """A mean-reverting log price with spikes (module docstring).

    Parameters
    ----------
    mu : float
        Long-run mean of the log price (``e^μ`` is the long-run median price, USD/kg).
    kappa : float
        Speed of mean reversion per year (half-life ``ln 2 / κ``).
    sigma : float
        Diffusion volatility of the log price per √year.
    jump_rate : float
        ``λ``, expected spikes per year.
    jump_mean, jump_sd : float
        ``μ_J, σ_J`` of a spike's size in log points.
    """

    mu: float
    kappa: float
    sigma: float
    jump_rate: float = 0.0
    jump_mean: float = 0.0
    jump_sd: float = 0.0

    def __post_init__(self):
        for name in ("kappa", "sigma", "jump_rate", "jump_sd"):
            v = getattr(self, name)
            if not np.isfinite(v) or v < 0:
                raise ModelInputError(f"process.{name}", v, "a finite non-negative number")
        if self.kappa == 0:
            raise ModelInputError("process.kappa", self.kappa, "a positive speed of mean reversion")

    @property
    def half_life(self) -> float:
        return float(np.log(2) / self.kappa)

    def calm(self, factor: float) -> "PriceProcess":
        """A more predictable process: volatility and spike sizes scaled by ``factor`` with the same
        long-run mean *price* (``μ`` lowered by half the fall in the stationary log variance)."""
        calm = replace(self, sigma=self.sigma * factor, jump_mean=self.jump_mean * factor,
                       jump_sd=self.jump_sd * factor)
        return replace(calm, mu=self.mu + np.log(self.stationary_mean() / calm.stationary_mean()))

    def stationary_mean(self, n: int = 400) -> float:
        """Long-run mean price ``E[P_∞]`` (the limit of :meth:`moments` far ahead)."""
        return float(self.moments(np.exp(self.mu), n)[0])

    def moments(self, p0, horizon: int, steps_per_year: int = 1):
        """``E[P_h | P_0]`` and ``E[P_h² | P_0]`` after ``horizon`` years, exactly.

        With ``a_k = e^{-κΔ(n−k)}`` the weight of step ``k``'s shock at the horizon and ``π = 1 − e^{-λΔ}``,

            E[P_hⁿ] = exp(n m_h) Π_k exp(n² a_k² σ_Δ² / 2) (1 − π + π exp(n a_k μ_J + n² a_k² σ_J² / 2)),

        where ``m_h = μ + e^{-κh}(ln P_0 − μ)``. Returns ``(mean, second moment)`` arrays.
        """
        dt = 1.0 / steps_per_year
        n = int(round(horizon * steps_per_year))
        p0 = np.asarray(p0, float)
        m = self.mu + np.exp(-self.kappa * n * dt) * (np.log(p0) - self.mu)
        s2 = self.sigma ** 2 * (1 - np.exp(-2 * self.kappa * dt)) / (2 * self.kappa)
        pi = 1 - np.exp(-self.jump_rate * dt)
        a = np.exp(-self.kappa * dt * np.arange(n)[::-1])
        out = []
        for power in (1, 2):
            log_terms = 0.5 * power ** 2 * a ** 2 * s2 + np.log(
                1 - pi + pi * np.exp(power * a * self.jump_mean + 0.5 * power ** 2 * a ** 2 * self.jump_sd ** 2))
            out.append(np.exp(power * m + log_terms.sum()))
        return out[0], out[1]

    def log_normal_approx(self, p0, horizon: int):
        """``(m, s)`` of the lognormal with the same first two moments as ``P_h`` (exact with no spikes)."""
        mean, second = self.moments(p0, horizon)
        s2 = np.log(second / mean ** 2)
        return np.log(mean) - 0.5 * s2, np.sqrt(np.maximum(s2, 0.0))

    def simulate(self, p0, years: int, n_paths: int, seed: int = 0, steps_per_year: int = 1) -> np.ndarray:
        """Price paths, shape ``(n_paths, years + 1)``: column 0 is ``P_0``, column t the price at year t.

        Vectorised over paths (one loop over steps); ``p0`` may be a scalar or one value per path.
        """
        if years < 1 or n_paths < 1:
            raise ModelInputError("years, n_paths", (years, n_paths), "positive integers")
        rng = np.random.default_rng(seed)
        dt = 1.0 / steps_per_year
        phi = np.exp(-self.kappa * dt)
        sd = self.sigma * np.sqrt((1 - phi ** 2) / (2 * self.kappa))
        pi = 1 - np.exp(-self.jump_rate * dt)
        n = years * steps_per_year
        eps = rng.standard_normal((n, n_paths)) * sd
        if self.jump_rate > 0:
            eps += (rng.random((n, n_paths)) < pi) * (self.jump_mean + self.jump_sd * rng.standard_normal((n, n_paths)))
        x = np.empty((n + 1, n_paths))
        x[0] = np.log(np.broadcast_to(np.asarray(p0, float), (n_paths,))) - self.mu
        for k in range(n):
            x[k + 1] = phi * x[k] + eps[k]
        return np.exp(self.mu + x[::steps_per_year].T)


def calibrate_process(dates, prices, min_jump_sd: float = 0.15) -> tuple[PriceProcess, dict]:
    """Maximum-likelihood fit of :class:`PriceProcess` to dated quotes (irregular spacing allowed).

    For an interval of length ``Δ`` between quotes the increment of ``x = p − μ`` is, with at most
    one spike per interval (probability ``π_Δ = 1 − e^{-λΔ}``), a two-normal mixture:

        x' | x ~ (1 − π_Δ) N(e^{-κΔ}x, σ_Δ²) + π_Δ N(e^{-κΔ}x + μ_J, σ_Δ² + σ_J²),

    and the log-likelihood is the sum over intervals. ``σ_J`` is held at least ``min_jump_sd`` so
    that a spike is told apart from diffusion. Returns the process and a dict of diagnostics.
    """
    t = np.asarray(dates, float)
    p = np.log(np.asarray(prices, float))
    if len(t) < 4 or np.any(np.diff(t) <= 0):
        raise ModelInputError("dates", dates, "at least four strictly increasing dates")
    dt = np.diff(t)

    def nll(theta):
        mu, log_k, log_s, log_l, mj, log_sj = theta
        k, s, lam, sj = np.exp(log_k), np.exp(log_s), np.exp(log_l), min_jump_sd + np.exp(log_sj)
        phi = np.exp(-k * dt)
        v = s ** 2 * (1 - phi ** 2) / (2 * k)
        pred = mu + phi * (p[:-1] - mu)
        r = p[1:] - pred
        pi = 1 - np.exp(-lam * dt)
        f0 = np.exp(-0.5 * r ** 2 / v) / np.sqrt(2 * np.pi * v)
        vj = v + sj ** 2
        f1 = np.exp(-0.5 * (r - mj) ** 2 / vj) / np.sqrt(2 * np.pi * vj)
        return -np.sum(np.log((1 - pi) * f0 + pi * f1 + 1e-300))

    best = None
    for k0 in (0.3, 0.8):
        for l0 in (0.1, 0.3):
            x0 = np.array([p.mean(), np.log(k0), np.log(0.4), np.log(l0), 0.8, np.log(0.2)])
            res = minimize(nll, x0, method="L-BFGS-B",
                           bounds=[(p.min(), p.max()), (np.log(0.05), np.log(5.0)), (np.log(0.05), np.log(2.0)),
                                   (np.log(0.01), np.log(1.0)), (-1.0, 3.0), (np.log(1e-3), np.log(1.5))])
            if best is None or res.fun < best.fun:
                best = res
    mu, log_k, log_s, log_l, mj, log_sj = best.x
    process = PriceProcess(mu=float(mu), kappa=float(np.exp(log_k)), sigma=float(np.exp(log_s)),
                           jump_rate=float(np.exp(log_l)), jump_mean=float(mj),
                           jump_sd=float(min_jump_sd + np.exp(log_sj)))
    return process, {"log_likelihood": float(-best.fun), "n_quotes": int(len(t)), "converged": bool(best.success)}


def cfd_put_value(process: PriceProcess, p0: float, strike: float, quantity: float, years, rate: float):
    """Expected discounted top-ups of a CfD, ``Σ_t e^{-rt} Q E[(f − P_t)^+]`` (USD million), in closed form.

    Each year's put is :func:`lognormal_put` at the lognormal matched to ``P_t``'s first two moments
    (:meth:`PriceProcess.log_normal_approx`); exact without spikes. ``years`` are the covered years
    counted from now (e.g. ``range(1, 11)``).
    """
    total = 0.0
    for t in years:
        m, s = process.log_normal_approx(p0, t)
        total += np.exp(-rate * t) * quantity * lognormal_put(m, s, strike)
    return float(total)


@dataclass(frozen=True)
class Project:
    """A producer's project (one stage; NdPr oxide unless said otherwise).

    Parameters
    ----------
    capacity : float
        kt a year once built.
    capex : float
        USD million, paid at the decision (year 0).
    lead_time : int
        Years from decision to first output.
    life : int
        Operating years.
    operating_cost : float
        USD/kg. With ``flexible=True`` the plant produces only in years when its realised price
        covers it (an operating option); otherwise it always produces.
    """

    capacity: float
    capex: float
    lead_time: int
    life: int
    operating_cost: float
    flexible: bool = False

    def operating_years(self) -> np.ndarray:
        return np.arange(self.lead_time + 1, self.lead_time + self.life + 1)


def realised_price(paths: np.ndarray, floor: float | None = None, covered=None) -> np.ndarray:
    """The producer's price: ``max(P_t, f)`` in covered years (a CfD or a floor that holds), else ``P_t``.

    ``covered`` is a boolean mask over columns (years) or an array of the paths' shape.
    """
    if floor is None:
        return paths
    mask = np.ones(paths.shape, bool) if covered is None else np.broadcast_to(covered, paths.shape)
    return np.where(mask, np.maximum(paths, floor), paths)


def project_npv(paths: np.ndarray, project: Project, rate: float, floor: float | None = None,
                floor_years: int | None = None) -> dict[str, np.ndarray]:
    """NPV per path of ``project`` (USD million), with an optional floor on its first ``floor_years``.

        NPV = −I + Σ_{t ∈ T} e^{-rt} Q u_t (R_t − c),   R_t = max(P_t, f) if covered else P_t,

    ``u_t = 1`` (or ``1{R_t ≥ c}`` for a flexible plant). Also returns the government's discounted
    top-ups ``Σ e^{-rt} Q u_t (R_t − P_t)`` and the producer's gain from the floor per path.
    ``paths`` has one column per year from 0 (as :meth:`PriceProcess.simulate`).
    """
    years = project.operating_years()
    if years[-1] >= paths.shape[1]:
        raise ModelInputError("paths", paths.shape, f"at least {years[-1] + 1} columns (years 0..{years[-1]})")
    p = paths[:, years]
    disc = np.exp(-rate * years)

    def cash(price):
        run = (price >= project.operating_cost) if project.flexible else np.ones_like(price, bool)
        return run, project.capacity * run * (price - project.operating_cost)

    _, base_cash = cash(p)
    npv_free = -project.capex + base_cash @ disc
    if floor is None:
        return {"npv": npv_free, "npv_free": npv_free, "top_up": np.zeros(len(p)), "producer_gain": np.zeros(len(p))}
    covered = np.arange(1, project.life + 1) <= (floor_years or project.life)
    r = realised_price(p, floor, covered)
    run, floor_cash = cash(r)
    npv = -project.capex + floor_cash @ disc
    top_up = (project.capacity * run * (r - p)) @ disc
    return {"npv": npv, "npv_free": npv_free, "top_up": top_up, "producer_gain": npv - npv_free}


def mean_and_se(x: np.ndarray) -> tuple[float, float]:
    """Sample mean and its standard error."""
    x = np.asarray(x, float)
    return float(x.mean()), float(x.std(ddof=1) / np.sqrt(len(x)))


def stockpile_floor_holds(paths: np.ndarray, floor: float, budget: float, slope_kt_per_usd: float) -> np.ndarray:
    """Years in which a buyer-of-last-resort floor still holds, per path (boolean, paths' shape).

    To lift a price ``P_t < f`` to ``f`` the stockpile buys ``K_t = (f − P_t) · m`` kt, where ``m``
    (kt per USD/kg) is the market's total response ``Σ_r (∂S_r/∂P + |∂D_r/∂P|)``, at an outlay
    ``f K_t`` (USD million). The floor holds while cumulative outlays stay within ``budget``.
    """
    outlay = floor * np.maximum(floor - paths, 0.0) * slope_kt_per_usd
    spent = np.cumsum(outlay, axis=1)
    return spent <= budget


def build_probability(process: PriceProcess, project: Project, rate: float, p_start: float,
                      window: int, n_paths: int = 20_000, seed: int = 0, floor: float | None = None,
                      floor_years: int | None = None, quantile: float = 0.5, inner_paths: int = 2_000,
                      grid_points: int = 31, cost_range: tuple[float, float] = (1.0, 1.0)) -> dict:
    """Probability that a project like ``project`` is built within ``window`` years, and when.

    Projects differ in cost: each outer path draws a cost multiplier ``m`` from a triangular
    distribution on ``cost_range`` (mode 1) that scales capex and operating cost alike. Each year
    ``τ = 0..window−1`` the developer sees ``P_τ`` and builds if the ``quantile`` of the NPV given
    ``P_τ`` is non-negative (``0.5``: the median case; ``0.2``: a lender's downside case, as debt is
    sized on a low price deck). For a plant that always runs the NPV is linear in ``m``,

        NPV(P, m) = A(P) − m C,   A = Σ_t e^{-rt} Q R_t,   C = I + Σ_t e^{-rt} Q c,

    so its quantile is ``q_A(P) − m C``, with ``q_A`` computed once on a grid of start prices by
    simulation (``inner_paths`` per point) and interpolated in ``ln P``. Returns the probability,
    the mean decision year of those built, and the grid of ``q_A − C`` (the quantile NPV at ``m = 1``).
    """
    if project.flexible:
        raise ModelInputError("project.flexible", True, "a plant that always runs (the NPV is then linear in cost)")
    horizon = project.lead_time + project.life
    lo, hi = np.log(p_start) - 2.5, np.log(p_start) + 2.5
    grid = np.linspace(lo, hi, grid_points)
    starts = np.repeat(np.exp(grid), inner_paths)
    inner = process.simulate(starts, horizon, len(starts), seed=seed + 1)
    zero_cost = replace(project, capex=0.0, operating_cost=0.0)
    revenue = project_npv(inner, zero_cost, rate, floor, floor_years)["npv"].reshape(grid_points, inner_paths)
    years = project.operating_years()
    cost = project.capex + project.capacity * project.operating_cost * np.exp(-rate * years).sum()
    q = np.quantile(revenue, quantile, axis=1) - cost
    rng = np.random.default_rng(seed + 2)
    a, b = cost_range
    m = rng.triangular(a, 1.0, b, n_paths) if b > a else np.full(n_paths, a)
    outer = process.simulate(p_start, max(window - 1, 1), n_paths, seed=seed)[:, :window]
    qv = np.interp(np.log(outer), grid, q + cost) - m[:, None] * cost
    ok = qv >= 0
    built = ok.any(axis=1)
    first = np.where(built, ok.argmax(axis=1), -1)
    return {"probability": float(built.mean()),
            "mean_year": float(first[built].mean()) if built.any() else float("nan"),
            "grid_price": np.exp(grid), "grid_quantile_npv": q, "cost": float(cost)}
