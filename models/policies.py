"""Policies as data. A :class:`Scenario` combines any of them; the equilibrium model turns each into
a term or a constraint of one convex programme (MODEL.md §2).

=====================  =================================================  ============================
policy                 formulation                                        wedge (dual)
=====================  =================================================  ============================
Tariff, ExportTax      added to the unit trade cost ``t_ij``               revenue = rate × flow
Bloc                   members' mutual tariffs removed, a common external  revenue = rate × flow
                       tariff on imports from non-members
ProducerSubsidy        supply curve shifted down by ``s``                   cost ``s · S_r``
ExportQuota            ``Σ_{j∈J} x_ij ≤ Q`` (``Q = 0``: a ban)              licence rent per kt
PreferentialFloor      members trade freely; ``Σ_{i∉S, j∈S} x_ij ≤ Q``,       adjustable tariff ``τ`` on
                       ``Q`` searched so the zone's price is ``f``          non-members' goods
GuaranteedPrice        ``D_j ≤ D_j(f)`` and ``S_j ≥ S_j(f)``                levy ``λ_j``, top-up ``μ_j``
StockpileFloor         a buyer ``K ≥ 0`` valued at ``f``, ``K ≤ B / f``     floor holds while ``K < B/f``
CfdFloor               ``S_i ≥ S_i(f)`` for covered producers               top-up ``f − w_i`` per unit
=====================  =================================================  ============================

Prices are USD/kg, quantities kt, budgets USD million (so ``B / f`` is in kt).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .errors import ModelInputError
from .validate import as_names, nonneg_number as _nonneg, positive_number as _positive

ALL = "ALL"
#: A stockpile's eligible origins: the scenario's bloc members (whatever the roster is at a solve).
MEMBERS = "MEMBERS"


def _regions(field_name: str, value) -> tuple[str, ...] | str:
    if value is None or (isinstance(value, str) and value == ALL):
        return ALL
    value = as_names(field_name, value, f"a non-empty list of region ids or {ALL!r}")
    if not value:
        raise ModelInputError(field_name, value, f"a non-empty list of region ids or {ALL!r}")
    return value


def _region(field_name: str, value) -> str:
    if not isinstance(value, str) or not value:
        raise ModelInputError(field_name, value, "a region id (a non-empty string)")
    return value


@dataclass(frozen=True)
class Tariff:
    """An import tariff levied by ``destination`` on goods from ``origin``.

    ``specific`` is in USD/kg; ``ad_valorem`` is a share of the benchmark landed price
    ``P0_origin + t_ij`` and is converted to a specific rate at benchmark prices.
    """

    origin: tuple[str, ...] | str
    destination: tuple[str, ...] | str
    specific: float = 0.0
    ad_valorem: float = 0.0

    def __post_init__(self):
        object.__setattr__(self, "origin", _regions("tariff.origin", self.origin))
        object.__setattr__(self, "destination", _regions("tariff.destination", self.destination))
        object.__setattr__(self, "specific", _nonneg("tariff.specific", self.specific, "USD/kg"))
        object.__setattr__(self, "ad_valorem", _nonneg("tariff.ad_valorem", self.ad_valorem, "a share"))


@dataclass(frozen=True)
class ExportTax:
    """An export tax (or any export wedge) levied by ``origin`` on shipments to ``destinations``.

    The base-year gap between China's domestic price and the ex-China price enters as one.
    """

    origin: str
    rate: float
    destinations: tuple[str, ...] | str = ALL

    def __post_init__(self):
        _region("export_tax.origin", self.origin)
        object.__setattr__(self, "destinations", _regions("export_tax.destinations", self.destinations))
        object.__setattr__(self, "rate", _nonneg("export_tax.rate", self.rate, "USD/kg"))


@dataclass(frozen=True)
class Bloc:
    """A preferential zone: tariffs between ``members`` removed, ``external_tariff`` (USD/kg) on
    imports into members from non-members."""

    members: tuple[str, ...]
    external_tariff: float = 0.0

    def __post_init__(self):
        members = _regions("bloc.members", self.members)
        if members == ALL:
            raise ModelInputError("bloc.members", self.members, "a non-empty list of region ids")
        object.__setattr__(self, "members", members)
        object.__setattr__(self, "external_tariff",
                           _nonneg("bloc.external_tariff", self.external_tariff, "USD/kg"))


@dataclass(frozen=True)
class ProducerSubsidy:
    """A per-unit subsidy ``s`` (USD/kg) to producers in ``region``: ``P^s_r`` shifts down by ``s``."""

    region: str
    rate: float

    def __post_init__(self):
        _region("subsidy.region", self.region)
        object.__setattr__(self, "rate", _nonneg("subsidy.rate", self.rate, "USD/kg"))


@dataclass(frozen=True)
class ExportQuota:
    """``Σ_{j ∈ destinations} x_ij ≤ quantity`` for ``i = origin``; ``quantity = 0`` is a ban."""

    origin: str
    destinations: tuple[str, ...] | str = ALL
    quantity: float = 0.0

    def __post_init__(self):
        _region("quota.origin", self.origin)
        object.__setattr__(self, "destinations", _regions("quota.destinations", self.destinations))
        object.__setattr__(self, "quantity", _nonneg("quota.quantity", self.quantity, "kt"))


def ExportBan(origin: str, destinations=ALL) -> ExportQuota:
    """An export ban from ``origin`` to ``destinations``: a quota of zero."""
    return ExportQuota(origin, destinations, 0.0)


@dataclass(frozen=True)
class PreferentialFloor:
    """The plan's floor: "reference prices … for members of the preferential zone … maintained
    through adjustable tariffs" (MODEL.md §2). It applies to the scenario's :class:`Bloc`.

    Members trade freely with each other (the bloc removes their mutual tariffs); imports into
    members from non-members pay an adjustable tariff ``τ ≥ 0``, the smallest that holds the zone's
    price at ``f``. Exact convex route: cap the zone's imports from non-members,

        Σ_{i∉S, j∈S} x_ij (+ the stockpile's purchases from non-members, if it sits in S) ≤ Q,

    whose dual is ``τ``; ``Q`` is found by a one-dimensional search with parametric re-solves.
    ``τ`` is collected by the importing member. There is no export refund and no top-up: member
    exporters sell to member importers at the zone's price.

    **The zone's price** when members are apart (trade costs between them): ``reference=None``
    (the default) holds the floor in *every* member with a curve, i.e. the lowest member price,
    ``min_{j∈S} P_j``, equals ``f`` (``P_j`` is the border price where ``j`` has demand, the
    supply price where it only produces), so members further from non-members' supply sit above
    ``f``. ``reference="USA"`` (a member id) holds it at that member's border price only, like a
    quoted hub price; other members' prices then differ from ``f`` by the zone's trade costs.

    **When the floor fails.** If the zone's price stays below ``f`` even with no imports from
    non-members (``Q = 0``: a prohibitive tariff), for instance because the zone would be a net
    exporter at ``f``, no tariff can hold the floor. The model then reports that the floor fails
    and solves at ``Q = 0``: the zone's price is the highest a prohibitive tariff reaches (the
    zone's autarky price, or its export parity where members export). It never pays an export
    subsidy to hold the floor.
    """

    level: float
    reference: str | None = None

    def __post_init__(self):
        object.__setattr__(self, "level", _positive("preferential_floor.level", self.level, "USD/kg"))
        if self.reference is not None and (not isinstance(self.reference, str) or not self.reference):
            raise ModelInputError("preferential_floor.reference", self.reference,
                                  "None (every member) or a member's region id")


@dataclass(frozen=True)
class GuaranteedPrice:
    """A guaranteed price ``f`` in ``regions``: a variable levy on *all* imports, partners'
    included, plus a top-up to producers that acts as an export refund (the old EU intervention
    regime). Not the plan's instrument (that is :class:`PreferentialFloor`); kept for comparison.

    Consumers and producers in each region face ``max(p_j, f)``: ``D_j ≤ D_j(f)`` and
    ``S_j ≥ S_j(f)``. The levy ``λ_j`` is the dual of the demand bound, the production top-up
    ``μ_j`` the dual of the supply bound; levy revenue ``λ_j D_j − μ_j S_j``. When the guarantee
    makes a region a net exporter at a border price below ``f``, that revenue is negative: an
    export subsidy, reported as such.
    """

    regions: tuple[str, ...]
    level: float

    def __post_init__(self):
        object.__setattr__(self, "regions", _regions("guaranteed_price.regions", self.regions))
        object.__setattr__(self, "level", _positive("guaranteed_price.level", self.level, "USD/kg"))


@dataclass(frozen=True)
class StockpileFloor:
    """A buyer of last resort at ``level`` in ``location`` with ``budget`` (USD million).

    Adds ``K = Σ_{i ∈ eligible} y_i ≥ 0`` valued at ``f`` in the objective, ``K ≤ B / f``. The floor
    holds while ``K < B / f``. ``eligible_origins`` restricts which regions may sell to it:
    :data:`ALL`, :data:`MEMBERS` (the bloc's members at each solve), or a list of region ids.
    """

    location: str
    level: float
    budget: float
    eligible_origins: tuple[str, ...] | str = ALL

    def __post_init__(self):
        _region("stockpile_floor.location", self.location)
        object.__setattr__(self, "level", _positive("stockpile_floor.level", self.level, "USD/kg"))
        object.__setattr__(self, "budget", _nonneg("stockpile_floor.budget", self.budget, "USD million"))
        origins = self.eligible_origins
        if origins != MEMBERS:
            origins = _regions("stockpile_floor.eligible_origins", origins)
        object.__setattr__(self, "eligible_origins", origins)


@dataclass(frozen=True)
class CfdFloor:
    """A contract for difference: covered producers in ``regions`` receive at least ``level``.

    ``S_i ≥ S_i(f)``; the government pays the top-up ``μ_i = f − w_i`` per unit sold.
    """

    regions: tuple[str, ...]
    level: float

    def __post_init__(self):
        object.__setattr__(self, "regions", _regions("cfd_floor.regions", self.regions))
        object.__setattr__(self, "level", _positive("cfd_floor.level", self.level, "USD/kg"))


Floor = PreferentialFloor | GuaranteedPrice | StockpileFloor | CfdFloor


@dataclass(frozen=True)
class Scenario:
    """A named combination of policies for one mineral's market."""

    name: str = "benchmark"
    tariffs: tuple[Tariff, ...] = ()
    export_taxes: tuple[ExportTax, ...] = ()
    bloc: Bloc | None = None
    subsidies: tuple[ProducerSubsidy, ...] = ()
    quotas: tuple[ExportQuota, ...] = ()
    floors: tuple[Floor, ...] = field(default=())

    def __post_init__(self):
        if not isinstance(self.name, str):
            raise ModelInputError("scenario.name", self.name, "a string")
        for name in ("tariffs", "export_taxes", "subsidies", "quotas", "floors"):
            value = getattr(self, name)
            if not isinstance(value, (list, tuple)):
                value = (value,)            # one policy, or a wrong type refused just below
            object.__setattr__(self, name, tuple(value))
        kinds = {"tariffs": Tariff, "export_taxes": ExportTax, "subsidies": ProducerSubsidy,
                 "quotas": ExportQuota, "floors": (PreferentialFloor, GuaranteedPrice, StockpileFloor, CfdFloor)}
        for name, kind in kinds.items():
            for item in getattr(self, name):
                if not isinstance(item, kind):
                    raise ModelInputError(f"scenario.{name}", item, f"instances of {kind}")
        if self.bloc is not None and not isinstance(self.bloc, Bloc):
            raise ModelInputError("scenario.bloc", self.bloc, "a Bloc or None")

    def with_policies(self, name: str | None = None, **changes) -> "Scenario":
        """A copy with some fields replaced (lists replaced whole; see :meth:`extend` to add)."""
        from dataclasses import fields, replace
        unknown = [k for k in changes if k not in {f.name for f in fields(self)}]
        if unknown:
            raise ModelInputError("Scenario.with_policies", unknown[0],
                                  "one of tariffs, export_taxes, bloc, subsidies, quotas, floors")
        return replace(self, name=name or self.name, **changes)

    def extend(self, name: str | None = None, **additions) -> "Scenario":
        """A copy with ``additions`` appended to the policy lists (``bloc`` replaced)."""
        from dataclasses import replace
        changes = {}
        for key, value in additions.items():
            if key not in ("bloc", "tariffs", "export_taxes", "subsidies", "quotas", "floors"):
                raise ModelInputError("Scenario.extend", key,
                                      "one of bloc, tariffs, export_taxes, subsidies, quotas, floors")
            if key == "bloc":
                changes[key] = value
            else:
                extra = value if isinstance(value, (list, tuple)) else (value,)
                changes[key] = tuple(getattr(self, key)) + tuple(extra)
        return replace(self, name=name or self.name, **changes)
