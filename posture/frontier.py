"""Pareto frontiers by the augmented epsilon-constraint method (AUGMECON2).

Mavrotas and Florios (2013): the first objective is minimised while each other
objective ``j`` is held by an equality with a non-negative slack,
``f_j(x) + s_j = e_j``; the objective adds ``-eps * sum_j 10^-(j-2) s_j / r_j`` so
every point found is efficient, not merely weakly efficient. The grid of ``e_j``
runs from the worst value in the payoff table towards the best; a slack larger
than the grid step lets the innermost loop jump the grid points that would give
the same solution (bypass), and an infeasible point ends the innermost loop
(tighter ``e_2`` cannot be feasible either). ``exact`` mode, for two objectives,
steps ``e_2`` to just below the last point's ``f_2`` until infeasible, which finds
every efficient point of the integer programme. Families in ``models/tradeoffs.md``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from posture.data import build_model_data
from posture.diagnose import impossible_rules
from posture.errors import Diagnostic, InputError, Location, did_you_mean
from posture.extract import extract_solution
from posture.loader import ResolvedStudy
from posture.model import build_model, criterion_names
from posture.resolve import decision_values
from posture.schema import SolverOptions
from posture.solver import KeptModel, SolveResult, SolveStatus, compile_model, criterion_vectors
from posture.tradeoff_tables import posture_rows

AUGMENTATION = 1e-3  # eps in the AUGMECON2 objective: small against 1 / range
MAX_EXACT_POINTS = 2000
Vector = tuple[np.ndarray, float]


@dataclass
class FrontierPoint:
    """One efficient posture: its criteria values and its decisions."""

    values: dict[str, float]
    epsilon: dict[str, float]
    status: SolveStatus
    gap: float
    decisions: dict[tuple[str, tuple[str, ...]], float]


@dataclass
class FrontierResult:
    """The frontier of a study, or the reason there is none."""

    objectives: tuple[str, ...]
    status: SolveStatus
    message: str
    points: list[FrontierPoint] = field(default_factory=list)
    payoff: pd.DataFrame = field(default_factory=pd.DataFrame)
    solves: int = 0
    infeasible_solves: int = 0
    bypassed: int = 0
    seconds: float = 0.0

    def tables(self) -> dict[str, pd.DataFrame]:
        """``frontier`` (one row a point), ``frontier_payoff``, ``frontier_postures``."""
        rows = []
        for k, p in enumerate(self.points, start=1):
            row: dict[str, object] = {"point": k}
            row |= {name: _round(v) for name, v in p.values.items()}
            row |= {f"epsilon_{name}": _round(v) for name, v in p.epsilon.items()}
            row |= {"status": p.status.value, "gap": p.gap}
            rows.append(row)
        postures = [
            {"point": k, **r}
            for k, p in enumerate(self.points, start=1)
            for r in posture_rows(p.decisions)
        ]
        return {
            "frontier": pd.DataFrame(rows),
            "frontier_payoff": self.payoff,
            "frontier_postures": pd.DataFrame(postures),
        }


def _round(x: float) -> float:
    return round(x, 9) + 0.0  # + 0.0 turns -0.0 into 0.0


def check_objectives(names: Sequence[str], known: Sequence[str]) -> tuple[str, ...]:
    """Two or three distinct known criterion names, or a located usage error."""
    where = Location("--objectives", 1, 1)
    errors = [
        Diagnostic(
            f"unknown objective '{n}'",
            where,
            hint=did_you_mean(n, known) or "choose from " + ", ".join(known),
        )
        for n in names
        if n not in known
    ]
    if not errors and not 2 <= len(names) <= 3:
        errors.append(Diagnostic(f"give two or three objectives, got {len(names)}", where))
    if not errors and len(set(names)) != len(names):
        errors.append(Diagnostic("an objective is named twice", where))
    if errors:
        raise InputError(errors)
    return tuple(names)


class _Search:
    """The kept model plus the bookkeeping of one frontier search."""

    def __init__(self, kept: KeptModel, vectors: dict[str, Vector], options: SolverOptions):
        self.kept, self.vectors, self.options = kept, vectors, options
        self.solves = self.infeasible = 0

    def value(self, name: str, result: SolveResult) -> float:
        vector, constant = self.vectors[name]
        assert result.col_values is not None
        return float(vector @ result.col_values + constant)

    def minimise(self, cost: np.ndarray, offset: float = 0.0) -> SolveResult:
        self.kept.set_objective(cost, offset)
        self.solves += 1
        result = self.kept.solve(self.options)
        if not result.status.has_solution:
            self.infeasible += 1
        return result

    def bound_row(self, name: str, upper: float) -> int:
        vector, constant = self.vectors[name]
        cols = np.flatnonzero(vector)
        return self.kept.add_row(
            cols, vector[cols], -math.inf, upper - constant, "objective_bound[" + name + "]"
        )


def _tolerance(value: float) -> float:
    return 1e-6 * max(1.0, abs(value))


def _payoff(search: _Search, objectives: tuple[str, ...]) -> pd.DataFrame | None:
    """Lexicographic optimum of each objective first: the payoff table (None: infeasible)."""
    rows = []
    for first in objectives:
        order = (first, *[n for n in objectives if n != first])
        added: list[int] = []
        result: SolveResult | None = None
        for name in order:
            result = search.minimise(*search.vectors[name])
            if not result.status.has_solution:
                return None
            added.append(
                search.bound_row(
                    name, search.value(name, result) + _tolerance(search.value(name, result))
                )
            )
        assert result is not None
        rows.append(
            {"optimised": first, **{n: _round(search.value(n, result)) for n in objectives}}
        )
        for row in added:  # lift the lexicographic bounds again
            search.kept.set_row_bounds(row, -math.inf, math.inf)
    return pd.DataFrame(rows)


def compute_frontier(
    resolved: ResolvedStudy,
    options: SolverOptions,
    objectives: Sequence[str],
    *,
    points: int = 11,
    exact: bool = False,
) -> FrontierResult:
    """The efficient postures trading ``objectives`` off (all minimised)."""
    started = time.perf_counter()
    data = build_model_data(resolved.study)
    names = check_objectives(objectives, criterion_names(data))
    if exact and len(names) != 2:
        raise InputError([Diagnostic("exact mode takes two objectives", Location("--exact", 1, 1))])
    if points < 2:
        raise InputError([Diagnostic("give at least 2 points", Location("--points", 1, 1))])
    if impossible_rules(data, resolved.index, {}):
        return FrontierResult(
            tuple(objectives), SolveStatus.INFEASIBLE, "the study is infeasible by construction"
        )
    compiled = compile_model(build_model(data))
    vectors = criterion_vectors(compiled)
    search = _Search(KeptModel(compiled, options), vectors, options)
    payoff = _payoff(search, names)
    if payoff is None:
        return FrontierResult(names, SolveStatus.INFEASIBLE, "the study has no feasible posture")
    result = FrontierResult(names, SolveStatus.OPTIMAL, "", payoff=payoff)
    worst = {n: float(payoff[n].max()) for n in names[1:]}
    best = {n: float(payoff[n].min()) for n in names[1:]}
    ranges = {n: max(worst[n] - best[n], 0.0) for n in names[1:]}
    slack_cols = search.kept.add_columns(
        np.zeros(len(names) - 1),
        np.full(len(names) - 1, math.inf),
        integer=False,
        names=["epsilon_slack[" + n + "]" for n in names[1:]],
    )
    eps_rows = {}
    for j, name in enumerate(names[1:]):
        vector, constant = vectors[name]
        cols = np.flatnonzero(vector)
        eps_rows[name] = search.kept.add_row(
            np.append(cols, slack_cols[j]),
            np.append(vector[cols], 1.0),
            worst[name] - constant,
            worst[name] - constant,
            "epsilon_constraint[" + name + "]",
        )
    primary, primary_constant = vectors[names[0]]
    cost = np.zeros(len(primary) + len(slack_cols))
    cost[: len(primary)] = primary
    for j, name in enumerate(names[1:]):
        cost[slack_cols[j]] = -AUGMENTATION * 10.0 ** (-j) / (ranges[name] or 1.0)

    def solve_at(epsilon: dict[str, float]) -> SolveResult:
        for name, e in epsilon.items():
            _, constant = vectors[name]
            search.kept.set_row_bounds(eps_rows[name], e - constant, e - constant)
        return search.minimise(cost, primary_constant)

    def record(epsilon: dict[str, float], outcome: SolveResult) -> None:
        solution = extract_solution(compiled, outcome)
        result.points.append(
            FrontierPoint(
                {n: search.value(n, outcome) for n in vectors},
                dict(epsilon),
                outcome.status,
                outcome.gap or 0.0,
                decision_values(solution),
            )
        )

    second = names[1]
    if exact:
        e = worst[second]
        while len(result.points) < MAX_EXACT_POINTS:
            outcome = solve_at({second: e})
            if not outcome.status.has_solution:
                break
            record({second: e}, outcome)
            found = search.value(second, outcome)
            e = found - max(_tolerance(found), 1e-4 * (ranges[second] or 1.0))
            if e < best[second] - _tolerance(best[second]):
                break
    else:
        steps = {n: (ranges[n] / (points - 1)) for n in names[1:]}
        outer = names[2] if len(names) == 3 else None
        feasible_row = True
        for k in range(points if outer else 1):
            epsilon = {outer: worst[outer] - k * steps[outer]} if outer else {}
            i = 0
            if outer and k and not feasible_row:
                break  # the whole previous row was infeasible: tighter ones are too
            feasible_row = False
            while i < points:
                epsilon[second] = worst[second] - i * steps[second]
                outcome = solve_at(epsilon)
                if not outcome.status.has_solution:
                    break  # early exit: a tighter second objective is infeasible too
                record(epsilon, outcome)
                feasible_row = True
                slack = float(outcome.extra_values[0]) if outcome.extra_values is not None else 0.0
                jump = math.floor(slack / steps[second] + 1e-9) if steps[second] > 0 else points
                result.bypassed += jump
                i += 1 + jump
    result.points = _efficient(result.points, names)
    result.solves, result.infeasible_solves = search.solves, search.infeasible
    result.seconds = time.perf_counter() - started
    if any(p.status is not SolveStatus.OPTIMAL for p in result.points):
        result.status = SolveStatus.FEASIBLE
        result.message = "some points were not proven optimal (see their gap)"
    return result


def _efficient(found: list[FrontierPoint], names: tuple[str, ...]) -> list[FrontierPoint]:
    """Distinct, non-dominated points, sorted by the second then the first objective."""
    unique: dict[tuple[float, ...], FrontierPoint] = {}
    for p in found:
        key = tuple(round(p.values[n], 6) for n in names)
        unique.setdefault(key, p)
    keys = list(unique)

    def dominated(a: tuple[float, ...]) -> bool:
        return any(
            b != a and all(y <= x + 1e-6 * max(1.0, abs(x)) for x, y in zip(a, b, strict=True))
            for b in keys
        )

    kept = [unique[k] for k in keys if not dominated(k)]
    return sorted(kept, key=lambda p: tuple(p.values[n] for n in (*names[1:], names[0])))
