"""The one module that talks to HiGHS.

The Pyomo model is compiled to a sparse matrix with Pyomo's standard-form
compiler and handed to highspy in bulk. The HiGHS result is turned into a typed
:class:`SolveStatus`; a time-limited incumbent is kept and labelled with its gap.
Solution vectors are returned only for an accepted status, never stale values.
"""

from __future__ import annotations

import functools
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.repn import generate_standard_repn
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

from posture.reuse import LpNumbers, Proof, SolvedPoint, crossing, prove, settled_columns
from posture.schema import SolverOptions
from posture.sparse_matrix import numpy_matrices


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
    is_mip: bool = False

    @functools.cached_property
    def column_keys(self) -> list[tuple[str, Any, bool]]:
        """Each column's variable family, index and whether it is integer (looked up
        once: a sweep reads every point's solution through them)."""
        return [(v.parent_component().name, v.index(), v.is_integer()) for v in self.columns]

    @functools.cached_property
    def position(self) -> dict[int, int]:
        """Each column's position, by the id of its Pyomo variable."""
        return {id(v): j for j, v in enumerate(self.columns)}

    @functools.cached_property
    def linear_forms(self) -> dict[int, Any]:
        """Linear expressions already read (:func:`_linear`), by the id of their owner."""
        return {}

    @functools.cached_property
    def row_keys(self) -> list[tuple[str, Any]]:
        """Each row's constraint family and index."""
        return [(r.constraint.parent_component().name, r.constraint.index()) for r in self.rows]


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
    extra_values: np.ndarray | None = None  # columns added to a KeptModel, in order
    neighbourhood: Any = None  # NeighbourhoodStart, when the LP-guided search ran
    reused: bool = False  # a remembered plan, proven optimal without a solve (posture/reuse.py)
    highs_runs: int = 1  # HiGHS solves behind this answer (KeptModel: 0 to 2)


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
    with numpy_matrices():  # no scipy import: see posture/sparse_matrix.py
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
    is_mip = bool(_integer_columns(lp).any())
    return CompiledModel(lp, model, list(repn.columns), list(repn.rows), lp.offset_ / 1.0, is_mip)


def _integer_columns(lp: Any) -> np.ndarray:
    """Which columns of a HighsLp are integer (a boolean mask)."""
    integer = highspy.HighsVarType.kInteger
    return np.array([t == integer for t in lp.integrality_], dtype=bool)


def _highs_time_limit(options: SolverOptions) -> float:
    """HiGHS's own (soft) limit: the user's. Whichever stops the search first wins:
    HiGHS's clock where it checks it, our interrupt (:func:`_run`) where it polls the
    callback, and the child process's kill where it does neither."""
    return float(options.time_limit_s)


def _highs(lp: Any, options: SolverOptions) -> Any:
    """A silent Highs object holding ``lp`` (a HighsLp), with the user's options."""
    h = _new_highs()
    h.setOptionValue("time_limit", _highs_time_limit(options))
    h.setOptionValue("mip_rel_gap", float(options.mip_rel_gap))
    h.setOptionValue("threads", int(options.threads))
    h.setOptionValue("random_seed", int(options.seed))
    if options.node_limit is not None:
        h.setOptionValue("mip_max_nodes", int(options.node_limit))
    h.passModel(lp)
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
    """Run HiGHS on a compiled model, in a child process, and classify the outcome.

    ``upper`` overrides some column upper bounds (used to relax one rule at a time).
    A crash of the child (segfault, out-of-memory kill) is an ERROR naming the signal;
    a child that does not stop at the wall-clock limit is killed (NO_SOLUTION, or the
    LP-guided search's plan when it had found one).
    """
    return _solve_in_child(
        lambda interim: _solve_here(compiled, options, upper, interim),
        lambda: compiled.lp,
        options,
    )


def _solve_in_child(
    work: Callable[[Callable[[Any], None]], SolveResult],
    lp: Callable[[], Any],
    options: SolverOptions,
) -> SolveResult:
    """``work(interim)`` in a forked child, killed past the wall-clock limit.

    ``lp`` gives the HighsLp the work solves (read only when the child was killed after
    sending the search's plan: its rows are evaluated at that plan).
    """
    from posture.isolate import ChildInterrupted, run_in_child

    t0 = time.perf_counter()
    try:
        outcome = run_in_child(work, options.time_limit_s, SolveInterrupted)
    except ChildInterrupted:
        raise SolveInterrupted("interrupted during the solve") from None
    if outcome.interrupted:
        raise SolveInterrupted("interrupted during the solve")
    if isinstance(outcome.value, SolveResult):
        return outcome.value
    seconds = {"handoff": 0.0, "solve": time.perf_counter() - t0}
    start = outcome.interim
    if outcome.killed_after is not None and isinstance(start, NeighbourhoodStart):
        text = (
            f"wall-clock limit of {options.time_limit_s:g} s reached and HiGHS did not stop "
            f"(stopped by force after {outcome.killed_after:.1f} s; plan from the LP-guided "
            "search kept)"
        )
        return _start_result(lp(), start, text, seconds)
    if outcome.killed_after is not None:
        text = (
            f"wall-clock limit of {options.time_limit_s:g} s reached and HiGHS did not stop "
            f"(stopped by force after {outcome.killed_after:.1f} s; no plan kept)"
        )
        return SolveResult(SolveStatus.NO_SOLUTION, text, seconds=seconds)
    if outcome.crashed is not None:
        hint = " (killed: out of memory?)" if outcome.crashed.startswith("signal 9 ") else ""
        text = f"solver crashed ({outcome.crashed}){hint}"
        return SolveResult(SolveStatus.ERROR, text, seconds=seconds)
    return SolveResult(SolveStatus.ERROR, f"solver failed: {outcome.error}", seconds=seconds)


def _solve_here(
    compiled: CompiledModel,
    options: SolverOptions,
    upper: dict[int, float] | None,
    interim: Callable[[Any], None] = lambda _: None,
) -> SolveResult:
    """The solve itself, in whichever process runs it; ``interim`` receives the
    LP-guided search's plan before the full MIP starts (HiGHS may not stop in time)."""
    t0 = time.perf_counter()
    h = _highs(compiled.lp, options)
    for col, value in (upper or {}).items():
        h.changeColBounds(col, compiled.lp.col_lower_[col], value)
    t1 = time.perf_counter()
    result, _ = _search_then_solve(h, compiled, options, interim=interim)
    result.seconds["handoff"] = t1 - t0
    return result


def _search_then_solve(
    h: Any,
    compiled: CompiledModel,
    options: SolverOptions,
    *,
    start: np.ndarray | None = None,
    interim: Callable[[Any], None] = lambda _: None,
    seconds: float | None = None,
) -> tuple[SolveResult, bool]:
    """HiGHS's full MIP on the model ``h`` holds, within the user's wall-clock limit
    (or ``seconds`` of it, when the rest is spent elsewhere; messages name the user's).

    On large models (:func:`_neighbourhood_wanted`) the LP-guided search runs first and
    the full MIP goes without the presolve rules that ignore the clock. ``start`` (a
    plan of the model ``h`` holds, e.g. the previous variant's) is offered to HiGHS,
    unless the search found a better plan. Returns the classified result
    (``seconds["solve"]`` covers search and MIP) and whether the wall clock stopped HiGHS.
    """
    t1 = time.perf_counter()
    limit = options.time_limit_s if seconds is None else seconds
    found = None
    offered = start
    if _neighbourhood_wanted(compiled, options):
        found = _neighbourhood_start(h, options, NEIGHBOURHOOD_SHARE * limit)
        if found.plan is not None:
            interim(found)
            assert found.objective is not None  # a plan comes with its objective
            start_objective = None if start is None else _plan_objective(h.getLp(), start)
            if start_objective is None or found.objective < start_objective:
                offered = found.plan
        h.setOptionValue("presolve_rule_off", PRESOLVE_RULES_OFF_AFTER_SEARCH)
    if offered is not None:
        h.setSolution(_solution(offered))
    t2 = time.perf_counter()
    left = max(limit - (t2 - t1), 0.01)
    # what was spent before this call (``seconds`` short of the user's limit) comes off
    # HiGHS's own limit as off ours
    spent = 0.0 if seconds is None else options.time_limit_s - seconds
    highs_limit = _highs_time_limit(options) - spent
    h.setOptionValue("time_limit", max(highs_limit - (t2 - t1), 0.01))
    wall_stopped = _run(h, left)
    t3 = time.perf_counter()
    result = _classify(h, compiled, options, wall_stopped)
    if found is not None and found.lp_bound is not None:
        _keep_lp_bound(result, found.lp_bound)
    result.seconds = {"handoff": 0.0, "solve": t3 - t1}
    if found is not None:
        result.seconds["neighbourhood"] = found.seconds  # part of "solve"
        result.neighbourhood = found
    return result, wall_stopped


def _row_activity(lp: Any, x: np.ndarray) -> np.ndarray:
    """Each row's value at ``x`` in ``lp`` (a HighsLp, column-wise)."""
    matrix = lp.a_matrix_
    rows = np.zeros(int(lp.num_row_))
    weighted = np.asarray(matrix.value_) * np.repeat(x, np.diff(np.asarray(matrix.start_)))
    np.add.at(rows, np.asarray(matrix.index_), weighted)
    return rows


def _plan_objective(lp: Any, x: np.ndarray, tol: float = 1e-6) -> float | None:
    """The objective of ``x`` in ``lp`` (a HighsLp), or None when ``x`` breaks a row, a
    column bound or integrality there."""
    rows = _row_activity(lp, x)
    integer = _integer_columns(lp)
    feasible = (
        np.all(rows >= np.asarray(lp.row_lower_) - tol)
        and np.all(rows <= np.asarray(lp.row_upper_) + tol)
        and np.all(x >= np.asarray(lp.col_lower_) - tol)
        and np.all(x <= np.asarray(lp.col_upper_) + tol)
        and np.all(np.abs(x[integer] - np.round(x[integer])) <= tol)
    )
    return float(np.asarray(lp.col_cost_) @ x + lp.offset_) if feasible else None


LARGE_MODEL_INTEGERS = 20_000
"""Integer columns from which a model is large: ``neighbourhood_search: auto`` runs the
search (benchmark M, 6.7k, is left to HiGHS; L, 111k, gains most: see
benchmarks/README.md) and a kept model solves in a child (:class:`KeptModel`)."""
NEIGHBOURHOOD_SHARE = 0.5
"""Share of the time limit the search may use; the full MIP gets the rest."""
NEAR_START_SHARE = 0.25
"""Share of a re-solve's time limit the sub-MIP near the remembered plans may take
(:meth:`KeptModel._start_near_remembered`; on the default study a few milliseconds)."""
PRESOLVE_RULES_OFF_AFTER_SEARCH = (1 << 15) | (1 << 16)
"""HiGHS presolve rules probing and enumeration, off for the full MIP after the search.

On large models both reach ``HighsCliqueTable::extractCliques``, which walks every
(binary, general integer) pair of a row: 1.3e9 pairs in benchmark L's budget row,
26-32 s in which HiGHS does not look at the wall clock (XL: past any limit). The
reduced model is the same without them (L: 13,242 rows, 101,952 columns either way);
the sub-MIPs keep them (without, their plan at L was worse: 62,530 against 61,993).
"""


@dataclass(frozen=True)
class NeighbourhoodStart:
    """What the LP-guided search found before the full MIP."""

    plan: np.ndarray | None  # a plan of the full model, or None
    objective: float | None
    lp_bound: float | None  # the LP relaxation's objective: a valid bound
    rounds: int
    seconds: float  # the search's wall time (LP relaxation and sub-MIPs)


def _neighbourhood_wanted(compiled: CompiledModel, options: SolverOptions) -> bool:
    mode = options.neighbourhood_search
    if mode == "off" or not compiled.is_mip:
        return False
    if mode == "on":
        return True
    return options.node_limit is None and _large(compiled)


def _large(compiled: CompiledModel) -> bool:
    """A MIP with at least :data:`LARGE_MODEL_INTEGERS` integer columns."""
    return compiled.is_mip and int(_integer_columns(compiled.lp).sum()) >= LARGE_MODEL_INTEGERS


def _solution(values: np.ndarray) -> Any:
    solution = highspy.HighsSolution()
    solution.col_value = list(values)
    solution.value_valid = True
    return solution


def _neighbourhood_start(h: Any, options: SolverOptions, budget: float) -> NeighbourhoodStart:
    """The LP relaxation, then sub-MIPs around it (``posture/neighbourhood.py``) within
    ``budget`` seconds; every plan found is a plan of the model held by ``h``."""
    from posture.neighbourhood import Neighbourhood

    began = time.perf_counter()
    deadline = began + budget
    lp = h.getLp()  # with any bound overrides already applied
    n = int(lp.num_col_)
    cols = np.arange(n, dtype=np.int32)
    integer = _integer_columns(lp)
    relaxed = _highs(lp, options)
    relaxed.changeColsIntegrality(n, cols, np.full(n, highspy.HighsVarType.kContinuous))
    if _run(relaxed, budget) or not str(relaxed.getModelStatus()).endswith("kOptimal"):
        return NeighbourhoodStart(None, None, None, 0, time.perf_counter() - began)
    solution = relaxed.getSolution()
    lp_bound = float(relaxed.getInfo().objective_function_value)
    matrix = lp.a_matrix_
    hood = Neighbourhood(
        (np.asarray(matrix.start_), np.asarray(matrix.index_), np.asarray(matrix.value_)),
        (int(lp.num_row_), n),
        np.asarray(lp.col_cost_),
        integer,
        np.asarray(solution.col_value),
        np.asarray(solution.col_dual),
    )
    lower, upper = np.asarray(lp.col_lower_, float), np.asarray(lp.col_upper_, float)
    per_round = max(budget / 6.0, 1.0)
    best, best_objective, rounds = None, math.inf, 0
    sub = None
    while (left := deadline - time.perf_counter()) > 0.1:
        if sub is None:  # also after a forced stop: HiGHS 1.16 keeps its cancel flag
            sub = _highs(lp, options)
            sub.setOptionValue("mip_rel_gap", max(float(options.mip_rel_gap), 1e-4))
        sub.changeColsBounds(n, cols, lower, hood.upper_bounds(upper))
        if best is not None:
            sub.setSolution(_solution(best))
        sub.setOptionValue("time_limit", min(per_round, left))
        stopped = _run(sub, min(per_round, left))  # a round ending on its clock is normal
        rounds += 1
        info = sub.getInfo()
        if info.primal_solution_status == 2 and info.objective_function_value < best_objective:
            best = np.array(sub.getSolution().col_value, dtype=float)
            best_objective = float(info.objective_function_value)
        if stopped:
            sub = None
        if best is None or hood.widen(best) == 0:
            break
    objective = best_objective if best is not None else None
    return NeighbourhoodStart(best, objective, lp_bound, rounds, time.perf_counter() - began)


def _start_result(
    lp: Any, start: NeighbourhoodStart, text: str, seconds: dict[str, float]
) -> SolveResult:
    """The LP-guided search's plan (of ``lp``, a HighsLp) as the answer, when the full
    MIP never returned."""
    # a plan is only ever found after the LP relaxation solved, so it has its bound
    assert start.plan is not None and start.objective is not None and start.lp_bound is not None
    seconds = {**seconds, "neighbourhood": start.seconds}
    rows = _row_activity(lp, start.plan)
    result = SolveResult(
        SolveStatus.FEASIBLE,
        text,
        objective=_snap(start.objective),
        col_values=start.plan,
        row_values=rows,
        seconds=seconds,
        highs_version=highs_version(),
        neighbourhood=start,
    )
    _keep_lp_bound(result, start.lp_bound)
    return result


def _keep_lp_bound(result: SolveResult, lp_bound: float) -> None:
    """A full MIP stopped before its root LP reports no bound; the LP relaxation is one."""
    if not result.status.has_solution or result.objective is None:
        return
    if result.bound is None or result.bound < lp_bound <= result.objective:
        result.bound = _snap(lp_bound)
        result.gap = _gap(result.objective, result.bound)


def _classify(
    h: Any, compiled: CompiledModel, options: SolverOptions, wall_stopped: bool
) -> SolveResult:
    """Turn HiGHS's model status and solution into a :class:`SolveResult`."""
    status_name = h.modelStatusToString(h.getModelStatus())
    raw = str(h.getModelStatus()).split(".")[-1]
    if wall_stopped and raw == "kInterrupt":
        status_name = f"wall-clock limit of {options.time_limit_s:g} s reached"
    info = h.getInfo()
    has_incumbent = info.primal_solution_status == 2  # kSolutionStatusFeasible
    result = SolveResult(SolveStatus.ERROR, status_name, highs_version=_version(h))
    if raw == "kModelEmpty":  # nothing to decide: the objective is its constant
        result.status = SolveStatus.OPTIMAL
        result.objective = result.bound = float(h.getObjectiveOffset()[1])
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
    is_mip = compiled.is_mip
    bound = info.mip_dual_bound if is_mip else None
    if result.status.has_solution:
        objective = float(info.objective_function_value)
        if not math.isfinite(objective):
            result.status, result.highs_status = SolveStatus.ERROR, "non-finite objective"
            return result
        solution = h.getSolution()
        result.objective = _snap(objective)
        if bound is not None and math.isfinite(bound):
            result.bound = _snap(float(bound))
        elif result.status is SolveStatus.OPTIMAL:
            result.bound = result.objective  # an LP's optimum, or a MIP HiGHS closed
        else:  # a limit stopped HiGHS before any bound: none is proven (gap inf)
            result.bound = -math.inf
        result.gap = _gap(result.objective, result.bound)
        result.col_values = np.array(solution.col_value, dtype=float)
        result.row_values = np.array(solution.row_value, dtype=float)
    elif bound is not None and math.isfinite(bound):
        result.bound = float(bound)
    return result


def _version(h: Any) -> str:
    return str(h.version())


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


@dataclass
class _LinearForm:
    """A linear expression's coefficients as last computed, with what they depend on."""

    parameters: list[Any]  # the mutable parameters the expression reads
    outside: list[Any]  # its variables in no column: their lower bounds enter the constant
    values: tuple[float | None, ...]  # of both, when computed
    vector: np.ndarray
    constant: float


def _form_values(parameters: list[Any], outside: list[Any]) -> tuple[float | None, ...]:
    return (*(p.value for p in parameters), *(v.lb for v in outside))


def _linear(compiled: CompiledModel, owner: Any, expr: Any) -> tuple[np.ndarray, float]:
    """Coefficients of a linear Pyomo expression over the compiled columns, and its
    constant. ``owner`` (the objective or constraint holding ``expr``) keys a cache:
    while the parameters the expression reads keep their values, the last result is
    returned without walking it again (a sweep along a target never changes the cost
    criterion's 180 coefficients)."""
    form = compiled.linear_forms.get(id(owner))
    if form is not None and _form_values(form.parameters, form.outside) == form.values:
        return form.vector.copy(), form.constant
    from pyomo.core.expr.visitor import identify_mutable_parameters

    repn = generate_standard_repn(expr, compute_values=True, quadratic=False)
    vector = np.zeros(len(compiled.columns))
    constant = float(repn.constant)
    outside = []
    for var, coef in zip(repn.linear_vars, repn.linear_coefs, strict=True):
        col = compiled.position.get(id(var))
        if col is None:
            # In no row and not in the objective (e.g. a shortfall with no target): the
            # model leaves it at its lower bound, so the criterion counts that value.
            constant += float(coef) * float(var.lb or 0.0)
            outside.append(var)
        else:
            vector[col] += float(coef)
    # the expression's structure never changes: which parameters it reads neither
    parameters = list(identify_mutable_parameters(expr)) if form is None else form.parameters
    values = _form_values(parameters, outside)
    compiled.linear_forms[id(owner)] = _LinearForm(parameters, outside, values, vector, constant)
    return vector.copy(), constant


def criterion_vectors(compiled: CompiledModel) -> dict[str, tuple[np.ndarray, float]]:
    """Each trade-off criterion (``models/formulation.md``: criterion) as cost vector + constant."""
    criterion = compiled.model.criterion
    return {
        str(name): _linear(compiled, criterion[name], criterion[name].expr) for name in criterion
    }


@dataclass(frozen=True)
class _ParameterRow:
    """A row whose body holds mutable parameters, as they stand now."""

    index: int  # the row's position
    entries: np.ndarray  # positions of its entries in the column-wise matrix
    columns: np.ndarray  # their columns
    values: np.ndarray  # their coefficients now
    constant: float  # the body's constant now, moved to the row's bounds


REUSED = "optimal: a plan already found, proven without a re-solve"
"""HiGHS status text of a solve :meth:`KeptModel.solve` answered from a remembered plan."""
SOLVED_MEMORY_POINTS = 64
"""Solved points a kept model remembers for ``posture/reuse.py``: a sweep's chunk (at
most 50 points) and the solves where plans cross."""
SOLVED_MEMORY_BYTES = 256 * 2**20
"""...and at most this much of them (benchmark L: about 4 MB a point; the latest one
is always kept)."""


class KeptModel:
    """One HiGHS model kept between solves, changed in place.

    :meth:`refresh` pushes the Pyomo model's current parameter values (bounds,
    right-hand sides, objective) in bulk; the trade-off methods add rows and columns
    (epsilon constraints, distance constraints) and swap the objective. Solution
    vectors returned cover the compiled model's own columns and rows; values of
    added columns are in ``SolveResult.extra_values``.
    """

    def __init__(self, compiled: CompiledModel, options: SolverOptions) -> None:
        self.compiled = compiled
        self.options = options
        t0 = time.perf_counter()
        self.h = _highs(compiled.lp, options)
        self.handoff_seconds = time.perf_counter() - t0
        self.n_cols, self.n_rows = len(compiled.columns), len(compiled.rows)
        # Large models solve in a forked child, killed past the wall-clock limit as a
        # single solve is: HiGHS's root analytic centre and central rounding run for
        # tens of seconds without polling the interrupt (L, 60 s limit: cancelled at
        # 29.7 s of the full MIP, returned at 44.8 s). Small ones stay here, where a
        # re-solve takes milliseconds and the fork would cost more than the solve.
        self.solves_in_child = _large(compiled)
        self._parameter_rows: list[tuple[int, np.ndarray, np.ndarray]] | None = None
        self.added_cols = 0
        self.added_rows = 0
        lp = compiled.lp
        self._now = LpNumbers(
            np.array(lp.col_lower_, dtype=float),
            np.array(lp.col_upper_, dtype=float),
            np.array(lp.row_lower_, dtype=float),
            np.array(lp.row_upper_, dtype=float),
            np.array(lp.col_cost_, dtype=float),
            float(lp.offset_),
        )
        # False once a trade-off method changes HiGHS's copy behind ``_now``'s back;
        # a refresh sets every number again
        self._in_step = True
        self._solved: list[SolvedPoint] = []  # the latest first, within SOLVED_MEMORY_BYTES

    @functools.cached_property
    def refreshable(self) -> bool:
        """Whether :meth:`refresh` reproduces what the compiler made of the model as it
        stands: bounds, right-hand sides net of the constants that parameters put in row
        bodies, costs and offset. Checked once, when a re-solve in place is first asked
        for (it walks every row: 0.7 s at benchmark L)."""
        numbers = self._numbers(self._parameter_row_values())
        lp = self.compiled.lp
        return all(
            np.array_equal(new, np.asarray(old, dtype=float))
            for new, old in zip(
                numbers[:5],
                (lp.col_lower_, lp.col_upper_, lp.row_lower_, lp.row_upper_, lp.col_cost_),
                strict=True,
            )
        ) and math.isclose(numbers[5], float(lp.offset_), abs_tol=1e-9)

    def _numbers(
        self, parameter_rows: list[_ParameterRow]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
        inf = highspy.kHighsInf
        cols = self.compiled.columns
        col_lower = np.array([v.lb if v.lb is not None else -inf for v in cols], dtype=float)
        col_upper = np.array([v.ub if v.ub is not None else inf for v in cols], dtype=float)
        row_lower = np.empty(len(self.compiled.rows))
        row_upper = np.empty(len(self.compiled.rows))
        for i, row in enumerate(self.compiled.rows):
            con, kind = row.constraint, row.bound_type
            rhs = con.ub if kind == 1 else con.lb
            row_lower[i] = -inf if kind == 1 else rhs
            row_upper[i] = inf if kind == -1 else rhs
        for row in parameter_rows:  # e.g. turbulence of units held at home: weight x held
            row_lower[row.index] -= row.constant  # an infinite bound stays infinite
            row_upper[row.index] -= row.constant
        objective = next(self.compiled.model.component_data_objects(pyo.Objective, active=True))
        cost, offset = _linear(self.compiled, objective, objective.expr)
        return col_lower, col_upper, row_lower, row_upper, cost, offset

    def refresh(self) -> None:
        """Push the model's current parameter values to HiGHS (same structure assumed)."""
        if not self.refreshable:
            raise RuntimeError("this model cannot be updated in place; rebuild it")
        parameter_rows = self._parameter_row_values()
        col_lower, col_upper, row_lower, row_upper, cost, offset = self._numbers(parameter_rows)
        n, m = self.n_cols, self.n_rows
        cols, rows = np.arange(n, dtype=np.int32), np.arange(m, dtype=np.int32)
        if n:
            self.h.changeColsBounds(n, cols, col_lower, col_upper)
            self.h.changeColsCost(n, cols, cost)
        if m:
            self.h.changeRowsBounds(m, rows, row_lower, row_upper)
        self.h.changeObjectiveOffset(offset)
        lp = self.compiled.lp  # kept in step: extraction reads row bounds from it
        lp.col_lower_, lp.col_upper_, lp.col_cost_ = col_lower, col_upper, cost
        lp.row_lower_, lp.row_upper_, lp.offset_ = row_lower, row_upper, offset
        self._now = LpNumbers(col_lower, col_upper, row_lower, row_upper, cost, offset)
        self._in_step = True
        if self._set_parameter_coefficients(parameter_rows):
            self._solved.clear()  # their plans' row activities no longer hold

    def _set_parameter_coefficients(self, parameter_rows: list[_ParameterRow]) -> bool:
        """New coefficients for the rows whose coefficients are parameters (costs in
        ``budget``, turbulence weights in ``turbulence_cap``), in HiGHS and in the
        compiled matrix (the LP behind marginal values and MPS export reads it).
        Returns whether any coefficient changed."""
        if not parameter_rows:
            return False
        matrix = self.compiled.lp.a_matrix_
        values = np.asarray(matrix.value_, dtype=float)
        changed = False
        for row in parameter_rows:
            for k in np.flatnonzero(values[row.entries] != row.values):
                self.h.changeCoeff(row.index, int(row.columns[k]), float(row.values[k]))
                changed = True
            values[row.entries] = row.values
        matrix.value_ = values
        return changed

    def _parameter_row_values(self) -> list[_ParameterRow]:
        """The current coefficients and constant of every row whose body holds a
        mutable parameter. Which rows those are, and where their entries sit in the
        column-wise matrix, is found on first use (at benchmark L: 0.7 s)."""
        if self._parameter_rows is None:
            from pyomo.core.expr.visitor import identify_mutable_parameters

            matrix = self.compiled.lp.a_matrix_
            index = np.asarray(matrix.index_)
            column_of = np.repeat(np.arange(self.n_cols), np.diff(np.asarray(matrix.start_)))
            self._parameter_rows = []
            for i, row in enumerate(self.compiled.rows):
                if next(identify_mutable_parameters(row.constraint.body), None) is not None:
                    entries = np.flatnonzero(index == i)
                    self._parameter_rows.append((i, entries, column_of[entries]))
        found = []
        for i, entries, columns in self._parameter_rows:
            constraint = self.compiled.rows[i].constraint
            vector, constant = _linear(self.compiled, constraint, constraint.body)
            if not np.array_equal(np.flatnonzero(vector), np.sort(columns)):
                # structure_key keeps zero/positive patterns equal; a miss is a bug
                name = self.compiled.rows[i].constraint.name
                raise RuntimeError(f"row {name} changed shape; rebuild")
            found.append(_ParameterRow(i, entries, columns, vector[columns], constant))
        return found

    def set_objective(self, cost: np.ndarray, offset: float = 0.0) -> None:
        """Replace the objective (minimised) over the model's own and added columns."""
        self._in_step = False
        n = self.n_cols + self.added_cols
        full = np.zeros(n)
        full[: len(cost)] = cost
        self.h.changeColsCost(n, np.arange(n, dtype=np.int32), full)
        self.h.changeObjectiveOffset(offset)

    def add_columns(
        self, lower: np.ndarray, upper: np.ndarray, *, integer: bool, names: list[str]
    ) -> np.ndarray:
        """Add columns (zero cost, in no row yet); returns their positions."""
        self._in_step = False
        k = len(names)
        start = self.n_cols + self.added_cols
        self.h.addCols(
            k,
            np.zeros(k),
            lower,
            upper,
            0,
            np.zeros(0, np.int32),
            np.zeros(k, np.int32),
            np.zeros(0),
        )
        positions = np.arange(start, start + k, dtype=np.int32)
        if integer and k:
            self.h.changeColsIntegrality(k, positions, np.full(k, highspy.HighsVarType.kInteger))
        for j, name in zip(positions, names, strict=True):
            self.h.passColName(int(j), name)
        self.added_cols += k
        return positions

    def add_row(
        self, columns: np.ndarray, values: np.ndarray, lower: float, upper: float, name: str
    ) -> int:
        """Add one row ``lower <= values . x[columns] <= upper``; returns its position."""
        self._in_step = False
        keep = values != 0
        idx, val = np.asarray(columns, np.int32)[keep], np.asarray(values, float)[keep]
        self.h.addRow(lower, upper, len(idx), idx, val)
        row = self.n_rows + self.added_rows
        self.h.passRowName(row, name)
        self.added_rows += 1
        return row

    def set_row_bounds(self, row: int, lower: float, upper: float) -> None:
        self._in_step = False
        self.h.changeRowBounds(row, lower, upper)

    def set_col_bounds(self, columns: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        self._in_step = False
        self.h.changeColsBounds(len(columns), np.asarray(columns, np.int32), lower, upper)

    def solve(
        self, options: SolverOptions | None = None, start: np.ndarray | None = None
    ) -> SolveResult:
        """Solve as the model stands now; vectors cut back to the compiled model's own.

        ``start`` (a value per column, added ones included) is offered to HiGHS as a
        first incumbent: HiGHS checks it, repairs or ignores it, and still proves the
        optimum, so it changes how fast the search closes, not what it may return.
        Large models get the LP-guided search first, as a single solve does; HiGHS
        is then offered the better of its plan and ``start``
        (:func:`_search_then_solve`).

        While the HiGHS copy holds just the compiled model's numbers (as a refresh
        leaves it), the points solved before are remembered: when one of their plans
        is proven optimal now (``posture/reuse.py``) it is the answer, with no solve
        (``reused``); otherwise the best of them that meets the model now replaces
        ``start``.
        """
        options = options or self.options
        if start is not None and len(start) != self.n_cols + self.added_cols:
            raise ValueError(
                f"start has {len(start)} values; the model has "
                f"{self.n_cols + self.added_cols} columns"
            )
        own = self._in_step and self.added_cols == self.added_rows == 0
        began = time.perf_counter()
        self.h.setOptionValue("mip_rel_gap", float(options.mip_rel_gap))
        proof = prove(self._solved, self._now) if own else None

        gap_limit = options.mip_rel_gap

        def closed(objective: float, bound: float) -> bool:
            return _gap(objective, bound) <= gap_limit

        runs, seconds = 0, None
        if proof is not None and not closed(proof.objective, proof.bound):
            at = None if self.solves_in_child else crossing(proof, self._now, closed)
            if at is not None:  # one solve there may prove this point and its neighbours
                seconds = self._solve_at_crossing(at, options, proof.point.plan)
                runs = 1
                proof = prove(self._solved, self._now)
        if proof is not None:
            if closed(proof.objective, proof.bound):
                return self._reused(proof, began, runs)
            # The best remembered plan that meets the model now: at least as good as
            # the last plan (the start a Resolver offers) whenever that one meets it.
            start = proof.point.plan
        checked = time.perf_counter() - began
        if self.solves_in_child:
            # the child solves its copy of the model: this one never sees a cancel
            result = _solve_in_child(
                lambda interim: _search_then_solve(
                    self.h, self.compiled, options, start=start, interim=interim
                )[0],
                self.h.getLp,
                options,
            )
        else:
            result = self._solve_in_process(options, start, seconds)
        result.seconds["solve"] = result.seconds.get("solve", 0.0) + checked
        result.highs_runs = runs + 1
        if result.col_values is not None and result.row_values is not None:
            result.extra_values = result.col_values[self.n_cols :]
            result.col_values = result.col_values[: self.n_cols]
            result.row_values = result.row_values[: self.n_rows]
            if own:
                self._remember_result(self._now, result)
        return result

    def _solve_in_process(
        self, options: SolverOptions, start: np.ndarray | None, seconds: float | None
    ) -> SolveResult:
        began = time.perf_counter()
        limit = options.time_limit_s if seconds is None else seconds
        searched = self._in_step and self.added_cols == self.added_rows == 0 and bool(self._solved)
        if searched:
            start = self._start_near_remembered(start, options, NEAR_START_SHARE * limit)
            seconds = max(limit - (time.perf_counter() - began), 0.01)
        near = time.perf_counter() - began
        result, wall_stopped = _search_then_solve(
            self.h, self.compiled, options, start=start, seconds=seconds
        )
        if searched:
            result.seconds["solve"] = result.seconds.get("solve", 0.0) + near
            result.seconds["near_start"] = near  # part of "solve"
        if wall_stopped:
            # HiGHS 1.16 keeps the cancel flag: every later run on this object would
            # stop at once as "interrupted". A fresh object with the same model
            # (added rows, columns, names and integrality included) solves again.
            self.h = _highs(self.h.getLp(), options)
        return result

    def _start_near_remembered(
        self, start: np.ndarray | None, options: SolverOptions, budget: float
    ) -> np.ndarray | None:
        """``start``, or a better plan found by a sub-MIP in which every integer column
        on which the remembered plans agree (:func:`posture.reuse.settled_columns`) is
        held at ``start``'s value, within ``budget`` seconds. Without ``start`` the
        latest remembered plan is the base (it may not meet the model now: the
        sub-MIP then repairs it, often only in the continuous columns, such as a
        shortfall against a raised target). Only bounds are tightened, so any plan
        found is a plan of the model as it stands."""
        base = start if start is not None else self._solved[0].plan
        lp = self.h.getLp()  # the costs now, a crossing's included
        integer = _integer_columns(lp)
        settled = np.flatnonzero(settled_columns([p.plan for p in self._solved] + [base], integer))
        if len(settled) == 0:  # the sub-MIP would be the full MIP
            return start
        lower, upper = self._now.col_lower[settled], self._now.col_upper[settled]
        held = np.clip(np.round(base[settled]), lower, upper)
        sub = _highs(lp, options)
        sub.changeColsBounds(len(settled), settled.astype(np.int32), held, held)
        sub.setOptionValue("time_limit", budget)
        _run(sub, budget)  # a stop on the clock keeps any plan found
        if sub.getInfo().primal_solution_status != 2:
            return start
        found = np.array(sub.getSolution().col_value, dtype=float)
        if start is None:
            return found
        # both objectives as the full model counts them: HiGHS's own may differ in the
        # last digits, which is no improvement
        before, after = _plan_objective(lp, start), _plan_objective(lp, found)
        return found if after is not None and (before is None or after < before) else start

    def _remember_result(self, numbers: LpNumbers, result: SolveResult) -> None:
        """Remember a solve of the model with ``numbers``, when it proved a bound
        (copies: the caller owns the result's arrays)."""
        x, rows, bound = result.col_values, result.row_values, result.bound
        if x is not None and rows is not None and bound is not None and math.isfinite(bound):
            self._remember(SolvedPoint(numbers, x.copy(), rows.copy(), bound))

    def _remember(self, point: SolvedPoint) -> None:
        self._solved.insert(0, point)
        kept, size = 0, 0
        for kept, remembered in enumerate(self._solved, 1):
            size += remembered.nbytes
            if kept == SOLVED_MEMORY_POINTS or size >= SOLVED_MEMORY_BYTES:
                break
        del self._solved[kept:]

    def _solve_at_crossing(self, at: LpNumbers, options: SolverOptions, start: np.ndarray) -> float:
        """Solve the model with the crossing's costs (at most half the time limit) and
        remember the point; returns the seconds left for the rest of this solve."""
        began = time.perf_counter()
        half = options.time_limit_s / 2
        n, columns = self.n_cols, np.arange(self.n_cols, dtype=np.int32)
        self.h.changeColsCost(n, columns, at.cost)
        self.h.changeObjectiveOffset(at.offset)
        try:
            result = self._solve_in_process(options, start, half)
        finally:  # also on an interrupt: the model keeps its own costs
            self.h.changeColsCost(n, columns, self._now.cost)
            self.h.changeObjectiveOffset(self._now.offset)
        self._remember_result(at, result)
        return max(options.time_limit_s - (time.perf_counter() - began), 0.01)

    def _reused(self, proof: Proof, began: float, runs: int) -> SolveResult:
        """A remembered plan as this solve's answer: ``posture/reuse.py`` proved it
        optimal within the user's gap in the model as it stands now."""
        objective, bound, plan = proof.objective, proof.bound, proof.point
        self._remember(SolvedPoint(self._now, plan.plan, plan.activity, bound))
        return SolveResult(
            SolveStatus.OPTIMAL,
            REUSED,
            objective=_snap(objective),
            bound=_snap(bound),
            gap=_gap(objective, bound),
            col_values=plan.plan.copy(),
            row_values=plan.activity.copy(),
            seconds={"handoff": 0.0, "solve": time.perf_counter() - began},
            highs_version=highs_version(),
            reused=True,
            highs_runs=runs,
        )

    def lp_duals(self, fix_at: np.ndarray | None) -> tuple[np.ndarray, float] | None:
        """Row duals of an LP made from the compiled model, and its objective.

        With ``fix_at``, every integer column is fixed at its value there (the LP
        around a MIP optimum); without, integrality is dropped (the LP relaxation).
        A dual is the objective's change per unit increase of the row's bound, for the
        model's own rows; None when the LP does not solve to optimality.
        """
        lp = _new_highs()
        lp.passModel(self.compiled.lp)
        n = self.n_cols
        cols = np.flatnonzero(_integer_columns(self.compiled.lp)).astype(np.int32)
        if fix_at is not None and len(cols):
            fixed = np.round(fix_at[cols])
            lp.changeColsBounds(len(cols), cols, fixed, fixed)
        if n:
            continuous = np.full(n, highspy.HighsVarType.kContinuous)
            lp.changeColsIntegrality(n, np.arange(n, dtype=np.int32), continuous)
        lp.run()
        if not str(lp.getModelStatus()).endswith("kOptimal"):
            return None
        solution = lp.getSolution()
        objective = float(lp.getInfo().objective_function_value)
        return np.array(solution.row_dual, dtype=float), objective
