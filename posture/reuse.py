"""When a re-solve in place needs no solve: a plan already found is proven optimal.

A kept model remembers the points it solved: each point's numbers (bounds, costs,
constant), plan and proven lower bound. The matrix and integrality are the same for
all of them (a change of coefficients forgets them). For the model as it stands now,
with feasible set ``F`` and objective ``c . x + o``:

- **Incumbent.** Any remembered plan that meets every row and column bound now is a
  plan of the new model; the best of them is offered.
- **Bound.** Take two remembered points ``i`` and ``j`` (``i = j`` allowed) whose
  feasible sets contain ``F`` (every bound now equal or tighter), and a weight
  ``t`` in [0, 1]. For every ``x`` in ``F``, with ``c_t = (1-t) c_i + t c_j`` and
  ``o_t`` likewise,

      c . x + o = (1-t)(c_i . x + o_i) + t (c_j . x + o_j) + (c - c_t) . x + o - o_t
                >= (1-t) b_i + t b_j + min over F's column box of (c - c_t) . x + o - o_t,

  since ``x`` lies in both old feasible sets, where ``b_i`` and ``b_j`` are proven
  bounds. ``t`` is chosen to put ``c_t`` as near ``c`` as possible.

When the incumbent's objective is within the user's gap of the best such bound (the
gap as posture reports it: relative to max(1, |objective|)), it is an optimum HiGHS
could have returned, with no solve. With ``i = j`` this covers a
point that only makes an earlier one harder (a floor or target raised, a cap lowered,
a priority or price raised) while its plan still meets it; with ``i != j`` a point
whose costs lie between two solved points' on a line, such as a priority between
two solved priorities (the optimum is concave along that line, so once both ends
share a plan, every point between is proven).

When no proof closes, :func:`settled_columns` says which columns a first, small
search from the remembered plans may hold still.

Nothing here talks to HiGHS: the arrays are the kept model's numbers
(:class:`posture.solver.KeptModel` keeps them in step with its HiGHS copy).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

FEASIBILITY_TOLERANCE = 1e-6
"""How far a plan may sit outside a new bound: HiGHS's MIP feasibility tolerance."""
ROUNDING = 1e-12
"""Relative size below which ``c - c_t`` is rounding from forming ``c_t`` (a priority
halfway between two others leaves 6e-14 on a cost of 1,000), not a cost: on a column
without an upper bound it would otherwise make every bound -inf. HiGHS's own dual
feasibility tolerance is 1e-7."""


@dataclass(frozen=True)
class LpNumbers:
    """What an in-place refresh may change: bounds, costs and the objective's constant."""

    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    cost: np.ndarray
    offset: float


@dataclass(frozen=True)
class SolvedPoint:
    """A solved model's numbers, plan and proven bound, remembered for later points."""

    numbers: LpNumbers
    plan: np.ndarray  # a value per column
    activity: np.ndarray  # each row's value at the plan
    bound: float  # proven lower bound on the minimum over the model's feasible set

    @property
    def nbytes(self) -> int:
        n = self.numbers
        arrays = (n.col_lower, n.col_upper, n.row_lower, n.row_upper, n.cost)
        return self.plan.nbytes + self.activity.nbytes + sum(a.nbytes for a in arrays)


@dataclass(frozen=True)
class Proof:
    """A remembered plan, its objective now and a proven bound on the new optimum."""

    point: SolvedPoint  # whose plan
    objective: float
    bound: float
    # a pair whose costs the costs now lie strictly between on a line (a priority
    # between two solved priorities) and whose plans meet the model now: the best
    # such pair by its bound (:func:`crossing`)
    bracket: tuple[SolvedPoint, SolvedPoint] | None = None


def _meets(now: LpNumbers, plan: np.ndarray, activity: np.ndarray) -> bool:
    tol = FEASIBILITY_TOLERANCE
    return bool(
        np.all(plan >= now.col_lower - tol)
        and np.all(plan <= now.col_upper + tol)
        and np.all(activity >= now.row_lower - tol)
        and np.all(activity <= now.row_upper + tol)
    )


def _meeting(now: LpNumbers, points: Sequence[SolvedPoint]) -> np.ndarray:
    """Per point, whether its plan meets every bound of ``now`` (:func:`_meets`)."""
    tol = FEASIBILITY_TOLERANCE
    plans = np.array([p.plan for p in points])
    activities = np.array([p.activity for p in points])
    return np.asarray(
        (plans >= now.col_lower - tol).all(axis=1)
        & (plans <= now.col_upper + tol).all(axis=1)
        & (activities >= now.row_lower - tol).all(axis=1)
        & (activities <= now.row_upper + tol).all(axis=1),
        dtype=bool,
    )


def _containing(now: LpNumbers, points: Sequence[SolvedPoint]) -> np.ndarray:
    """Per point, whether every bound of ``now`` is equal to or tighter than in the
    point's numbers: its feasible set contains the one now."""

    def stacked(field: str) -> np.ndarray:
        return np.array([getattr(p.numbers, field) for p in points])

    return np.asarray(
        (now.col_lower >= stacked("col_lower")).all(axis=1)
        & (now.col_upper <= stacked("col_upper")).all(axis=1)
        & (now.row_lower >= stacked("row_lower")).all(axis=1)
        & (now.row_upper <= stacked("row_upper")).all(axis=1),
        dtype=bool,
    )


def _least(residual: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Per row of ``residual``, the least ``residual . x`` over the box [lower, upper]
    (-inf when unbounded)."""
    at = np.where(residual > 0, lower, upper)
    # columns whose residual is 0 add nothing, even with an infinite bound there
    at = np.where(residual != 0, at, 0.0)
    return np.asarray((residual * at).sum(axis=1), dtype=float)


def _best_bound(
    containing: Sequence[SolvedPoint], meet: np.ndarray, now: LpNumbers
) -> tuple[float, tuple[SolvedPoint, SolvedPoint] | None]:
    """The best bound of the argument above over pairs of ``containing`` points, and
    the best pair whose costs the costs now lie strictly between and whose plans both
    meet the model now (``meet``, a flag per point: a :class:`Proof`'s bracket)."""
    # Only columns whose cost differs somewhere matter: few (a priority touches a
    # theatre's shortfall columns), so pairs are compared on those alone.
    columns = np.flatnonzero(np.any([p.numbers.cost != now.cost for p in containing], axis=0))
    lower, upper = now.col_lower[columns], now.col_upper[columns]
    scale = np.maximum(1.0, np.abs(now.cost[columns]))
    excess = np.array([p.numbers.cost[columns] - now.cost[columns] for p in containing])
    excess = excess.reshape(len(containing), len(columns))  # c_i - c, a row per point
    bounds = np.array([p.bound for p in containing])
    offsets = np.array([p.numbers.offset for p in containing])
    # every pair i <= j at once (64 remembered points: 2,080 pairs)
    i, j = np.triu_indices(len(containing))
    d = excess[j] - excess[i]
    dd = np.einsum("pk,pk->p", d, d)
    toward = -np.einsum("pk,pk->p", excess[i], d)
    t = np.clip(np.divide(toward, dd, out=np.zeros_like(dd), where=dd != 0), 0.0, 1.0)
    residual = -((1 - t)[:, None] * excess[i] + t[:, None] * excess[j])  # c - c_t
    between = (t > 0) & (t < 1)
    # only forming c_t rounds; a single point's costs are exact
    residual[between[:, None] & (np.abs(residual) <= ROUNDING * scale)] = 0.0
    mixed = (1 - t) * offsets[i] + t * offsets[j]
    bound = (1 - t) * bounds[i] + t * bounds[j] + _least(residual, lower, upper)
    bound = bound + (now.offset - mixed)
    k = int(np.argmax(bound))  # the first best pair, as i <= j run in order
    # The bracket for a crossing: the best pair on a line through the costs now whose
    # plans both meet the model now. The best bound may come from other points (say
    # a lower target's, whose plans fall short now), which no crossing can settle.
    on_line = between & ~residual.any(axis=1) & meet[i] & meet[j]
    bracket = None
    if on_line.any():
        b = int(np.flatnonzero(on_line)[np.argmax(bound[on_line])])
        bracket = (containing[int(i[b])], containing[int(j[b])])
    return float(bound[k]), bracket


def prove(solved: Sequence[SolvedPoint], now: LpNumbers) -> Proof | None:
    """The best remembered plan that meets the model as it stands now, its objective
    and the best proven bound on the new optimum; None when no remembered plan meets
    it or no remembered feasible set contains the new one."""
    if not solved:
        return None
    meets, inside = _meeting(now, solved), _containing(now, solved)
    meeting = [p for p, m in zip(solved, meets, strict=True) if m]
    containing = [p for p, c in zip(solved, inside, strict=True) if c]
    if not meeting or not containing:
        return None
    objectives = [float(now.cost @ p.plan) + now.offset for p in meeting]
    k = int(np.argmin(objectives))
    bound, bracket = _best_bound(containing, meets[inside], now)
    return Proof(meeting[k], objectives[k], min(bound, objectives[k]), bracket)


def settled_columns(plans: Sequence[np.ndarray], integer: np.ndarray) -> np.ndarray:
    """Integer columns on which every plan agrees (a boolean mask).

    A re-solve whose remembered plans do not prove it still starts near them: a
    sub-MIP holds these columns at the start's values and moves the rest, the
    columns that changed between solved points (along a sweep: the few placements
    that trade against a target or a priority). Whatever it finds is a plan of the
    full model, so it can only be a better start.
    """
    stacked = np.asarray(plans, dtype=float)
    spread = stacked.max(axis=0) - stacked.min(axis=0)
    settled: np.ndarray = np.asarray(integer, dtype=bool) & (spread < 0.5)
    return settled


def crossing(
    proof: Proof, now: LpNumbers, closed: Callable[[float, float], bool]
) -> LpNumbers | None:
    """The model now, with the costs where the objective lines of the proof's bracket
    plans cross, on the line through the bracket's costs; None without a bracket.

    Along that line the optimum is concave: the lower envelope of every plan's
    (linear) objective. When both ends of the bracket are solved (``closed(objective,
    bound)``) with different plans A and B, a solve where A's and B's lines cross
    either finds nothing better, and then the bracket's ends and the crossing prove A
    optimal on one side of it and B on the other, or finds a third plan, which
    narrows the bracket. Either way one solve decides many points of a sweep.
    """
    if proof.bracket is None:
        return None
    first, second = proof.bracket

    def line(point: SolvedPoint) -> tuple[float, float]:  # at first's and second's costs
        return (
            float(first.numbers.cost @ point.plan) + first.numbers.offset,
            float(second.numbers.cost @ point.plan) + second.numbers.offset,
        )

    (a0, a1), (b0, b1) = line(first), line(second)
    if not (closed(a0, first.bound) and closed(b1, second.bound)):
        return None
    if not all(_meets(now, p.plan, p.activity) for p in (first, second)):
        return None
    slope = (a1 - a0) - (b1 - b0)
    if slope == 0:
        return None
    s = (b0 - a0) / slope
    if not 0 < s < 1:
        return None
    return LpNumbers(
        now.col_lower,
        now.col_upper,
        now.row_lower,
        now.row_upper,
        first.numbers.cost + s * (second.numbers.cost - first.numbers.cost),
        first.numbers.offset + s * (second.numbers.offset - first.numbers.offset),
    )
