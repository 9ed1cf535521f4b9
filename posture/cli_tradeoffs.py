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

    from posture.loader import ResolvedStudy
    from posture.writer import RunFiles

EXIT_INFEASIBLE, EXIT_SOLVER, EXIT_FEASIBLE = 4, 7, 10
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
    from rich.table import Table

    from posture.terminal import safe

    columns = columns or list(df.columns)
    table = Table(title=safe(title), title_justify="left")
    for col in columns:
        table.add_column(safe(str(col)))
    for _, row in df.head(limit).iterrows():
        cells = [row[c] for c in columns]
        table.add_row(*(safe(f"{v:.6g}" if isinstance(v, float) else str(v)) for v in cells))
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
    # Captions and charts carry no timings, so equal inputs give equal files.
    caption = (
        f"FRONTIER {' vs '.join(result.objectives)} - scenario {resolved.scenario or 'base'}: "
        f"{len(result.points)} efficient points from {result.solves} solves "
        f"({result.bypassed} grid points bypassed)"
        + (f"; {result.message}" if result.message else "")
    )
    headline = f"{caption} in {result.seconds:.1f} s"
    chart = frontier_chart(tables["frontier"], result.objectives, caption)
    files = tradeoff_files(
        resolved,
        options,
        command="frontier",
        headline=caption,
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


ParamOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--param",
        help="Grid axis, path=v1,v2,... or path=start:stop:step (repeatable; all "
        "combinations are solved), e.g. requirements.korea.air_missile_defence.floor=4:10:2.",
    ),
]
SampleOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--sample",
        help="Uncertain input, path=uniform(lo,hi) | normal(mean,sd) | triangular(lo,mode,hi) "
        "| randint(lo,hi) | choice(a,b,...) (repeatable; with --samples).",
    ),
]


def sweep(
    study: StudyArg,
    params: ParamOpt = None,
    samples_from: SampleOpt = None,
    samples: Annotated[int, typer.Option(help="Monte Carlo points to draw.")] = 100,
    seed: Annotated[int, typer.Option(help="Random seed for --sample draws.")] = 0,
    workers: Annotated[int, typer.Option(help="Local worker processes.")] = 1,
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler address, e.g. tcp://10.0.0.5:8786.")
    ] = None,
    rebuild: Annotated[
        bool, typer.Option(help="Rebuild the model for every point (for comparison).")
    ] = False,
    scenario: ScenarioOpt = None,
    sets: SetOpt = None,
    out: OutOpt = None,
    time_limit: TimeLimitOpt = None,
    gap: GapOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Solve a grid (--param) or Monte Carlo sample (--sample) of what-ifs; one tidy table."""
    from posture.loader import read_study_files
    from posture.sweep import grid_points, parse_axis, parse_sampler, plan_points, sample_points

    if bool(params) == bool(samples_from):
        err("give --param axes (a grid) or --sample distributions (Monte Carlo), not both")
        raise typer.Exit(2)
    if workers < 1 or samples < 1:
        err("--workers and --samples must be at least 1")
        raise typer.Exit(2)
    try:
        files = read_study_files(study)
        base = load_or_exit(study, scenario, sets)
        if params:
            assignments = grid_points([parse_axis(t, k) for k, t in enumerate(params, 1)])
        else:
            drawn = [parse_sampler(t, k) for k, t in enumerate(samples_from or [], 1)]
            assignments = sample_points(drawn, samples, seed, base.data)
        resolved, points = plan_points(files, scenario, sets or [], assignments)
    except InputError as exc:
        fail_input(exc)
    options = _options(resolved, time_limit, gap)
    _run_sweep(resolved, points, options, workers, scheduler, rebuild, out, quiet, seed)


def _run_sweep(
    resolved: ResolvedStudy,
    points: list[Any],
    options: Any,
    workers: int,
    scheduler: str | None,
    rebuild: bool,
    out: Path | None,
    quiet: bool,
    seed: int,
) -> None:
    from rich.progress import Progress

    from posture.charts import sweep_chart
    from posture.distribute import ClusterUnavailable, TaskFailed
    from posture.sweep import run_sweep
    from posture.tradeoff_report import tradeoff_files

    try:
        with Progress(transient=True, disable=quiet) as progress:
            task = progress.add_task("solving", total=len(points))
            result = _guarded(
                lambda: run_sweep(
                    points,
                    options,
                    workers=workers,
                    scheduler=scheduler,
                    in_place=not rebuild,
                    on_progress=lambda n: progress.advance(task, n),
                )
            )
    except (ClusterUnavailable, TaskFailed, ValueError) as exc:
        err(f"sweep failed: {exc}; nothing was written.")
        raise typer.Exit(EXIT_SOLVER) from None
    except KeyboardInterrupt:
        err("interrupted; nothing was written.")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    table = result.table
    solved = int(table["status"].isin(["optimal", "feasible"]).sum())
    # Captions and charts carry no timings or worker split, so equal sweeps give equal files.
    caption = (
        f"SWEEP - scenario {resolved.scenario or 'base'}: {len(points) - 1} points "
        f"(+ point 0, the unchanged study), {solved} with a plan"
    )
    reused = (
        f" ({result.reused} of them proven optimal from remembered plans; "
        f"{result.highs_runs} HiGHS solves in all)"
        if result.reused
        else ""
    )
    headline = (
        f"{caption}, in {result.seconds:.1f} s = {result.points_per_second:.1f} points/s; "
        f"{result.in_place} re-solved in place{reused}, {result.rebuilt} built"
    )
    swept = [c for c in table.columns[1 : 1 + len(points[-1].assignments)]]
    measures = [m for m in ("objective", "shortfall", "cost", "turbulence") if m in table]
    numeric = len(swept) > 0 and pd_numeric(table[swept[0]].iloc[1:])
    charts = (
        {
            "sweep.svg": sweep_chart(
                table.iloc[1:].astype({swept[0]: float}), swept[0], measures, caption
            )
        }
        if numeric
        else {}
    )
    files = tradeoff_files(
        resolved,
        options,
        command="sweep",
        headline=caption,
        tables={"sweep": table},
        figures={
            "points": len(points) - 1,
            "with_plan": solved,
            "points_per_second": round(result.points_per_second, 3),
            "in_place": result.in_place,
            "reused": result.reused,
            "highs_runs": result.highs_runs,
            "rebuilt": result.rebuilt,
            "workers": workers,
            "scheduler": scheduler,
            "seed": seed,
            "seconds": {
                "sweep": round(result.seconds, 6),
                "setup_total": round(float(result.timings["setup_s"].sum()), 6),
                "solve_total": round(float(result.timings["solve_s"].sum()), 6),
            },
        },
        charts=charts,
    )
    run_dir = _write(resolved, "sweep", files, out)
    typer.echo(headline)
    if not quiet:
        _show("Sweep (first rows)", table, ["point", *swept, "status", *measures], limit=15)
    typer.echo(f"Run folder: {run_dir}")
    limited = bool(table["status"].isin(["feasible", "no_solution"]).any())
    raise typer.Exit(EXIT_FEASIBLE if limited else 0)


def pd_numeric(values: Any) -> bool:
    """True when every value of a column parses as a number."""
    try:
        [float(v) for v in values]
    except (TypeError, ValueError):
        return False
    return True


def marginal(
    study: StudyArg,
    scenario: ScenarioOpt = None,
    sets: SetOpt = None,
    out: OutOpt = None,
    time_limit: TimeLimitOpt = None,
    gap: GapOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Value of one more unit of each asset and source, and the price of each hard rule."""
    resolved = load_or_exit(study, scenario, sets)
    options = _options(resolved, time_limit, gap)
    from posture.marginal import marginal_values
    from posture.tradeoff_report import tradeoff_files

    result = _guarded(lambda: marginal_values(resolved, options))
    if result.objective is None:
        err(
            f"no marginal values: the study itself is {result.status.value} ({result.highs_status})"
        )
        raise typer.Exit(EXIT_INFEASIBLE)
    table = result.marginal_values
    headline = (
        f"MARGINAL VALUES - scenario {resolved.scenario or 'base'}: objective "
        f"{result.objective:.6g}, {len(table)} what-ifs ({result.updates} re-solved in place, "
        f"{result.rebuilds} built); value = objective saved by one more unit, or a rule's price"
    )
    files = tradeoff_files(
        resolved,
        options,
        command="marginal",
        headline=headline,
        tables=result.tables,
        figures={
            "status": result.status.value,
            "objective": result.objective,
            "lp_objective_integers_fixed": result.lp_objective,
            "what_ifs": len(table),
            "in_place": result.updates,
            "rebuilt": result.rebuilds,
            "seconds": {k: round(v, 6) for k, v in result.seconds.items()},
        },
    )
    run_dir = _write(resolved, "marginal", files, out)
    typer.echo(headline)
    if not quiet:
        _show("Largest values", table, ["kind", "item", "value", "status", "location"], limit=20)
    typer.echo(f"Run folder: {run_dir}")
    failed = bool(table["status"].isin(["feasible", "no_solution", "error"]).any())
    raise typer.Exit(EXIT_FEASIBLE if failed else 0)


def _fraction(text: str) -> float:
    """``5%`` or ``0.05`` as 0.05; a usage error otherwise."""
    raw = text.strip()
    try:
        value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        value = float("nan")
    if not (value >= 0 and value < float("inf")):
        err(f"--within: expected a percentage such as 5% or a fraction such as 0.05, got {text!r}")
        raise typer.Exit(2)
    return value


def alternatives(
    study: StudyArg,
    within: Annotated[
        str, typer.Option(help="Slack over the optimum's objective: 5% or 0.05.")
    ] = "5%",
    count: Annotated[int, typer.Option(help="Alternatives to find.")] = 5,
    scenario: ScenarioOpt = None,
    sets: SetOpt = None,
    out: OutOpt = None,
    time_limit: TimeLimitOpt = None,
    gap: GapOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Postures as different as possible from each other, all within a slack of the optimum."""
    fraction = _fraction(within)
    if count < 1:
        err("--count must be at least 1")
        raise typer.Exit(2)
    resolved = load_or_exit(study, scenario, sets)
    options = _options(resolved, time_limit, gap)
    from posture.alternatives import find_alternatives
    from posture.tradeoff_report import tradeoff_files

    result = _guarded(lambda: find_alternatives(resolved, options, within=fraction, count=count))
    if result.objective is None:
        err(result.note)
        raise typer.Exit(EXIT_INFEASIBLE)
    headline = (
        f"ALTERNATIVES - scenario {resolved.scenario or 'base'}: optimum {result.objective:.6g}; "
        f"{result.note}"
    )
    files = tradeoff_files(
        resolved,
        options,
        command="alternatives",
        headline=headline,
        tables=result.tables,
        figures={
            "status": result.status.value,
            "objective": result.objective,
            "within": fraction,
            "requested": count,
            "found": result.found,
            "exhausted": result.exhausted,
            "stopped": result.stopped,
            "seconds": {k: round(v, 6) for k, v in result.seconds.items()},
        },
    )
    run_dir = _write(resolved, "alternatives", files, out)
    typer.echo(headline)
    if not quiet:
        _show("Postures (rank 0 is the optimum)", result.tables["alternatives"])
        _show("What differs", result.tables["alternatives_differences"], limit=30)
    typer.echo(f"Run folder: {run_dir}")
    raise typer.Exit(EXIT_FEASIBLE if result.stopped else 0)


def register(app: typer.Typer) -> None:
    """Add the trade-off commands to the app."""
    app.command()(alternatives)
    app.command()(marginal)
    app.command()(frontier)
    app.command()(sweep)


__all__ = ["EXIT_INPUT", "register"]
