"""The short terminal summary of a run (rich), with every user string escaped."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

from posture.run import RunResult
from posture.terminal import safe


def _cell(value: object) -> str:
    """Escape rich markup and show control characters, so names cannot restyle the terminal."""
    text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
    return safe(text)


def _table(title: str, df: pd.DataFrame, columns: list[str], limit: int = 15) -> Table:
    table = Table(title=title, title_justify="left", show_lines=False)
    for col in columns:
        table.add_column(col, justify="right" if pd.api.types.is_numeric_dtype(df[col]) else "left")
    for _, row in df.head(limit).iterrows():
        table.add_row(*(_cell(row[c]) for c in columns))
    if len(df) > limit:
        table.caption = f"... {len(df) - limit} more rows in the run folder"
    return table


def print_summary(result: RunResult, run_dir: Path | None, console: Console) -> None:
    """Status line, coverage shortfalls, moves and cost terms; then where the files are."""
    console.print(f"[bold]{_cell(result.headline)}[/bold]")
    tables = result.tables
    if "coverage" in tables:
        cov = tables["coverage"]
        console.print(
            _table(
                "Coverage (capability by theatre)",
                cov,
                ["theatre", "capability", "floor", "target", "provided", "shortfall"],
                30,
            )
        )
    if "moves" in tables and len(tables["moves"]):
        console.print(
            _table(
                "Moves from today's posture",
                tables["moves"],
                ["asset", "origin", "units", "unit", "from", "to", "cost_musd"],
            )
        )
    if "replacements" in tables and len(tables["replacements"]):
        console.print(
            _table(
                "Replacements activated",
                tables["replacements"],
                ["source", "theatre", "units", "lead_time_days", "cost_musd"],
            )
        )
    if "cost_breakdown" in tables:
        console.print(
            _table(
                "Objective terms", tables["cost_breakdown"], ["term", "value", "weight", "weighted"]
            )
        )
    if run_dir is not None:
        console.print(f"Run folder: {_cell(run_dir)}")
