"""End-to-end: the real CLI in a subprocess, on real YAML files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from helpers import FIXTURES, run_cli, tiny_study, write_study

from posture.tables import TABLE_NAMES

TABLES = TABLE_NAMES


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    shutil.copy(FIXTURES / "tiny.yaml", tmp_path / "tiny.yaml")
    return tmp_path


def test_solve_writes_complete_run_folder(workdir: Path) -> None:
    proc = run_cli("solve", "tiny.yaml", "--out", "results/run1", cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    assert "OPTIMAL" in proc.stdout and "Coverage" in proc.stdout
    run = workdir / "results" / "run1"
    for name in TABLES:
        for ext in ("csv", "md", "tex"):
            assert (run / f"{name}.{ext}").is_file(), f"{name}.{ext}"
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "optimal" and summary["objective"] == pytest.approx(35.3)
    assert summary["best_bound"] == pytest.approx(35.3) and summary["gap"] == pytest.approx(
        0, abs=1e-9
    )
    assert set(summary["seconds"]) >= {"build", "handoff", "solve", "extract", "write"}
    assert len(summary["input_hash"]) == 64 and summary["versions"]["highs"]
    assert "resolved_inputs.yaml" in {p.name for p in run.iterdir()}
    costs = pd.read_csv(run / "cost_breakdown.csv").set_index("term")
    assert costs.loc[
        ["weighted_shortfall", "total_cost", "turbulence"], "weighted"
    ].sum() == pytest.approx(costs.loc["total", "weighted"])
    assert (workdir / "results" / "latest").resolve() == run.resolve()
    assert not list((workdir / "results").glob(".tmp-*"))


def test_default_run_name_and_scenario(workdir: Path) -> None:
    proc = run_cli("solve", "tiny.yaml", "--scenario", "no_rok", "--quiet", cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    (run,) = [p for p in (workdir / "results").iterdir() if p.name.startswith("tiny-no_rok-")]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["scenario"] == "no_rok" and summary["objective"] == pytest.approx(205.1)


def test_set_override_changes_the_answer_and_is_recorded(workdir: Path) -> None:
    proc = run_cli(
        "solve",
        "tiny.yaml",
        "--set",
        "assets.patriot.inventory.conus=3",
        "--out",
        "r",
        "-q",
        cwd=workdir,
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((workdir / "r" / "summary.json").read_text())
    assert summary["overrides"] == ["assets.patriot.inventory.conus=3"]
    assert summary["objective"] == pytest.approx(15.3)  # three CONUS batteries, no backfill
    assert "conus: 3" in (workdir / "r" / "resolved_inputs.yaml").read_text()


def test_existing_run_folder_is_refused(workdir: Path) -> None:
    (workdir / "r").mkdir()
    (workdir / "r" / "keep.txt").write_text("mine")
    proc = run_cli("solve", "tiny.yaml", "--out", "r", cwd=workdir)
    assert proc.returncode == 11
    assert [p.name for p in (workdir / "r").iterdir()] == ["keep.txt"]


def test_validate_and_scenarios(workdir: Path) -> None:
    proc = run_cli("validate", "tiny.yaml", cwd=workdir)
    assert proc.returncode == 0 and "valid" in proc.stdout
    proc = run_cli("scenarios", "tiny.yaml", cwd=workdir)
    assert proc.returncode == 0 and proc.stdout.splitlines() == ["no_rok"]


def test_schema_is_json_schema(workdir: Path) -> None:
    proc = run_cli("schema", "--out", "s.json", cwd=workdir)
    assert proc.returncode == 0
    schema = json.loads((workdir / "s.json").read_text())
    assert schema["additionalProperties"] is False and "assets" in schema["properties"]


def test_invalid_input_exit_3_nothing_written(workdir: Path) -> None:
    study = tiny_study()
    study["assets"]["patriot"]["inventry"] = {"korea": 1}
    write_study(workdir / "bad.yaml", study)
    proc = run_cli("solve", "bad.yaml", cwd=workdir)
    assert proc.returncode == 3
    assert "bad.yaml:" in proc.stderr and "assets.patriot.inventry: unknown key" in proc.stderr
    assert "did you mean 'inventory'?" in proc.stderr and "Traceback" not in proc.stderr
    assert not (workdir / "results").exists()


def test_infeasible_exit_4_diagnostic_folder_without_latest(workdir: Path) -> None:
    proc = run_cli(
        "solve",
        "tiny.yaml",
        "--set",
        "requirements.korea.amd.floor=10.0",
        "--set",
        "requirements.korea.amd.target=10.0",
        "--out",
        "results/inf",
        cwd=workdir,
    )
    assert proc.returncode == 4, proc.stderr
    assert "floor 10" in proc.stderr and "--set #1" in proc.stderr
    run = workdir / "results" / "inf"
    assert (run / "summary.json").is_file() and not (run / "assignments.csv").exists()
    assert not (workdir / "results" / "latest").exists()


def test_usage_error_exit_2(workdir: Path) -> None:
    assert run_cli("solve", cwd=workdir).returncode == 2
    assert run_cli("solve", "tiny.yaml", "--bogus", cwd=workdir).returncode == 2


def test_export_mps(workdir: Path) -> None:
    proc = run_cli("export", "tiny.yaml", "--mps", "m.mps", cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    text = (workdir / "m.mps").read_text()
    assert "ROWS" in text and "COLUMNS" in text


def test_committed_schema_matches_the_code() -> None:
    """inputs/study.schema.json (for editors) is generated: regenerate it with
    `posture schema --out inputs/study.schema.json` when the schema changes."""
    from helpers import ROOT

    from posture.schema import schema_json

    assert (ROOT / "inputs" / "study.schema.json").read_text() == schema_json()


def test_unwritable_results_location_exit_11(workdir: Path) -> None:
    (workdir / "blocker").write_text("a file where a folder should be")
    proc = run_cli("solve", "tiny.yaml", "--out", "blocker/run", cwd=workdir)
    assert proc.returncode == 11
    assert "cannot write results" in proc.stderr and "Traceback" not in proc.stderr
    assert (workdir / "blocker").read_text() == "a file where a folder should be"


@pytest.mark.parametrize(
    "args", [["--help"], ["validate", "tiny.yaml"], ["scenarios", "tiny.yaml"]]
)
def test_light_commands_do_not_import_the_solver_stack(args: list[str], workdir: Path) -> None:
    """--help, validate and scenarios start fast: no Pyomo, HiGHS, pandas or numpy."""
    script = (
        "import sys; from posture.cli import app\n"
        f"sys.argv = ['posture', *{args!r}]\n"
        "try:\n    app()\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('pyomo', 'highspy', 'pandas', 'numpy', 'scipy') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    import subprocess
    import sys

    from helpers import ROOT

    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    ).stdout
    assert "HEAVY []" in out
