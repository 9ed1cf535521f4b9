"""map_tasks here, in a local process pool and on a real local Dask cluster (scheduler
and two workers as separate processes on 127.0.0.1): same results in task order,
progress reported once per task, failures named by task, no hang on a bad address, and
Ctrl-C stops the work."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest
from dask_cluster import ROOT, TESTS, local_dask_cluster

from posture.distribute import (
    ClusterUnavailable,
    TaskFailed,
    check_scheduler_address,
    map_tasks,
)

pytest_plugins = ["dask_cluster"]  # the module-scoped `dask_address` fixture

MODES = ["here", "pool", "dask"]


# Tasks live at module level so that pool and Dask workers can import them by name.


def square_with_pid(x: int) -> tuple[int, int]:
    """x² and the process that computed it."""
    time.sleep(0.05)  # long enough that every worker gets a share
    return x * x, os.getpid()


def fail_on_three(x: int) -> int:
    if x == 3:
        raise ValueError(f"no {x}")
    return x


_HELD: list[Any] = []


def sleep_recording_pid(job: tuple[str, float]) -> float:
    """Sleep (0 seconds: fail), leaving PID-TIME.pid on start and PID.unwound if interrupted."""
    folder, seconds = job
    if not _HELD:
        # What importing pyomo does in every worker: a module-level multiprocessing
        # lock, a named semaphore registered with the parent's resource tracker.
        _HELD.append(multiprocessing.Lock())
    try:
        Path(folder, f"{os.getpid()}-{time.monotonic_ns()}.pid").touch()
        if seconds == 0:
            raise RuntimeError("failing fast")
        time.sleep(seconds)
    except KeyboardInterrupt:
        Path(folder, f"{os.getpid()}.unwound").touch()  # as posture's solver stops HiGHS
        raise
    return seconds


def exit_abruptly(x: int) -> int:
    if x == 1:
        os._exit(3)  # a worker that dies (out of memory, killed) rather than raises
    return x


def _where(mode: str, request: pytest.FixtureRequest) -> dict[str, Any]:
    """map_tasks keywords for a mode; the cluster starts only if a test asks for it."""
    if mode == "pool":
        return {"workers": 2}
    if mode == "dask":
        return {"scheduler": request.getfixturevalue("dask_address")}
    return {}


def _free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _recorded_pids(folder: Path) -> list[int]:
    """The processes that started a sleep_recording_pid task, one entry per task."""
    return [int(path.stem.split("-")[0]) for path in folder.glob("*.pid")]


def test_here_runs_in_this_process_in_order() -> None:
    results = map_tasks(square_with_pid, range(6))
    assert results == [(x * x, os.getpid()) for x in range(6)]


def test_pool_equals_the_sequential_run() -> None:
    tasks = list(range(12))
    here = map_tasks(square_with_pid, tasks)
    pooled = map_tasks(square_with_pid, tasks, workers=2)
    assert [value for value, _ in pooled] == [value for value, _ in here]
    assert os.getpid() not in {pid for _, pid in pooled}


def test_dask_equals_the_local_run_on_both_workers(dask_address: str) -> None:
    tasks = list(range(16))
    here = map_tasks(square_with_pid, tasks)
    remote = map_tasks(square_with_pid, tasks, scheduler=dask_address)
    assert [value for value, _ in remote] == [value for value, _ in here]
    pids = {pid for _, pid in remote}
    assert len(pids) == 2 and os.getpid() not in pids  # one per worker process


def test_dask_address_without_scheme(dask_address: str) -> None:
    bare = dask_address.removeprefix("tcp://")
    assert map_tasks(fail_on_three, [0, 1, 2], scheduler=bare) == [0, 1, 2]


@pytest.mark.parametrize("mode", MODES)
def test_on_done_once_per_task_with_its_index(mode: str, request: pytest.FixtureRequest) -> None:
    seen: list[tuple[int, tuple[int, int]]] = []
    results = map_tasks(
        square_with_pid,
        list(range(8)),
        on_done=lambda index, result: seen.append((index, result)),
        **_where(mode, request),
    )
    assert sorted(index for index, _ in seen) == list(range(8))
    assert all(results[index] == result for index, result in seen)


@pytest.mark.parametrize("mode", MODES)
def test_raising_task_is_named_by_index(mode: str, request: pytest.FixtureRequest) -> None:
    with pytest.raises(TaskFailed) as caught:
        map_tasks(fail_on_three, list(range(6)), **_where(mode, request))
    failed = caught.value
    assert (failed.index, failed.error_type, failed.message) == (3, "ValueError", "no 3")
    assert str(failed) == "task 3 failed: ValueError: no 3"
    assert isinstance(failed.__cause__, ValueError)  # the original, for a crash log


@pytest.mark.parametrize("mode", MODES)
def test_no_tasks_no_work(mode: str, request: pytest.FixtureRequest) -> None:
    assert map_tasks(fail_on_three, [], **_where(mode, request)) == []


def test_task_failed_survives_pickling() -> None:
    copy = pickle.loads(pickle.dumps(TaskFailed(4, "KeyError", "'x'")))
    assert (copy.index, copy.error_type, copy.message, str(copy)) == (
        4,
        "KeyError",
        "'x'",
        "task 4 failed: KeyError: 'x'",
    )


def test_pool_failure_stops_the_running_tasks(tmp_path: Path) -> None:
    """The first failure is reported at once: running tasks are terminated, not awaited."""
    jobs = [(str(tmp_path), 60.0), (str(tmp_path), 0.0), *[(str(tmp_path), 60.0)] * 4]
    started = time.perf_counter()
    with pytest.raises(TaskFailed) as caught:
        map_tasks(sleep_recording_pid, jobs, workers=2)
    assert caught.value.index == 1 and caught.value.error_type == "RuntimeError"
    assert time.perf_counter() - started < 20
    pids = _recorded_pids(tmp_path)
    assert pids and not any(_alive(pid) for pid in pids)


def test_pool_worker_death_is_a_task_failure() -> None:
    with pytest.raises(TaskFailed) as caught:
        map_tasks(exit_abruptly, [0, 1, 2], workers=2)
    assert caught.value.error_type == "BrokenProcessPool"


@pytest.mark.parametrize("host", ["127.0.0.1", "no-such-host.invalid"])  # .invalid never resolves
def test_unreachable_scheduler_fails_fast(host: str) -> None:
    address = f"tcp://{host}:{_free_port()}"
    started = time.perf_counter()
    with pytest.raises(ClusterUnavailable) as caught:
        map_tasks(fail_on_three, [1], scheduler=address)
    assert time.perf_counter() - started < 10
    assert address in str(caught.value) and "dask scheduler" in str(caught.value)


def test_something_else_listening_is_not_a_scheduler(dask_address: str) -> None:
    """The dashboard's HTTP port and a worker's port: refused within seconds, no hang."""
    from distributed import Client

    with Client(dask_address, timeout=10, set_as_default=False) as client:
        info = client.scheduler_info()
    http = f"127.0.0.1:{info['services']['dashboard']}"
    worker = next(iter(info["workers"]))
    for address in (http, worker):
        started = time.perf_counter()
        with pytest.raises(ClusterUnavailable, match="no Dask scheduler at"):
            map_tasks(fail_on_three, [1], scheduler=address)
        assert time.perf_counter() - started < 10
    with pytest.raises(ClusterUnavailable, match="not the scheduler"):
        map_tasks(fail_on_three, [1], scheduler=worker)


def test_scheduler_without_workers_fails_fast() -> None:
    with local_dask_cluster(workers=0) as address:
        started = time.perf_counter()
        with pytest.raises(ClusterUnavailable, match="has no workers"):
            map_tasks(fail_on_three, [1], scheduler=address)
        assert time.perf_counter() - started < 15


@pytest.mark.parametrize(
    "address",
    ["localhost", "tcp://host", "host:port", "tcp://:8786", "http://host:8786", "host:0", ""],
)
def test_malformed_address_is_a_value_error(address: str) -> None:
    with pytest.raises(ValueError, match="expected tcp://HOST:PORT or HOST:PORT"):
        map_tasks(fail_on_three, [1], scheduler=address)


@pytest.mark.parametrize(
    ("given", "normal"),
    [
        ("10.0.0.5:8786", "tcp://10.0.0.5:8786"),
        ("tcp://sched.example:8786", "tcp://sched.example:8786"),
        (" tcp://[::1]:8786 ", "tcp://[::1]:8786"),
    ],
)
def test_scheduler_address_forms(given: str, normal: str) -> None:
    assert check_scheduler_address(given) == normal


@pytest.mark.parametrize("workers", [0, -2])
def test_workers_below_one_is_a_value_error(workers: int) -> None:
    with pytest.raises(ValueError, match="workers"):
        map_tasks(fail_on_three, [1], workers=workers)


# Ctrl-C: a real SIGINT to a real process running map_tasks, once its first task is done.

_INTERRUPTED = """
import signal
import sys
from test_distribute import sleep_recording_pid
from posture.distribute import map_tasks

# Ctrl-C raises KeyboardInterrupt even if this test run was started with SIGINT ignored
# (a background job of a non-interactive shell, nohup), which children inherit.
signal.signal(signal.SIGINT, signal.default_int_handler)

folder, scheduler = sys.argv[1], sys.argv[2] or None
jobs = [(folder, 0.1)] + [(folder, 4.0)] * 12
try:
    map_tasks(sleep_recording_pid, jobs, workers=2, scheduler=scheduler,
              on_done=lambda index, result: print("done", index, flush=True))
except KeyboardInterrupt:
    print("interrupted", flush=True)
    sys.exit(130)
"""


def _interrupt_after_first_task(folder: Path, scheduler: str) -> tuple[float, str, str]:
    """Run the script, Ctrl-C its whole process group as a terminal does; (seconds, out, err)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _INTERRUPTED, str(folder), scheduler],
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(TESTS)])},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("done"), first + proc.communicate(timeout=60)[1]
        deadline = time.monotonic() + 30
        while len(_recorded_pids(folder)) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)  # tasks 0, 1 and 2 started: both workers are asleep in one
        sent = time.perf_counter()
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        elapsed = time.perf_counter() - sent
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130 and "interrupted" in out, err
    return elapsed, out, err


def test_ctrl_c_stops_the_pool(tmp_path: Path) -> None:
    elapsed, _out, err = _interrupt_after_first_task(tmp_path, "")
    assert elapsed < 10, "the running 4 s tasks were waited for"
    # Nothing at all: no worker traceback, no "leaked semaphore" from the resource tracker.
    assert err == "", err
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in _recorded_pids(tmp_path)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in _recorded_pids(tmp_path))
    # The quick first task, then one 4 s task per worker: the queued ten never started.
    assert len(_recorded_pids(tmp_path)) == 3
    # Both running tasks were interrupted in Python (KeyboardInterrupt), not killed.
    assert len(list(tmp_path.glob("*.unwound"))) == 2


def test_ctrl_c_cancels_the_dask_tasks(tmp_path: Path, dask_address: str) -> None:
    from distributed import Client

    elapsed, _out, err = _interrupt_after_first_task(tmp_path, dask_address)
    assert elapsed < 10 and "Traceback" not in err, err
    with Client(dask_address, timeout=10, set_as_default=False) as client:
        # Cancelled tasks leave the scheduler; the two already running finish on their
        # worker threads (Dask cannot stop a thread) and are forgotten.
        deadline = time.monotonic() + 10
        while client.run_on_scheduler(_task_count) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert client.run_on_scheduler(_task_count) == 0
    assert len(_recorded_pids(tmp_path)) == 3  # as with the pool: the queued ten never ran


def _task_count(dask_scheduler: Any) -> int:
    return len(dask_scheduler.tasks)
