"""The default study: every scenario valid and solved to proven optimality; the
exported MPS gives the same objective in another solver (CBC, shipped with PuLP)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from helpers import DEFAULT_STUDY

import posture
from posture.data import build_model_data
from posture.loader import read_study_files, validate_all
from posture.model import build_model
from posture.solver import SolveStatus, compile_model, write_mps

SCENARIOS = [None, *read_study_files(DEFAULT_STUDY).scenarios]


def test_default_study_and_all_scenarios_validate() -> None:
    names, _warnings = validate_all(DEFAULT_STUDY)
    assert len(names) >= 9


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s or "base")
def test_scenario_solves_to_proven_optimality(scenario: str | None) -> None:
    result = posture.solve(posture.load(DEFAULT_STUDY, scenario))
    assert result.status is SolveStatus.OPTIMAL, result.headline
    assert result.gap is not None and result.gap <= result.options.mip_rel_gap + 1e-12
    total = result.tables["cost_breakdown"].set_index("term")["weighted"]
    assert total.drop("total").sum() == pytest.approx(total["total"], rel=1e-9, abs=1e-6)


def _cbc_objective(mps: Path) -> float:
    from pulp.apis.coin_api import pulp_cbc_path  # PuLP < 4 ships the CBC binary

    cbc = pulp_cbc_path
    out = subprocess.run(
        [cbc, str(mps), "solve"], capture_output=True, text=True, check=True
    ).stdout
    assert "Optimal solution found" in out, out[-2000:]
    return float(re.search(r"Objective value:\s+(\S+)", out).group(1))  # type: ignore[union-attr]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s or "base")
def test_exported_mps_solved_by_cbc_matches(scenario: str | None, tmp_path: Path) -> None:
    resolved = posture.load(DEFAULT_STUDY, scenario)
    result = posture.solve(resolved)
    mps = tmp_path / "model.mps"
    write_mps(compile_model(build_model(build_model_data(resolved.study))), mps)
    assert _cbc_objective(mps) == pytest.approx(result.objective, rel=1e-6, abs=1e-6)
