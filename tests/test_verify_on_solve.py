"""`posture solve` re-verifies every plan from its files before it may become `latest`;
a plan that fails (here: a solver answer corrupted on its way to the tables) is
quarantined as `.rejected-<run>` with exit 8 (RELIABILITY #39)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from helpers import FIXTURES
from typer.testing import CliRunner

import posture.run
from posture.cli import app


def test_corrupted_plan_is_quarantined(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(FIXTURES / "tiny.yaml", tmp_path / "tiny.yaml")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    assert runner.invoke(app, ["solve", "tiny.yaml", "--out", "results/good", "-q"]).exit_code == 0
    real = posture.run.result_tables

    def corrupted(*args: Any) -> dict[str, pd.DataFrame]:
        tables = real(*args)
        rows = tables["assignments"]
        rows.loc[rows["location"] == "korea", "units"] = 0  # Korea's batteries silently lost
        return tables

    monkeypatch.setattr(posture.run, "result_tables", corrupted)
    result = runner.invoke(app, ["solve", "tiny.yaml", "--out", "results/bad", "-q"])
    assert result.exit_code == 8
    assert "verification failed" in result.output and "inventory" in result.output
    assert not (tmp_path / "results" / "bad").exists()
    assert (tmp_path / "results" / ".rejected-bad" / "summary.json").is_file()
    assert (tmp_path / "results" / "latest").resolve().name == "good"


def test_check_command_passes_a_real_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(FIXTURES / "tiny.yaml", tmp_path / "tiny.yaml")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    assert runner.invoke(app, ["solve", "tiny.yaml", "--out", "run", "-q"]).exit_code == 0
    result = runner.invoke(app, ["check", "run"])
    assert result.exit_code == 0 and "check passed" in result.output
    (tmp_path / "run" / "assignments.csv").write_text("asset,origin\n")
    assert runner.invoke(app, ["check", "run"]).exit_code in (3, 8)


def test_unit_that_must_leave_home_passes_verification(tmp_path: Path) -> None:
    """Found by fuzzing: a unit whose destinations exclude its home theatre left no
    home row in the assignments table, and the checker rightly refused the plan."""
    (tmp_path / "study.yaml").write_text(
        "study: {name: repro}\n"
        'theatres: {t0: {name: T0, priority: 1.0, source: "Fuzz reproducer."}}\n'
        "origins: {o0: {name: O0, theatre: t0}}\n"
        "capabilities: {c1: {name: C1, unit: unit-equivalent}}\n"
        "assets:\n"
        "  a1: {name: A1, category: air_defence_battery, unit: battery, inventory: {o0: 1},\n"
        '       personnel_per_unit: 10.0, destinations: [], source: "Fuzz reproducer."}\n'
        "objective: {shortfall: 100.0, cost: 1.0, turbulence: 1.0}\n"
    )
    result = CliRunner().invoke(
        app, ["solve", str(tmp_path / "study.yaml"), "--out", str(tmp_path / "run"), "-q"]
    )
    assert result.exit_code == 0, result.output
