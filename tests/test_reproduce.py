"""Reproducibility: the same inputs and options give byte-identical tables, and
`posture rerun RUN` reproduces a run from its manifest (timings live only in summary.json)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from helpers import DEFAULT_STUDY, run_cli

from posture.rerun import differing_files


def _copy_default(tmp_path: Path) -> None:
    shutil.copytree(DEFAULT_STUDY.parent, tmp_path / "inputs")


def test_same_inputs_byte_identical_tables(tmp_path: Path) -> None:
    _copy_default(tmp_path)
    for name in ("a", "b"):
        args = ("solve", "inputs/study.yaml", "-s", "middle_east_war", "--out", name, "-q")
        assert run_cli(*args, cwd=tmp_path).returncode == 0
    assert differing_files(tmp_path / "a", tmp_path / "b") == []
    first = json.loads((tmp_path / "a" / "summary.json").read_text())
    assert first["options"]["seed"] == 0 and first["options"]["threads"] == 1
    assert first["versions"]["highs"] and first["versions"]["pyomo"]


def test_rerun_reproduces(tmp_path: Path) -> None:
    _copy_default(tmp_path)
    args = (
        "solve",
        "inputs/study.yaml",
        "-s",
        "troops_to_guam",
        "--set",
        "budget.limit_musd=900.0",
    )
    assert run_cli(*args, "--out", "orig", "-q", cwd=tmp_path).returncode == 0
    proc = run_cli("rerun", "orig", "--out", "again", "-q", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "reproduced: every result file" in proc.stdout
    again = json.loads((tmp_path / "again" / "summary.json").read_text())
    assert again["scenario"] == "troops_to_guam" and again["overrides"] == [
        "budget.limit_musd=900.0"
    ]


def test_rerun_refuses_changed_inputs(tmp_path: Path) -> None:
    _copy_default(tmp_path)
    assert (
        run_cli("solve", "inputs/study.yaml", "--out", "orig", "-q", cwd=tmp_path).returncode == 0
    )
    study = tmp_path / "inputs" / "study.yaml"
    study.write_text(study.read_text() + "\n# edited\n")
    proc = run_cli("rerun", "orig", "--out", "again", cwd=tmp_path)
    assert proc.returncode == 3
    assert "have changed since this run" in proc.stderr
    assert not (tmp_path / "again").exists()


def test_r40_no_stale_values_between_scenarios_in_one_process() -> None:
    """Solving scenarios one after another in one process gives exactly what a fresh
    process gives for each (each solve builds a fresh model; values are read only
    from an accepted status)."""
    import subprocess
    import sys

    import posture
    from posture.loader import read_study_files

    names = list(read_study_files(DEFAULT_STUDY).scenarios)
    in_process = {n: posture.solve(posture.load(DEFAULT_STUDY, n)).objective for n in names}
    script = (
        "import sys, posture; r = posture.solve(posture.load(sys.argv[1], sys.argv[2])); "
        "print(repr(r.objective))"
    )
    for name in (names[0], names[-1]):
        out = subprocess.run(
            [sys.executable, "-c", script, str(DEFAULT_STUDY), name],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert float(out) == in_process[name]
    assert len(set(in_process.values())) > 1  # the scenarios really differ
