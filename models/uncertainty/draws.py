"""Draws of the uncertain inputs of one mineral's market (the first stage of a Monte Carlo sweep).

Which inputs are uncertain, and over which range, is read from ``data/``:

* **elasticities** (``elasticities.csv``): one ``low, central, high`` row per mineral, side and
  horizon. Drawn per region and side (``by_region=True``: each region's curve gets its own draw
  from the mineral's range; ``False``: one draw per side shared by every region).
* **China's producer subsidy** (``subsidies.csv``: ``low, usd_per_kg, high``): the extra subsidy
  of a flood (the ``subsidy`` of the price-floor chapter).
* **the base-year price gap** (China's domestic price below the ex-China price, encoded as
  China's base export wedge): ``data/prices.csv`` gives one observed quote and no range. The range
  drawn is an **assumption**: a share ``g`` of today's gap, ``0 ≤ g ≤ 1``, because
  ``data/README.md`` notes that the ex-China premium is recent and unstable (Benchmark put the
  European price *below* China's in July 2025); a negative gap would be an export subsidy, which
  the calibration does not encode, so the range stops at no gap.
* **disruption probabilities** (``disruptions.csv``: ``probability_low, annual_probability,
  probability_high``) enter the stockpile's insurance model only: the ``stockpile`` family draws
  them as inputs of its own (:mod:`.rules_stockpile`), not the market's.

Distributions. Each input with ``low, central, high`` is drawn from the **triangular**
distribution with those minimum, mode and maximum. The data give three points and nothing about
the shape: the triangular distribution uses exactly those three numbers, keeps every draw inside
the documented range, and puts most weight near the central value, which the sources treat as
the best guess (a uniform would give the extremes as much weight as the centre; a normal or
log-normal would need a spread the data do not give and would leave the range). Where the
central value is the low end (a subsidy whose low is 0 and central is small), the triangle leans
on it. The price-gap share is uniform on ``[0, 1]`` (no central value is given beyond today's quote,
which is the range's end).

Reproducibility. All draws of a sweep are made at once from ``numpy.random.default_rng(seed)``
before any batching, in a fixed order of columns, so the table of inputs depends on ``seed`` and
``n`` only, never on the number of workers or the batch size.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ..errors import ModelInputError

#: Inputs that can vary, in the order their draws are made.
INPUTS = ("elasticities", "subsidy", "price_gap")
#: The shapes a :class:`Range` is drawn from.
SHAPES = ("triangular", "uniform")
#: Uncertain inputs in ``data/`` that no sweep draws, and why (none today: the disruption
#: probabilities, once listed here, are the ``stockpile`` family's own inputs).
NOT_DRAWN: dict = {}


@dataclass(frozen=True)
class Range:
    """A range ``low ≤ mode ≤ high`` (``low == high`` is a point), its source, unit and shape.

    ``shape`` is ``"triangular"`` (minimum, mode, maximum: the default) or ``"uniform"`` on
    ``[low, high]``, where ``mode`` is only the value used when the input is not drawn. Either
    shape takes one uniform number from the generator per draw, so changing one input's shape
    does not move the draws of the inputs after it.
    """

    low: float
    mode: float
    high: float
    source: str = ""
    unit: str = ""
    shape: str = "triangular"

    def __post_init__(self):
        vals = (self.low, self.mode, self.high)
        if not all(np.isfinite(v) for v in vals) or not self.low <= self.mode <= self.high:
            raise ModelInputError("range", vals, "finite numbers with low <= central <= high")
        if self.shape not in SHAPES:
            raise ModelInputError("range.shape", self.shape, f"one of {SHAPES}")

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        if self.high == self.low:
            return np.full(n, self.low)
        if self.shape == "uniform":
            return rng.uniform(self.low, self.high, size=n)
        return rng.triangular(self.low, self.mode, self.high, size=n)

    def cdf(self, x: float) -> float:
        r"""The triangular distribution's ``F(x)`` (``a, c, b`` = low, mode, high)::

            F(x) = (x − a)² / ((b − a)(c − a))          a ≤ x ≤ c
                 = 1 − (b − x)² / ((b − a)(b − c))      c < x ≤ b

        (0 below ``a``, 1 above ``b``; a point range gives 1 from ``a`` on); a uniform range's is
        ``(x − a) / (b − a)``."""
        a, c, b, x = self.low, self.mode, self.high, float(x)
        if x <= a:
            return 0.0 if x < a or b > a else 1.0
        if x >= b:
            return 1.0
        if self.shape == "uniform":
            return (x - a) / (b - a)
        return (x - a) ** 2 / ((b - a) * (c - a)) if x <= c else 1.0 - (b - x) ** 2 / ((b - a) * (b - c))

    def quantile(self, u: float) -> float:
        r"""The inverse of :meth:`cdf`, ``F⁻¹(u)`` for ``0 ≤ u ≤ 1``::

            F⁻¹(u) = a + √(u (b − a)(c − a))            u ≤ (c − a)/(b − a)
                   = b − √((1 − u)(b − a)(b − c))       otherwise

        Two ranges read at the same ``u`` couple two inputs comonotonically, each keeping its own
        distribution (a draw of one horizon's elasticity gives the other's); a uniform range's is
        ``a + u (b − a)``."""
        u = float(u)
        if not 0.0 <= u <= 1.0:
            raise ModelInputError("quantile", u, "a probability in [0, 1]")
        a, c, b = self.low, self.mode, self.high
        if b == a:
            return a
        if self.shape == "uniform":
            return a + u * (b - a)
        if u <= (c - a) / (b - a):
            return a + float(np.sqrt(u * (b - a) * (c - a)))
        return b - float(np.sqrt((1.0 - u) * (b - a) * (b - c)))


@dataclass(frozen=True)
class InputRanges:
    """The ranges of one mineral's uncertain inputs, read from the dataset.

    Attributes
    ----------
    mineral, horizon : str
    demand, supply : dict region -> Range
        Elasticity ranges of the regions with a demand or a supply curve.
    subsidy : Range
        China's extra producer subsidy, USD/kg.
    price_gap : Range
        Share of the observed base-year price gap kept as China's export wedge (assumption, 0–1).
    observed_gap : float
        China's calibrated export wedge, USD/kg (0 when the data quote no domestic price).
    extra : tuple of (name, Range)
        Inputs of rule families beyond the market's (e.g. a learning rate), in name order
        (:meth:`with_extra`). Drawn under their own name, a column each.
    """

    mineral: str
    horizon: str
    demand: dict
    supply: dict
    subsidy: Range
    price_gap: Range
    observed_gap: float
    extra: tuple = ()

    def with_extra(self, extra: dict) -> "InputRanges":
        """These ranges plus the extra inputs of rule families (``{name: Range}``), drawn after
        the market's own inputs and in name order."""
        clash = [k for k in extra if k in INPUTS]
        if clash:
            raise ModelInputError("extra inputs", clash, f"names other than {list(INPUTS)}")
        merged = dict(self.extra)
        merged.update(extra)
        return replace(self, extra=tuple(sorted(merged.items())))

    @property
    def inputs(self) -> tuple:
        """Every input that can be drawn: :data:`INPUTS` and the families' extra inputs."""
        return INPUTS + tuple(k for k, _ in self.extra)

    @classmethod
    def from_dataset(cls, dataset, benchmark, horizon: str = "long", china: str = "CHN") -> "InputRanges":
        """Ranges for ``benchmark``'s mineral from ``dataset`` (``models.data.Dataset``)."""
        m = benchmark.market
        if horizon not in ("short", "long"):
            raise ModelInputError("horizon", horizon, "'short' or 'long'")
        sides = {}
        for side in ("demand", "supply"):
            rng = elasticity_range(dataset, m.mineral, side, horizon)
            curves = m.demand if side == "demand" else m.supply
            sides[side] = {reg: rng for reg in m.regions if curves.get(reg) is not None}
        sub = dataset.subsidies
        row = sub[(sub["region"] == china) & (sub["mineral"] == m.mineral)]
        subsidy = (Range(float(row["low"].iloc[0]), float(row["usd_per_kg"].iloc[0]), float(row["high"].iloc[0]),
                         str(row["source"].iloc[0]), "USD/kg") if len(row)
                   else Range(0.0, 0.0, 0.0, "no subsidy in data", "USD/kg"))
        gap = float(benchmark.export_wedge.get(china, 0.0))
        price_gap = (Range(0.0, 1.0, 1.0, "assumption: 0 to today's gap", "fraction of today's gap", "uniform")
                     if gap > 0
                     else Range(1.0, 1.0, 1.0, unit="fraction of today's gap"))
        return cls(m.mineral, horizon, sides["demand"], sides["supply"], subsidy, price_gap, gap)


def elasticity_range(dataset, mineral: str, side: str, horizon: str) -> Range:
    """The ``low, central, high`` row of ``data/elasticities.csv`` for one mineral, side and horizon."""
    el = dataset.elasticities
    row = el[(el["mineral"] == mineral) & (el["side"] == side) & (el["horizon"] == horizon)]
    if len(row) != 1:
        raise ModelInputError(f"elasticities.csv[{mineral}, {side}, {horizon}]", len(row), "one row")
    r = row.iloc[0]
    return Range(float(r["low"]), float(r["central"]), float(r["high"]), str(r["source"]), "elasticity")


def kept_wedge(benchmark, china: str, share: float) -> dict | None:
    """China's export wedge keeping ``share`` of today's base-year price gap, ``{china: USD/kg}``, as
    :meth:`models.calibration.Benchmark.recalibrated` takes it (``None`` where the data quote no gap)."""
    gap = float(benchmark.export_wedge.get(china, 0.0))
    return {china: gap * float(share)} if gap > 0 else None


def draw_inputs(ranges: InputRanges, n: int, seed: int, vary=INPUTS, by_region: bool = True) -> pd.DataFrame:
    """``n`` seeded draws of the inputs named in ``vary``; the others stay at their central value.

    Returns a DataFrame with one row per draw: ``draw`` (0..n-1), ``ed_<region>`` and
    ``es_<region>`` (elasticities), ``subsidy`` (USD/kg, China's extra subsidy) and
    ``price_gap_share`` (share of today's gap kept as China's export wedge, 0–1).
    """
    n = int(n)
    if n < 1:
        raise ModelInputError("draws", n, "a positive number of draws")
    unknown = [v for v in vary if v not in ranges.inputs]
    if unknown:
        raise ModelInputError("vary", unknown, f"a list of inputs among {list(ranges.inputs)}")
    rng = np.random.default_rng(seed)
    cols: dict[str, np.ndarray] = {"draw": np.arange(n)}
    for side, prefix in (("demand", "ed"), ("supply", "es")):
        regs = getattr(ranges, side)
        if "elasticities" not in vary:
            for reg, r in regs.items():
                cols[f"{prefix}_{reg}"] = np.full(n, r.mode)
            continue
        if by_region:
            for reg, r in regs.items():
                cols[f"{prefix}_{reg}"] = r.draw(rng, n)
        elif regs:
            common = next(iter(regs.values())).draw(rng, n)
            for reg in regs:
                cols[f"{prefix}_{reg}"] = common
    cols["subsidy"] = ranges.subsidy.draw(rng, n) if "subsidy" in vary else np.full(n, ranges.subsidy.mode)
    cols["price_gap_share"] = (ranges.price_gap.draw(rng, n) if "price_gap" in vary
                               else np.full(n, ranges.price_gap.mode))
    for name, r in ranges.extra:
        cols[name] = r.draw(rng, n) if name in vary else np.full(n, r.mode)
    return pd.DataFrame(cols)


def draw_ranges_table(ranges: InputRanges) -> pd.DataFrame:
    """One row per drawn column: its low, central and high value and where they come from."""
    rows = []
    for side, prefix in (("demand", "ed"), ("supply", "es")):
        for reg, r in getattr(ranges, side).items():
            rows.append((f"{prefix}_{reg}", r.unit, r.low, r.mode, r.high, r.shape, "data/elasticities.csv"))
    s, g = ranges.subsidy, ranges.price_gap
    rows.append(("subsidy", s.unit, s.low, s.mode, s.high, s.shape, "data/subsidies.csv"))
    rows.append(("price_gap_share", g.unit, g.low, g.mode, g.high, g.shape,
                 "assumption (see models.uncertainty.draws)"))
    for name, r in ranges.extra:
        rows.append((name, r.unit, r.low, r.mode, r.high, r.shape, r.source))
    return pd.DataFrame(rows, columns=["input", "unit", "low", "central", "high", "distribution", "source"])
