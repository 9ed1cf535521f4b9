"""Solve many variants of one study, re-solving in place when only numbers change.

A sweep point or a marginal-value re-solve usually changes a few parameters
(an inventory, a floor, a weight). When the variant has the same
:func:`posture.parameters.structure_key` as the model already built, its parameter
values are set on the kept Pyomo model and pushed to the kept HiGHS model in bulk;
otherwise the model is rebuilt. Both paths give the same optimum (tested).

An in-place re-solve also offers HiGHS a plan already found as its first
incumbent (the previous variant's, or the best remembered one that meets the
variant: :meth:`posture.solver.KeptModel.solve`): neighbouring variants mostly share
a near-optimal plan, and a good incumbent from the start lets HiGHS prune at the
root instead of searching for one (on the default study's sweep, 41 ms per solve on
average instead of 83 ms; see benchmarks/README.md). The optimum HiGHS proves is the
same either way. When the solved variants' bounds prove a remembered plan optimal
for this one, the kept model answers with it without running HiGHS
(``posture/reuse.py``; ``SolveResult.reused``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from posture.data import ModelData
from posture.diagnose import impossible_rules
from posture.extract import Solution, extract_solution
from posture.model import build_model
from posture.overlay import SourceIndex
from posture.parameters import set_parameters, structure_key
from posture.schema import SolverOptions
from posture.solver import (
    CompiledModel,
    KeptModel,
    SolveResult,
    SolveStatus,
    compile_model,
    criterion_vectors,
)

IMPOSSIBLE = "infeasible by construction (pre-solve check)"


@dataclass
class Solved:
    """One variant's outcome, with what is needed to read its solution."""

    result: SolveResult
    compiled: CompiledModel | None  # None: rejected by the pre-solve check, never built
    in_place: bool
    seconds: dict[str, float] = field(default_factory=dict)
    started: bool = False  # the previous variant's plan was offered (solver: the better one wins)

    def solution(self) -> Solution | None:
        if not self.result.status.has_solution or self.compiled is None:
            return None
        return extract_solution(self.compiled, self.result)

    def criteria(self) -> dict[str, float]:
        """Each criterion's value at this solution (empty without a solution)."""
        if self.result.col_values is None or self.compiled is None:
            return {}
        x = self.result.col_values
        return {
            name: float(vector @ x + constant)
            for name, (vector, constant) in criterion_vectors(self.compiled).items()
        }


class Resolver:
    """Keeps one built model and its HiGHS copy; :meth:`solve` reuses them when it can."""

    def __init__(self, options: SolverOptions, *, in_place: bool = True) -> None:
        self.options = options
        self.allow_in_place = in_place
        self.kept: KeptModel | None = None
        self._key: tuple[object, ...] | None = None
        self.rebuilds = 0
        self.updates = 0
        self._last_plan: np.ndarray | None = None  # of the kept model's columns

    def _rebuild(self, data: ModelData) -> dict[str, float]:
        t0 = time.perf_counter()
        compiled = compile_model(build_model(data))
        t1 = time.perf_counter()
        self.kept = KeptModel(compiled, self.options)
        self._key = structure_key(data)
        self._last_plan = None  # its columns may not match the new model's
        self.rebuilds += 1
        return {"build": t1 - t0, "handoff": self.kept.handoff_seconds}

    def solve(self, data: ModelData) -> Solved:
        """Solve one variant: in place when its structure matches the kept model."""
        t0 = time.perf_counter()
        # Rows that no posture can meet have no variables, so the model would skip them:
        # the same pre-solve check as a single solve decides those variants.
        if impossible_rules(data, SourceIndex(), {}):
            result = SolveResult(SolveStatus.INFEASIBLE, IMPOSSIBLE, highs_runs=0)
            return Solved(result, None, False, {"build": time.perf_counter() - t0, "solve": 0.0})
        kept = self.kept
        same = (
            self.allow_in_place
            and kept is not None
            and kept.refreshable
            and kept.added_cols == kept.added_rows == 0
            and structure_key(data) == self._key
        )
        if same and kept is not None:
            set_parameters(kept.compiled.model, data)
            kept.refresh()
            self.updates += 1
            seconds = {"build": 0.0, "handoff": time.perf_counter() - t0}
        else:
            seconds = self._rebuild(data)
        assert self.kept is not None
        start = self._last_plan if same else None
        result = self.kept.solve(start=start)
        if result.col_values is not None:
            self._last_plan = result.col_values
        seconds["solve"] = result.seconds["solve"]
        return Solved(result, self.kept.compiled, same, seconds, started=start is not None)


def decision_values(solution: Solution) -> dict[tuple[str, tuple[str, ...]], float]:
    """The posture's decisions (placements, reserves, activations) that are not zero."""
    found: dict[tuple[str, tuple[str, ...]], float] = {}
    for name in ("place", "reserve", "activated"):
        for index, value in solution.values.get(name, {}).items():
            if value:
                found[name, tuple(index)] = value
    return found


def units_changed(
    a: dict[tuple[str, tuple[str, ...]], float], b: dict[tuple[str, tuple[str, ...]], float]
) -> float:
    """Placements that differ between two postures, in units (half the L1 distance)."""
    keys = {k for k in a.keys() | b.keys() if k[0] == "place"}
    return 0.5 * float(np.sum([abs(a.get(k, 0.0) - b.get(k, 0.0)) for k in keys]))
