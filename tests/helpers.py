"""Test helpers: write real YAML studies and run the real CLI."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
DEFAULT_STUDY = ROOT / "inputs" / "study.yaml"


def tiny_study() -> dict[str, Any]:
    """The tiny fixture study as a dict, to modify per test."""
    return copy.deepcopy(yaml.safe_load((FIXTURES / "tiny.yaml").read_text()))


def write_study(path: Path, study: dict[str, Any]) -> Path:
    """Write a study dict as YAML and return its path."""
    path.write_text(yaml.safe_dump(study, sort_keys=False), encoding="utf-8")
    return path


def run_cli(*args: str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run the installed CLI as a subprocess, exactly as a user would."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "posture", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
