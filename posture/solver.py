"""The one module that talks to HiGHS.

The Pyomo model is compiled to a sparse matrix with Pyomo's standard-form
compiler and handed to highspy in bulk. The HiGHS result is turned into a typed
:class:`SolveStatus`; a time-limited incumbent is kept and labelled with its gap.
Solution vectors are returned only for an accepted status, never stale values.
"""

from __future__ import annotations

import math
import os
import sys
import time
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

from posture.schema import SolverOptions


class SolveStatus(StrEnum):
    """What a solve established, in the terms the exit codes use."""

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"  # a limit stopped the search with an incumbent
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    INFEASIBLE_OR_UNBOUNDED = "infeasible_or_unbounded"
    NO_SOLUTION = "no_solution"  # a limit stopped the search before any incumbent
    ERROR = "error"

    @property
    def has_solution(self) -> bool:
        return self in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)


@dataclass(frozen=True)
class CompiledModel:
    """The model as HiGHS sees it, with the Pyomo objects behind each column and row."""

    lp: Any  # highspy.HighsLp
    model: Any  # the Pyomo model, kept alive: its components hold only weak parent links
    columns: list[Any]
    rows: list[Any]  # pyomo RowEntry: (constraint, bound_type)
    objective_offset: float


@dataclass
class SolveResult:
    status: SolveStatus
    highs_status: str
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    col_values: np.ndarray | None = None
    row_values: np.ndarray | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    highs_version: str = ""


def _new_highs() -> Any:
    """A silent Highs object: its constructor prints a banner straight to fd 1."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            h = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    h.setOptionValue("output_flag", False)
    return h


def highs_version() -> str:
    """The HiGHS library version, for manifests."""
    return str(_new_highs().version())


def compile_model(model: pyo.ConcreteModel) -> CompiledModel:
    """Compile the Pyomo model to HiGHS's column-wise matrix form."""
    repn = LinearStandardFormCompiler().write(model, mixed_form=True, set_sense=None)
    (objective,) = repn.objectives
    sense = 1.0 if objective.sense == pyo.minimize else -1.0
    a = repn.A.tocsc()
    n_rows, n_cols = a.shape
    lp = highspy.HighsLp()
    lp.num_col_ = n_cols
    lp.num_row_ = n_rows
    cost = np.asarray(repn.c.toarray()).ravel() if n_cols else np.zeros(0)
    lp.col_cost_ = cost * sense
    lp.offset_ = float(np.ravel(repn.c_offset)[0]) * sense if np.size(repn.c_offset) else 0.0
    lower = np.array([v.lb if v.lb is not None else -highspy.kHighsInf for v in repn.columns])
    upper = np.array([v.ub if v.ub is not None else highspy.kHighsInf for v in repn.columns])
    lp.col_lower_ = lower
    lp.col_upper_ = upper
    rhs = np.asarray(repn.rhs, dtype=float)
    kinds = np.array([row.bound_type for row in repn.rows], dtype=int)
    lp.row_lower_ = np.where(kinds == 1, -highspy.kHighsInf, rhs) if n_rows else rhs
    lp.row_upper_ = np.where(kinds == -1, highspy.kHighsInf, rhs) if n_rows else rhs
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr
    lp.a_matrix_.index_ = a.indices
    lp.a_matrix_.value_ = a.data
    lp.a_matrix_.num_col_ = n_cols
    lp.a_matrix_.num_row_ = n_rows
    integer = highspy.HighsVarType.kInteger
    lp.integrality_ = [
        integer if v.is_integer() or v.is_binary() else highspy.HighsVarType.kContinuous
        for v in repn.columns
    ]
    lp.sense_ = highspy.ObjSense.kMinimize
    # Names make an exported MPS auditable: place[patriot,korea,korea], coverage_floor[...].
    lp.col_names_ = [v.name for v in repn.columns]
    seen: set[str] = set()
    row_names = []
    for row in repn.rows:
        name = row.constraint.name
        while name in seen:  # a ranged constraint compiles to two rows
            name += "_up"
        seen.add(name)
        row_names.append(name)
    lp.row_names_ = row_names
    return CompiledModel(lp, model, list(repn.columns), list(repn.rows), lp.offset_ / 1.0)


def _highs(compiled: CompiledModel, options: SolverOptions) -> Any:
    h = _new_highs()
    h.setOptionValue("time_limit", float(options.time_limit_s))
    h.setOptionValue("mip_rel_gap", float(options.mip_rel_gap))
    h.setOptionValue("threads", int(options.threads))
    h.setOptionValue("random_seed", int(options.seed))
    if options.node_limit is not None:
        h.setOptionValue("mip_max_nodes", int(options.node_limit))
    h.passModel(compiled.lp)
    return h


_LIMITS = {
    "kTimeLimit",
    "kIterationLimit",
    "kSolutionLimit",
    "kInterrupt",
    "kObjectiveBound",
    "kObjectiveTarget",
    "kMemoryLimit",
}


class SolveInterrupted(Exception):
    """The user interrupted the solve (Ctrl-C or SIGTERM); HiGHS was stopped first."""


def _run(h: Any, wall_limit: float) -> bool:
    """Run HiGHS in its own thread; stop it at the wall-clock limit or on Ctrl-C.

    HiGHS's own ``time_limit`` is soft (a 120 s limit has returned after 313 s), so
    the wall clock is enforced here through the user-interrupt callback, which keeps
    any incumbent. Returns True when the wall-clock limit stopped the search.
    """
    h.HandleUserInterrupt = True
    deadline = time.perf_counter() + wall_limit
    thread = h.startSolve()
    cancelled = False
    try:
        while not h.wait(0.05)[0]:
            if not cancelled and time.perf_counter() > deadline:
                h.cancelSolve()
                cancelled = True
    except KeyboardInterrupt:
        h.cancelSolve()
        thread.join(timeout=30.0)
        raise SolveInterrupted("interrupted during the solve") from None
    thread.join()
    return cancelled


def solve_compiled(
    compiled: CompiledModel, options: SolverOptions, upper: dict[int, float] | None = None
) -> SolveResult:
    """Run HiGHS on a compiled model and classify the outcome.

    ``upper`` overrides some column upper bounds (used to relax one rule at a time).
    """
    t0 = time.perf_counter()
    h = _highs(compiled, options)
    for col, value in (upper or {}).items():
        h.changeColBounds(col, compiled.lp.col_lower_[col], value)
    t1 = time.perf_counter()
    wall_stopped = _run(h, options.time_limit_s)
    t2 = time.perf_counter()
    status_name = h.modelStatusToString(h.getModelStatus())
    raw = str(h.getModelStatus()).split(".")[-1]
    if wall_stopped and raw == "kInterrupt":
        status_name = f"wall-clock limit of {options.time_limit_s:g} s reached"
    info = h.getInfo()
    has_incumbent = info.primal_solution_status == 2  # kSolutionStatusFeasible
    result = SolveResult(
        SolveStatus.ERROR,
        status_name,
        seconds={"handoff": t1 - t0, "solve": t2 - t1},
        highs_version=highs_version(),
    )
    if raw == "kModelEmpty":  # nothing to decide: the objective is its constant
        result.status = SolveStatus.OPTIMAL
        result.objective = result.bound = float(compiled.lp.offset_)
        result.gap = 0.0
        result.col_values, result.row_values = np.zeros(0), np.zeros(0)
        return result
    if raw == "kOptimal":
        result.status = SolveStatus.OPTIMAL
    elif raw == "kInfeasible":
        result.status = SolveStatus.INFEASIBLE
    elif raw == "kUnbounded":
        result.status = SolveStatus.UNBOUNDED
    elif raw == "kUnboundedOrInfeasible":
        result.status = SolveStatus.INFEASIBLE_OR_UNBOUNDED
    elif raw in _LIMITS:
        result.status = SolveStatus.FEASIBLE if has_incumbent else SolveStatus.NO_SOLUTION
    is_mip = any(t == highspy.HighsVarType.kInteger for t in compiled.lp.integrality_)
    bound = info.mip_dual_bound if is_mip else None
    if result.status.has_solution:
        objective = float(info.objective_function_value)
        if not math.isfinite(objective):
            result.status, result.highs_status = SolveStatus.ERROR, "non-finite objective"
            return result
        solution = h.getSolution()
        result.objective = _snap(objective)
        result.bound = (
            _snap(float(bound)) if bound is not None and math.isfinite(bound) else result.objective
        )
        result.gap = _gap(result.objective, result.bound)
        result.col_values = np.array(solution.col_value, dtype=float)
        result.row_values = np.array(solution.row_value, dtype=float)
    elif bound is not None and math.isfinite(bound):
        result.bound = float(bound)
    return result


@dataclass(frozen=True)
class IisResult:
    """An irreducible infeasible subset: rows that cannot hold together."""

    valid: bool  # False: HiGHS found no IIS (e.g. only integrality makes it infeasible)
    rows: tuple[int, ...]
    lp_feasible: bool  # the LP relaxation alone is feasible


def find_iis(compiled: CompiledModel) -> IisResult:
    """Ask HiGHS for an IIS of an infeasible model (strategy 6; the default 0 finds none)."""
    h = _new_highs()
    h.passModel(compiled.lp)
    h.setOptionValue("iis_strategy", 6)
    lp = _new_highs()
    lp.passModel(compiled.lp)
    n = compiled.lp.num_col_
    if n:
        lp.changeColsIntegrality(
            n, np.arange(n, dtype=np.int32), np.full(n, highspy.HighsVarType.kContinuous)
        )
    lp.run()
    lp_feasible = str(lp.getModelStatus()).endswith("kOptimal")
    if lp_feasible:  # an IIS needs an infeasible LP relaxation
        return IisResult(False, (), True)
    h.run()
    _, iis = h.getIis()
    return IisResult(bool(iis.valid_), tuple(int(i) for i in iis.row_index_), False)


def _snap(x: float) -> float:
    """Round floating-point residue (5e-15 for a zero-cost posture) to an exact 0."""
    return 0.0 if abs(x) < 1e-9 else x


def _gap(objective: float, bound: float) -> float:
    """Relative gap |objective - bound| / max(1, |objective|).

    The max(1, .) keeps a near-zero objective (peacetime: 5e-15 against a bound of 0)
    from reporting a large relative gap made of rounding noise.
    """
    return abs(objective - bound) / max(1.0, abs(objective))


def write_mps(compiled: CompiledModel, path: Path) -> None:
    """Write the compiled model as free MPS for audit with other solvers."""
    h = _new_highs()
    h.passModel(compiled.lp)
    h.writeModel(str(path))
