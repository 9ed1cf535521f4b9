"""posture.check: untouched run folders pass; each tampering is caught under its rule.

Runs are real solves through the real CLI (solved once per session, in parallel); every
tampering edits a copy of a run folder's CSV, JSON or YAML files as a user could.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest
from helpers import DEFAULT_STUDY, FIXTURES, run_cli, write_study
from orlib import ORLIB, scp_study

from posture.check import TOLERANCES, CheckReport, check_run, check_solution
from posture.errors import InputError
from posture.loader import read_study_files
from posture.schema import Study
from posture.yamlsafe import parse_yaml_file

DEFAULT_RUNS = ["base", *read_study_files(DEFAULT_STUDY).scenarios]
WAR = "middle_east_war"  # deadline 60 days, budget, locked units, a binding personnel floor
FAMILIES = {
    "integrality",
    "bounds",
    "allowed_destinations",
    "inventory",
    "locked_units",
    "coverage_floor",
    "replacement_backfill",
    "source_availability",
    "personnel_floor",
    "personnel_cap",
    "basing_capacity",
    "budget",
    "objective",
    "table",
}


@pytest.fixture(scope="session")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Run folders by name: 'tiny', 'infeasible', 'feasible' (a node-limited incumbent)
    and every default scenario ('base' too)."""
    root = tmp_path_factory.mktemp("runs")
    shutil.copytree(DEFAULT_STUDY.parent, root / "inputs")
    shutil.copy(FIXTURES / "tiny.yaml", root / "tiny.yaml")
    unicost = scp_study(ORLIB / "scp41.txt")  # as in test_limits: no proof at one node
    for asset in unicost["assets"].values():
        asset["move_cost_musd"] = 1.0
    write_study(root / "u41.yaml", unicost)
    impossible = [
        "--set",
        "requirements.korea.amd.floor=50",
        "--set",
        "requirements.korea.amd.target=50",
    ]
    jobs = {"tiny": ["tiny.yaml"], "infeasible": ["tiny.yaml", *impossible]}
    jobs["feasible"] = ["u41.yaml", "--node-limit", "1"]
    for name in DEFAULT_RUNS:
        jobs[name] = ["inputs/study.yaml", *(["-s", name] if name != "base" else [])]

    def solve(name: str) -> subprocess.CompletedProcess[str]:
        return run_cli("solve", *jobs[name], "--out", f"run-{name}", "-q", cwd=root)

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        done = dict(zip(jobs, pool.map(solve, jobs), strict=True))
    for name, proc in done.items():
        expected = {"infeasible": 4, "feasible": 10}.get(name, 0)
        assert proc.returncode == expected, (name, proc.stderr)
    return {name: root / f"run-{name}" for name in jobs}


def copy_run(runs: dict[str, Path], name: str, tmp_path: Path) -> Path:
    """A copy of a session run folder, safe to tamper with."""
    return Path(shutil.copytree(runs[name], tmp_path / name))


def edit_csv(run: Path, table: str, change: Callable[[pd.DataFrame], pd.DataFrame | None]) -> None:
    """Rewrite one table through pandas; ``change`` edits the frame in place or returns one."""
    path = run / f"{table}.csv"
    df = pd.read_csv(path, keep_default_na=False)
    out = change(df)
    (df if out is None else out).to_csv(path, index=False)


def set_cell(df: pd.DataFrame, match: dict[str, str], column: str, value: object) -> None:
    """Set ``column`` in the one row whose cells equal ``match``."""
    rows = pd.Series(True, index=df.index)
    for key, want in match.items():
        rows &= df[key] == want
    assert rows.sum() == 1, (match, df)
    df[column] = df[column].astype(object)  # pandas refuses 1.5 in an int column
    df.loc[rows, column] = value


def add_row(df: pd.DataFrame, **cells: object) -> pd.DataFrame:
    """The frame with one more row; columns not given are left empty."""
    return pd.concat([df, pd.DataFrame([cells])], ignore_index=True)


def rules(report: CheckReport) -> set[str]:
    """The rule families a report names."""
    return {v.rule for v in report.violations}


@pytest.mark.parametrize("name", ["tiny", "feasible", *DEFAULT_RUNS])
def test_untouched_run_passes_and_objective_recomputes(runs: dict[str, Path], name: str) -> None:
    report = check_run(runs[name])
    assert report.ok, report.format()
    assert report.status == ("feasible" if name == "feasible" else "optimal")
    assert report.objective_reported is not None and report.objective_recomputed is not None
    assert report.objective_recomputed == pytest.approx(
        report.objective_reported, rel=TOLERANCES["objective_rel"], abs=TOLERANCES["objective_abs"]
    )
    assert report.format().startswith("check passed")
    if name == WAR:  # the war scenario exercises every family the checker knows
        assert FAMILIES | {"allowed_activations"} <= set(report.checked), report.checked


def test_run_without_solution_has_nothing_to_check(runs: dict[str, Path]) -> None:
    report = check_run(runs["infeasible"])
    assert report.ok and report.checked == {} and report.status == "infeasible"
    assert "nothing to check" in report.format()


Tamper = Callable[[Path], None]


def moved_abct_home_to_reserve(run: Path) -> None:
    # Inventory still balances, but Korea's personnel floor (28,500, binding) breaks.
    edit_csv(
        run,
        "assignments",
        lambda df: set_cell(df, {"asset": "abct", "origin": "korea"}, "location", "reserve"),
    )


def created_a_battery(run: Path) -> None:
    match = {"asset": "patriot_battery", "origin": "middle_east"}
    edit_csv(run, "assignments", lambda df: set_cell(df, match, "units", 13))


def fractional_units(run: Path) -> None:
    def change(df: pd.DataFrame) -> None:
        set_cell(df, {"origin": "korea", "location": "korea"}, "units", 1.5)
        set_cell(df, {"origin": "korea", "location": "middle_east"}, "units", 2.5)

    edit_csv(run, "assignments", change)


def destroyers_off_taiwan(run: Path) -> None:
    # Taiwan's maritime floor is 5: 8 Aegis destroyers from Japan plus 2 JMSDF provide 10.
    match = {"asset": "aegis_ddg", "origin": "japan"}
    edit_csv(run, "assignments", lambda df: set_cell(df, match, "location", "reserve"))


def abct_to_taiwan(run: Path) -> None:
    match = {"asset": "abct", "origin": "conus", "location": "middle_east"}
    edit_csv(run, "assignments", lambda df: set_cell(df, match, "location", "taiwan"))


def follow_on_patriots_doubled(run: Path) -> None:
    match = {"source": "us_followon_patriot"}
    edit_csv(run, "replacements", lambda df: set_cell(df, match, "units", 4))


def late_interceptors(run: Path) -> None:
    # 120 days' lead time against the scenario's 60-day deadline.
    cells = {"source": "thaad_interceptor_production", "theatre": "middle_east", "units": 2}
    edit_csv(
        run, "replacements", lambda df: add_row(df, **cells, lead_time_days=120.0, cost_musd=24.0)
    )


def objective_altered(run: Path) -> None:
    summary = json.loads((run / "summary.json").read_text())
    summary["objective"] *= 1.01
    (run / "summary.json").write_text(json.dumps(summary))


def cost_term_altered(run: Path) -> None:
    edit_csv(
        run, "cost_breakdown", lambda df: set_cell(df, {"term": "total_cost"}, "weighted", 250.0)
    )


def coverage_altered(run: Path) -> None:
    match = {"theatre": "korea", "capability": "air_missile_defence"}
    edit_csv(run, "coverage", lambda df: set_cell(df, match, "provided", 15.0))


def budget_cut(run: Path) -> None:
    path = run / "resolved_inputs.yaml"
    text = path.read_text()
    assert text.count("limit_musd: 2500.0") == 1
    path.write_text(text.replace("limit_musd: 2500.0", "limit_musd: 100.0"))


def locked_battery_moved(run: Path) -> None:
    # Korea holds 8 Patriot batteries, 4 of them locked; 5 leave for the Middle East.
    def change(df: pd.DataFrame) -> pd.DataFrame:
        set_cell(df, {"asset": "patriot_battery", "origin": "korea"}, "units", 3)
        return add_row(
            df,
            asset="patriot_battery",
            origin="korea",
            location="middle_east",
            units=5,
            baseline_units=0,
            change=5,
            personnel=600.0,
        )

    edit_csv(run, "assignments", change)


BALANCED = {
    moved_abct_home_to_reserve,
    fractional_units,
    destroyers_off_taiwan,
    abct_to_taiwan,
    locked_battery_moved,
}
ALONE = {objective_altered, cost_term_altered, coverage_altered, budget_cut}


@pytest.mark.parametrize(
    ("tamper", "name", "rule", "index"),
    [
        (moved_abct_home_to_reserve, WAR, "personnel_floor", "korea"),
        (created_a_battery, WAR, "inventory", "patriot_battery/middle_east"),
        (fractional_units, "tiny", "integrality", "patriot/korea/korea"),
        (destroyers_off_taiwan, WAR, "coverage_floor", "taiwan/maritime"),
        (abct_to_taiwan, WAR, "allowed_destinations", "abct/conus/taiwan"),
        (follow_on_patriots_doubled, WAR, "source_availability", "us_followon_patriot"),
        (late_interceptors, WAR, "allowed_activations", "thaad_interceptor_production/middle_east"),
        (objective_altered, WAR, "objective", "total"),
        (cost_term_altered, WAR, "table", "cost_breakdown total_cost weighted"),
        (coverage_altered, WAR, "table", "coverage korea/air_missile_defence provided"),
        (budget_cut, WAR, "budget", "limit_musd"),
        (locked_battery_moved, WAR, "locked_units", "patriot_battery/korea"),
    ],
    ids=lambda x: getattr(x, "__name__", None),
)
def test_tampering_is_caught_under_its_rule(
    runs: dict[str, Path], tmp_path: Path, tamper: Tamper, name: str, rule: str, index: str
) -> None:
    run = copy_run(runs, name, tmp_path)
    tamper(run)
    report = check_run(run)
    assert not report.ok
    assert (rule, index) in {(v.rule, v.index) for v in report.violations}, report.format()
    assert report.format().splitlines()[-1].startswith("check FAILED")
    if tamper in BALANCED:  # units moved, none created or lost
        assert "inventory" not in rules(report), report.format()
    if tamper in ALONE:  # one reported figure or input changed: nothing else disagrees
        assert rules(report) == {rule}, report.format()


def test_messages_name_the_rule_and_the_figures(runs: dict[str, Path], tmp_path: Path) -> None:
    run = copy_run(runs, WAR, tmp_path)
    destroyers_off_taiwan(run)
    messages = [v.message for v in check_run(run).violations]
    assert "coverage_floor[taiwan/maritime] violated by 3 (provided 2 < floor 5)" in messages


def test_decisions_checked_directly(runs: dict[str, Path]) -> None:
    study = Study.model_validate(parse_yaml_file(runs["tiny"] / "resolved_inputs.yaml").data)
    place = {("patriot", "korea", "korea"): 2.0, ("patriot", "korea", "middle_east"): 2.0}
    place[("patriot", "conus", "middle_east")] = 1.0
    reserve = {("patriot", "conus"): 0.0}
    activated = {("cheongung", "korea"): 2.0}
    report = check_solution(study, place, reserve, activated, 35.3)
    assert report.ok, report.format()
    assert report.objective_recomputed == pytest.approx(35.3)
    # Cheongung cannot serve in the Middle East; Korea loses its backfill.
    moved = check_solution(study, place, reserve, {("cheongung", "middle_east"): 2.0}, None)
    assert {"allowed_activations", "replacement_backfill"} <= rules(moved)
    assert "objective" not in moved.checked


def test_unreadable_folder_raises_located_input_error(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    garbled = copy_run(runs, "tiny", tmp_path / "garbled")
    edit_csv(
        garbled, "assignments", lambda df: set_cell(df, {"location": "reserve"}, "units", "two")
    )
    with pytest.raises(InputError) as bad:
        check_run(garbled)
    (diag,) = bad.value.diagnostics
    assert diag.location is not None and diag.location.line == 5 and diag.path == ("units",)
    missing = copy_run(runs, "tiny", tmp_path / "missing")
    (missing / "coverage.csv").unlink()
    with pytest.raises(InputError, match=r"coverage\.csv"):
        check_run(missing)


def test_checker_imports_no_model_solver_or_table_code() -> None:
    forbidden = ["pyomo", "highspy", "pandas"]
    forbidden += [f"posture.{m}" for m in ("model", "data", "solver", "extract", "run", "tables")]
    code = f"import sys, posture.check; print([m for m in {forbidden!r} if m in sys.modules])"
    env = {**os.environ, "PYTHONPATH": str(DEFAULT_STUDY.parents[1])}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_persistence_cap_is_checked(runs: dict[str, Path]) -> None:
    data = parse_yaml_file(runs["tiny"] / "resolved_inputs.yaml").data
    data["persistence"] = {"max_turbulence": 2.0, "source": "test"}
    study = Study.model_validate(data)
    place = {("patriot", "korea", "korea"): 2.0, ("patriot", "korea", "middle_east"): 2.0}
    place[("patriot", "conus", "middle_east")] = 1.0
    # Three batteries moved (turbulence 3) where the cap allows 2.
    report = check_solution(study, place, {}, {("cheongung", "korea"): 2.0}, None)
    assert rules(report) == {"turbulence_cap"}, report.format()
    kept = {("patriot", "korea", "korea"): 3.0, ("patriot", "korea", "middle_east"): 1.0}
    kept[("patriot", "conus", "middle_east")] = 1.0
    assert check_solution(study, kept, {}, {("cheongung", "korea"): 1.0}, None).ok
