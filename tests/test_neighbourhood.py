"""The LP-guided neighbourhood search that starts large MIPs (posture/neighbourhood.py and
``_neighbourhood_start`` in posture/solver.py).

The search may only change how fast a good plan is found, never the answer: with it
forced on, random tiny studies still reach the brute-force optimum, and every plan it
hands to HiGHS is checked here against the compiled rows, bounds and integrality.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import numpy as np
import pytest
from bruteforce import brute_force, random_study, solve_dict
from helpers import run_cli

from posture.data import build_model_data
from posture.loader import load_study
from posture.model import build_model
from posture.neighbourhood import Neighbourhood
from posture.solver import (
    NeighbourhoodStart,
    SolveResult,
    SolveStatus,
    _keep_lp_bound,
    compile_model,
    solve_compiled,
)

ROOT = Path(__file__).resolve().parents[1]


def _matrix(dense: list[list[float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a = np.array(dense, dtype=float)
    start, index, value = [0], [], []
    for j in range(a.shape[1]):
        rows = np.flatnonzero(a[:, j])
        index += rows.tolist()
        value += a[rows, j].tolist()
        start.append(len(index))
    return np.array(start), np.array(index), np.array(value)


def test_widen_frees_the_cheapest_columns_of_rows_with_a_paid_shortfall() -> None:
    # Columns 0-4 integer, 5 and 6 continuous shortfalls priced in rows 0 and 1.
    # Row 0: x0 + x1 + x2 + x3 + u5 >= ...; row 1: x3 + x4 + u6 >= ...
    dense = [[1, 1, 1, 1, 0, 1, 0], [0, 0, 0, 1, 1, 0, 1]]
    integer = np.array([1, 1, 1, 1, 1, 0, 0], bool)
    cost = np.array([1, 1, 1, 1, 1, 100, 100], float)
    lp_values = np.array([2.0, 0, 0, 0, 0, 0, 0])  # only x0 used by the LP
    reduced = np.array([0.0, 5.0, 1.0, 3.0, 2.0, 0, 0])
    hood = Neighbourhood(_matrix(dense), (2, 7), cost, integer, lp_values, reduced, per_row=2)
    upper = np.full(7, 9.0)
    assert hood.upper_bounds(upper).tolist() == [9, 0, 0, 0, 0, 9, 9]
    # a plan paying the row-0 shortfall only: row 0's two cheapest fixed columns (x2, x3)
    assert hood.widen(np.array([2.0, 0, 0, 0, 0, 1.5, 0])) == 2
    assert hood.upper_bounds(upper).tolist() == [9, 0, 9, 9, 0, 9, 9]
    # now row 1's shortfall too: x4 is the only fixed column left there
    assert hood.widen(np.array([2.0, 0, 0, 0, 0, 0, 1.0])) == 1
    assert hood.widen(np.array([2.0, 0, 0, 0, 0, 0, 1.0])) == 0


def test_the_lp_bound_replaces_a_missing_or_weaker_bound() -> None:
    result = SolveResult(SolveStatus.FEASIBLE, "limit", objective=110.0, bound=None)
    _keep_lp_bound(result, 100.0)
    assert result.bound == 100.0 and result.gap == pytest.approx(10 / 110)
    stronger = SolveResult(SolveStatus.FEASIBLE, "limit", objective=110.0, bound=105.0)
    _keep_lp_bound(stronger, 100.0)
    assert stronger.bound == 105.0
    nothing = SolveResult(SolveStatus.NO_SOLUTION, "limit", bound=None)
    _keep_lp_bound(nothing, 100.0)
    assert nothing.bound is None


def _is_plan(compiled: object, x: np.ndarray, tol: float = 1e-6) -> bool:
    """Rows, column bounds and integrality of the compiled model all hold at ``x``."""
    lp = compiled.lp  # type: ignore[attr-defined]
    start, index = np.asarray(lp.a_matrix_.start_), np.asarray(lp.a_matrix_.index_)
    value = np.asarray(lp.a_matrix_.value_)
    activity = np.zeros(lp.num_row_)
    np.add.at(activity, index, value * np.repeat(x, np.diff(start)))
    integer = np.array([str(t).endswith("kInteger") for t in lp.integrality_])
    return bool(
        np.all(activity >= np.asarray(lp.row_lower_) - tol)
        and np.all(activity <= np.asarray(lp.row_upper_) + tol)
        and np.all(x >= np.asarray(lp.col_lower_) - tol)
        and np.all(x <= np.asarray(lp.col_upper_) + tol)
        and np.all(np.abs(x[integer] - np.round(x[integer])) <= tol)
    )


@pytest.mark.parametrize("seed", range(60))
def test_forced_search_keeps_the_brute_force_optimum(seed: int, tmp_path: Path) -> None:
    study = random_study(random.Random(1000 + seed))
    study["solver"] = {**study["solver"], "neighbourhood_search": "on"}
    expected = brute_force(study)
    answer = solve_dict(study, tmp_path)  # the whole pipeline, search forced on
    if expected is None:
        assert answer.status is SolveStatus.INFEASIBLE
        return
    assert answer.status is SolveStatus.OPTIMAL, answer.highs_status
    assert answer.objective is not None
    assert math.isclose(answer.objective, expected, rel_tol=1e-6, abs_tol=1e-6)
    # the search itself, on the compiled model
    resolved = load_study(tmp_path / "study.yaml")
    compiled = compile_model(build_model(build_model_data(resolved.study)))
    result = solve_compiled(compiled, resolved.study.solver)
    assert result.objective is not None
    assert math.isclose(result.objective, expected, rel_tol=1e-6, abs_tol=1e-6)
    start = result.neighbourhood
    if not compiled.is_mip:
        assert start is None
        return
    assert isinstance(start, NeighbourhoodStart)
    assert start.lp_bound is not None and start.lp_bound <= expected + 1e-6
    if start.plan is not None:
        assert start.rounds >= 1
        assert _is_plan(compiled, start.plan)
        assert start.objective is not None and start.objective >= expected - 1e-6


def test_auto_leaves_small_models_to_highs() -> None:
    resolved = load_study(ROOT / "inputs/study.yaml")
    compiled = compile_model(build_model(build_model_data(resolved.study)))
    result = solve_compiled(compiled, resolved.study.solver)
    assert resolved.study.solver.neighbourhood_search == "auto"
    assert result.status is SolveStatus.OPTIMAL
    assert result.neighbourhood is None and "neighbourhood" not in result.seconds


def test_cli_solve_with_the_search_forced_on(tmp_path: Path) -> None:
    """The whole command, as a user runs it: same optimum, the search's time recorded,
    and the plan passes the independent re-verification every solve runs."""
    plain = run_cli("solve", str(ROOT / "inputs/study.yaml"), "--out", "a", "-q", cwd=tmp_path)
    forced = run_cli(
        "solve",
        str(ROOT / "inputs/study.yaml"),
        "--set",
        "solver.neighbourhood_search=on",
        "--out",
        "b",
        "-q",
        cwd=tmp_path,
    )
    assert plain.returncode == 0 and forced.returncode == 0, forced.stderr
    a = json.loads((tmp_path / "a" / "summary.json").read_text())
    b = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert b["status"] == "optimal" and b["objective"] == pytest.approx(a["objective"])
    assert "neighbourhood" in b["seconds"] and "neighbourhood" not in a["seconds"]
    assert b["options"]["neighbourhood_search"] == "on"
