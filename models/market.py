"""The market of one mineral: regions, their curves, and the trade costs between them."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pandas as pd

from .curves import Curve, IsoelasticCurve, LinearCurve
from .errors import ModelInputError
from .validate import as_names


def check_regions(field_name: str, given, known) -> tuple[str, ...]:
    """Return ``given`` as a tuple after checking every entry is a known region id."""
    if isinstance(given, str):
        given = (given,)
    given = tuple(given)
    unknown = [r for r in given if r not in known]
    if unknown:
        raise ModelInputError(field_name, unknown[0] if len(unknown) == 1 else unknown,
                              f"region ids among {list(known)}")
    return given


def _check_curves(regions: tuple, demand, supply) -> None:
    """Each side a mapping of known regions to curves of that side, all of one family."""
    for side, curves in (("demand", demand), ("supply", supply)):
        if not isinstance(curves, Mapping):
            raise ModelInputError(side, type(curves).__name__, "a mapping region -> curve")
        check_regions(f"{side} (keys)", curves.keys(), regions)
        for region, curve in curves.items():
            if curve is None:
                continue
            if not isinstance(curve, (LinearCurve, IsoelasticCurve)):
                raise ModelInputError(f"{side}[{region}]", curve, "a LinearCurve or IsoelasticCurve")
            if curve.side != side:
                raise ModelInputError(f"{side}[{region}].side", curve.side, f"'{side}'")
    kinds = {type(c) for c in [*demand.values(), *supply.values()] if c is not None}
    if len(kinds) > 1:
        raise ModelInputError("curves", sorted(k.__name__ for k in kinds),
                              "curves of one family (all linear or all isoelastic)")


@dataclass(frozen=True)
class Market:
    """One mineral's market: ``n`` regions, their inverse demand and supply curves, and unit trade costs.

    Parameters
    ----------
    mineral : str
        The mineral's id, e.g. ``"rare_earths"``.
    regions : tuple of str
        Region ids; their order is the order of every vector and matrix in the model.
    demand, supply : mapping region -> curve or None
        Inverse demand ``P^d_r(D)`` and inverse supply ``P^s_r(S)``. A region missing from a
        mapping (or mapped to ``None``) has no demand (``D_r = 0``) or no supply (``S_r = 0``).
    transport_cost : pandas.DataFrame
        ``t_ij`` in USD/kg, origin ``i`` as index, destination ``j`` as columns, every region in
        both, non-negative, with a zero diagonal. A real resource cost (freight, insurance).
    """

    mineral: str
    regions: tuple[str, ...]
    demand: Mapping[str, Curve | None]
    supply: Mapping[str, Curve | None]
    transport_cost: pd.DataFrame
    label: str = field(default="", compare=False)

    def __post_init__(self):
        if not isinstance(self.mineral, str) or not self.mineral:
            raise ModelInputError("mineral", self.mineral, "a mineral id (a non-empty string)")
        regions = as_names("regions", self.regions, "a list of region ids (non-empty strings)")
        for side in ("demand", "supply"):
            if not isinstance(getattr(self, side), Mapping):
                raise ModelInputError(side, type(getattr(self, side)).__name__, "a mapping region -> curve")
        object.__setattr__(self, "regions", regions)
        if len(regions) == 0:
            raise ModelInputError("regions", regions, "at least one region")
        if len(set(regions)) != len(regions):
            raise ModelInputError("regions", regions, "distinct region ids")
        _check_curves(regions, self.demand, self.supply)
        t = self.transport_cost
        if not isinstance(t, pd.DataFrame):
            raise ModelInputError("transport_cost", type(t).__name__, "a pandas DataFrame")
        if t.shape != (len(regions), len(regions)):
            raise ModelInputError("transport_cost.shape", t.shape,
                                  f"({len(regions)}, {len(regions)}): one row and column per region")
        rows, cols = t.index.tolist(), t.columns.tolist()
        if set(rows) != set(regions) or set(cols) != set(regions):
            raise ModelInputError("transport_cost labels", (rows, cols),
                                  f"index and columns equal to the regions {list(regions)}")
        ordered = (rows == list(regions) and cols == list(regions)
                   and all(dt == np.float64 for dt in t.dtypes))
        if not ordered:     # (a market re-made with the same costs skips the copy: Monte Carlo draws)
            try:
                t = t.loc[list(regions), list(regions)].astype(float)
            except (TypeError, ValueError):
                raise ModelInputError("transport_cost", "non-numeric entries", "numbers in USD/kg") from None
        values = t.to_numpy()
        if not np.all(np.isfinite(values)) or (values < 0).any():
            bad = np.argwhere(~np.isfinite(values) | (values < 0))[0]
            raise ModelInputError(f"transport_cost[{regions[bad[0]]}, {regions[bad[1]]}]",
                                  values[bad[0], bad[1]], "a finite non-negative cost in USD/kg")
        if np.any(np.diag(values) != 0):
            raise ModelInputError("transport_cost diagonal", np.diag(values).tolist(), "zeros")
        object.__setattr__(self, "transport_cost", t)

    def with_curves(self, demand: Mapping[str, Curve | None], supply: Mapping[str, Curve | None]) -> "Market":
        """The same market (mineral, regions, transport costs, label) with new curves.

        Only the curves are checked (as the constructor checks them); the regions and the
        transport costs were checked when this market was made (a Monte Carlo makes one market
        per draw).
        """
        _check_curves(self.regions, demand, supply)
        new = object.__new__(Market)
        for name, value in (("mineral", self.mineral), ("regions", self.regions), ("demand", demand),
                            ("supply", supply), ("transport_cost", self.transport_cost), ("label", self.label)):
            object.__setattr__(new, name, value)
        return new

    @property
    def n(self) -> int:
        return len(self.regions)

    @property
    def curve_family(self) -> str:
        curves = [c for c in [*self.demand.values(), *self.supply.values()] if c is not None]
        return "isoelastic" if curves and isinstance(curves[0], IsoelasticCurve) else "linear"

    def index_of(self, region: str) -> int:
        check_regions("region", region, self.regions)
        return self.regions.index(region)

    def demand_curve(self, region: str) -> Curve | None:
        return self.demand.get(region)

    def supply_curve(self, region: str) -> Curve | None:
        return self.supply.get(region)
