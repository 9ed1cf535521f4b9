"""Run independent tasks here, in local worker processes, or on a Dask cluster.

:func:`map_tasks` is the one entry point. It returns results in task order whatever the
order of completion, reports each finished task to an optional callback in the calling
process (for a progress bar), stops at the first failing task with a short
:class:`TaskFailed`, and on Ctrl-C cancels what has not run, stops what is running where
it can, and re-raises ``KeyboardInterrupt``.

Tasks and results cross process boundaries by pickling, so with ``workers > 1`` or a
scheduler the function must be importable by name (defined at module level), and on a
cluster the ``posture`` package must be importable by the workers. Local workers are
started fresh (not forked), so a script that calls this with ``workers > 1`` needs the
usual ``if __name__ == "__main__":`` guard; ``posture`` and ``python -m posture`` are safe.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import importlib
import logging
import multiprocessing
import multiprocessing.connection
import signal
import socket
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from typing import Any, TypeVar
from urllib.parse import urlsplit

T = TypeVar("T")
R = TypeVar("R")

# Long enough for a scheduler across a network, short enough that a wrong address is
# reported while the user is still looking at the terminal.
CONNECT_TIMEOUT_S = 5.0

_HINT = "start one with `dask scheduler` and `dask worker ADDRESS`, or check the address"


class TaskFailed(Exception):
    """A task raised: which one (0-based ``index``), and the error's type and message.

    The original exception is chained as ``__cause__`` (with the worker's traceback
    when it ran elsewhere); the message itself is short enough to show a user.
    """

    def __init__(self, index: int, error_type: str, message: str) -> None:
        self.index = index
        self.error_type = error_type
        self.message = message
        detail = f"{error_type}: {message}" if message else error_type
        super().__init__(f"task {index} failed: {detail}")

    def __reduce__(self) -> tuple[type[TaskFailed], tuple[int, str, str]]:
        # The default pickling passes only the formatted message back to __init__.
        return (type(self), (self.index, self.error_type, self.message))


class ClusterUnavailable(Exception):
    """No usable Dask scheduler at the given address (or it lost its connection)."""


def check_scheduler_address(scheduler: str) -> str:
    """The scheduler address as ``tcp://HOST:PORT``, from ``tcp://HOST:PORT`` or ``HOST:PORT``.

    Raises ValueError, naming the expected forms, for anything else; nothing is contacted.
    """
    text = scheduler.strip()
    form = "expected tcp://HOST:PORT or HOST:PORT, e.g. tcp://10.0.0.5:8786"
    if "://" in text:
        scheme = text.split("://", 1)[0]
        if scheme != "tcp":
            raise ValueError(f"scheduler address {scheduler!r}: {form} (not {scheme}://)")
    else:
        text = f"tcp://{text}"
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:  # a port that is not a number in 0-65535
        port = None
        parts = None
    if (
        parts is None
        or not parts.hostname
        or not port
        or parts.username is not None
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
    ):
        raise ValueError(f"scheduler address {scheduler!r}: {form}")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname  # IPv6
    return f"tcp://{host}:{port}"


def map_tasks(
    fn: Callable[[T], R],
    tasks: Sequence[T],
    *,
    workers: int = 1,
    scheduler: str | None = None,
    on_done: Callable[[int, R], None] | None = None,
) -> list[R]:
    """``[fn(task) for task in tasks]``, computed in this process, a pool or on a cluster.

    - ``scheduler=None, workers=1``: here, one task after another.
    - ``scheduler=None, workers=N``: N local worker processes (at most one per task).
    - ``scheduler="tcp://HOST:PORT"`` (or ``HOST:PORT``): the Dask cluster behind that
      scheduler; ``workers`` is ignored, the cluster's workers and threads set the pace.

    ``on_done(index, result)`` runs in this process as each task finishes, in completion
    order. Raises :class:`TaskFailed` for the first task found to have raised (the others
    are cancelled), :class:`ClusterUnavailable` if the scheduler cannot be reached within
    about :data:`CONNECT_TIMEOUT_S` seconds, is not a Dask scheduler, has no workers, or
    drops the connection, and ValueError for a malformed address or ``workers < 1``.

    On a cluster whose workers all leave, tasks wait for new workers as Dask does; start
    the scheduler with ``distributed.scheduler.no-workers-timeout`` set to fail instead.
    """
    address = None if scheduler is None else check_scheduler_address(scheduler)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a whole number >= 1, not {workers!r}")
    if not tasks:
        return []
    if address is not None:
        return _on_cluster(fn, tasks, address, on_done)
    if workers == 1:
        return _in_process(fn, tasks, on_done)
    return _in_pool(fn, tasks, min(workers, len(tasks)), on_done)


def _failure(index: int, error: BaseException) -> TaskFailed:
    return TaskFailed(index, type(error).__name__, str(error))


def _in_order(results: dict[int, R], count: int) -> list[R]:
    return [results[index] for index in range(count)]


def _in_process(
    fn: Callable[[T], R], tasks: Sequence[T], on_done: Callable[[int, R], None] | None
) -> list[R]:
    results: list[R] = []
    for index, task in enumerate(tasks):
        try:
            result = fn(task)
        except Exception as exc:
            raise _failure(index, exc) from exc
        results.append(result)
        if on_done is not None:
            on_done(index, result)
    return results


# Not "fork": by the time a sweep starts, this process has usually solved a model, and
# HiGHS, OpenMP or BLAS may have started threads. fork copies only the calling thread,
# so a lock another thread held stays locked forever in the child (a silent deadlock);
# CPython warns about fork in threaded processes from 3.12 and stops defaulting to it in
# 3.14. A forkserver child starts from a clean single-threaded process and is cheaper
# than spawn; spawn is the fallback where forkserver does not exist (Windows).
_START_METHOD = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


# After the stop signal, how long running tasks get to unwind before SIGKILL. A posture
# solve stops within a fraction of a second (HiGHS is polled every 50 ms).
_GRACE_S = 3.0

# The state of a pool worker, for _on_sigterm: running a task, and told to stop.
_busy = False
_stopping = False


def _worker_setup() -> None:
    """Pool worker initializer: Ctrl-C is for the parent alone; SIGTERM stops tasks.

    A terminal sends SIGINT to the whole foreground process group. Left alone, idle
    workers would die printing their own tracebacks and busy ones would return the
    interrupt as a task error; instead the parent stops them, see :func:`_abandon`.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _on_sigterm)


def _on_sigterm(signum: int, frame: object) -> None:
    """Interrupt the running task, refuse further ones, and leave exiting to the pool.

    The task unwinds as on Ctrl-C (posture's solver stops HiGHS on it). An idle worker
    is not interrupted: it may be halfway through reading a task from the pipe it shares
    with the other workers, and leaving there would hand them a garbled stream. It exits
    normally once the pool, shut down, sends it the stop message, releasing what it holds
    (a worker that dies outright leaves named semaphores behind, pyomo makes one at
    import, and the resource tracker reports them as leaked).
    """
    global _stopping
    _stopping = True
    if _busy:
        raise KeyboardInterrupt


def _call(fn: Callable[[T], R], task: T) -> R:
    """Run one task in a pool worker, marked busy for :func:`_on_sigterm`."""
    global _busy
    _busy = True
    try:
        if _stopping:
            raise KeyboardInterrupt  # a task queued ahead for a worker being stopped
        return fn(task)
    finally:
        _busy = False


def _in_pool(
    fn: Callable[[T], R],
    tasks: Sequence[T],
    workers: int,
    on_done: Callable[[int, R], None] | None,
) -> list[R]:
    pool = cf.ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context(_START_METHOD),
        initializer=_worker_setup,
    )
    results: dict[int, R] = {}
    try:
        # Submitting everything at once is cheap: the pool feeds workers only a few
        # tasks ahead, so the rest stay cancellable in this process.
        index_of = {pool.submit(_call, fn, task): index for index, task in enumerate(tasks)}
        for future in cf.as_completed(index_of):
            index = index_of[future]
            error = future.exception()
            if error is not None:
                raise _failure(index, error) from error
            results[index] = future.result()
            if on_done is not None:
                on_done(index, results[index])
    except BaseException:
        _abandon(pool)
        raise
    pool.shutdown(wait=True)
    return _in_order(results, len(tasks))


def _abandon(pool: cf.ProcessPoolExecutor) -> None:
    """Drop queued tasks and stop running ones now, rather than wait for them.

    A running task may be a solve of minutes whose result nobody wants any more. The
    pool cancels what is queued and tells idle workers to exit; SIGTERM, repeated until
    they have, interrupts running tasks (see :func:`_on_sigterm`); SIGKILL ends any
    worker still there after _GRACE_S. ProcessPoolExecutor has no public way to reach
    its workers before Python 3.14 (``terminate_workers``), hence the snapshot of its
    private process table and manager thread. Futures are not cancelled from here: on
    3.11 the manager thread then dies on them (InvalidStateError) and its feeder thread
    blocks interpreter exit.
    """
    processes: list[Any] = list((getattr(pool, "_processes", None) or {}).values())
    manager: threading.Thread | None = getattr(pool, "_executor_manager_thread", None)
    pool.shutdown(wait=False, cancel_futures=True)
    deadline = time.monotonic() + _GRACE_S
    while alive := [process for process in processes if process.is_alive()]:
        if time.monotonic() > deadline:
            for process in alive:
                process.kill()
            break
        for process in alive:
            process.terminate()
        multiprocessing.connection.wait([process.sentinel for process in alive], 0.2)
    if manager is not None:
        manager.join(_GRACE_S)  # it reaps the workers; bounded in case it is stuck


def _on_cluster(
    fn: Callable[[T], R],
    tasks: Sequence[T],
    address: str,
    on_done: Callable[[int, R], None] | None,
) -> list[R]:
    _check_scheduler(address)
    # Imported here: distributed takes about a second to import, which every other
    # posture command would otherwise pay. It has no type hints, so it is handled as Any.
    dask: Any = importlib.import_module("distributed")
    try:
        client = dask.Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except Exception as exc:
        raise ClusterUnavailable(
            f"cannot connect to the Dask scheduler at {address} ({_describe(exc)}); {_HINT}"
        ) from None
    futures: list[Any] = []
    results: dict[int, R] = {}
    try:
        try:
            client.wait_for_workers(1, timeout=CONNECT_TIMEOUT_S)
        except TimeoutError:
            raise ClusterUnavailable(
                f"the Dask scheduler at {address} has no workers; "
                f"start some with `dask worker {address}`"
            ) from None
        # pure=False: every task runs even if two are equal (Dask would otherwise
        # compute identical calls once), and no time is spent hashing the tasks.
        futures = client.map(fn, tasks, pure=False)
        index_of = {future.key: index for index, future in enumerate(futures)}
        # loop=: as_completed otherwise looks for a default client, and this one is not
        # made the default (it must not leak into the caller's own Dask work).
        for future in dask.as_completed(futures, loop=client.loop):
            index = index_of[future.key]
            if future.status == "error":
                error = future.exception()
                raise _failure(index, error) from error.with_traceback(future.traceback())
            if future.status == "cancelled":
                if client.status == "running":
                    raise ClusterUnavailable(
                        f"task {index} was cancelled on the Dask cluster at {address} "
                        "(restarted, or cancelled by another client)"
                    )
                raise ClusterUnavailable(
                    f"lost the connection to the Dask scheduler at {address} "
                    f"before task {index} finished"
                )
            results[index] = future.result()
            if on_done is not None:
                on_done(index, results[index])
    except BaseException:
        # Queued tasks are dropped; a task already running finishes on its worker (Dask
        # cannot stop a thread), and its result is discarded.
        if client.status == "running":  # not after losing the scheduler: nobody to tell
            with suppress(Exception):
                client.cancel(futures, force=True)
        raise
    finally:
        _close_quietly(client)
    return _in_order(results, len(tasks))


def _close_quietly(client: Any) -> None:
    """Close a Dask client without letting its shutdown errors reach the user.

    Closed while it retries a lost scheduler, a client logs the cancelled retry as an
    ERROR with two tracebacks; by then the loss has been reported as ClusterUnavailable.
    The filter is on the client's logger only, and only while it closes.
    """
    logger = logging.getLogger("distributed.client")
    logger.addFilter(_reject)
    try:
        with suppress(Exception):  # a scheduler already gone must not mask the outcome
            client.close(timeout=CONNECT_TIMEOUT_S)
    finally:
        logger.removeFilter(_reject)


def _reject(record: logging.LogRecord) -> bool:
    return False


def _check_scheduler(address: str) -> None:
    """Make sure a Dask scheduler answers at ``address``, within about CONNECT_TIMEOUT_S.

    A refused connection or an unknown host is reported at once (Dask itself would
    retry until its timeout). Then the server is asked who it is: ``distributed.Client``
    does not bound every wait by its ``timeout``, and pointed at a port where something
    else listens (the dashboard's HTTP port, say) it can wait for an answer forever, or
    read the reply as a frame length and fail allocating it. The probe runs on its own
    event loop in a daemon thread, so whatever happens it cannot hang the caller.
    """
    deadline = time.monotonic() + CONNECT_TIMEOUT_S
    outcome: dict[str, Any] = {}

    async def identify() -> Any:
        rpc: Any = importlib.import_module("distributed.core").rpc
        async with rpc(address, timeout=CONNECT_TIMEOUT_S) as server:
            return await server.identity()

    def probe() -> None:
        try:
            parts = urlsplit(address)
            socket.create_connection((parts.hostname, parts.port), CONNECT_TIMEOUT_S).close()
            outcome["listening"] = True
            left = max(0.1, deadline - time.monotonic())
            outcome["identity"] = asyncio.run(asyncio.wait_for(identify(), left))
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=probe, name="posture-dask-probe", daemon=True)
    thread.start()
    thread.join(CONNECT_TIMEOUT_S + 1.0)
    identity = outcome.get("identity")
    if isinstance(identity, dict) and identity.get("type") == "Scheduler":
        return
    if isinstance(identity, dict):
        problem = f"it is a Dask {identity.get('type', 'server')}, not the scheduler"
    elif outcome.get("listening"):
        # Typically the dashboard's port (8787) given instead of the scheduler's (8786);
        # how the exchange failed (silence, or garbage read as Dask frames) is noise.
        problem = "something listens there, but it does not speak Dask"
    else:
        problem = _describe(outcome.get("error", TimeoutError()))
    raise ClusterUnavailable(f"no Dask scheduler at {address} ({problem}); {_HINT}")


def _describe(error: BaseException) -> str:
    """A one-line account of a connection error, without library internals."""
    if isinstance(error, TimeoutError):  # asyncio.TimeoutError is this class since 3.11
        return f"no answer within {CONNECT_TIMEOUT_S:g} s"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, socket.gaierror):
        return "unknown host"
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
