"""When a re-solve in place needs no solve: the previous plan is proven still optimal.

A sweep along a target, a floor or a priority often changes a model only in ways
that cannot improve on the plan it already has. If the new model's feasible set
lies inside the old one (same matrix and integrality; every row and column bound
equal or tighter), the old plan still meets every row and bound, and the objective
``f'`` differs from ``f`` by ``d . x + d0``, then for every plan ``x`` of the new
model

    f'(x) = f(x) + d . x + d0 >= bound + min over the new box of (d . x) + d0,

where ``bound`` is the previous solve's proven lower bound on ``f`` over the old
(larger) feasible set. That is a proven lower bound for the new model; when the old
plan's new objective is within the user's gap of it, the old plan is an optimum
HiGHS could have returned, with no solve. Raising a theatre's priority when its
shortfall is already zero, or raising a target the plan already covers, are the
common cases.

Nothing here talks to HiGHS: the arrays are the kept model's numbers
(:class:`posture.solver.KeptModel` keeps them in step with its HiGHS copy).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FEASIBILITY_TOLERANCE = 1e-6
"""How far the old plan may sit outside a new bound: HiGHS's MIP feasibility tolerance."""


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
class PreviousSolve:
    """A solved model's numbers, plan and proven bound, kept for the next point."""

    numbers: LpNumbers
    plan: np.ndarray  # a value per column
    activity: np.ndarray  # each row's value at the plan
    bound: float  # proven lower bound on the minimum over the model's feasible set


def _inside(now: LpNumbers, before: LpNumbers) -> bool:
    """Whether every bound of ``now`` is equal to or tighter than in ``before``."""
    return bool(
        np.all(now.col_lower >= before.col_lower)
        and np.all(now.col_upper <= before.col_upper)
        and np.all(now.row_lower >= before.row_lower)
        and np.all(now.row_upper <= before.row_upper)
    )


def _meets(now: LpNumbers, plan: np.ndarray, activity: np.ndarray) -> bool:
    tol = FEASIBILITY_TOLERANCE
    return bool(
        np.all(plan >= now.col_lower - tol)
        and np.all(plan <= now.col_upper + tol)
        and np.all(activity >= now.row_lower - tol)
        and np.all(activity <= now.row_upper + tol)
    )


def _least_change(now: LpNumbers, before: LpNumbers) -> float:
    """The least ``f' - f`` over the new model's column box (-inf when unbounded)."""
    delta = now.cost - before.cost
    changed = np.flatnonzero(delta)
    d = delta[changed]
    at = np.where(d > 0, now.col_lower[changed], now.col_upper[changed])
    if not np.all(np.isfinite(at)):
        return -np.inf
    return float(d @ at) + (now.offset - before.offset)


def carried_bound(previous: PreviousSolve, now: LpNumbers) -> tuple[float, float] | None:
    """The previous plan's objective in the model as it stands now, and a proven lower
    bound on the new model's optimum; None when the argument above does not apply
    (a bound loosened, the plan breaks a new bound, or the cost change is unbounded)."""
    before = previous.numbers
    if not _inside(now, before) or not _meets(now, previous.plan, previous.activity):
        return None
    floor = _least_change(now, before)
    if not np.isfinite(floor):
        return None
    objective = float(now.cost @ previous.plan) + now.offset
    return objective, min(previous.bound + floor, objective)
