"""Fuzz suite setup: import paths for the helpers, and a count of what was executed.

``tests/fuzz`` (for ``strategies``) and ``tests`` (for ``bruteforce`` and ``helpers``)
go on ``sys.path``: the test folders are not packages. At the end of the session a
summary of the generated cases is printed, so a run can be quoted as
"N cases, 0 failures".
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
for folder in (HERE, HERE.parent):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from strategies import STATS  # noqa: E402


def summary_lines(failed: int) -> list[str]:
    """The end-of-session summary of the fuzz cases executed (empty if none ran)."""
    if not STATS:
        return []
    loads = STATS["load.cases"]
    lines = [
        f"in-process: {loads} generated cases loaded "
        f"({STATS['load.valid']} valid -> study, {STATS['load.invalid']} invalid -> "
        f"located InputError); generator said valid/invalid/either: "
        f"{STATS['load.expect.valid']}/{STATS['load.expect.invalid']}/{STATS['load.expect.any']}",
        "  by origin: "
        + ", ".join(
            f"{key.removeprefix('load.origin.')} {n}"
            for key, n in sorted(STATS.items())
            if key.startswith("load.origin.")
        ),
        f"  diagnostics checked: {STATS['load.diagnostics']}",
        f"solves: {STATS['solve.cases']} valid tiny studies solved ("
        + ", ".join(
            f"{key.removeprefix('solve.status.')} {n}"
            for key, n in sorted(STATS.items())
            if key.startswith("solve.status.")
        )
        + ")",
        f"CLI: {STATS['cli.cases']} subprocess runs ("
        + ", ".join(
            f"exit {key.removeprefix('cli.exit.')}: {n}"
            for key, n in sorted(STATS.items())
            if key.startswith("cli.exit.")
        )
        + ")",
        f"total: {loads + STATS['solve.cases'] + STATS['cli.cases']} cases, "
        f"{failed} failing fuzz test{'s' if failed != 1 else ''}",
    ]
    return lines


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print what the fuzz tests executed, and how many of them failed."""
    failed = sum(1 for r in terminalreporter.stats.get("failed", []) if "tests/fuzz/" in r.nodeid)
    lines = summary_lines(failed)
    if lines:
        terminalreporter.section("posture fuzz summary")
        for line in lines:
            terminalreporter.write_line(line)
