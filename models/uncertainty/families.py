"""Families of verdict rules: the models a group of rules reads, built once and re-solved per draw.

A verdict rule (:class:`~models.uncertainty.rules.Rule`) grades one claim from the solves of one
kind of model: the price-floor chapter's floors on one equilibrium, the membership chapter's
games, the strategic supplier's lever, ... That kind is the rule's **family**. A
:class:`Family` says how to make the models once and how to put one draw into them:

* ``build(inputs, rules) -> state`` (the state's class itself, usually) runs once per process (a Dask worker builds its own: cvxpy
  problems do not pickle). ``inputs`` is a :class:`FamilyInputs` (the sweep's spec, the dataset,
  the calibrated benchmark at central values and the input ranges); ``rules`` are the rules of
  this family the sweep grades (so the family builds only what they need).
* ``state.context(draw) -> ctx`` takes one :class:`Draw` (the drawn inputs and the benchmark
  re-calibrated at them) and returns the object the family's rules read: ``rule.func(ctx)``.
* ``ranges(inputs) -> {name: Range}`` (optional) names uncertain inputs of the family beyond the
  market's own (elasticities, subsidy, price gap): e.g. a learning rate. They are drawn after the
  market's inputs, so adding a family never changes the draws of the others.
* ``known_need(name) -> bool`` (optional) checks the names in a rule's ``needs`` at registration.

Families are registered like rules (:func:`register_family`); the built-in ones are registered
when :mod:`models.uncertainty` is imported.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from ..errors import ModelInputError


@dataclass(frozen=True)
class FamilyInputs:
    """What a family builds its models from.

    Attributes
    ----------
    spec : models.uncertainty.SweepSpec
    dataset : models.data.Dataset
    bench : models.calibration.Benchmark
        The spec's mineral calibrated at central values.
    ranges : models.uncertainty.InputRanges
        The market's input ranges (the family's own are added from ``Family.ranges``).
    """

    spec: Any
    dataset: Any
    bench: Any
    ranges: Any


@dataclass(frozen=True)
class Draw:
    """One draw, as every family sees it.

    Attributes
    ----------
    row : dict
        The drawn inputs (the columns of :func:`~models.uncertainty.draws.draw_inputs`).
    bench : models.calibration.Benchmark
        The benchmark re-calibrated through the same base year at the drawn elasticities and
        export wedge.
    export_discounts : dict or None
        ``{(china, j): USD/kg}``: the part of today's export wedge the draw removes, as
        ``EquilibriumModel.solve(export_discounts=...)`` takes it (``None``: none removed).
    subsidy : float
        China's extra producer subsidy of the draw (USD/kg).
    """

    row: dict
    bench: Any
    export_discounts: dict | None
    subsidy: float


def _any_need(name: str) -> bool:
    return True


def _no_ranges(inputs: FamilyInputs) -> dict:
    return {}


@dataclass(frozen=True)
class Family:
    """A family of rules: ``build(inputs, rules) -> state`` with ``state.context(draw) -> ctx``."""

    name: str
    build: Callable[[FamilyInputs, list], Any]
    ranges: Callable[[FamilyInputs], dict] = _no_ranges
    known_need: Callable[[str], bool] = _any_need
    description: str = ""


FAMILIES: dict[str, Family] = {}


def register_family(family: Family) -> Family:
    """Add ``family`` to :data:`FAMILIES` (again only with the same build function)."""
    if not isinstance(family, Family):
        raise ModelInputError("family", type(family).__name__, "a models.uncertainty.Family")
    old = FAMILIES.get(family.name)
    if old is not None and old is not family and _where(old) != _where(family):
        raise ModelInputError("family.name", family.name, f"a name not yet registered ({sorted(FAMILIES)})")
    FAMILIES[family.name] = family
    return family


def _where(family: Family) -> tuple:
    return (getattr(family.build, "__module__", None), getattr(family.build, "__qualname__", None))


def get_family(name: str) -> Family:
    """The registered family ``name``."""
    if name not in FAMILIES:
        raise ModelInputError("rule family", name, f"a registered family among {sorted(FAMILIES)}")
    return FAMILIES[name]
