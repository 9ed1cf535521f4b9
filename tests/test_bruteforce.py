"""The MIP against exhaustive enumeration of the written model on random tiny studies.

Each seed draws a study with :func:`bruteforce.random_study`, writes it as YAML and
solves it through ``posture.load`` / ``posture.solve`` (real HiGHS). The optimum must
equal the brute-force optimum of ``models/formulation.md`` as read by
:mod:`bruteforce` (both infeasible counts as agreement), and the posture the solver
reports in its tables must itself be feasible with exactly the reported objective.
"""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import pytest
from bruteforce import (
    Posture,
    brute_force,
    compile_study,
    count_combinations,
    evaluate,
    moves_something,
    posture_from_tables,
    random_study,
    solve_dict,
)

from posture.solver import SolveStatus

SEEDS = range(220)
REL = 1e-6
ABS = 1e-6


# Seeds whose study makes posture crash while building the model: a constraint row
# with no variables left (Pyomo's "trivial Boolean" error) instead of a status. These
# are library bugs, reported with minimal studies below; strict, so a fix shows up.
def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=REL, abs_tol=ABS)


@pytest.mark.parametrize("seed", SEEDS)
def test_mip_matches_brute_force(seed: int, tmp_path: Path) -> None:
    """The MIP optimum equals exhaustive enumeration; its reported posture checks out."""
    study = random_study(random.Random(seed))
    expected = brute_force(study)
    result = solve_dict(study, tmp_path)
    if expected is None:
        assert result.status is SolveStatus.INFEASIBLE, (
            f"seed {seed}: brute force finds no feasible posture, MIP says {result.status} "
            f"({result.highs_status}) objective {result.objective}"
        )
        assert result.diagnosis, f"seed {seed}: INFEASIBLE without a diagnosis"
        return
    assert result.status is SolveStatus.OPTIMAL, (
        f"seed {seed}: brute force optimum {expected}, MIP says {result.status} "
        f"({result.highs_status})"
    )
    assert result.objective is not None
    assert _close(result.objective, expected), (
        f"seed {seed}: MIP objective {result.objective} != brute force {expected}"
    )
    # The solver's own posture, read back from its tables and judged by the written
    # model alone: feasible, and worth exactly the reported objective.
    place, reserve, activated = posture_from_tables(result)
    value = evaluate(study, place, reserve, activated)
    assert value is not None, (
        f"seed {seed}: reported posture breaks a rule: place={place} reserve={reserve} "
        f"activated={activated}"
    )
    assert _close(value, result.objective), (
        f"seed {seed}: reported posture is worth {value}, reported objective {result.objective}"
    )


def test_random_studies_are_varied() -> None:
    """The seeds exercise the model: most studies are feasible, many must change
    today's posture, some are infeasible, and every enumeration stays small."""
    studies = [random_study(random.Random(seed)) for seed in SEEDS]
    feasible = sum(brute_force(s) is not None for s in studies)
    moving = sum(moves_something(s) for s in studies)
    n = len(studies)
    assert feasible >= 0.6 * n, f"only {feasible}/{n} feasible"
    assert n - feasible >= 0.15 * n, f"only {n - feasible}/{n} infeasible"
    assert moving >= 0.3 * n, f"only {moving}/{n} must move a unit or activate a source"
    assert max(count_combinations(s) for s in studies) <= 20_000
    # Every optional section appears somewhere.
    for key in ("replacement_sources", "replacement_rules", "personnel", "basing", "budget"):
        assert sum(key in s for s in studies) >= 0.1 * n, key
    assert sum("deadline_days" in s for s in studies) >= 0.1 * n
    assert sum(bool(compile_study(s).backfills) for s in studies) >= 0.1 * n


def test_random_study_is_deterministic() -> None:
    """The same seed draws the same study (the test ids mean something)."""
    assert random_study(random.Random(7)) == random_study(random.Random(7))
    assert random_study(random.Random(7)) != random_study(random.Random(8))


# --------------------------------------------------------------------------------------
# The evaluator itself, on hand-checked postures of the tiny fixture
# --------------------------------------------------------------------------------------


def test_evaluator_on_tiny_fixture(study_dict: dict[str, Any]) -> None:
    """Hand-computed objectives of the tiny fixture, so the reference is checked too."""
    study = {k: v for k, v in study_dict.items() if k != "scenarios"}
    # Today's posture: korea keeps 4 (meets target 4), middle_east has 0 of target 3:
    # risk = priority 1 x weight 1 x 3 = 3, cost 0, turbulence 0 -> 100 x 3 = 300.
    today: Posture = ({("patriot", "korea", "korea"): 4}, {("patriot", "conus"): 1}, {})
    assert evaluate(study, *today) == pytest.approx(300.0)
    # Move conus unit to middle_east: risk 2, cost 5, turbulence 1 -> 200 + 5 + 0.1.
    one: Posture = (
        {("patriot", "korea", "korea"): 4, ("patriot", "conus", "middle_east"): 1},
        {},
        {},
    )
    assert evaluate(study, *one) == pytest.approx(205.1)
    # Move two korea units without backfill: breaks replacement_backfill.
    two: Posture = (
        {("patriot", "korea", "korea"): 2, ("patriot", "korea", "middle_east"): 2},
        {("patriot", "conus"): 1},
        {},
    )
    assert evaluate(study, *two) is None
    # ... with two Cheongung activations it is fine: risk 1, cost 10 + 20, turbulence 2.
    backfilled = (two[0], two[1], {("cheongung", "korea"): 2})
    assert evaluate(study, *backfilled) == pytest.approx(100.0 + 30.0 + 0.2)
    # Below korea's floor of 2, an unbalanced inventory, an unknown destination:
    assert evaluate(study, {("patriot", "korea", "middle_east"): 4}, {}, {}) is None
    assert (
        evaluate(study, {("patriot", "korea", "korea"): 3}, {("patriot", "conus"): 1}, {}) is None
    )
    assert evaluate(study, {**today[0], ("patriot", "conus", "mars"): 1}, {}, {}) is None
    assert brute_force(study) == pytest.approx(35.3)  # the fixture's known optimum


# --------------------------------------------------------------------------------------
# Minimal studies for disagreements found earlier (rows or models with no variables)
# --------------------------------------------------------------------------------------

NOTE = "Minimal repro (estimate)."


def _minimal(**extra: Any) -> dict[str, Any]:
    """One theatre t0, one origin o0 at home in t0, one asset a0 (1 unit, 1 c0 each)
    that may go nowhere (destinations: [])."""
    study: dict[str, Any] = {
        "study": {"name": "minimal"},
        "theatres": {"t0": {"name": "T0", "priority": 1.0, "source": NOTE}},
        "origins": {"o0": {"name": "O0", "theatre": "t0"}},
        "capabilities": {"c0": {"name": "C0", "unit": "unit-equivalent"}},
        "assets": {
            "a0": {
                "name": "A0",
                "category": "air_defence_battery",
                "unit": "battery",
                "inventory": {"o0": 1},
                "contributes": {"c0": 1.0},
                "destinations": [],
                "personnel_per_unit": 0.0,
                "source": NOTE,
            }
        },
        "objective": {"shortfall": 1.0, "cost": 1.0, "turbulence": 1.0},
    }
    study.update(extra)
    return study


def test_backfill_without_variables_is_infeasible(tmp_path: Path) -> None:
    """The unit must leave t0 (no allowed placement), removing 1 c0 of baseline that
    nothing can backfill: the written model is infeasible."""
    rule = {
        "theatre": "t0",
        "capabilities": ["c0"],
        "ratio": 1.0,
        "max_lead_time_days": 60.0,
        "source": NOTE,
    }
    study = _minimal(replacement_rules={"r0": rule})
    assert brute_force(study) is None
    assert solve_dict(study, tmp_path).status is SolveStatus.INFEASIBLE


@pytest.mark.parametrize("limit", [{"cap": 5}, {"floor": 0}])
def test_personnel_limit_without_variables(limit: dict[str, int], tmp_path: Path) -> None:
    """A personnel cap (or zero floor) in a theatre nothing can be placed in holds
    trivially; the optimum keeps the unit in reserve (turbulence 1)."""
    study = _minimal(personnel={"t0": {**limit, "source": NOTE}})
    assert brute_force(study) == pytest.approx(1.0)
    result = solve_dict(study, tmp_path)
    assert result.status is SolveStatus.OPTIMAL
    assert result.objective == pytest.approx(1.0)


def test_study_with_nothing_to_decide_is_optimal(tmp_path: Path) -> None:
    """Zero inventory and no requirements: the only posture is empty, objective 0."""
    study = _minimal()
    study["assets"]["a0"]["inventory"] = {"o0": 0}
    assert brute_force(study) == 0.0
    result = solve_dict(study, tmp_path)
    assert result.status is SolveStatus.OPTIMAL
    assert result.objective == pytest.approx(0.0)
