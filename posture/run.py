"""Solve one resolved study: data, model, HiGHS, and either tables or a diagnosis.

This is the library's solve path; the CLI and the Python API both call
:func:`solve_study`. Results are extracted only from an accepted status.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

import pandas as pd

from posture.data import ModelData, build_model_data, edited_model_data
from posture.diagnose import (
    Conflict,
    conflicts_table,
    explain_elastic,
    iis_conflicts,
    impossible_rules,
    supply_conflicts,
)
from posture.errors import Diagnostic
from posture.extract import extract_solution, row_identity, violation_columns
from posture.loader import ResolvedStudy
from posture.model import build_model
from posture.schema import SolverOptions
from posture.solver import (
    CompiledModel,
    SolveResult,
    SolveStatus,
    compile_model,
    find_iis,
    solve_compiled,
)
from posture.tables import result_tables


class ExitCode(IntEnum):
    """Process exit codes, as documented in README.md and RELIABILITY.md."""

    OK = 0
    INTERNAL = 1
    USAGE = 2
    INPUT = 3
    INFEASIBLE = 4
    UNBOUNDED = 5
    NO_SOLUTION = 6
    SOLVER_ERROR = 7
    VERIFY_FAILED = 8
    FEASIBLE = 10
    OUTPUT = 11
    INTERRUPTED = 130


_EXIT = {
    SolveStatus.OPTIMAL: ExitCode.OK,
    SolveStatus.FEASIBLE: ExitCode.FEASIBLE,
    SolveStatus.INFEASIBLE: ExitCode.INFEASIBLE,
    SolveStatus.UNBOUNDED: ExitCode.UNBOUNDED,
    SolveStatus.INFEASIBLE_OR_UNBOUNDED: ExitCode.UNBOUNDED,
    SolveStatus.NO_SOLUTION: ExitCode.NO_SOLUTION,
    SolveStatus.ERROR: ExitCode.SOLVER_ERROR,
}


@dataclass
class RunResult:
    """Everything one solve produced: status, figures, tables or diagnosis."""

    resolved: ResolvedStudy
    options: SolverOptions
    status: SolveStatus
    highs_status: str
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    diagnosis: list[Diagnostic] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    highs_version: str = ""
    model_size: dict[str, int] = field(default_factory=dict)

    @property
    def exit_code(self) -> ExitCode:
        return _EXIT[self.status]

    @property
    def headline(self) -> str:
        """One line for table captions and the terminal."""
        scen = self.resolved.scenario or "base"
        if self.status is SolveStatus.OPTIMAL:
            return (
                f"OPTIMAL (within {self.options.mip_rel_gap:g} relative gap) - scenario {scen}, "
                f"objective {self.objective:.6g}, bound {self.bound:.6g}, gap {100 * (self.gap or 0):.4g} %"
            )
        if self.status is SolveStatus.FEASIBLE:
            return (
                f"FEASIBLE - not proven optimal - scenario {scen}, objective {self.objective:.6g}, "
                f"bound {self.bound:.6g}, gap {100 * (self.gap or 0):.4g} %"
            )
        return (
            f"{self.status.value.upper().replace('_', ' ')} - scenario {scen} ({self.highs_status})"
        )


def _capability_units(resolved: ResolvedStudy) -> dict[str, str]:
    return {c: spec.unit for c, spec in resolved.study.capabilities.items()}


def _explain_infeasible(
    data: ModelData, compiled: CompiledModel, resolved: ResolvedStudy, options: SolverOptions
) -> tuple[list[Conflict], list[Diagnostic]]:
    """The smallest conflicting set of rules (HiGHS IIS), each with the relaxation that
    alone restores feasibility; the elastic re-solve when no IIS exists."""
    units = _capability_units(resolved)
    elastic = compile_model(build_model(data, elastic=True))
    violations = violation_columns(elastic)
    iis = find_iis(compiled)
    if iis.valid and iis.rows:
        members: list[tuple[str, object, float | None]] = []
        for row in iis.rows:
            family, idx = row_identity(compiled, row)
            col, amount = violations.get((family, idx)), None
            if col is not None:  # relax this rule alone: every other violation fixed at 0
                others = {c: 0.0 for c in violations.values() if c != col}
                outcome = solve_compiled(elastic, options, upper=others)
                if outcome.status.has_solution and outcome.col_values is not None:
                    amount = float(outcome.col_values[col])
            members.append((family, idx, amount))
        return iis_conflicts(members, resolved.index, units), []
    notes = []
    if iis.lp_feasible:
        notes.append(
            Diagnostic(
                "the LP relaxation is feasible: only the whole-unit requirements make this study "
                "infeasible, so no irreducible conflict set exists; the rules below are the cheapest "
                "relaxation found by the elastic re-solve",
                resolved.index.fallback,  # about the study as a whole: its file, line 1
            )
        )
    outcome = solve_compiled(elastic, options)
    if not outcome.status.has_solution:
        return [], notes
    solution = extract_solution(elastic, outcome)
    return explain_elastic(solution, resolved.index, units), notes


def _with_added(resolved: ResolvedStudy, added: dict[tuple[str, object], int]) -> ModelData:
    """The study with the suggested units added, as model data (for the verifying solve)."""

    def add(doc: dict[str, Any]) -> None:
        for (family, idx), n in added.items():
            if family == "units_added":
                a, o = (str(part) for part in idx)  # type: ignore[attr-defined]
                doc["assets"][a]["inventory"][o] += n
            else:
                doc["replacement_sources"][idx]["available"] += n

    return edited_model_data(resolved, add)


def _suggest_supply(
    data: ModelData, resolved: ResolvedStudy, options: SolverOptions
) -> list[Conflict]:
    """The fewest units to add (to held assets and to sources) that make the study
    feasible with every rule kept, confirmed by solving the study with them added."""
    supply = compile_model(build_model(data, supply=True))
    outcome = solve_compiled(supply, options)
    if not outcome.status.has_solution:
        return []
    solution = extract_solution(supply, outcome)
    added = {
        (family, idx): round(value)
        for family in ("units_added", "sources_added")
        for idx, value in solution.values.get(family, {}).items()
        if round(value) > 0
    }
    if not added:
        return []
    check = compile_model(build_model(_with_added(resolved, added)))
    if not solve_compiled(check, options).status.has_solution:
        return []  # the supply model's reading of the change was too kind: say nothing
    return supply_conflicts(added, resolved.index, resolved.study)


def solve_study(resolved: ResolvedStudy, options: SolverOptions | None = None) -> RunResult:
    """Build and solve the study's model; tables on success, a diagnosis otherwise."""
    options = options or resolved.study.solver
    t0 = time.perf_counter()
    data = build_model_data(resolved.study)
    units = _capability_units(resolved)
    impossible = impossible_rules(data, resolved.index, units)
    if impossible:
        return RunResult(
            resolved,
            options,
            SolveStatus.INFEASIBLE,
            "infeasible by construction (pre-solve check)",
            tables={"infeasibility": conflicts_table(impossible)},
            diagnosis=[c.diagnostic for c in impossible],
            seconds={"build": time.perf_counter() - t0},
        )
    model = build_model(data)
    compiled = compile_model(model)
    t1 = time.perf_counter()
    outcome: SolveResult = solve_compiled(compiled, options)
    result = RunResult(
        resolved,
        options,
        outcome.status,
        outcome.highs_status,
        outcome.objective,
        outcome.bound,
        outcome.gap,
        seconds={"build": t1 - t0, **outcome.seconds},
        highs_version=outcome.highs_version,
        model_size={
            "columns": len(compiled.columns),
            "rows": len(compiled.rows),
            "integers": sum(1 for v in compiled.columns if v.is_integer()),
        },
    )
    t2 = time.perf_counter()
    if outcome.status.has_solution and outcome.objective is not None:
        solution = extract_solution(compiled, outcome)
        result.tables = result_tables(
            resolved.study, data, solution, outcome.objective, resolved.index
        )
    elif outcome.status in (SolveStatus.INFEASIBLE, SolveStatus.INFEASIBLE_OR_UNBOUNDED):
        conflicts, notes = _explain_infeasible(data, compiled, resolved, options)
        if conflicts:
            result.status = SolveStatus.INFEASIBLE
        additions = _suggest_supply(data, resolved, options) if conflicts else []
        result.diagnosis = notes + [c.diagnostic for c in conflicts + additions]
        result.tables = {"infeasibility": conflicts_table(conflicts + additions)}
    result.seconds["extract"] = time.perf_counter() - t2
    return result
