"""The one module that reads solution values back through the Pyomo model's names.

HiGHS returns plain vectors; the compiled model says which Pyomo variable and
constraint sits at each position. This turns them into values keyed by the
formulation's component names and index tuples, for the tables to use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from posture.solver import CompiledModel, SolveResult

Index = Any  # a Pyomo index: a string, a tuple of strings, or None


@dataclass(frozen=True)
class RowValue:
    family: str
    index: Index
    activity: float
    lower: float | None
    upper: float | None


@dataclass(frozen=True)
class Solution:
    """Values by variable name and index, and each constraint row's activity."""

    values: dict[str, dict[Index, float]]
    rows: tuple[RowValue, ...]

    def value(self, name: str, index: Index, default: float = 0.0) -> float:
        return self.values.get(name, {}).get(index, default)


def extract_solution(compiled: CompiledModel, result: SolveResult) -> Solution:
    """Map an accepted solve's vectors onto the model's names; integers are rounded."""
    if result.col_values is None or result.row_values is None:
        raise ValueError("no accepted solution to extract")
    values: dict[str, dict[Index, float]] = {}
    for (name, index, integer), x in zip(compiled.column_keys, result.col_values, strict=True):
        values.setdefault(name, {})[index] = float(round(x)) if integer else float(x)
    rows = []
    lower, upper = compiled.lp.row_lower_, compiled.lp.row_upper_
    for i, ((name, index), activity) in enumerate(
        zip(compiled.row_keys, result.row_values, strict=True)
    ):
        lo, up = float(lower[i]), float(upper[i])
        rows.append(
            RowValue(
                name, index, float(activity), lo if lo > -1e30 else None, up if up < 1e30 else None
            )
        )
    return Solution(values, tuple(rows))


def row_identity(compiled: CompiledModel, row: int) -> tuple[str, Index]:
    """The constraint family and index behind one matrix row."""
    return compiled.row_keys[row]


def violation_columns(compiled: CompiledModel) -> dict[tuple[str, Index], int]:
    """Columns of an elastic model's violation variables, by (rule family, index)."""
    found = {}
    for col, (name, index, _) in enumerate(compiled.column_keys):
        if name.endswith("_violation"):
            found[name.removesuffix("_violation"), index] = col
    return found


def decision_columns(compiled: CompiledModel, names: tuple[str, ...]) -> list[int]:
    """Columns of the named variables, in column order (a variable the compiler dropped
    is in no row and no objective, so it has no column and decides nothing)."""
    return [col for col, (name, _, _) in enumerate(compiled.column_keys) if name in names]
