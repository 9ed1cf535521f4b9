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
