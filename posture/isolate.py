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
"""

from __future__ import annotations

import multiprocessing
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_FORK = multiprocessing.get_context("fork")
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


def _entry(conn: Any, work: Work, interrupt: type[BaseException]) -> None:
    try:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPS)  # blocked by the parent to fork
        conn.send(("value", work(lambda value: conn.send(("interim", value)))))
    except interrupt:
        conn.send(("interrupted", None))
    except KeyboardInterrupt:
        conn.send(("interrupted", None))
    except BaseException as exc:  # everything goes back to the parent as text
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


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
    receive, send = _FORK.Pipe(duplex=False)
    child = _FORK.Process(target=_entry, args=(send, work, interrupt), daemon=True)
    started = time.perf_counter()
    # Ctrl-C or SIGTERM during the fork itself would surface inside the at-fork hooks
    # of other libraries (logging prints "Exception ignored ..."): hold them until the
    # child exists, then let them through where they are handled below.
    signal.pthread_sigmask(signal.SIG_BLOCK, _STOPS)
    try:
        child.start()
    except BaseException:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPS)
        raise
    finally:
        send.close()
    deadline = started + limit_s + max(GRACE_S, 0.1 * limit_s)
    interim = None
    try:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPS)
        while True:
            if receive.poll(0.05):
                try:
                    kind, payload = receive.recv()
                except EOFError:  # died while sending
                    child.join()
                    return ChildOutcome(crashed=_describe(child.exitcode), interim=interim)
                if kind == "interim":
                    interim = payload
                    continue
                child.join()
                if kind == "value":
                    return ChildOutcome(value=payload)
                if kind == "interrupted":
                    return ChildOutcome(interrupted=True)
                return ChildOutcome(error=str(payload))
            if not child.is_alive():
                child.join()
                return ChildOutcome(crashed=_describe(child.exitcode), interim=interim)
            if time.perf_counter() > deadline:
                child.kill()
                child.join()
                return ChildOutcome(killed_after=time.perf_counter() - started, interim=interim)
    except KeyboardInterrupt:
        child.kill()
        child.join()
        raise ChildInterrupted("interrupted during the solve") from None
    finally:
        receive.close()
