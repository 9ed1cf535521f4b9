"""``posture compare RUN_A RUN_B``: what moved differently, coverage and cost deltas.

The library (:mod:`posture.compare`), pandas and the writer are imported inside the
command, so ``posture --help`` stays light; nothing here needs Pyomo or HiGHS.
"""

from __future__ import annotations

import numbers
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from posture.cli_common import EXIT_OUTPUT, err, fail_input
from posture.errors import InputError, OutputError

if TYPE_CHECKING:
    import pandas as pd
    from rich.table import Table

    from posture.compare import Comparison

RunArg = Annotated[Path, typer.Argument(help="A run folder written by 'posture solve'.")]
CompareOutOpt = Annotated[
    Path | None,
    typer.Option("--out", "-o", help="Folder to write the tables to (must not exist)."),
]
CompareQuietOpt = Annotated[
    bool, typer.Option("--quiet", "-q", help="Print only the one-line verdict.")
]
_ROWS = 20  # per terminal table; --out writes every row

# What the terminal shows of each table (the written tables hold every column): its
# title, key columns, then figures under short headers so the table fits 80 columns.
_SHOWN: dict[str, tuple[str, list[str], dict[str, str]]] = {
    "posture_delta": (
        "Posture: units by location",
        ["asset", "origin", "location"],
        {"units_a": "A", "units_b": "B", "delta": "B-A"},
    ),
    "moves_delta": (
        "Moves: units",
        ["asset", "origin", "from", "to"],
        {"units_a": "A", "units_b": "B", "delta": "B-A", "cost_musd_delta": "MUSD B-A"},
    ),
    "coverage_delta": (
        "Coverage: provided",
        ["theatre", "capability"],
        {
            "provided_a": "A",
            "provided_b": "B",
            "provided_delta": "B-A",
            "shortfall_delta": "shortfall\nB-A",
            "status": "status",
        },
    ),
    "replacements_delta": (
        "Replacements activated: units",
        ["source", "theatre"],
        {"units_a": "A", "units_b": "B", "delta": "B-A", "cost_musd_delta": "MUSD B-A"},
    ),
    "personnel_delta": (
        "Personnel",
        ["theatre"],
        {"personnel_a": "A", "personnel_b": "B", "delta": "B-A"},
    ),
    "cost_delta": (
        "Objective terms, weighted",
        ["term"],
        {"weighted_a": "A", "weighted_b": "B", "weighted_delta": "B-A"},
    ),
}


def _text(value: object, signed: bool = False) -> str:
    """A cell for the terminal: numbers short (deltas signed), text with markup escaped."""
    from posture.terminal import safe

    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return safe(str(value))
    sign = "+" if signed and value else ""
    return f"{int(value):{sign}d}" if isinstance(value, numbers.Integral) else f"{value:{sign}.6g}"


def _table(name: str, df: pd.DataFrame) -> Table:
    from rich.table import Table

    title, keys, figures = _SHOWN[name]
    if name == "coverage_delta":  # one column, "a -> b" where the status changed
        changed = df["status_a"] != df["status_b"]
        df = df.assign(
            status=df["status_a"].where(~changed, df["status_a"] + " -> " + df["status_b"])
        )
    headers = {**{k: k for k in keys}, **figures}
    if (df["presence"] != "both").any():  # runs of different studies
        headers["presence"] = "presence"
    table = Table(title=title, title_justify="left")
    for col, header in headers.items():
        if col in keys or col in ("status", "presence"):
            table.add_column(header, no_wrap=True)  # words stay whole; figures wrap instead
        else:
            table.add_column(header, justify="right")
    for row in df.head(_ROWS)[list(headers)].itertuples(index=False, name=None):
        table.add_row(*(_text(v, c.endswith("delta")) for c, v in zip(headers, row, strict=True)))
    if len(df) > _ROWS:
        table.caption = f"... {len(df) - _ROWS} more rows; --out DIR writes them all"
    return table


def _verdict(cmp: Comparison) -> str:
    """One line: identical, or the differing rows per table and the objective change."""
    if cmp.identical:
        return f"identical: {cmp.a.path} and {cmp.b.path} have the same plan, coverage and costs"
    counts = ", ".join(
        f"{name.removesuffix('_delta')} ({n} row{'s' if n > 1 else ''})"
        for name, n in cmp.counts.items()
        if n
    )
    a, b = cmp.a.objective, cmp.b.objective
    return f"they differ in {counts}; objective {a:.10g} -> {b:.10g} ({b - a:+.6g})"


def compare(
    run_a: RunArg, run_b: RunArg, out: CompareOutOpt = None, quiet: CompareQuietOpt = False
) -> None:
    """Compare two runs: what moved differently, coverage and cost deltas (B minus A)."""
    from rich.console import Console

    from posture.compare import compare_runs
    from posture.writer import RunFiles, write_run

    try:
        cmp = compare_runs(run_a, run_b)
    except InputError as exc:
        fail_input(exc)
    if out is not None:
        files = RunFiles(cmp.tables, cmp.manifest(), {}, cmp.headline())
        try:
            write_run(out, files, update_latest=False)
        except OutputError as exc:
            err(f"cannot write the comparison: {exc}")
            raise typer.Exit(EXIT_OUTPUT) from None
    console = Console(highlight=False, soft_wrap=True)
    if not quiet and not cmp.identical:
        console.print(f"A = {_text(cmp.a.describe())}")
        console.print(f"B = {_text(cmp.b.describe())}")
        for name, df in cmp.tables.items():
            if name in _SHOWN and len(df):
                console.print(_table(name, df))
    console.print(_text(_verdict(cmp)))
    if out is not None and not quiet:
        console.print(f"Comparison folder: {_text(out)}")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("compare")(compare)
