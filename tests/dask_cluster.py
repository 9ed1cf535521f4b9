"""A real local Dask cluster for tests: a scheduler and workers as separate processes.

Nothing is simulated: each process is started from the command line exactly as a user
would start it (``dask scheduler`` / ``dask worker ADDRESS``), listens on 127.0.0.1, and
talks to the test over TCP. Use it as a context manager::

    with local_dask_cluster(workers=2) as address:
        results = map_tasks(fn, tasks, scheduler=address)

or, in a test module, as the module-scoped fixture ``dask_address`` (one cluster per
module) by declaring ``pytest_plugins = ["dask_cluster"]`` at the top of the module.

PYTEST_DONT_REWRITE: this module has no asserts to rewrite, and the marker keeps pytest
from warning when a test module imports it before loading it as a plugin.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"

# Starting Python processes that import distributed takes a few seconds each on a
# loaded two-core machine; a minute is generous yet still fails a broken setup promptly.
START_TIMEOUT_S = 60.0
STOP_GRACE_S = 5.0


@contextmanager
def local_dask_cluster(workers: int = 2, timeout: float = START_TIMEOUT_S) -> Iterator[str]:
    """Start a scheduler and ``workers`` single-threaded workers on 127.0.0.1.

    ``workers=0`` gives a scheduler alone, to test what happens when nobody can work.
    Yields the scheduler address (``tcp://127.0.0.1:PORT``) once every worker is
    connected. All processes are killed (whole process groups, so nannies and their
    worker processes too) when the block ends, however it ends. Each process logs to a
    file whose tail is quoted if the cluster does not come up.
    """
    with tempfile.TemporaryDirectory(prefix="posture-dask-") as tmp, ExitStack() as stack:
        folder = Path(tmp)
        # Workers unpickle tasks by module name: functions from the posture package and
        # from test modules (imported by pytest as top-level modules from tests/).
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(TESTS)])}
        scheduler_file = folder / "scheduler.json"
        scheduler = _start(
            "scheduler",
            [
                "distributed.cli.dask_scheduler",
                *("--host", "127.0.0.1", "--port", "0", "--no-dashboard"),
                # --no-dashboard drops only the Bokeh pages: an HTTP server still listens,
                # on 8787 unless told otherwise, which would collide between clusters.
                *("--dashboard-address", "127.0.0.1:0"),
                *("--scheduler-file", str(scheduler_file)),
            ],
            folder,
            env,
            stack,
        )
        deadline = time.monotonic() + timeout
        address = _wait_for_address(scheduler, scheduler_file, folder, deadline)
        for number in range(workers):
            _start(
                f"worker-{number}",
                [
                    "distributed.cli.dask_worker",
                    address,
                    *("--nworkers", "1", "--nthreads", "1", "--no-dashboard"),
                    *("--host", "127.0.0.1", "--name", f"worker-{number}"),
                    *("--local-directory", str(folder / f"worker-{number}")),
                ],
                folder,
                env,
                stack,
            )
        if workers:
            _wait_for_workers(address, workers, folder, deadline)
        yield address


@pytest.fixture(scope="module")
def dask_address() -> Iterator[str]:
    """The address of a real two-worker local Dask cluster, shared by one test module."""
    with local_dask_cluster(workers=2) as address:
        yield address


def _start(
    name: str, module_args: list[str], folder: Path, env: dict[str, str], stack: ExitStack
) -> subprocess.Popen[bytes]:
    """Start ``python -m MODULE ...`` in its own process group, logging to NAME.log."""
    log = stack.enter_context((folder / f"{name}.log").open("wb"))
    proc = subprocess.Popen(
        [sys.executable, "-m", *module_args],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=folder,
        start_new_session=True,  # its own group: one killpg reaches the nanny's children
    )
    # Registered before anything can fail, and unwound in reverse: workers stop first.
    stack.callback(_stop, proc)
    return proc


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group, then SIGKILL whatever is left of it."""
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    with suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=STOP_GRACE_S)
    # The leader can exit before its children (a nanny before its worker): none may survive.
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _wait_for_address(
    scheduler: subprocess.Popen[bytes], scheduler_file: Path, folder: Path, deadline: float
) -> str:
    """The scheduler's address, read from the file it writes once it listens."""
    while time.monotonic() < deadline:
        if scheduler.poll() is not None:
            raise RuntimeError(f"the scheduler exited early:\n{_logs(folder)}")
        try:
            return str(json.loads(scheduler_file.read_text())["address"])
        except (FileNotFoundError, json.JSONDecodeError, KeyError):
            time.sleep(0.1)  # not written yet, or written only in part
    raise RuntimeError(f"the scheduler did not start in time:\n{_logs(folder)}")


def _wait_for_workers(address: str, workers: int, folder: Path, deadline: float) -> None:
    """Block until ``workers`` workers have registered with the scheduler."""
    from distributed import Client

    with Client(address, timeout=10, set_as_default=False) as client:
        try:
            client.wait_for_workers(workers, timeout=max(1.0, deadline - time.monotonic()))
        except TimeoutError:
            raise RuntimeError(
                f"{workers} workers did not connect in time:\n{_logs(folder)}"
            ) from None


def _logs(folder: Path, lines: int = 20) -> str:
    """The last lines of every process log, for a failure message."""
    parts = []
    for log in sorted(folder.glob("*.log")):
        tail = log.read_text(errors="replace").splitlines()[-lines:]
        parts.append(f"--- {log.name}\n" + "\n".join(tail))
    return "\n".join(parts)
