"""OR-Library set covering through the normal YAML path reaches the published optima."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import write_study
from orlib import ORLIB, scp_study

import posture
from posture.solver import SolveStatus

OPTIMA = {"scp41": 429, "scp42": 512, "scp43": 516, "scp44": 494, "scp45": 512}


@pytest.mark.parametrize("name", sorted(OPTIMA))
def test_scp_reaches_published_optimum(name: str, tmp_path: Path) -> None:
    path = write_study(tmp_path / f"{name}.yaml", scp_study(ORLIB / f"{name}.txt"))
    result = posture.solve(posture.load(path))
    assert result.status is SolveStatus.OPTIMAL
    assert result.objective == pytest.approx(OPTIMA[name], abs=1e-6)
    chosen = result.tables["assignments"].query("location == 'area' and units > 0")
    assert result.tables["cost_breakdown"].set_index("term").loc[
        "total_cost", "value"
    ] == pytest.approx(OPTIMA[name])
    assert (result.tables["coverage"]["provided"] >= 1).all()
    assert len(chosen) > 0
