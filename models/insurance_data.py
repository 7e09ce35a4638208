"""Inputs of the stockpile's insurance model: disruption scenarios and the one $12 billion convention.

* :class:`Disruption` is one scenario of ``data/disruptions.csv`` (an export cut of a given size,
  duration and annual probability); :func:`disruptions_from_dataset` reads them and
  :data:`DEFAULT_DISRUPTIONS` is that file's scenarios (read on first use).
* :func:`vault_budgets` is **the** convention for Project Vault's $12 billion, used the same way in
  every chapter: a total spent over stated purchase years, split across the minerals the Vault
  names that the data cover, in proportion to the base-year market value of their consumption.
* :func:`scenario_weights` turns annual probabilities into the weights of a holding horizon.

Units: kt, USD/kg, USD million.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from .errors import ModelInputError
from .policies import ALL

#: The bloc's core members (``rosters.csv``: roster ``core``).
BLOC_CORE = ("USA", "EU", "JPN")

#: Project Vault's total, USD million: "a ~$12 billion US critical-minerals reserve" (a 15-year
#: EXIM loan of up to $10 billion plus about $1.67 billion of private capital; gtreview.com/?p=121242,
#: announced 2 February 2026).
VAULT_TOTAL_MUSD = 12_000.0
#: Minerals the Vault names (same sources as :data:`VAULT_TOTAL_MUSD`).
VAULT_NAMED = ("rare earths", "gallium", "cobalt", "lithium", "nickel", "graphite")
#: Which dataset mineral stands for a named Vault mineral. Rare earths are counted **once**, as
#: separated NdPr oxide (``ndpr``): the Vault's buyers are manufacturers (GM, Stellantis, Boeing,
#: GE Vernova) whose exposure is magnets, NdPr is the stockable magnet input, and China's hold is at
#: separation (~90%); the concentrate (``rare_earths``) is an input to separators and would count
#: the same rare earths twice. Tungsten is in the data but not named by the Vault: no share.
VAULT_DATA_MINERAL = {"rare earths": "ndpr", "gallium": "gallium", "graphite": "graphite"}
#: Years over which the total is spent. assumption: no purchase schedule has been published; the
#: traders buy over several years rather than in one (a year's purchase of $10 billion of NdPr
#: would exceed a year's world output), so 3 years.
PURCHASE_YEARS = 3
#: Years the inventory is held against disruptions: the term of the EXIM loan that funds it
#: (a 15-year loan, gtreview.com/?p=121242).
HOLDING_YEARS = 15


@dataclass(frozen=True)
class Disruption:
    """A disruption scenario: ``origin`` cuts its exports of ``minerals`` to ``destinations`` by
    ``cut_share`` of the benchmark flows, for ``duration_years`` consecutive years.

    Parameters
    ----------
    name : str
    probability : float
        Annual probability that the disruption starts, in (0, 1].
    origin : str
    destinations : tuple of str or ``"ALL"``
    cut_share : float
        ``s`` in [0, 1]: exports to the destinations are capped at ``(1 − s) X0``.
    minerals : tuple of str or ``"ALL"``
    source : str
        A citation or ``"assumption: <reason>"``.
    duration_years : int
        ``T ≥ 1``: the cut lasts this many consecutive years.
    """

    name: str
    probability: float
    origin: str = "CHN"
    destinations: tuple[str, ...] | str = BLOC_CORE
    cut_share: float = 1.0
    minerals: tuple[str, ...] | str = ALL
    source: str = "assumption"
    duration_years: int = 1

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ModelInputError("disruption.name", self.name, "a non-empty string")
        p = float(self.probability)
        if not np.isfinite(p) or p <= 0 or p > 1:
            raise ModelInputError(f"disruption[{self.name}].probability", self.probability,
                                  "a probability in (0, 1] (drop a scenario rather than give it 0)")
        object.__setattr__(self, "probability", p)
        c = float(self.cut_share)
        if not np.isfinite(c) or c < 0 or c > 1:
            raise ModelInputError(f"disruption[{self.name}].cut_share", self.cut_share, "a share in [0, 1]")
        object.__setattr__(self, "cut_share", c)
        t = self.duration_years
        if isinstance(t, bool) or not float(t).is_integer() or int(t) < 1:
            raise ModelInputError(f"disruption[{self.name}].duration_years", t, "a whole number of years >= 1")
        object.__setattr__(self, "duration_years", int(t))
        if not (isinstance(self.source, str) and self.source.strip()):
            raise ModelInputError(f"disruption[{self.name}].source", self.source,
                                  "a citation or 'assumption: <reason>'")
        for attr in ("destinations", "minerals"):
            value = getattr(self, attr)
            if value != ALL:
                value = (value,) if isinstance(value, str) else tuple(value)
                if not value:
                    raise ModelInputError(f"disruption[{self.name}].{attr}", value, f"a non-empty list or {ALL!r}")
                object.__setattr__(self, attr, value)

    def hits(self, mineral: str) -> bool:
        """Whether the scenario cuts ``mineral``."""
        return self.minerals == ALL or mineral in self.minerals


def _split(value: str):
    return ALL if value == ALL else tuple(value.split(";"))


def disruptions_from_dataset(dataset) -> tuple[Disruption, ...]:
    """The scenarios of ``data/disruptions.csv`` (validated by :func:`models.data.load_dataset`)."""
    return tuple(Disruption(r["name"], float(r["annual_probability"]), r["origin"], _split(r["destinations"]),
                            float(r["cut_share"]), _split(r["minerals"]), r["source"], int(r["duration_years"]))
                 for _, r in dataset.disruptions.iterrows())


def probability_ranges(dataset) -> pd.DataFrame:
    """The range of each scenario's annual probability in ``data/disruptions.csv`` (1/year).

    Returns a DataFrame indexed by scenario ``name`` with ``low``, ``central`` (the
    ``annual_probability`` the chapters use) and ``high`` (``probability_low``, ``probability_high``:
    assumptions, stated in the row's ``source``) and ``source``; checked on load
    (:func:`models.data.load_dataset`): ``0 < low <= central <= high <= 1``, the central and the
    high ends each summing to at most 1.
    """
    dis = dataset.disruptions
    out = pd.DataFrame({"low": dis["probability_low"].astype(float).to_numpy(),
                        "central": dis["annual_probability"].astype(float).to_numpy(),
                        "high": dis["probability_high"].astype(float).to_numpy(),
                        "source": dis["source"].astype(str).to_numpy()},
                       index=pd.Index(dis["name"], name="name"))
    return out


_DEFAULTS: tuple[Disruption, ...] | None = None


def default_disruptions() -> tuple[Disruption, ...]:
    """The scenarios of the project's ``data/disruptions.csv`` (loaded once)."""
    global _DEFAULTS
    if _DEFAULTS is None:
        from .data import load_dataset
        _DEFAULTS = disruptions_from_dataset(load_dataset())
    return _DEFAULTS


def __getattr__(name: str):
    if name == "DEFAULT_DISRUPTIONS":
        return default_disruptions()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def disruptions_in_force(dataset, disruptions: Sequence[Disruption] | None = None) -> pd.DataFrame:
    """Which controls of ``export_controls.csv`` are in force behind each scenario and mineral.

    Returns a DataFrame (mineral × scenario) of the measures in force (``"licence"``, ``"ban"``,
    joined with ``+``) of the scenario's origin on that mineral, ``""`` where none.
    """
    disruptions = default_disruptions() if disruptions is None else disruptions
    ec = dataset.export_controls
    table = {}
    for d in disruptions:
        col = {}
        for m in dataset.mineral_ids:
            rows = ec[(ec["origin"] == d.origin) & (ec["mineral"] == m) & (ec["status"] == "in_force")]
            col[m] = "+".join(sorted(set(rows["measure"]))) if d.hits(m) else ""
        table[d.name] = col
    return pd.DataFrame(table)


def scenario_weights(probabilities, holding_years: int = HOLDING_YEARS) -> tuple[np.ndarray, float]:
    r"""Weights of the scenarios over a holding horizon, and the expected years the inventory is held.

    Disruptions arrive as a geometric process: each year one starts with probability
    ``p = Σ_ω π_ω`` (scenario ``ω`` with ``π_ω``), and the inventory serves the **first** one
    within the horizon of ``H`` years (it is released then; a second disruption in the same horizon
    is not modelled). So::

        q_ω = (π_ω / p) (1 − (1 − p)^H)          probability that ω is the first disruption
        h̄  = Σ_{t=0}^{H−1} (1 − p)^t = (1 − (1 − p)^H) / p   expected years held (carrying cost)

    With ``H = 1``: ``q_ω = π_ω`` and ``h̄ = 1``. No discounting (stated: the book reports
    undiscounted sums; with a rate ``r`` the weights would shrink by up to ``(1+r)^{-H}``).

    Returns
    -------
    (numpy.ndarray, float)
        ``q`` in scenario order and ``h̄`` (years).
    """
    pi = np.asarray(probabilities, dtype=float)
    h = int(holding_years)
    if h < 1 or h != holding_years:
        raise ModelInputError("holding_years", holding_years, "a whole number of years >= 1")
    p = float(pi.sum())
    if p <= 0 or p > 1 + 1e-12:
        raise ModelInputError("sum of probabilities", p, "in (0, 1]")
    reach = 1.0 - (1.0 - min(p, 1.0)) ** h
    return pi / p * reach, reach / p


def vault_budgets(dataset, total: float = VAULT_TOTAL_MUSD, years: int = PURCHASE_YEARS,
                  minerals: Sequence[str] | None = None, basis: str | Sequence[str] = "world") -> pd.DataFrame:
    r"""The one convention for Project Vault's $12 billion: who gets how much, over how many years.

    The total ``B`` is spent over ``years`` (``B / years`` a year) and split across the minerals the
    Vault names (:data:`VAULT_NAMED`) that the data cover (:data:`VAULT_DATA_MINERAL`: rare earths
    once, as NdPr oxide; tungsten not named), in proportion to the base-year market value of
    consumption at the reference price::

        B_m = B · V_m / Σ_{k covered} V_k,     V_m = P_ref_m Σ_{r∈basis} D0_{rm}   (USD million)

    The value of consumption is the yardstick because the Vault stocks what industry uses; a
    mineral named but not in the data (cobalt, lithium, nickel) gets no share, so the total stays
    ``B`` over the covered minerals (a reader wanting the uncovered minerals' share set aside can
    pass a smaller ``total``).

    Parameters
    ----------
    dataset : models.data.Dataset
    total : float
        ``B``, USD million (default :data:`VAULT_TOTAL_MUSD`).
    years : int
        Purchase years (default :data:`PURCHASE_YEARS`, an assumption).
    minerals : sequence of str, optional
        Restrict to these dataset minerals (e.g. those a model covers); others get no share.
    basis : ``"world"`` or sequence of region ids
        Whose consumption measures the market value.

    Returns
    -------
    pandas.DataFrame
        Index ``mineral`` (dataset id, covered minerals only); columns ``vault_name``,
        ``consumption_value_musd`` (USD million a year), ``share``, ``budget_musd`` (over the
        purchase years), ``annual_musd``, ``years``. ``attrs["not_covered"]`` lists the named
        minerals without data.
    """
    try:
        total = float(total)
    except (TypeError, ValueError):
        raise ModelInputError("total", total, "a positive amount in USD million") from None
    if not np.isfinite(total) or total <= 0:
        raise ModelInputError("total", total, "a positive amount in USD million")
    if isinstance(years, bool) or not float(years).is_integer() or int(years) < 1:
        raise ModelInputError("years", years, "a whole number of purchase years >= 1")
    years = int(years)
    if minerals is not None:
        minerals = [minerals] if isinstance(minerals, str) else list(minerals)
        unknown = [m for m in minerals if m not in dataset.mineral_ids]
        if unknown:
            raise ModelInputError("minerals", unknown, f"minerals among {list(dataset.mineral_ids)}")
    if isinstance(basis, str):
        if basis != "world":
            raise ModelInputError("basis", basis, "'world' or a list of region ids")
        regions = list(dataset.region_ids)
    else:
        regions = list(basis)
        bad = [r for r in regions if r not in dataset.region_ids]
        if bad or not regions:
            raise ModelInputError("basis", basis, f"'world' or region ids among {list(dataset.region_ids)}")
    rows, missing = {}, []
    for name in VAULT_NAMED:
        m = VAULT_DATA_MINERAL.get(name)
        if m is None or m not in dataset.mineral_ids or (minerals is not None and m not in minerals):
            missing.append(name)
            continue
        value = dataset.price(m, "reference") * float(dataset.quantity(m, "consumption").loc[regions].sum())
        rows[m] = {"vault_name": name, "consumption_value_musd": value}
    if not rows:
        raise ModelInputError("minerals", minerals, f"at least one of the Vault's minerals {VAULT_DATA_MINERAL}")
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "mineral"
    if out["consumption_value_musd"].sum() <= 0:
        raise ModelInputError("basis", basis, "regions that consume the Vault's minerals")
    out["share"] = out["consumption_value_musd"] / out["consumption_value_musd"].sum()
    out["budget_musd"] = out["share"] * total
    out["annual_musd"] = out["budget_musd"] / years
    out["years"] = years
    out.attrs["not_covered"] = missing
    return out
