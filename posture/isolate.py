"""Run one solve in a forked child process, so a native crash cannot take us down.

HiGHS is native code: a segfault or the kernel's out-of-memory killer would end the
whole program without a word, and HiGHS can stay in presolve past any time limit
without polling its interrupt callback (seen on 571k-column models). In a child,
a crash becomes a status the caller reports (exit 7), and a child still running
after the limit plus a grace period is killed (exit 6; no plan, unless the child had
already sent one as an interim result).

``fork`` is used on purpose: the child starts at once with the compiled model (or a
kept model's HiGHS object) already in memory, nothing to pickle on the way in, and
works on its own copy. No solve is running in the parent when it forks; small kept
models do solve in process between forks, which the tests cover with HiGHS threads.
The fork is ``os.fork`` itself, not a ``multiprocessing.Process``: Dask workers are
daemonic processes, which ``multiprocessing`` forbids to have children, and a sweep of
a large study solves there.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

GRACE_S = 5.0  # beyond the wall-clock limit, before a child that did not stop is killed


@dataclass(frozen=True)
class ChildOutcome:
    """What became of the child: a value, an error text, a signal, or a forced stop."""

    value: Any = None
    error: str | None = None  # an exception raised in the child, as text
    crashed: str | None = None  # "signal 11 (SIGSEGV)" or "exit code 3"
    killed_after: float | None = None  # seconds, when the child had to be killed
    interrupted: bool = False  # the child saw Ctrl-C/SIGTERM and stopped the solver
    interim: Any = None  # the last value the child sent through its ``interim`` callback


class ChildInterrupted(Exception):
    """The solve was interrupted (the child was stopped)."""


_STOPS = {signal.SIGINT, signal.SIGTERM}


Work = Callable[[Callable[[Any], None]], Any]
"""The child's work: called with an ``interim(value)`` callback, returns the result."""


def _entry(conn: Any, unused_end: Any, work: Work, interrupt: type[BaseException]) -> NoReturn:
    """The child's whole life: run the work, send what became of it, leave at once
    (``os._exit``: the parent's atexit handlers and buffers are not the child's)."""
    code = 0
    try:
        unused_end.close()  # the parent's reading end
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPS)  # blocked by the parent to fork
        conn.send(("value", work(lambda value: conn.send(("interim", value)))))
    except interrupt:
        conn.send(("interrupted", None))
    except KeyboardInterrupt:
        conn.send(("interrupted", None))
    except BaseException as exc:  # everything goes back to the parent as text
        try:
            conn.send(("error", f"{type(exc).__name__}: {exc}"))
        except BaseException:
            code = 1
    finally:
        try:
            conn.close()
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _receive(conn: Any) -> tuple[str, Any] | None:
    """The child's next message; None when it died before or while sending (a
    truncated message raises OSError, not EOFError)."""
    try:
        kind, payload = conn.recv()
    except (EOFError, OSError):
        return None
    return str(kind), payload


def _final(kind: str, payload: Any) -> ChildOutcome:
    """The outcome a last message (anything but "interim") stands for."""
    if kind == "value":
        return ChildOutcome(value=payload)
    if kind == "interrupted":
        return ChildOutcome(interrupted=True)
    return ChildOutcome(error=str(payload))


class _Child:
    """A forked child's pid, reaped at most once."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.exit_code: int | None = None  # set once reaped

    def poll(self, wait_s: float = 0.0) -> int | None:
        """The exit code once the child has ended (waiting up to ``wait_s``), else None."""
        deadline = time.perf_counter() + wait_s
        while self.exit_code is None:
            try:
                done, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped already, between our bookkeeping steps
                self.exit_code = 0
                break
            if done:
                self.exit_code = os.waitstatus_to_exitcode(status)
            elif time.perf_counter() >= deadline:
                break
            else:
                time.sleep(0.01)
        return self.exit_code

    def stop(self) -> None:
        """Kill the child (unless it has ended) and reap it."""
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            self.poll(wait_s=60.0)


def _describe(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = "unknown signal"
        return f"signal {-code} ({name})"
    return f"exit code {code}"


def run_in_child(
    work: Work, limit_s: float, interrupt: type[BaseException] = KeyboardInterrupt
) -> ChildOutcome:
    """Run ``work(interim)`` in a forked child; its return value must pickle.

    What the child passes to ``interim`` (a plan found so far) comes back with a crash
    or a forced stop, so a solve killed in HiGHS's presolve can still report it.

    ``interrupt`` is the exception the work raises when it was interrupted. A
    KeyboardInterrupt in the parent (Ctrl-C, or SIGTERM turned into one) kills the
    child and raises :class:`ChildInterrupted`.
    """
    sys.stdout.flush()  # the child must not write the parent's buffered output again
    sys.stderr.flush()
    receive, send = multiprocessing.Pipe(duplex=False)
    started = time.perf_counter()
    # Ctrl-C or SIGTERM during the fork itself would surface inside the at-fork hooks
    # of other libraries (logging prints "Exception ignored ..."): hold them until the
    # child exists, then let them through where they are handled below.
    signal.pthread_sigmask(signal.SIG_BLOCK, _STOPS)
    try:
        pid = os.fork()
    except BaseException:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPS)
        send.close()
        receive.close()
        raise
    if pid == 0:
        _entry(send, receive, work, interrupt)
    child = _Child(pid)
    send.close()
    deadline = started + limit_s + max(GRACE_S, 0.1 * limit_s)
    interim = None
    try:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPS)
        while True:
            if receive.poll(0.05):
                message = _receive(receive)
                if message is None:  # died while sending
                    child.poll(GRACE_S)
                    child.stop()
                    return ChildOutcome(crashed=_describe(child.exit_code), interim=interim)
                if message[0] == "interim":
                    interim = message[1]
                    continue
                # a child that cannot even exit (a lock held at fork) is not waited for
                if child.poll(GRACE_S) is None:
                    child.stop()
                return _final(*message)
            code = child.poll()
            if code is not None:
                # it may have sent its answer between our poll and its exit
                while receive.poll(0) and (message := _receive(receive)) is not None:
                    if message[0] != "interim":
                        return _final(*message)
                    interim = message[1]
                return ChildOutcome(crashed=_describe(code), interim=interim)
            if time.perf_counter() > deadline:
                child.stop()
                return ChildOutcome(killed_after=time.perf_counter() - started, interim=interim)
    except KeyboardInterrupt:
        child.stop()
        raise ChildInterrupted("interrupted during the solve") from None
    finally:
        child.stop()  # any other way out (SystemExit, an error here) kills it too
        receive.close()
