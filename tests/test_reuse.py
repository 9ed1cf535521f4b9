"""The argument of posture/reuse.py on hand-made numbers.

Model: min x0 + 2 x1 over 0 <= x0, x1 <= 10 (x1 unbounded above in some cases),
one row x0 + x1 >= 3, solved at plan (3, 0) with objective 3 and proven bound 2.9.
Each case changes one thing and states by hand what the plan's objective and the
proven bound must be, or that the argument does not apply. The second group
remembers two solved points with different costs and states the bound their pair
gives.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from posture.reuse import LpNumbers, SolvedPoint, crossing, prove

INF = math.inf


def _numbers(
    *,
    lower: tuple[float, float] = (0, 0),
    upper: tuple[float, float] = (10, 10),
    row: tuple[float, float] = (3, INF),
    cost: tuple[float, float] = (1, 2),
    offset: float = 0.0,
) -> LpNumbers:
    return LpNumbers(
        np.array(lower, float),
        np.array(upper, float),
        np.array([row[0]], float),
        np.array([row[1]], float),
        np.array(cost, float),
        offset,
    )


SOLVED = SolvedPoint(_numbers(), np.array([3.0, 0.0]), np.array([3.0]), 2.9)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({}, (3.0, 2.9)),  # nothing changed: the same plan, the same bound
        ({"row": (2.5, INF)}, None),  # a looser row: a better plan may exist
        ({"upper": (10, 11)}, None),  # a looser column bound
        ({"lower": (-1, 0)}, None),
        ({"row": (3, 8)}, (3.0, 2.9)),  # tighter, and the plan's 3 still meets it
        ({"upper": (3, 10)}, (3.0, 2.9)),
        ({"row": (3.5, INF)}, None),  # tighter, and the plan's 3 breaks it
        ({"row": (3 + 5e-7, INF)}, (3.0, 2.9)),  # within the feasibility tolerance
        ({"upper": (2, 10)}, None),
        # x1 costs more; the plan has x1 = 0, and x1 >= 0 so no plan gains: bound kept
        ({"cost": (1, 5)}, (3.0, 2.9)),
        # x0 costs 1.5: the plan's objective is 4.5; every plan's objective rises by at
        # least 0.5 x lower(x0) = 0, so the bound stays 2.9
        ({"cost": (1.5, 2)}, (4.5, 2.9)),
        # x1 cheaper by 1: plans may gain up to 1 x upper(x1) = 10, bound 2.9 - 10
        ({"cost": (1, 1)}, (3.0, -7.1)),
        # the objective's constant moves plan and bound alike
        ({"offset": 4.0}, (7.0, 6.9)),
        # x0 at least 1 and costing 2 more: every plan rises by at least 2
        ({"lower": (1, 0), "cost": (3, 2)}, (9.0, 4.9)),
    ],
)
def test_carried_bound(change: dict[str, object], expected: tuple[float, float] | None) -> None:
    proof = prove([SOLVED], _numbers(**change))  # type: ignore[arg-type]
    if expected is None:
        assert proof is None or proof.bound == -math.inf
    else:
        assert proof is not None and proof.point is SOLVED
        assert (proof.objective, proof.bound) == pytest.approx(expected)


def test_a_cheaper_column_without_an_upper_bound_leaves_no_bound() -> None:
    """x1 unbounded above in both models, and cheaper now: plans may gain without
    limit, so no finite bound (the plan is still offered as the incumbent)."""
    unbounded = _numbers(upper=(10, INF))
    solved = SolvedPoint(unbounded, np.array([3.0, 0.0]), np.array([3.0]), 2.9)
    proof = prove([solved], _numbers(upper=(10, INF), cost=(1, 1)))
    assert proof is not None and proof.objective == 3.0 and proof.bound == -INF
    # a cost change of 1e-12 is a cost change: nothing rounds it away for one point
    proof = prove([solved], _numbers(upper=(10, INF), cost=(1, 2 - 1e-12)))
    assert proof is not None and proof.bound == -INF


def test_the_bound_never_exceeds_the_plans_objective() -> None:
    """HiGHS's bound can sit a rounding error above its plan's objective; the carried
    bound is cut to the plan's objective, so no gap comes out negative."""
    solved = SolvedPoint(_numbers(), np.array([3.0, 0.0]), np.array([3.0]), 3.0 + 1e-9)
    proof = prove([solved], _numbers())
    assert proof is not None and (proof.objective, proof.bound) == (3.0, 3.0)


CHEAP = SolvedPoint(_numbers(cost=(1, 2)), np.array([3.0, 0.0]), np.array([3.0]), 3.0)
DEARER = SolvedPoint(_numbers(cost=(1.5, 2)), np.array([3.0, 0.0]), np.array([3.0]), 4.5)


@pytest.mark.parametrize(
    ("solved", "cost", "expected"),
    [
        # halfway between two solved costs that share the plan (3, 0): the bound is the
        # average of their bounds, 3.75, which the plan reaches: proven
        ([CHEAP, DEARER], (1.25, 2), (3.75, 3.75)),
        # from one end alone: x0 dearer by 0.25 on x0 >= 0 raises no plan: bound 3
        ([CHEAP], (1.25, 2), (3.75, 3.0)),
        # beyond the far end: the pair's weight stops at the end, (1.5, 2), and the
        # rest, 0.5 more on x0 >= 0, raises no plan: bound 4.5
        ([CHEAP, DEARER], (2, 2), (6.0, 4.5)),
        # a point whose feasible set is smaller than now's cannot bound now's optimum
        (
            [
                CHEAP,
                SolvedPoint(
                    _numbers(cost=(1.5, 2), row=(3.5, INF)), DEARER.plan, DEARER.activity, 4.5
                ),
            ],
            (1.25, 2),
            (3.75, 3.0),
        ),
        # two plans: at (3, 1.5) the plan (0, 3) costs 4.5 and (3, 0) 9; the best bound
        # is 3, from the pair at t = 0.9 (0.1 x (1, 2) + 0.9 x (3, 1) = (2.8, 1.1), the
        # rest (0.2, 0.4) raising no plan) and from (3, 1) alone
        (
            [
                CHEAP,
                SolvedPoint(_numbers(cost=(3, 1)), np.array([0.0, 3.0]), np.array([3.0]), 3.0),
            ],
            (3, 1.5),
            (4.5, 3.0),
        ),
    ],
)
def test_bounds_from_two_solved_points(
    solved: list[SolvedPoint], cost: tuple[float, float], expected: tuple[float, float]
) -> None:
    proof = prove(solved, _numbers(cost=cost))
    assert proof is not None
    assert (proof.objective, proof.bound) == pytest.approx(expected)


def _closed(objective: float, bound: float) -> bool:
    return objective - bound <= 1e-9


def test_a_solve_where_two_plans_cross_proves_the_points_between() -> None:
    """Solved at costs (1, 2) with plan (3, 0) and at (3, 1) with plan (0, 3), both at
    objective 3. At (2, 1.5), halfway, the pair bounds the optimum by 3 only, against
    4.5 for (0, 3). The two plans' objectives cross a third of the way along,
    at costs (5/3, 5/3), where both give 5; a solve there (optimum 5) then bounds
    (2, 1.5) by 0.75 x 5 + 0.25 x 3 = 4.5: (0, 3) is proven optimal."""
    other = SolvedPoint(_numbers(cost=(3, 1)), np.array([0.0, 3.0]), np.array([3.0]), 3.0)
    now = _numbers(cost=(2, 1.5))
    proof = prove([CHEAP, other], now)
    assert proof is not None and (proof.objective, proof.bound) == pytest.approx((4.5, 3.0))
    at = crossing(proof, now, _closed)
    assert at is not None
    assert at.cost == pytest.approx([5 / 3, 5 / 3]) and at.offset == 0
    assert np.array_equal(at.row_lower, now.row_lower)  # the model now, costs aside
    solved_there = SolvedPoint(at, np.array([3.0, 0.0]), np.array([3.0]), 5.0)
    proof = prove([CHEAP, other, solved_there], now)
    assert proof is not None and (proof.objective, proof.bound) == pytest.approx((4.5, 4.5))
    assert proof.point is other


def test_no_crossing_without_two_closed_ends() -> None:
    now = _numbers(cost=(2, 1.5))
    alone = prove([CHEAP], _numbers(cost=(1.25, 2)))
    assert alone is not None and crossing(alone, now, _closed) is None  # one point
    loose = SolvedPoint(_numbers(cost=(3, 1)), np.array([0.0, 3.0]), np.array([3.0]), 2.0)
    proof = prove([CHEAP, loose], now)
    assert proof is not None and proof.bracket is not None
    assert crossing(proof, now, _closed) is None  # (0, 3) was not proven at (3, 1)


def test_the_crossing_uses_a_pair_whose_plans_meet_the_model_now() -> None:
    """Costs (a, 2) with the row x0 + x1 >= 3.5 now, at a = 1.9 (optimum 6.65 at
    (3.5, 0)). Two points solved with the row at 3 sit close by (a = 1.8 and 2.0, plan
    (3, 0), bounds 5.4 and 6): their chord bounds the optimum by 5.7, and the a = 2.0
    point with the a = 1 end below by 5.75, the best bound; but their plans break the
    row now. The run's own ends (a = 1 with (3.5, 0) and a = 3 with (0, 3.5), bounds
    3.5 and 7) bound it by 5.075 only, yet a solve where their plans' lines cross,
    a = 2, can settle it: that pair is the bracket."""
    short = np.array([3.0, 0.0]), np.array([3.0])
    near_low = SolvedPoint(_numbers(cost=(1.8, 2)), *short, 5.4)
    near_high = SolvedPoint(_numbers(cost=(2.0, 2)), *short, 6.0)
    tight = (3.5, INF)
    low = SolvedPoint(_numbers(cost=(1, 2), row=tight), np.array([3.5, 0.0]), np.array([3.5]), 3.5)
    high = SolvedPoint(_numbers(cost=(3, 2), row=tight), np.array([0.0, 3.5]), np.array([3.5]), 7.0)
    now = _numbers(cost=(1.9, 2), row=tight)
    proof = prove([near_low, near_high, low, high], now)
    assert proof is not None and (proof.objective, proof.bound) == pytest.approx((6.65, 5.75))
    assert proof.bracket == (low, high)
    at = crossing(proof, now, _closed)
    assert at is not None and at.cost == pytest.approx([2.0, 2.0])
