"""What every CLI command module shares: argument types, error printing, exit codes.

Kept apart from :mod:`posture.cli` so command modules (:mod:`posture.cli_tradeoffs`,
:mod:`posture.cli_compare`) can use it without importing the app that registers them.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from posture.errors import Diagnostic, InputError

if TYPE_CHECKING:
    from posture.loader import ResolvedStudy
    from posture.schema import SolverOptions

StudyArg = Annotated[Path, typer.Argument(help="Study YAML file, e.g. inputs/study.yaml.")]
ScenarioOpt = Annotated[
    str | None, typer.Option("--scenario", "-s", help="Scenario overlay to apply.")
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--set", help="Override one input, path=value (repeatable), e.g. budget.limit_musd=500."
    ),
]
OutOpt = Annotated[
    Path | None, typer.Option("--out", "-o", help="Run folder to create (must not exist).")
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print only the status line.")]
TimeLimitOpt = Annotated[float | None, typer.Option(help="Solver time limit, seconds.")]
GapOpt = Annotated[float | None, typer.Option(help="Relative MIP gap accepted as optimal.")]

EXIT_USAGE, EXIT_INPUT, EXIT_OUTPUT, EXIT_INTERNAL = 2, 3, 11, 1
EXIT_VERIFY_FAILED, EXIT_INTERRUPTED = 8, 130


def err(text: str) -> None:
    """Print a message to stderr, one trailing newline."""
    sys.stderr.write(text.rstrip("\n") + "\n")


def report(diagnostics: list[Diagnostic]) -> None:
    """Print located diagnostics, one per line."""
    for d in diagnostics:
        err(d.format())


def fail_input(exc: InputError) -> NoReturn:
    """Print an input error's diagnostics and exit with the input-error code."""
    report(exc.diagnostics)
    n = len(exc.errors)
    err(f"{n} error{'s' if n != 1 else ''} in the inputs; nothing was written.")
    raise typer.Exit(EXIT_INPUT)


def load_or_exit(study: Path, scenario: str | None, sets: list[str] | None) -> ResolvedStudy:
    """Load a study, or print located errors and exit 3."""
    from posture.loader import load_study

    try:
        return load_study(study, scenario, sets or [])
    except InputError as exc:
        fail_input(exc)


def solver_options(resolved: ResolvedStudy, **changes: Any) -> SolverOptions:
    """The study's solver options with command-line overrides (None = keep), or exit 2."""
    given = {k: v for k, v in changes.items() if v is not None}
    try:
        return resolved.study.solver.model_validate({**resolved.study.solver.model_dump(), **given})
    except Exception as exc:  # pydantic range errors on the command-line values
        err(f"invalid solver option: {exc}")
        raise typer.Exit(EXIT_USAGE) from None
