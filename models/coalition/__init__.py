"""Bloc membership: who gains by joining, which rosters are stable, how complementary the members
are, and how a shared bill would split (MODEL.md §4, "Bloc membership").

A *roster* ``S`` is a set of member regions. It defines a :class:`~models.policies.Bloc` (no
tariffs between members, a common external tariff ``τ^ext`` on imports from non-members) and the
coverage of the bloc's price floor ``f``:

================  ===========================================================================
instrument        coverage of the floor
================  ===========================================================================
``preferential``  the plan's floor (the default): members trade freely, imports from
                  non-members pay the smallest tariff ``τ`` that holds the zone's price at ``f``
``guaranteed``    for comparison: ``D_j ≤ D_j(f)``, ``S_j ≥ S_j(f)`` for members ``j`` (a variable
                  levy on all imports, partners' included, and an export refund)
``cfd``           ``S_i ≥ S_i(f)`` for members' producers ``i`` (contract for difference)
``stockpile``     a buyer of last resort at ``f`` located in ``location`` (the United States),
                  budget ``B``, buying from members only (``eligible="members"``) or from anyone
================  ===========================================================================

Welfare of region ``i`` under roster ``S`` is its total welfare (consumer and producer surplus,
government including the stockpile's outlay, rents; :mod:`models.result`; the inventory is not
valued, MODEL.md §3), summed over the minerals of a game,
as a change against the replicated benchmark::

    ΔW_i(S) = Σ_m [ W_i^m(S) − W_i^m(benchmark) ]                         (USD million / yr)

Stability of ``S`` (d'Aspremont et al. 1983; Carraro & Siniscalco 1993)::

    internal:  ΔW_i(S) ≥ ΔW_i(S ∖ {i})   for every member i not in ``fixed``
    external:  ΔW_j(S) ≥ ΔW_j(S ∪ {j})   for every outsider j

**Build once, re-solve by parameters.** :class:`RosterModel` builds one
:class:`~models.equilibrium.EquilibriumModel` per (mineral, instrument) whose bloc holds every
region and whose floor names every region with a curve. A roster enters only through the
model's public parameters (``EquilibriumModel.solve(members=..., banned_routes=...,
export_discounts=...)``): the bloc's tariffs, the floor's coverage (members only), the
preferential zone, the stockpile's eligible origins (``MEMBERS``), and an optional export ban of
the ``supplier`` (China) on a set of destinations, its response to the bloc.

**Inert regions.** A region with neither a demand nor a supply curve in a mineral (e.g. Brazil in
NdPr oxide) has no flows, so its membership cannot change that mineral's equilibrium. Results are
cached by ``S ∩ active``; the enumeration is exact, not approximate (tested).

Cost sharing uses the Shapley value (Shapley 1953) of the game ``v(S)`` = the members' joint
welfare gain from forming bloc ``S``, the stockpile (if any) owned by the bloc::

    φ_i = Σ_{S ⊆ N∖{i}} |S|! (n − |S| − 1)! / n! · [v(S ∪ {i}) − v(S)]

exact by enumeration of the ``2^n`` coalitions up to :data:`EXACT_LIMIT` players, above that by
Monte Carlo over random orderings (seeded) with a standard error.
"""
from .games import Enumeration, RosterGame, enumerate_rosters
from .rosters import (CORE, EXACT_LIMIT, INSTRUMENTS, NO_FLOOR, WELFARE_TOL, RosterModel, check_roster,
                      rosters_containing)
from .sharing import (BILL_SPLIT_HEADERS, ShapleyResult, bill_split, bill_split_shown, complementarity, defection_price,
                      import_price, shapley_value)

__all__ = ["BILL_SPLIT_HEADERS", "CORE", "EXACT_LIMIT", "INSTRUMENTS", "NO_FLOOR", "WELFARE_TOL", "Enumeration",
           "RosterGame", "RosterModel", "ShapleyResult", "bill_split", "bill_split_shown", "check_roster",
           "complementarity", "defection_price", "enumerate_rosters", "import_price", "rosters_containing",
           "shapley_value"]
