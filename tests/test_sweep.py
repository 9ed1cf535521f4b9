"""Sweeps: a 200-point grid on the default study equals 200 single solves; local
processes and a real Dask cluster give the same table; Monte Carlo draws are
reproducible; bad sweep input is a located error and writes nothing."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest
from helpers import DEFAULT_STUDY, run_cli

import posture
from posture.errors import InputError
from posture.loader import read_study_files
from posture.run import solve_study
from posture.sweep import (
    chunk_spans,
    grid_points,
    halving_order,
    parse_axis,
    parse_sampler,
    plan_points,
    run_sweep,
    sample_points,
    solving_order,
)

pytest_plugins = ["dask_cluster"]

SCENARIO = "middle_east_war"
TARGET = "requirements.middle_east.air_missile_defence.target"
PRIORITY = "theatres.middle_east.priority"
COMPARED = ["status", "objective", "shortfall", "cost", "turbulence"]


def _plan(axes: list[str]) -> tuple[object, list[object]]:
    files = read_study_files(DEFAULT_STUDY)
    points = grid_points([parse_axis(a, k) for k, a in enumerate(axes, 1)])
    return plan_points(files, SCENARIO, [], points)


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-6)
    return a == b


@pytest.fixture(scope="module")
def grid_200() -> tuple[list[object], object]:
    resolved, points = _plan([f"{TARGET}=20:39:1", f"{PRIORITY}=1:5.5:0.5"])
    assert len(points) == 201  # point 0 is the study without sweep changes
    return points, run_sweep(points, resolved.study.solver)  # type: ignore[attr-defined]


def test_200_point_grid_equals_single_solves(grid_200: tuple[list[object], object]) -> None:
    points, result = grid_200
    table = result.table  # type: ignore[attr-defined]
    assert list(table["point"]) == list(range(201))
    assert result.in_place >= 180, "only numbers change: nearly every point re-solves in place"  # type: ignore[attr-defined]
    for row in table.itertuples(index=False):
        point = points[row.point]
        sets = [f"{k}={v}" for k, v in point.assignments.items()]  # type: ignore[attr-defined]
        single = solve_study(posture.load(DEFAULT_STUDY, scenario=SCENARIO, sets=sets))
        assert row.status == single.status.value
        assert _same(row.objective, single.objective), (row.point, row.objective, single.objective)
        terms = {r.term: r.value for r in single.tables["cost_breakdown"].itertuples()}
        assert _same(row.cost, terms["total_cost"])
        assert _same(row.shortfall, terms["weighted_shortfall"])
        assert _same(row.turbulence, terms["turbulence"])


def test_rebuilding_gives_the_same_table(grid_200: tuple[list[object], object]) -> None:
    points, result = grid_200
    sample = points[:1] + points[1::10]
    rebuilt = run_sweep(sample, posture.load(DEFAULT_STUDY).study.solver, in_place=False)
    assert rebuilt.in_place == 0
    expected = result.table.set_index("point")  # type: ignore[attr-defined]
    for row in rebuilt.table.itertuples(index=False):
        for column in COMPARED:
            assert _same(getattr(row, column), expected.loc[row.point, column])


def test_halving_order_visits_ends_then_middles() -> None:
    assert halving_order(10) == [0, 9, 4, 2, 6, 1, 3, 5, 7, 8]
    assert halving_order(1) == [0] and halving_order(2) == [0, 1] and halving_order(0) == []
    for n in range(40):
        assert sorted(halving_order(n)) == list(range(n))


def test_runs_along_the_last_axis_are_solved_by_halving() -> None:
    """Point 0 alone; then one run of the fastest axis per value of the slower one."""
    _, points = _plan([f"{TARGET}=20,30", f"{PRIORITY}=1,2,3,4"])
    assert solving_order(points) == [0, 1, 4, 2, 3, 5, 8, 6, 7]
    # Monte Carlo draws of two inputs change both at once: runs of one, in point order
    samplers = [
        parse_sampler(f"{TARGET}=uniform(20, 30)", 1),
        parse_sampler(f"{PRIORITY}=uniform(1, 3)", 2),
    ]
    drawn = sample_points(samplers, 5, 1, {})
    _, sampled = plan_points(read_study_files(DEFAULT_STUDY), SCENARIO, [], drawn)
    assert solving_order(sampled) == list(range(6))


def test_chunks_end_where_runs_do() -> None:
    _, points = _plan([f"{TARGET}=20:24:1", f"{PRIORITY}=1:5.5:0.5"])  # 5 runs of 10
    spans = chunk_spans(points, 25)
    assert [(r.start, r.stop) for r in spans] == [(0, 21), (21, 41), (41, 51)]
    # a run longer than a chunk is cut where it must be
    _, line = _plan([f"{PRIORITY}=1:10.5:0.5"])  # point 0, then one run of 20
    assert [(r.start, r.stop) for r in chunk_spans(line, 8)] == [(0, 8), (8, 16), (16, 21)]


def test_a_sweep_of_rising_floors_is_answered_mostly_without_solves() -> None:
    """Raising two Korea floors the plan already meets: most points are proven optimal
    from remembered plans (posture/reuse.py), with fewer HiGHS runs than points, and
    the table equals a rebuilt sweep."""
    korea = "requirements.korea"
    resolved, points = _plan(
        [f"{korea}.air_missile_defence.floor=4:9:1", f"{korea}.strike.floor=6:24:3"]
    )
    options = resolved.study.solver  # type: ignore[attr-defined]
    kept = run_sweep(points, options)
    rebuilt = run_sweep(points, options, in_place=False)
    assert rebuilt.reused == 0
    assert kept.reused >= len(points) // 2, (kept.reused, len(points))
    assert kept.highs_runs < rebuilt.highs_runs
    _compare(kept, rebuilt)


def _small_plan() -> tuple[object, list[object]]:
    return _plan([f"{TARGET}=22:34:4", f"{PRIORITY}=1,2,4"])


def _compare(a: object, b: object) -> None:
    left, right = a.table, b.table  # type: ignore[attr-defined]
    assert list(left["point"]) == list(right["point"])
    for column in COMPARED:
        assert all(_same(x, y) for x, y in zip(left[column], right[column], strict=True)), column


def test_local_processes_equal_one_process() -> None:
    resolved, points = _small_plan()
    options = resolved.study.solver  # type: ignore[attr-defined]
    _compare(run_sweep(points, options, workers=2), run_sweep(points, options))


def test_dask_cluster_equals_local_run(dask_address: str) -> None:
    resolved, points = _small_plan()
    options = resolved.study.solver  # type: ignore[attr-defined]
    on_cluster = run_sweep(points, options, scheduler=dask_address, chunk_size=2)
    _compare(on_cluster, run_sweep(points, options))


def test_monte_carlo_draws_are_reproducible_and_typed() -> None:
    base = posture.load(DEFAULT_STUDY, scenario=SCENARIO).data
    samplers = [
        parse_sampler(f"{TARGET}=uniform(20, 40)", 1),
        parse_sampler("assets.patriot_battery.inventory.korea=randint(2, 8)", 2),
        parse_sampler(f"{PRIORITY}=choice(1.5, 2.5)", 3),
    ]
    first = sample_points(samplers, 50, 7, base)
    assert first == sample_points(samplers, 50, 7, base)
    assert first != sample_points(samplers, 50, 8, base)
    for point in first:
        assert 20 <= float(point[TARGET]) <= 40
        assert point["assets.patriot_battery.inventory.korea"] in {str(k) for k in range(2, 9)}
        assert point[PRIORITY] in {"1.5", "2.5"}


def test_an_invalid_point_names_the_point_and_nothing_is_solved() -> None:
    files = read_study_files(DEFAULT_STUDY)
    with pytest.raises(InputError) as caught:
        plan_points(files, SCENARIO, [], grid_points([parse_axis(f"{TARGET}=30,-1", 1)]))
    text = caught.value.diagnostics[0].format()
    assert "sweep point 2" in text and TARGET in text


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--param", "nonsense"], 3, "--param #1:1:1: expected path=values"),
        (["--param", f"{TARGET}=5:1:1"], 3, "start <= stop"),
        (["--sample", f"{TARGET}=gauss(1,2)"], 3, "unknown distribution"),
        (["--param", f"{TARGET}=30", "--sample", f"{TARGET}=uniform(1,2)"], 2, "not both"),
        (["--param", f"{TARGET}=abc"], 3, "sweep point 1"),
    ],
)
def test_cli_bad_sweep_input(args: list[str], code: int, message: str, tmp_path: Path) -> None:
    out = tmp_path / "run"
    done = run_cli("sweep", str(DEFAULT_STUDY), "-s", SCENARIO, *args, "-o", str(out), cwd=tmp_path)
    assert done.returncode == code, done.stderr
    assert message in done.stderr
    assert not out.exists()


def test_cli_sweep_writes_a_tidy_table(tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = (
        "sweep",
        str(DEFAULT_STUDY),
        "-s",
        SCENARIO,
        "--sample",
        f"{TARGET}=triangular(20, 30, 40)",
        "--samples",
        "12",
        "--seed",
        "3",
    )
    done = run_cli(*args, "-o", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader((out / "sweep.csv").open()))
    assert [int(r["point"]) for r in rows] == list(range(13))
    assert list(rows[0])[:2] == ["point", TARGET]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["kind"] == "sweep" and summary["points"] == 12 and summary["seed"] == 3
    assert summary["in_place"] + summary["rebuilt"] == 13
    assert 0 <= summary["reused"] <= summary["in_place"]
    assert summary["highs_runs"] >= 13 - summary["reused"]  # every other point was solved
    assert (out / "sweep.svg").exists() and (out / "resolved_inputs.yaml").exists()
    # timings live in summary.json only: the same sweep, in 2 processes, same table bytes
    again = run_cli(*args, "--workers", "2", "-o", str(tmp_path / "again"), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    for name in ("sweep.csv", "sweep.md", "sweep.tex", "sweep.svg"):
        assert (out / name).read_bytes() == (tmp_path / "again" / name).read_bytes(), name
