"""The value chain as the core of the single-good model (issue 12): Clarabel's speed settings on a
sweep, the guaranteed price and the origin-restricted stockpile against
:class:`~models.equilibrium.EquilibriumModel`, the roster as a Parameter, and the licence rent of
a ban that does not bind."""
from __future__ import annotations

import numpy as np
import pytest

from models.chain import ChainModel, StageFloor
from models.chain.build import SPEED_SETTINGS
from models.errors import SolverError

MEMBERS = ("USA", "EU", "JPN")


# ---------------------------------------------------------------- speed settings
def test_a_sweep_without_equilibration_and_refinement_gives_the_same_certified_answers(rare_earths):
    levels = [55.0, 62.0]
    lean = {k: False for k in SPEED_SETTINGS}
    fast = ChainModel(rare_earths.chain, [StageFloor("magnet", MEMBERS, 55.0)], solver_options=lean)
    slow = ChainModel(rare_earths.chain, [StageFloor("magnet", MEMBERS, 55.0)])
    for a, b in zip(fast.sweep("floor_magnet", levels).results, slow.sweep("floor_magnet", levels).results):
        assert max(a.certificate.values()) < 1e-5
        assert np.allclose(a.stages["production"], b.stages["production"], atol=1e-5)
        assert a.wedges["floor_magnet"]["tariff"] == pytest.approx(b.wedges["floor_magnet"]["tariff"], abs=1e-5)


def test_a_retry_turns_the_speed_settings_back_on(rare_earths, monkeypatch):
    model = ChainModel(rare_earths.chain, solver_options={k: False for k in SPEED_SETTINGS})
    seen = []
    attempt = ChainModel._attempt

    def failing_first(self, options):
        seen.append(dict(options))
        if len(seen) == 1:
            raise SolverError("solver_error", "a stand-in failure", "CLARABEL")
        return attempt(self, options)

    monkeypatch.setattr(ChainModel, "_attempt", failing_first)
    model.solve()
    assert all(seen[0][k] is False for k in SPEED_SETTINGS)
    assert len(seen) == 2 and not set(SPEED_SETTINGS) & set(seen[1])
    assert seen[1]["tol_gap_abs"] == 1e-12
