"""Every verdict under uncertainty: a seeded Monte Carlo over the inputs that have a range in data/.

Split by stage: :mod:`.draws` (which inputs, which distributions, seeded draws), :mod:`.rules`
(the verdict rules and their public registry), :mod:`.families` (the models a group of rules
reads, built once per process; :mod:`.floor_family` is the price-floor chapter's), :mod:`.evaluate` (re-solve one built problem per
draw and apply the rules), :mod:`.scaleout` (batches of draws on a Dask cluster) and
:mod:`.sweep_file` (the ``cmbloc sweep FILE`` file); :mod:`.coverage` lists how a sweep treats every
claim of the register. The rules of other chapters' families are in ``rules_<family>`` modules,
imported at the end.

>>> from models.uncertainty import SweepSpec, run_serial
>>> table = run_serial(SweepSpec(mineral="ndpr", draws=20, seed=1, rules=("C25",)))  # doctest: +SKIP
"""
from .families import FAMILIES, Draw, Family, FamilyInputs, get_family, register_family
from .draws import INPUTS, NOT_DRAWN, InputRanges, Range, draw_inputs, draw_ranges_table
from .evaluate import Evaluator, SweepSpec, family_sweeps, run_serial, tidy
from .coverage import TREATMENTS, coverage
from .rules import (INSTRUMENTS, RULES, FloorSetting, Rule, RuleContext, RuleOutcome, get_rules, register,
                    summarise)

__all__ = ["TREATMENTS", "coverage", "FAMILIES", "Draw", "Family", "FamilyInputs", "get_family", "register_family", "INPUTS", "NOT_DRAWN", "InputRanges", "Range", "draw_inputs", "draw_ranges_table", "Evaluator", "family_sweeps",
           "SweepSpec", "run_serial", "tidy", "INSTRUMENTS", "RULES", "FloorSetting", "Rule", "RuleContext",
           "RuleOutcome", "get_rules", "register", "summarise"]

# the rule families of other chapters (each registers itself on import)
from . import rules_membership  # noqa: E402,F401  the membership chapter's rules
from . import rules_controls  # noqa: E402,F401  the export-control and model chapters' rules
from . import rules_strategic  # noqa: E402,F401  the flooding chapter's rules
from . import rules_time  # noqa: E402,F401  the independence and investment chapters' rules
from . import rules_stockpile  # noqa: E402,F401  the stockpile chapter's rule (C14)
