"""Pareto frontiers (AUGMECON2) against exhaustive enumeration on random tiny studies.

For each seeded study every posture is enumerated (tests/bruteforce.py, written from
models/formulation.md, not from the model code) and its criteria computed; the
non-dominated set of criterion values is the true frontier. ``exact`` mode must find
every point of it and nothing else; the grid must find only non-dominated points,
including both ends of the frontier.
"""

from __future__ import annotations

import csv
import json
import math
import random
from pathlib import Path

import pytest
from bruteforce import compile_study, objective_terms, postures, random_study, write_yaml
from helpers import DEFAULT_STUDY, run_cli

import posture
from posture.errors import InputError
from posture.frontier import compute_frontier
from posture.loader import ResolvedStudy
from posture.solver import SolveStatus

PAIRS = [("shortfall", "cost"), ("shortfall", "turbulence"), ("cost", "turbulence")]
TOL = 1e-6
SIZES: list[int] = []  # frontier sizes met by the exact test, checked after it


def _true_frontier(study: dict[str, object], names: tuple[str, ...]) -> set[tuple[float, ...]]:
    m = compile_study(study)
    values = set()
    for place, reserve, activated in postures(study):
        terms = objective_terms(m, place, reserve, activated)
        if terms is not None:
            by_name = {"shortfall": terms.risk, "cost": terms.cost, "turbulence": terms.turbulence}
            values.add(tuple(round(by_name[n], 6) for n in names))
    return {
        v
        for v in values
        if not any(w != v and all(b <= a + TOL for a, b in zip(v, w, strict=True)) for w in values)
    }


def _found(result: object, names: tuple[str, ...]) -> set[tuple[float, ...]]:
    return {tuple(round(p.values[n], 6) for n in names) for p in result.points}  # type: ignore[attr-defined]


def _close_sets(a: set[tuple[float, ...]], b: set[tuple[float, ...]]) -> bool:
    def has(s: set[tuple[float, ...]], v: tuple[float, ...]) -> bool:
        return any(
            all(math.isclose(x, y, abs_tol=1e-5) for x, y in zip(v, w, strict=True)) for w in s
        )

    return len(a) == len(b) and all(has(b, v) for v in a)


def _study(seed: int, tmp_path: Path) -> tuple[dict[str, object], ResolvedStudy]:
    study = random_study(random.Random(9100 + seed))
    return study, posture.load(write_yaml(study, tmp_path / "study.yaml"))


@pytest.mark.parametrize("seed", range(150))
def test_exact_frontier_is_the_enumerated_one(seed: int, tmp_path: Path) -> None:
    study, resolved = _study(seed, tmp_path)
    names = PAIRS[seed % len(PAIRS)]
    truth = _true_frontier(study, names)
    result = compute_frontier(resolved, resolved.study.solver, names, exact=True)
    if not truth:
        assert result.status is SolveStatus.INFEASIBLE and not result.points
        return
    assert _close_sets(_found(result, names), truth), (sorted(_found(result, names)), sorted(truth))
    SIZES.append(len(truth))


def test_exact_seeds_include_real_trade_offs() -> None:
    """Runs after the seeds above (file order): at least 8 frontiers had 3+ points."""
    if not SIZES:
        pytest.skip("run together with the seeded test")
    assert sum(size >= 3 for size in SIZES) >= 8, str(SIZES)


@pytest.mark.parametrize("seed", range(20))
def test_grid_points_are_efficient_and_span_the_frontier(seed: int, tmp_path: Path) -> None:
    study, resolved = _study(seed, tmp_path)
    names = ("shortfall", "cost", "turbulence") if seed % 2 else PAIRS[seed % 3]
    truth = _true_frontier(study, names)
    if not truth:
        return
    result = compute_frontier(resolved, resolved.study.solver, names, points=6)
    found = _found(result, names)
    assert found
    for v in found:  # every point found is on the true frontier
        assert any(
            all(math.isclose(x, y, abs_tol=1e-5) for x, y in zip(v, w, strict=True)) for w in truth
        ), v
    for k in range(len(names)):  # the best value of each objective is reached
        assert math.isclose(min(v[k] for v in found), min(v[k] for v in truth), abs_tol=1e-5)


def test_hand_worked_two_point_frontier(tmp_path: Path) -> None:
    """One Patriot battery at home in Korea; the Middle East wants one too.

    Moving it costs 10 and drops Korea's shortfall... no: Korea's target is 1 and the
    Middle East's is 1 (weights 1, priority 1). Keep it home: Korea shortfall 0, ME 1.
    Move it: Korea 1, ME 0 (cost 10). The two postures are the frontier between
    shortfall.korea and shortfall.middle_east; a reserve posture (1, 1) is dominated.
    """
    study = {
        "study": {"name": "hand"},
        "theatres": {
            "korea": {"name": "Korea", "priority": 1.0, "source": "test"},
            "middle_east": {"name": "Middle East", "priority": 1.0, "source": "test"},
        },
        "origins": {"kr": {"name": "Korea bases", "theatre": "korea"}},
        "capabilities": {"amd": {"name": "AMD", "unit": "battery"}},
        "assets": {
            "patriot": {
                "name": "Patriot",
                "category": "air_defence_battery",
                "unit": "battery",
                "inventory": {"kr": 1},
                "contributes": {"amd": 1.0},
                "personnel_per_unit": 0.0,
                "move_cost_musd": 10.0,
                "source": "test",
            }
        },
        "requirements": {
            "korea": {"amd": {"target": 1.0, "source": "test"}},
            "middle_east": {"amd": {"target": 1.0, "source": "test"}},
        },
        "objective": {"shortfall": 1.0, "cost": 0.0, "turbulence": 0.0},
    }
    resolved = posture.load(write_yaml(study, tmp_path / "s.yaml"))
    names = ("shortfall.korea", "shortfall.middle_east")
    result = compute_frontier(resolved, resolved.study.solver, names, exact=True)
    assert _found(result, names) == {(0.0, 1.0), (1.0, 0.0)}
    grid = compute_frontier(resolved, resolved.study.solver, names, points=3)
    assert _found(grid, names) == {(0.0, 1.0), (1.0, 0.0)}


def test_unknown_objective_is_a_located_error(tmp_path: Path) -> None:
    resolved = posture.load(DEFAULT_STUDY)
    with pytest.raises(InputError) as caught:
        compute_frontier(resolved, resolved.study.solver, ["shortfal", "cost"])
    text = caught.value.diagnostics[0].format()
    assert text.startswith("--objectives:1:1:") and "did you mean 'shortfall'" in text


def test_cli_frontier_writes_a_run_folder(tmp_path: Path) -> None:
    out = tmp_path / "front"
    args = ["frontier", str(DEFAULT_STUDY), "-s", "middle_east_war", "--objectives"]
    done = run_cli(*args, "shortfall,cost", "--points", "5", "--out", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "FRONTIER shortfall vs cost" in done.stdout
    rows = list(csv.DictReader((out / "frontier.csv").open()))
    assert 2 <= len(rows) <= 5
    costs = [float(r["cost"]) for r in rows]
    risks = [float(r["shortfall"]) for r in rows]
    assert costs == sorted(costs) and risks == sorted(risks, reverse=True)  # a trade-off
    assert (out / "frontier.svg").read_text().startswith("<?xml")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["kind"] == "frontier" and summary["points"] == len(rows)
    again = run_cli(
        *args, "shortfall,cost", "--points", "5", "--out", str(tmp_path / "b"), cwd=tmp_path
    )
    assert again.returncode == 0, again.stderr
    for name in (
        "frontier.csv",
        "frontier.md",
        "frontier.tex",
        "frontier_postures.csv",
        "frontier.svg",
    ):
        assert (out / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    bad = run_cli(*args, "shortfall,shortfall", "--out", str(tmp_path / "x"), cwd=tmp_path)
    assert bad.returncode == 3 and "named twice" in bad.stderr
    assert not (tmp_path / "x").exists()
