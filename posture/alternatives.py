"""Near-optimal alternatives: genuinely different postures within a slack of the optimum.

Modelling to generate alternatives on the kept HiGHS model. The study is solved to
its optimum z* first; then one row keeps the original objective within the slack,
``within * max(|z*|, 1)`` (the ``max(., 1)`` lets a zero optimum still admit
something), and each posture found so far gets distance rows over the integer
decisions that define a posture (``place`` and ``activated``; ``reserve`` follows
from inventory). Each further solve maximises the total L1 distance from every
posture found so far, subject to being at least one unit away from each of them,
and yields the next alternative. The search stops at ``count`` alternatives, or
when no further posture fits in the slack (then exactly that many exist). The rows
and columns added are written in ``models/tradeoffs.md``; each name is the family's
literal with its index in brackets (``distance_floor[2]``), so
``tests/test_formulation_doc.py`` finds it.

Distances are in units of the decisions: a unit that goes to another theatre
counts twice (one fewer here, one more there), a unit sent to or from reserve and
a replacement unit activated or not count once.

Each alternative's objective is its own: after the distance search picks its
integer decisions, they are fixed and the original objective is minimised over the
rest (the shortfalls), so the figure is what ``posture solve`` would report for
that posture, not a shortfall the distance search happened to leave slack.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from posture.data import ModelData, build_model_data
from posture.diagnose import impossible_rules
from posture.extract import decision_columns, extract_solution
from posture.loader import ResolvedStudy
from posture.model import build_model
from posture.resolve import IMPOSSIBLE, decision_values
from posture.schema import SolverOptions
from posture.solver import (
    CompiledModel,
    KeptModel,
    SolveResult,
    SolveStatus,
    compile_model,
    criterion_vectors,
)
from posture.tables import RESERVE

TABLE_NAMES = ("alternatives", "alternatives_postures", "alternatives_differences")
ASSET, REPLACEMENT = "asset", "replacement"
OPTIMUM = "optimum"

Decisions = dict[tuple[str, tuple[str, ...]], float]

# The integer variables that define a posture; reserve is inventory minus placements.
_POSTURE_VARIABLES = ("place", "activated")
# The slack row admits z* + slack plus the README's objective tolerance (1e-6 absolute
# + 1e-6 relative): z* itself carries HiGHS's feasibility tolerance times the shortfall
# weights (11.124999 for an exact 11.125), and a posture exactly at the limit must
# not be lost to that noise.
_ABS, _REL = 1e-6, 1e-6


def slack_limit(objective: float, within: float) -> float:
    """The highest objective an alternative may have: z* + within max(|z*|, 1), plus
    the objective tolerance (1e-6 absolute + 1e-6 relative)."""
    limit = objective + within * max(abs(objective), 1.0)
    return limit + _ABS + _REL * abs(limit)


@dataclass(frozen=True)
class Alternative:
    """One posture of the result: the optimum (rank 0) or an alternative."""

    rank: int
    objective: float  # the original objective, recomputed from the cost vector
    above_optimum_pct: float  # 100 (objective - z*) / max(|z*|, 1)
    distance_to_optimum: int  # L1 over place and activated, in units
    min_distance_to_others: int | None  # None when it is the only posture
    criteria: dict[str, float]
    decisions: Decisions  # non-zero place, reserve and activated values
    search_status: SolveStatus  # how the solve that found it ended


@dataclass
class AlternativesResult:
    """The optimum and the alternatives found within the slack, with their tables."""

    status: SolveStatus  # of the optimum's solve; alternatives only when OPTIMAL
    highs_status: str
    within: float
    requested: int
    objective: float | None = None  # z*
    slack: float | None = None  # within * max(|z*|, 1)
    postures: list[Alternative] = field(default_factory=list)  # rank 0 is the optimum
    exhausted: bool = False  # the search proved no further posture fits in the slack
    stopped: str | None = None  # why the search ended early, when it did
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def found(self) -> int:
        """Alternatives found, not counting the optimum."""
        return max(len(self.postures) - 1, 0)

    @property
    def limit(self) -> float | None:
        """The highest objective an alternative may have (:func:`slack_limit`)."""
        if self.objective is None:
            return None
        return slack_limit(self.objective, self.within)

    @property
    def note(self) -> str:
        """One line on what was found, for the terminal and captions."""
        if self.status is not SolveStatus.OPTIMAL:
            return (
                f"no alternatives: the study has no optimal solution "
                f"({self.status.value}: {self.highs_status})"
            )
        share = f"{100 * self.within:g} % of the optimum"
        found = f"{self.found} alternative{'' if self.found == 1 else 's'}"
        if self.stopped:
            return f"{found} of {self.requested} within {share}; {self.stopped}"
        if self.exhausted and self.found == 0:
            return f"no other posture lies within {share}"
        if self.exhausted and self.found < self.requested:
            verb = "exists" if self.found == 1 else "exist"
            return f"only {found} {verb} within {share}"
        return f"{found} within {share}"


@dataclass
class _Found:
    """A posture as the search found it, before the comparisons across postures."""

    result: SolveResult  # with the original objective minimised over the shortfalls
    decisions: np.ndarray  # rounded values of the posture's columns
    status: SolveStatus  # of the search that found it

    @property
    def x(self) -> np.ndarray:
        assert self.result.col_values is not None
        return self.result.col_values


def find_alternatives(
    resolved: ResolvedStudy, options: SolverOptions, *, within: float, count: int
) -> AlternativesResult:
    """Up to ``count`` postures, each different, within ``within`` of the optimum.

    ``within`` is relative: 0.05 admits every posture whose objective is at most
    z* + 0.05 max(|z*|, 1). Every solve (the optimum, each distance search and each
    re-optimisation of a found posture's shortfalls) runs under ``options``, so the
    whole search may take up to 2 ``count`` + 1 time limits. Raises ValueError for a
    negative or non-finite ``within`` or a negative ``count``.
    """
    if not (math.isfinite(within) and within >= 0):
        raise ValueError(f"within must be a finite fraction >= 0, got {within}")
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    t0 = time.perf_counter()
    data = build_model_data(resolved.study)
    units = {c: spec.unit for c, spec in resolved.study.capabilities.items()}
    # Rows no posture can meet have no variables, so the model would skip them: the
    # same pre-solve check as posture.run decides those studies.
    if impossible_rules(data, resolved.index, units):
        return AlternativesResult(SolveStatus.INFEASIBLE, IMPOSSIBLE, within, count)
    compiled = compile_model(build_model(data))
    kept = KeptModel(compiled, options)
    t1 = time.perf_counter()
    optimum = kept.solve()
    t2 = time.perf_counter()
    result = AlternativesResult(optimum.status, optimum.highs_status, within, count)
    result.seconds = {"build": t1 - t0, "optimum": t2 - t1}
    if optimum.status is not SolveStatus.OPTIMAL or optimum.objective is None:
        return result
    assert optimum.col_values is not None
    result.objective = optimum.objective
    result.slack = within * max(abs(optimum.objective), 1.0)
    found = _Search(kept, slack_limit(result.objective, within)).run(optimum, count, result)
    result.postures = _describe(compiled, found, result.objective)
    result.tables = alternatives_tables(data, result.postures, list(criterion_vectors(compiled)))
    result.seconds["alternatives"] = time.perf_counter() - t2
    return result


class _Search:
    """The distance search on one kept model: rows added per posture found."""

    def __init__(self, kept: KeptModel, limit: float) -> None:
        self.kept = kept
        compiled = kept.compiled
        lp = compiled.lp
        self.cost = np.asarray(lp.col_cost_, dtype=float)
        self.offset = float(lp.offset_)
        self.lower = np.asarray(lp.col_lower_, dtype=float)
        self.upper = np.asarray(lp.col_upper_, dtype=float)
        self.names: list[str] = list(lp.col_names_)
        self.limit = limit
        # The row holding the slack is indexed by the objective it bounds (`total`).
        objective = next(compiled.model.component_data_objects(pyo.Objective, active=True))
        self.objective_name: str = objective.name
        self.columns = np.array(decision_columns(compiled, _POSTURE_VARIABLES), dtype=np.int32)
        self.integer = np.array(
            [j for j, v in enumerate(compiled.columns) if v.is_integer()], dtype=np.int32
        )
        # The total distance from every posture so far, over own and added columns.
        self.distance: dict[int, float] = defaultdict(float)
        self.distance_constant = 0.0

    def run(self, optimum: SolveResult, count: int, result: AlternativesResult) -> list[_Found]:
        """The optimum, then up to ``count`` alternatives; sets exhausted/stopped."""
        assert optimum.col_values is not None
        first = _Found(optimum, np.round(optimum.col_values[self.columns]), SolveStatus.OPTIMAL)
        found = [first]
        if count == 0:
            return found
        self.kept.add_row(
            np.arange(len(self.cost), dtype=np.int32),
            self.cost,
            -math.inf,
            self.limit - self.offset,
            "optimality_slack[" + self.objective_name + "]",
        )
        self._keep_apart(0, first.decisions)
        while len(found) - 1 < count:
            self._set_distance_objective()
            search = self.kept.solve()
            if search.status in (SolveStatus.INFEASIBLE, SolveStatus.INFEASIBLE_OR_UNBOUNDED):
                # Bounded by construction (every posture column has finite bounds), so
                # "infeasible or unbounded" can only be infeasible.
                result.exhausted = True
                break
            if not search.status.has_solution or search.col_values is None:
                result.stopped = _stop_reason(search)
                break
            posture = self._own_objective(search)
            if posture.status is not SolveStatus.OPTIMAL or posture.col_values is None:
                # Without the optimum of its own shortfalls a posture's objective is
                # only an upper bound: not reported as its objective.
                result.stopped = (
                    "re-optimising a found posture's shortfalls ended "
                    f"{posture.status.value} ({posture.highs_status})"
                )
                break
            x = posture.col_values
            decisions = np.round(x[self.columns])
            if any(np.array_equal(decisions, f.decisions) for f in found):
                result.stopped = "the solver returned a posture already found (numerical trouble)"
                break
            objective = float(self.cost @ x) + self.offset
            # The row holds within HiGHS's feasibility tolerance (1e-7); far more is a bug.
            if objective > self.limit + _ABS:
                result.stopped = f"a found posture's objective {objective:.9g} exceeds the slack"
                break
            found.append(_Found(posture, decisions, search.status))
            self._keep_apart(len(found) - 1, decisions)
        return found

    def _keep_apart(self, rank: int, values: np.ndarray) -> None:
        """Rows and columns measuring the distance from posture ``rank``; floor of 1."""
        coefs, constant = self._distance_terms(rank, values)
        cols = np.array(sorted(coefs), dtype=np.int32)
        self.kept.add_row(
            cols,
            np.array([coefs[j] for j in cols], dtype=float),
            1.0 - constant,
            math.inf,
            "distance_floor[" + str(rank) + "]",
        )
        for j, value in coefs.items():
            self.distance[j] += value
        self.distance_constant += constant

    def _distance_terms(self, rank: int, values: np.ndarray) -> tuple[dict[int, float], float]:
        """The L1 distance |x - a| from posture ``rank`` as a linear expression.

        Where a sits at a bound the distance is x - a or a - x itself (no new column);
        elsewhere x - a = p - n with a binary direction d, so p + n = |x - a|.
        """
        coefs: dict[int, float] = defaultdict(float)
        constant = 0.0
        both: list[tuple[int, float, float, float]] = []
        for j, a in zip(self.columns, values, strict=True):
            lo, up = self.lower[j], self.upper[j]
            if not (math.isfinite(lo) and math.isfinite(up)):
                raise ValueError(f"posture column {self.names[j]} has an infinite bound")
            if lo < a < up:
                both.append((int(j), float(a), float(lo), float(up)))
            elif a < up:  # at its lower bound: can only go up
                coefs[int(j)] += 1.0
                constant -= a
            elif a > lo:  # at its upper bound: can only go down
                coefs[int(j)] -= 1.0
                constant += a
        if not both:
            return coefs, constant
        labels = [f"{rank},{self.names[j]}" for j, *_ in both]
        room_up = np.array([up - a for _, a, _, up in both])
        room_down = np.array([a - lo for _, a, lo, _ in both])
        k = len(both)
        up_cols = self.kept.add_columns(
            np.zeros(k),
            room_up,
            integer=False,
            names=["distance_up[" + label + "]" for label in labels],
        )
        down_cols = self.kept.add_columns(
            np.zeros(k),
            room_down,
            integer=False,
            names=["distance_down[" + label + "]" for label in labels],
        )
        direction = self.kept.add_columns(
            np.zeros(k),
            np.ones(k),
            integer=True,
            names=["distance_direction[" + label + "]" for label in labels],
        )
        for i, (j, a, _, _) in enumerate(both):
            p, n, d = int(up_cols[i]), int(down_cols[i]), int(direction[i])
            pair = np.array([j, p, n], dtype=np.int32)
            self.kept.add_row(
                pair, np.array([1.0, -1.0, 1.0]), a, a, "distance_split[" + labels[i] + "]"
            )
            self.kept.add_row(
                np.array([p, d], dtype=np.int32),
                np.array([1.0, -room_up[i]]),
                -math.inf,
                0.0,
                "distance_up_limit[" + labels[i] + "]",
            )
            self.kept.add_row(
                np.array([n, d], dtype=np.int32),
                np.array([1.0, room_down[i]]),
                -math.inf,
                room_down[i],
                "distance_down_limit[" + labels[i] + "]",
            )
            coefs[p] += 1.0
            coefs[n] += 1.0
        return coefs, constant

    def _set_distance_objective(self) -> None:
        """Maximise the total distance (HiGHS minimises: the negated sum)."""
        n = self.kept.n_cols + self.kept.added_cols
        cost = np.zeros(n)
        for j, value in self.distance.items():
            cost[j] = -value
        self.kept.set_objective(cost, -self.distance_constant)

    def _own_objective(self, search: SolveResult) -> SolveResult:
        """The found posture with its integers fixed and the original objective minimised.

        The distance search leaves the continuous columns (shortfalls) anywhere the
        slack allows; this gives them their best values. Bounds are restored after.
        """
        assert search.col_values is not None
        cols = self.integer
        fixed = np.round(search.col_values[cols])
        self.kept.set_col_bounds(cols, fixed, fixed)
        self.kept.set_objective(self.cost, self.offset)
        try:
            polished = self.kept.solve()
        finally:
            self.kept.set_col_bounds(cols, self.lower[cols], self.upper[cols])
        return polished


def _stop_reason(search: SolveResult) -> str:
    if search.status is SolveStatus.NO_SOLUTION:
        return (
            f"the search stopped before finding another posture ({search.highs_status}); "
            "more may exist"
        )
    return f"the search failed ({search.status.value}: {search.highs_status})"


def _describe(compiled: CompiledModel, found: list[_Found], z: float) -> list[Alternative]:
    """Objective, distances, criteria and decisions of each posture found."""
    criteria = criterion_vectors(compiled)
    scale = max(abs(z), 1.0)
    out = []
    for rank, f in enumerate(found):
        objective = float(np.asarray(compiled.lp.col_cost_, float) @ f.x) + float(
            compiled.lp.offset_
        )
        others = [
            int(np.abs(f.decisions - g.decisions).sum()) for k, g in enumerate(found) if k != rank
        ]
        out.append(
            Alternative(
                rank=rank,
                objective=objective,
                above_optimum_pct=100.0 * (objective - z) / scale,
                distance_to_optimum=int(np.abs(f.decisions - found[0].decisions).sum()),
                min_distance_to_others=min(others) if others else None,
                criteria={
                    name: float(vector @ f.x + constant)
                    for name, (vector, constant) in criteria.items()
                },
                decisions=decision_values(extract_solution(compiled, f.result)),
                search_status=f.status,
            )
        )
    return out


def _r(x: float) -> float:
    """Round away solver noise (1e-9 residues, -0.0) so tables read cleanly and stably."""
    value = round(x, 6)
    return 0.0 if value == 0 else value


_Key = tuple[str, str, str, str, tuple[str, tuple[str, ...]]]


def _posture_keys(data: ModelData) -> list[_Key]:
    """Every decision of a posture as (kind, asset, origin, location, decision key), in
    the study's order: each holding's theatres then reserve, then replacement sources."""
    keys: list[_Key] = []
    placed = set(data.placements)
    for a, o in data.holdings:
        for t in data.theatres:
            if (a, o, t) in placed:
                keys.append((ASSET, a, o, t, ("place", (a, o, t))))
        keys.append((ASSET, a, o, RESERVE, ("reserve", (a, o))))
    for s, t in data.activations:
        keys.append((REPLACEMENT, s, REPLACEMENT, t, ("activated", (s, t))))
    return keys


def alternatives_tables(
    data: ModelData, postures: list[Alternative], criteria: list[str]
) -> dict[str, pd.DataFrame]:
    """The three tables of an alternatives result (TABLE_NAMES), rows in a fixed order.

    ``alternatives``: one row per posture, the optimum as alternative 0, with its
    objective, percent above the optimum, distances in units and each criterion.
    ``alternatives_postures``: long form, the non-zero units of every posture;
    replacement activations are rows too, with kind ``replacement``, the source as
    ``asset``, ``replacement`` as ``origin`` and the theatre as ``location``.
    ``alternatives_differences``: the decisions where some alternative differs from the
    optimum, the optimum's units, then one column ``alternative_<rank>`` each.
    """
    summary = pd.DataFrame(
        [
            {
                "alternative": p.rank,
                "objective": _r(p.objective),
                "above_optimum_pct": _r(p.above_optimum_pct),
                "distance_to_optimum": p.distance_to_optimum,
                "min_distance_to_others": p.min_distance_to_others,
                "search_status": p.search_status.value,
                **{name: _r(p.criteria[name]) for name in criteria},
            }
            for p in postures
        ],
        columns=[
            "alternative",
            "objective",
            "above_optimum_pct",
            "distance_to_optimum",
            "min_distance_to_others",
            "search_status",
            *criteria,
        ],
    )
    summary["min_distance_to_others"] = summary["min_distance_to_others"].astype("Int64")
    keys = _posture_keys(data)
    key_columns = ["kind", "asset", "origin", "location"]
    long = pd.DataFrame(
        [
            {
                "alternative": p.rank,
                **dict(zip(key_columns, key[:4], strict=True)),
                "units": int(p.decisions.get(key[4], 0.0)),
            }
            for p in postures
            for key in keys
            if p.decisions.get(key[4], 0.0)
        ],
        columns=["alternative", *key_columns, "units"],
    )
    labels = [OPTIMUM, *(f"alternative_{p.rank}" for p in postures[1:])]
    differences = pd.DataFrame(
        [
            {
                **dict(zip(key_columns, key[:4], strict=True)),
                **{
                    label: int(p.decisions.get(key[4], 0.0))
                    for label, p in zip(labels, postures, strict=True)
                },
            }
            for key in keys
            if len({p.decisions.get(key[4], 0.0) for p in postures}) > 1
        ],
        columns=[*key_columns, *labels],
    )
    return {
        "alternatives": summary,
        "alternatives_postures": long,
        "alternatives_differences": differences,
    }
