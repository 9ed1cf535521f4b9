"""Trade-off commands: frontier, alternatives, marginal values and sweeps.

A thin layer: each command loads the study, calls one library function, writes a
run folder atomically (:mod:`posture.tradeoff_report`) and prints a short table.
Exit codes as for ``solve``: 0 done, 3 bad input, 4 infeasible study, 10 some
solves stopped by a limit (results kept, marked), 11 unwritable output, 130
interrupted (nothing written).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from posture.cli_common import (
    EXIT_INPUT,
    EXIT_INTERRUPTED,
    EXIT_OUTPUT,
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
    solver_options,
)
from posture.errors import InputError, OutputError

if TYPE_CHECKING:
    import pandas as pd

    from posture.load import ResolvedStudy
    from posture.writer import RunFiles

EXIT_INFEASIBLE, EXIT_FEASIBLE = 4, 10
T = TypeVar("T")


def _guarded(work: Callable[[], T]) -> T:
    """Run a computation: input errors exit 3, an interrupted solve exits 130."""
    from posture.solver import SolveInterrupted

    try:
        return work()
    except InputError as exc:
        fail_input(exc)
    except SolveInterrupted:
        err("interrupted during a solve; nothing was written.")
        raise typer.Exit(EXIT_INTERRUPTED) from None


def _write(resolved: ResolvedStudy, command: str, files: RunFiles, out: Path | None) -> Path:
    from posture.tradeoff_report import tradeoff_run_name
    from posture.writer import clean_stale_temps, write_run

    run_dir = out if out is not None else Path("results") / tradeoff_run_name(resolved, command)
    clean_stale_temps(run_dir.parent)
    try:
        return write_run(run_dir, files, update_latest=False)
    except OutputError as exc:
        err(f"cannot write results: {exc}")
        raise typer.Exit(EXIT_OUTPUT) from None


def _show(title: str, df: pd.DataFrame, columns: list[str] | None = None, limit: int = 25) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    columns = columns or list(df.columns)
    table = Table(title=escape(title), title_justify="left")
    for col in columns:
        table.add_column(escape(str(col)))
    for _, row in df.head(limit).iterrows():
        cells = [row[c] for c in columns]
        table.add_row(*(escape(f"{v:.6g}" if isinstance(v, float) else str(v)) for v in cells))
    if len(df) > limit:
        table.caption = f"... {len(df) - limit} more rows in the run folder"
    Console(highlight=False, soft_wrap=True).print(table)


def _options(resolved: ResolvedStudy, time_limit: float | None, gap: float | None) -> Any:
    return solver_options(resolved, time_limit_s=time_limit, mip_rel_gap=gap)


ObjectivesOpt = Annotated[
    str,
    typer.Option(
        "--objectives",
        help="Two or three criteria, comma-separated, all minimised: shortfall, cost, "
        "turbulence or shortfall.<theatre>, e.g. shortfall.korea,shortfall.middle_east.",
    ),
]


def frontier(
    study: StudyArg,
    objectives: ObjectivesOpt,
    points: Annotated[
        int, typer.Option(help="Grid points per constrained objective (AUGMECON2).")
    ] = 11,
    exact: Annotated[
        bool, typer.Option(help="Two objectives: every efficient point, not a grid.")
    ] = False,
    scenario: ScenarioOpt = None,
    sets: SetOpt = None,
    out: OutOpt = None,
    time_limit: TimeLimitOpt = None,
    gap: GapOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Pareto frontier between two or three objectives (augmented epsilon-constraint)."""
    resolved = load_or_exit(study, scenario, sets)
    options = _options(resolved, time_limit, gap)
    from posture.charts import frontier_chart
    from posture.frontier import compute_frontier
    from posture.solver import SolveStatus
    from posture.tradeoff_report import tradeoff_files

    names = [n.strip() for n in objectives.split(",") if n.strip()]
    result = _guarded(
        lambda: compute_frontier(resolved, options, names, points=points, exact=exact)
    )
    if not result.points:
        err(f"no frontier: {result.message}")
        raise typer.Exit(EXIT_INFEASIBLE)
    tables = result.tables()
    headline = (
        f"FRONTIER {' vs '.join(result.objectives)} - scenario {resolved.scenario or 'base'}: "
        f"{len(result.points)} efficient points from {result.solves} solves "
        f"({result.bypassed} grid points bypassed) in {result.seconds:.1f} s"
        + (f"; {result.message}" if result.message else "")
    )
    chart = frontier_chart(tables["frontier"], result.objectives, headline)
    files = tradeoff_files(
        resolved,
        options,
        command="frontier",
        headline=headline,
        tables=tables,
        figures={
            "status": result.status.value,
            "objectives": list(result.objectives),
            "points": len(result.points),
            "grid_points": points,
            "exact": exact,
            "solves": result.solves,
            "infeasible_solves": result.infeasible_solves,
            "bypassed": result.bypassed,
            "seconds": {"compute": round(result.seconds, 6)},
        },
        charts={"frontier.svg": chart},
    )
    run_dir = _write(resolved, "frontier", files, out)
    typer.echo(headline)
    if not quiet:
        _show("Payoff table (each objective optimised first)", tables["frontier_payoff"])
        _show("Efficient points", tables["frontier"], ["point", *result.objectives])
    typer.echo(f"Run folder: {run_dir}")
    raise typer.Exit(0 if result.status is SolveStatus.OPTIMAL else EXIT_FEASIBLE)


def register(app: typer.Typer) -> None:
    """Add the trade-off commands to the app."""
    app.command()(frontier)


__all__ = ["EXIT_INPUT", "register"]
