"""RELIABILITY #41: a native crash or a solver that will not stop, solved in a child.

The child is a real forked process and the crash a real signal: the solve function
the child runs is replaced (in this process before the fork, or through a
``sitecustomize`` module in a real CLI subprocess) by one that segfaults, raises, or
ignores every stop request.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import FIXTURES, ROOT

import posture
import posture.solver
from posture.data import build_model_data
from posture.extract import extract_solution
from posture.model import build_model
from posture.schema import SolverOptions
from posture.solver import KeptModel, SolveStatus, compile_model, solve_compiled


def _compiled() -> Any:
    study = posture.load(FIXTURES / "tiny.yaml")
    return compile_model(build_model(build_model_data(study.study)))


def _segfault(*_: object) -> None:
    os.kill(os.getpid(), signal.SIGSEGV)


def _raise(*_: object) -> None:
    raise RuntimeError("HiGHS said no")


def _hang(*_: object) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    time.sleep(120)


def test_a_segfault_in_the_solver_is_an_error_status(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(posture.solver, "_solve_here", _segfault)
    result = solve_compiled(_compiled(), SolverOptions())
    assert result.status is SolveStatus.ERROR
    assert result.highs_status == "solver crashed (signal 11 (SIGSEGV))"
    assert result.col_values is None  # no plan from a crashed solver


def test_an_exception_in_the_child_is_reported_as_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(posture.solver, "_solve_here", _raise)
    result = solve_compiled(_compiled(), SolverOptions())
    assert result.status is SolveStatus.ERROR
    assert result.highs_status == "solver failed: RuntimeError: HiGHS said no"


def test_a_solver_that_ignores_the_limit_is_killed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(posture.solver, "_solve_here", _hang)
    started = time.perf_counter()
    result = solve_compiled(_compiled(), SolverOptions(time_limit_s=0.5))
    took = time.perf_counter() - started
    assert result.status is SolveStatus.NO_SOLUTION
    assert "did not stop" in result.highs_status
    assert 5.0 <= took < 15.0  # the limit plus the 5 s grace, then killed


def _plan_then_hang(compiled: Any, options: SolverOptions, upper: Any, interim: Any) -> None:
    """The LP-guided search finds its plan, then the full MIP never returns."""
    h = posture.solver._highs(compiled.lp, options)
    interim(posture.solver._neighbourhood_start(h, options, 5.0))
    _hang()


def test_a_plan_sent_before_the_solver_hung_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    compiled = _compiled()
    optimum = solve_compiled(compiled, SolverOptions())
    monkeypatch.setattr(posture.solver, "_solve_here", _plan_then_hang)
    result = solve_compiled(compiled, SolverOptions(time_limit_s=0.5))
    assert result.status is SolveStatus.FEASIBLE
    assert "did not stop" in result.highs_status
    assert "plan from the LP-guided search kept" in result.highs_status
    assert result.objective is not None and optimum.objective is not None
    assert result.objective >= optimum.objective - 1e-9
    assert result.bound is not None and result.bound <= optimum.objective + 1e-9
    # on this tiny study the search's plan is optimal: rows as HiGHS reports them
    assert result.col_values == pytest.approx(optimum.col_values)
    assert result.row_values == pytest.approx(optimum.row_values)
    assert extract_solution(compiled, result) is not None


def _search_then_hang(h: Any, compiled: Any, options: SolverOptions, **kwargs: Any) -> None:
    """A kept model's solve: the search finds its plan, the full MIP never returns."""
    kwargs["interim"](posture.solver._neighbourhood_start(h, options, 5.0))
    _hang()


def test_a_large_kept_model_that_hangs_is_killed_and_keeps_its_plan(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """RELIABILITY: large kept models (sweeps, frontiers, alternatives) solve in a
    child too, killed past the limit (L: HiGHS's root heuristics went 15 s past a
    cancel). The plan covers the added column; the kept model solves on afterwards."""
    compiled = _compiled()
    options = SolverOptions(time_limit_s=0.5)
    optimum = KeptModel(compiled, SolverOptions()).solve()
    kept = KeptModel(compiled, options)
    kept.solves_in_child = True  # as a model of 20,000 integer columns or more is
    extra = kept.add_columns(np.zeros(1), np.zeros(1), integer=True, names=["unused"])
    kept.add_row(extra, np.ones(1), 0.0, 0.0, "unused_is_zero")
    monkeypatch.setattr(posture.solver, "_search_then_solve", _search_then_hang)
    started = time.perf_counter()
    result = kept.solve()
    took = time.perf_counter() - started
    assert 5.0 <= took < 15.0  # the limit plus the 5 s grace, then killed
    assert result.status is SolveStatus.FEASIBLE
    assert "did not stop" in result.highs_status
    assert "plan from the LP-guided search kept" in result.highs_status
    # on this tiny study the search's plan is optimal; vectors cut back as usual
    assert result.col_values == pytest.approx(optimum.col_values)
    assert result.row_values == pytest.approx(optimum.row_values)
    assert result.extra_values == pytest.approx(np.zeros(1))
    monkeypatch.undo()
    again = kept.solve(SolverOptions())
    assert again.status is SolveStatus.OPTIMAL and again.objective == optimum.objective
    assert again.extra_values == pytest.approx(np.zeros(1))
    assert str(kept.h.getModelStatus()).endswith("kNotset")  # the child solved, not us


def _solve_in_a_daemon(conn: Any) -> None:
    """In a daemonic process, as a Dask worker is: a single solve and a large kept
    model's solve, both of which fork."""
    try:
        compiled = _compiled()
        single = solve_compiled(compiled, SolverOptions())
        kept = KeptModel(compiled, SolverOptions())
        kept.solves_in_child = True
        conn.send((single.status.value, single.objective, kept.solve().objective))
    except BaseException as exc:
        conn.send(f"{type(exc).__name__}: {exc}")


def test_solves_fork_from_a_daemonic_process() -> None:
    """Dask workers are daemonic, and multiprocessing refuses them children
    ("daemonic processes are not allowed to have children"): the solve's child is
    made with os.fork, so a sweep of a large study on Dask still solves."""
    import multiprocessing

    expected = solve_compiled(_compiled(), SolverOptions())
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    daemon = context.Process(target=_solve_in_a_daemon, args=(send,), daemon=True)
    daemon.start()
    assert receive.poll(60.0), "the daemonic process sent nothing"
    answer = receive.recv()
    daemon.join(10.0)
    assert answer == ("optimal", expected.objective, expected.objective), answer


def test_a_kept_model_forks_after_solving_here_with_threads() -> None:
    """HiGHS's worker threads from an in-process solve do not follow a fork; the
    child's solve must not wait for them."""
    compiled = _compiled()
    options = SolverOptions(threads=2, time_limit_s=30.0)
    here = KeptModel(compiled, options)
    in_process = here.solve()
    here.solves_in_child = True
    for _ in range(2):
        forked = here.solve()
        assert forked.status is in_process.status and forked.objective == in_process.objective


def test_an_answer_sent_just_before_the_child_exits_is_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The parent's poll of the pipe times out, then the child sends and exits before
    the parent looks at its exit status: the answer is in the pipe, not a crash."""
    import posture.isolate

    look = posture.isolate._Child.poll

    def slow_look(self: Any, wait_s: float = 0.0) -> int | None:
        if wait_s == 0.0:
            time.sleep(0.5)  # the child answers and exits meanwhile
        return look(self, wait_s)

    monkeypatch.setattr(posture.isolate._Child, "poll", slow_look)
    outcome = posture.isolate.run_in_child(lambda interim: (time.sleep(0.2), 42)[1], 10.0)
    assert outcome.value == 42 and outcome.crashed is None


def test_a_message_cut_short_is_a_death_not_an_error() -> None:
    """A child killed while sending leaves a truncated message: recv raises OSError
    ("got end of file during message"), which must read as the child's death."""
    import multiprocessing
    import struct

    import posture.isolate

    receive, send = multiprocessing.Pipe(duplex=False)
    os.write(send.fileno(), struct.pack("!i", 1000) + b"0123456789")  # 10 of 1,000 bytes
    send.close()
    assert posture.isolate._receive(receive) is None


def test_a_child_is_reaped_once_however_often_it_is_stopped() -> None:
    import posture.isolate

    pid = os.fork()
    if pid == 0:
        os._exit(3)
    child = posture.isolate._Child(pid)
    assert child.poll(10.0) == 3
    child.stop()  # ended and reaped: neither killed nor waited for again
    assert child.exit_code == 3
    other = os.fork()
    if other == 0:
        os._exit(0)
    os.waitpid(other, 0)  # reaped behind its back
    stranger = posture.isolate._Child(other)
    stranger.stop()
    assert stranger.exit_code is not None


def test_cli_exit_7_when_the_solver_crashes(tmp_path: Path) -> None:
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(
        "import os, signal\n"
        "import posture.solver\n"
        "def _crash(*_):\n"
        "    os.kill(os.getpid(), signal.SIGSEGV)\n"
        "posture.solver._solve_here = _crash\n",
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(hooks), str(ROOT)])}
    done = subprocess.run(
        [sys.executable, "-m", "posture", "solve", str(FIXTURES / "tiny.yaml"), "-o", "run"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 7, done.stderr
    assert "solver crashed (signal 11 (SIGSEGV))" in done.stdout + done.stderr
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]
    assert not (tmp_path / "latest").exists()
