"""The command line: a thin Typer layer over the library.

Heavy modules (Pyomo, HiGHS, pandas) are imported inside the commands that need
them, so ``posture --help``, ``validate`` and ``scenarios`` start fast. Exit codes
are documented in README.md.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import sys
import tempfile
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from posture import cli_compare, cli_tradeoffs
from posture.cli_common import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OUTPUT,
    EXIT_VERIFY_FAILED,
    GapOpt,
    OutOpt,
    QuietOpt,
    ScenarioOpt,
    SetOpt,
    StudyArg,
    TimeLimitOpt,
    err,
    fail_input,
    load_or_exit,
    report,
    solver_options,
)
from posture.errors import InputError, OutputError

if TYPE_CHECKING:
    from posture.loader import ResolvedStudy
    from posture.schema import SolverOptions

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    # Plain help and usage errors: Typer's rich formatting imports rich and markdown-it
    # and triples the start-up time of `posture --help` (issue 5 measures this).
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    help="Force-posture optimization: where scarce assets sit and what each choice costs.",
)


@app.command()
def validate(study: StudyArg) -> None:
    """Check a study and every scenario in it without solving."""
    from posture.loader import validate_all

    try:
        names, warnings = validate_all(study)
    except InputError as exc:
        fail_input(exc)
    report(list(warnings))
    typer.echo(f"{study}: valid (base study and {len(names)} scenarios)")


@app.command()
def scenarios(study: StudyArg) -> None:
    """List the scenario names of a study, one a line."""
    from posture.loader import read_study_files

    try:
        files = read_study_files(study)
    except InputError as exc:
        fail_input(exc)
    for name in files.scenarios:
        typer.echo(name)


@app.command()
def schema(
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="File to write; stdout if absent.")
    ] = None,
) -> None:
    """Write the JSON Schema of study files, for editor autocompletion and checking."""
    from posture.schema import schema_json

    text = schema_json()
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")


@app.command()
def solve(
    study: StudyArg,
    scenario: ScenarioOpt = None,
    sets: SetOpt = None,
    out: OutOpt = None,
    time_limit: TimeLimitOpt = None,
    gap: GapOpt = None,
    threads: Annotated[int | None, typer.Option(help="HiGHS threads.")] = None,
    seed: Annotated[int | None, typer.Option(help="HiGHS random seed.")] = None,
    node_limit: Annotated[
        int | None, typer.Option(help="Branch-and-bound node limit (reproducible).")
    ] = None,
    quiet: QuietOpt = False,
) -> None:
    """Solve a study (optionally one scenario) and write results/<run>/."""
    resolved = load_or_exit(study, scenario, sets)
    report(list(resolved.warnings))

    options = solver_options(
        resolved,
        time_limit_s=time_limit,
        mip_rel_gap=gap,
        threads=threads,
        seed=seed,
        node_limit=node_limit,
    )
    code, _ = _solve_and_write(resolved, options, out, quiet)
    raise typer.Exit(code)


def _solve_and_write(
    resolved: ResolvedStudy, options: SolverOptions, out: Path | None, quiet: bool
) -> tuple[int, Path]:
    """Solve, write the run folder atomically, print the summary; the exit code and folder."""
    from rich.console import Console

    from posture.check import check_run
    from posture.report import default_run_name, run_files
    from posture.run import solve_study
    from posture.solver import SolveInterrupted
    from posture.writer import clean_stale_temps, discard, point_latest, quarantine, write_run

    try:
        result = solve_study(resolved, options)
    except SolveInterrupted:
        err("interrupted during the solve; nothing was written.")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    run_dir = out if out is not None else Path("results") / default_run_name(result)
    clean_stale_temps(run_dir.parent)
    code = int(result.exit_code)
    ours = not os.path.lexists(run_dir)  # write_run refuses a folder that exists already
    try:
        final = write_run(run_dir, run_files(result), update_latest=False)
        if result.status.has_solution:
            # Every plan is re-verified from the files alone before it may become 'latest'.
            verdict = check_run(final)
            if verdict.ok:
                point_latest(final)
            else:
                final = quarantine(final)
                err(verdict.format())
                err(f"verification failed; the plan is quarantined in {final}")
                code = EXIT_VERIFY_FAILED
    except OutputError as exc:
        err(f"cannot write results: {exc}")
        raise typer.Exit(EXIT_OUTPUT) from None
    except KeyboardInterrupt:
        if ours and os.path.lexists(run_dir):
            discard(run_dir)  # not yet committed: an interrupted run leaves nothing
        err("interrupted; nothing was written.")
        raise
    # Committed: the run exists and 'latest' names it, so finish rather than report 130.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    console = Console(stderr=False, highlight=False, soft_wrap=True)
    if quiet:
        console.print(result.headline, markup=False)
    else:
        from posture.console import print_summary

        print_summary(result, final, console)
    if result.diagnosis:
        report(result.diagnosis)
    return code, final


@app.command()
def check(
    run: Annotated[Path, typer.Argument(help="A run folder written by 'posture solve'.")],
) -> None:
    """Re-verify a run folder from its resolved inputs and tables alone (no solver, no model)."""
    from posture.check import check_run

    try:
        verdict = check_run(run)
    except InputError as exc:
        fail_input(exc)
    typer.echo(verdict.format())
    raise typer.Exit(0 if verdict.ok else EXIT_VERIFY_FAILED)


@app.command()
def rerun(
    run: Annotated[Path, typer.Argument(help="A run folder written by 'posture solve'.")],
    out: OutOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Solve a past run again from its manifest and compare the tables byte for byte."""
    from posture.rerun import differing_files, rerun_inputs

    try:
        resolved, options = rerun_inputs(run)
    except InputError as exc:
        fail_input(exc)
    code, final = _solve_and_write(resolved, options, out, quiet)
    differ = differing_files(run, final)
    if differ:
        err(f"not reproduced: {', '.join(differ)} differ from {run}")
    else:
        typer.echo(f"reproduced: every result file of {run} is identical in {final}")
    raise typer.Exit(code)


@app.command()
def export(
    study: StudyArg,
    mps: Annotated[Path, typer.Option("--mps", help="MPS file to write.")],
    scenario: ScenarioOpt = None,
    sets: SetOpt = None,
) -> None:
    """Write the study's model as an MPS file, for audit with other solvers."""
    resolved = load_or_exit(study, scenario, sets)
    from posture.data import build_model_data
    from posture.model import build_model
    from posture.solver import compile_model, write_mps

    try:
        write_mps(compile_model(build_model(build_model_data(resolved.study))), mps)
    except OSError as exc:
        err(f"cannot write {mps}: {exc.strerror}")
        raise typer.Exit(EXIT_OUTPUT) from None
    typer.echo(f"wrote {mps}")


cli_tradeoffs.register(app)
cli_compare.register(app)


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM ends a run like Ctrl-C: solver stopped, temporary files removed, exit 130."""
    raise KeyboardInterrupt


def _caused_by_interrupt(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, KeyboardInterrupt):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    err(str(exc.code))
    return 1


def _leave(code: int) -> NoReturn:
    """Exit with ``code`` and nothing after it: a late signal cannot change the outcome.

    A SIGTERM arriving while Python unwinds and finalises would otherwise surface as
    an uncaught KeyboardInterrupt, and the process would die by SIGINT (exit -2)
    instead of the code already decided. Signals are blocked first; the one place a
    pending handler can still run is retried.
    """
    while True:
        try:
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(OSError, ValueError):  # a closed pipe, say
                    stream.flush()
            break
        except KeyboardInterrupt:
            continue  # the command has finished: its code stands
    os._exit(code)


def main() -> None:
    """Entry point: Typer maps usage errors to 2 and Ctrl-C to 130; a bug becomes exit 1."""
    signal.signal(signal.SIGTERM, _terminate)
    code = EXIT_INTERNAL
    try:
        try:
            app()
        except SystemExit as exc:  # how Typer ends every command
            code = _exit_code(exc)
        except KeyboardInterrupt:  # outside a command (while Typer builds the app)
            err("interrupted; nothing was written.")
            code = EXIT_INTERRUPTED
        except Exception as exc:  # the last line of defence: no traceback for users
            if _caused_by_interrupt(exc):  # e.g. Ctrl-C inside an import, as RuntimeError
                err("interrupted; nothing was written.")
                code = EXIT_INTERRUPTED
            else:
                stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
                log = Path(tempfile.gettempdir()) / f"posture-crash-{stamp}.log"
                log.write_text(traceback.format_exc(), encoding="utf-8")
                err(f"internal error: {type(exc).__name__}: {exc}")
                err(f"the traceback is saved in {log}; please report it")
                code = EXIT_INTERNAL
    except KeyboardInterrupt:  # a signal while an outcome above was being reported
        code = EXIT_INTERRUPTED
    _leave(code)
