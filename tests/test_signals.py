"""Real signals on a real subprocess: Ctrl-C (SIGINT) and SIGTERM during a solve end
with exit 130 and leave nothing behind (RELIABILITY #43)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import FIXTURES, ROOT, write_study
from orlib import ORLIB, scp_study


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_during_solve_exit_130_nothing_written(signum: int, tmp_path: Path) -> None:
    study = scp_study(ORLIB / "scp41.txt")
    for asset in study["assets"].values():
        asset["move_cost_musd"] = 1.0  # unicost: HiGHS needs minutes, so the signal lands mid-solve
    write_study(tmp_path / "u41.yaml", study)
    proc = subprocess.Popen(
        [sys.executable, "-m", "posture", "solve", "u41.yaml", "--time-limit", "120"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(6.0)  # loading and building take about 2 s; then HiGHS is searching
    assert proc.poll() is None, "the solve ended before the signal was sent"
    sent = time.perf_counter()
    proc.send_signal(signum)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert time.perf_counter() - sent < 30, "the solver was not stopped promptly"
    assert "Traceback" not in err and "nothing was written" in err
    results = tmp_path / "results"
    assert not results.exists() or not any(results.iterdir())


def test_wall_clock_limit_enforced(tmp_path: Path) -> None:
    study = scp_study(ORLIB / "scp41.txt")
    for asset in study["assets"].values():
        asset["move_cost_musd"] = 1.0
    write_study(tmp_path / "u41.yaml", study)
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "posture", "solve", "u41.yaml", "--time-limit", "2", "-q"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    # Exit 10 with the incumbent HiGHS finds at the root (seen here within a second),
    # or 6 on a machine too slow to find one: either way, stopped near the 2 s limit.
    assert proc.returncode in (6, 10), proc.stderr
    assert time.perf_counter() - started < 20
    if proc.returncode == 10:
        assert "not proven optimal" in proc.stdout


@pytest.mark.parametrize("delay", [0.8, 1.1, 1.3, 1.5, 1.7, 1.9, 2.2, 2.6])
def test_sigterm_at_any_moment_never_leaves_a_partial_run(delay: float, tmp_path: Path) -> None:
    """SIGTERM sent at moments spread over loading, solving and writing a small study:
    the run folder is either complete (the run finished first) or absent, never partial,
    and no temporary folder is left (RELIABILITY #43, #44)."""
    shutil.copy(FIXTURES / "tiny.yaml", tmp_path / "tiny.yaml")
    proc = subprocess.Popen(
        [sys.executable, "-m", "posture", "solve", "tiny.yaml", "--out", "results/run", "-q"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(delay)
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=60)
    assert "Traceback" not in err
    run = tmp_path / "results" / "run"
    leftovers = list((tmp_path / "results").glob(".tmp-*")) if run.parent.exists() else []
    assert not leftovers
    if proc.returncode == 0:
        assert {p.name for p in run.iterdir()} >= {"summary.json", "coverage.csv", "moves.tex"}
    else:
        # 130 is the documented code. -SIGTERM: the signal came before the handler was
        # installed (interpreter start-up). -SIGINT, once seen under load (an interrupt
        # escaping while Python unwound after the command), is closed by cli._leave.
        assert proc.returncode in (130, -signal.SIGTERM), err
        assert not run.exists()
