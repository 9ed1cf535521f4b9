"""Parameter sweeps: a grid of values or Monte Carlo samples, each point a what-if.

Points are written as ``--set`` overrides (``path=value``), so every point is read,
merged and validated exactly like a single solve, and all points are checked before
any is solved. Points are solved in chunks; within a chunk one
:class:`posture.resolve.Resolver` keeps the model and re-solves in place when only
parameters change. Chunks run in this process, in local processes or on a Dask
cluster (:mod:`posture.distribute`); the results are the same.
"""

from __future__ import annotations

import itertools
import math
import random
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from posture.data import ModelData, build_model_data
from posture.errors import Diagnostic, InputError, Location
from posture.loader import ResolvedStudy, StudyFiles, resolve
from posture.model import criterion_names
from posture.resolve import Resolver, decision_values, units_changed
from posture.schema import SolverOptions

DISTRIBUTIONS = {"uniform": 2, "normal": 2, "triangular": 3, "randint": 2, "choice": None}
MAX_POINTS = 100_000
_CALL = re.compile(r"^\s*(\w+)\s*\((.*)\)\s*$")


@dataclass(frozen=True)
class Axis:
    """One swept input: its dotted path and the YAML texts of its values."""

    path: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Sampler:
    """One uncertain input: its path and a distribution to draw from."""

    path: str
    kind: str
    args: tuple[str, ...]


def _split(text: str, option: str, number: int) -> tuple[str, str, Location]:
    where = Location(f"{option} #{number}", 1, 1)
    path, sep, rest = text.partition("=")
    if not sep or not path.strip() or not rest.strip():
        raise InputError(
            [
                Diagnostic(
                    f"expected path=values, got {text!r}",
                    where,
                    hint="e.g. --param requirements.korea.air_missile_defence.floor=4,6,8",
                )
            ]
        )
    return path.strip(), rest.strip(), where


def _number(text: str, where: Location) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise InputError([Diagnostic(f"expected a finite number, got {text!r}", where)])
    return value


def _text(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(round(x, 12))


def parse_axis(text: str, number: int) -> Axis:
    """``path=v1,v2,...`` or ``path=start:stop:step`` (stop included)."""
    path, rest, where = _split(text, "--param", number)
    if rest.count(":") == 2 and "," not in rest:
        start, stop, step = (_number(part, where) for part in rest.split(":"))
        if step <= 0 or stop < start:
            raise InputError([Diagnostic("a range needs start <= stop and a positive step", where)])
        count = math.floor((stop - start) / step + 1e-9) + 1
        if count > MAX_POINTS:
            raise InputError([Diagnostic(f"the range has {count} values; too many", where)])
        return Axis(path, tuple(_text(start + k * step) for k in range(count)))
    values = tuple(v.strip() for v in rest.split(","))
    if not all(values):
        raise InputError([Diagnostic("an empty value in the list", where)])
    return Axis(path, values)


def parse_sampler(text: str, number: int) -> Sampler:
    """``path=uniform(lo,hi)``, ``normal(mean,sd)``, ``triangular(lo,mode,hi)``,
    ``randint(lo,hi)`` or ``choice(a,b,...)``."""
    path, rest, where = _split(text, "--sample", number)
    call = _CALL.match(rest)
    kinds = ", ".join(f"{k}(...)" for k in DISTRIBUTIONS)
    if call is None or call.group(1) not in DISTRIBUTIONS:
        raise InputError([Diagnostic(f"unknown distribution {rest!r}", where, hint=kinds)])
    kind, args = call.group(1), tuple(a.strip() for a in call.group(2).split(","))
    arity = DISTRIBUTIONS[kind]
    if (arity is not None and len(args) != arity) or not all(args):
        raise InputError(
            [Diagnostic(f"{kind} takes {arity or 'one or more'} arguments", where, hint=kinds)]
        )
    if kind != "choice":
        numbers = [_number(a, where) for a in args]
        if kind in ("uniform", "randint") and numbers[0] > numbers[1]:
            raise InputError([Diagnostic(f"{kind} needs low <= high", where)])
        if kind == "normal" and numbers[1] < 0:
            raise InputError([Diagnostic("normal needs a non-negative deviation", where)])
        if kind == "triangular" and not numbers[0] <= numbers[1] <= numbers[2]:
            raise InputError([Diagnostic("triangular needs low <= mode <= high", where)])
    return Sampler(path, kind, args)


def grid_points(axes: Sequence[Axis]) -> list[dict[str, str]]:
    """Every combination of the axes' values (the first axis varies slowest)."""
    total = math.prod(len(a.values) for a in axes)
    if total > MAX_POINTS:
        raise InputError(
            [
                Diagnostic(
                    f"the grid has {total} points; at most {MAX_POINTS}", Location("--param", 1, 1)
                )
            ]
        )
    return [
        {a.path: v for a, v in zip(axes, combo, strict=True)}
        for combo in itertools.product(*(a.values for a in axes))
    ]


def _lookup(data: dict[str, Any], path: str) -> Any:
    node: Any = data
    for key in path.split("."):
        node = node.get(key) if isinstance(node, dict) else None
    return node


def sample_points(
    samplers: Sequence[Sampler], count: int, seed: int, base: dict[str, Any]
) -> list[dict[str, str]]:
    """``count`` random points; an input that is a whole number in the study stays whole."""
    rng = random.Random(seed)
    whole = {s.path: isinstance(_lookup(base, s.path), int) for s in samplers}
    points = []
    for _ in range(count):
        point = {}
        for s in samplers:
            if s.kind == "choice":
                point[s.path] = rng.choice(s.args)
                continue
            a = [float(x) for x in s.args]
            if s.kind == "uniform":
                x = rng.uniform(a[0], a[1])
            elif s.kind == "normal":
                x = rng.gauss(a[0], a[1])
            elif s.kind == "triangular":
                x = rng.triangular(a[0], a[2], a[1])
            else:
                x = float(rng.randint(math.ceil(a[0]), math.floor(a[1])))
            point[s.path] = _text(round(x)) if whole[s.path] or s.kind == "randint" else _text(x)
        points.append(point)
    return points


@dataclass(frozen=True)
class Point:
    """One validated sweep point (point 0 is the study without sweep changes)."""

    number: int
    assignments: dict[str, str]
    data: ModelData


def plan_points(
    files: StudyFiles,
    scenario: str | None,
    sets: Sequence[str],
    assignments: Sequence[dict[str, str]],
) -> tuple[ResolvedStudy, list[Point]]:
    """Validate every point before anything is solved; errors name the point."""
    base = resolve(files, scenario, sets)
    points = [Point(0, {}, build_model_data(base.study))]
    errors: list[Diagnostic] = []
    for number, point in enumerate(assignments, start=1):
        extra = [f"{path}={value}" for path, value in point.items()]
        try:
            study = resolve(files, scenario, [*sets, *extra]).study
        except InputError as exc:
            label = ", ".join(extra)
            errors.extend(
                Diagnostic(
                    f"sweep point {number} ({label}): {d.message}",
                    d.location,
                    d.path,
                    d.severity,
                    d.hint,
                )
                for d in exc.diagnostics
            )
            if len(errors) >= 20:
                break
            continue
        points.append(Point(number, dict(point), build_model_data(study)))
    if errors:
        raise InputError(errors)
    return base, points


@dataclass(frozen=True)
class Chunk:
    """Points solved together by one worker with one kept model."""

    points: tuple[Point, ...]
    options: SolverOptions
    in_place: bool


def halving_order(n: int) -> list[int]:
    """0 .. n-1 ends first, then each gap's middle, breadth first."""
    if n <= 2:
        return list(range(n))
    order, gaps = [0, n - 1], [(0, n - 1)]
    while gaps:
        low, high = gaps.pop(0)
        if high - low >= 2:
            middle = (low + high) // 2
            order.append(middle)
            gaps += [(low, middle), (middle, high)]
    return order


def solving_order(points: Sequence[Point]) -> list[int]:
    """Positions of a chunk's points in the order they are solved.

    Runs of consecutive points that differ only in the last swept input (a grid's
    fastest axis) are solved ends first, then by halving: once two solved points of a
    run share a plan, ``posture/reuse.py`` can prove the points between them without a
    solve (along a priority or a price the optimum is concave). Other points keep
    their order. The order depends on the points alone, so the table does too.
    """
    return [run[k] for run in _runs(points) for k in halving_order(len(run))]


def _runs(points: Sequence[Point]) -> list[list[int]]:
    """Positions of the runs of consecutive points that differ only in the last input."""

    def run_key(i: int) -> tuple[object, ...]:
        items = list(points[i].assignments.items())
        return (tuple(items[:-1]), items[-1][0] if items else None)

    return [list(run) for _, run in itertools.groupby(range(len(points)), key=run_key)]


def chunk_spans(points: Sequence[Point], size: int) -> list[range]:
    """Consecutive positions cut into chunks of at most ``size`` points, at the ends of
    runs (:func:`solving_order`) where a run fits in a chunk: a run cut in two is
    solved from both of its new ends, which costs solves. A longer run fills the
    chunk it starts in and is cut every ``size`` points."""
    spans: list[range] = []
    start = end = 0
    for run in _runs(points):
        if len(run) <= size and end - start + len(run) > size and end > start:
            spans.append(range(start, end))
            start = end
        end = run[-1] + 1
        while end - start > size:  # a run longer than a chunk is cut where it must be
            spans.append(range(start, start + size))
            start += size
    if end > start:
        spans.append(range(start, end))
    return spans


def solve_chunk(chunk: Chunk) -> list[dict[str, Any]]:
    """Solve a chunk's points (a task for local processes or Dask workers); rows come
    back in point order whatever order they were solved in (:func:`solving_order`)."""
    resolver = Resolver(chunk.options, in_place=chunk.in_place)
    rows = []
    for position in solving_order(chunk.points):
        point = chunk.points[position]
        solved = resolver.solve(point.data)
        r = solved.result
        solution = solved.solution()
        decisions = decision_values(solution) if solution is not None else {}
        home = point.data.home
        moved = sum(
            v for (name, idx), v in decisions.items() if name == "place" and idx[2] != home[idx[1]]
        )
        rows.append(
            {
                "point": point.number,
                "status": r.status.value,
                "objective": r.objective,
                "bound": r.bound,
                "gap": r.gap,
                **solved.criteria(),
                "units_moved": moved if solution is not None else None,
                "in_place": solved.in_place,
                "reused": solved.result.reused,
                "highs_runs": solved.result.highs_runs,
                "solve_s": solved.seconds.get("solve", 0.0),
                "setup_s": solved.seconds.get("build", 0.0) + solved.seconds.get("handoff", 0.0),
                "_decisions": decisions,
            }
        )
    return sorted(rows, key=lambda row: int(row["point"]))


@dataclass
class SweepResult:
    """The tidy results table and how the sweep ran.

    ``table`` holds only what the inputs decide, so equal sweeps give equal tables;
    ``timings`` (per point: re-solved in place or built, proven from a remembered
    plan without a solve, HiGHS runs, set-up and HiGHS seconds) depend on the machine
    and on how points were split between workers.
    """

    table: pd.DataFrame
    timings: pd.DataFrame
    seconds: float
    workers: int
    scheduler: str | None
    in_place: int
    rebuilt: int
    reused: int = 0  # in-place points answered by a remembered plan (posture/reuse.py)
    highs_runs: int = 0  # HiGHS solves in all (a crossing's solve counts too)
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def points_per_second(self) -> float:
        n = len(self.table) - 1  # point 0, the unchanged study, is the reference
        return n / self.seconds if self.seconds > 0 else math.inf


CHUNK_MAX = 50
"""Most points one kept model solves (one rebuild per chunk)."""
CHUNKS_WANTED = 4
"""Chunks a short sweep is cut into, so up to 4 workers share it. Each chunk starts
cold: a rebuild, a solve without a start, and no remembered plans to prove or start
its first points from (default grid, one process: 25-point chunks 3.9 s, 50-point
chunks 3.1 s, one chunk 3.1 s). Fewer, longer chunks suit the one or two workers of
a laptop; a sweep of more than 200 points still makes a chunk per 50 for larger
clusters."""


def run_sweep(
    points: Sequence[Point],
    options: SolverOptions,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    in_place: bool = True,
    chunk_size: int | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> SweepResult:
    """Solve every point; the table has one row per point, in point order."""
    from posture.distribute import map_tasks

    started = time.perf_counter()
    # Chunks depend on the points alone, never on the workers: a re-solve in place
    # starts from the chunk's previous plan, and among equally good plans HiGHS may
    # return a different one from a different start, so the same chunks keep the
    # table the same whichever workers run them.
    size = chunk_size or max(1, min(CHUNK_MAX, math.ceil(len(points) / CHUNKS_WANTED)))
    chunks = [
        Chunk(tuple(points[span.start : span.stop]), options, in_place)
        for span in chunk_spans(points, size)
    ]

    def done(_: int, rows: list[dict[str, Any]]) -> None:
        if on_progress is not None:
            on_progress(len(rows))

    results = map_tasks(solve_chunk, chunks, workers=workers, scheduler=scheduler, on_done=done)
    rows = [row for chunk_rows in results for row in chunk_rows]
    reference: dict[tuple[str, tuple[str, ...]], float] = next(
        (r["_decisions"] for r in rows if r["point"] == 0), {}
    )
    by_number = {p.number: p for p in points}
    names = criterion_names(points[0].data)
    tidy = []
    for row in rows:
        decisions = row.pop("_decisions")
        has_plan = row["objective"] is not None
        tidy.append(
            {
                "point": row["point"],
                **by_number[row["point"]].assignments,
                **{k: v for k, v in row.items() if k != "point"},
                "changed_vs_point_0": units_changed(decisions, reference) if has_plan else None,
            }
        )
    swept = list(dict.fromkeys(path for p in points for path in p.assignments))
    table = pd.DataFrame(tidy)
    table = table[["point", *swept, *[c for c in table.columns if c not in swept and c != "point"]]]
    for name in names:  # infeasible points have no criteria: keep the columns anyway
        if name not in table:
            table[name] = None
    timing_columns = ["in_place", "reused", "highs_runs", "setup_s", "solve_s"]
    timings = table[["point", *timing_columns]].copy()
    table = table.drop(columns=timing_columns)
    seconds = time.perf_counter() - started
    return SweepResult(
        table,
        timings,
        seconds,
        workers,
        scheduler,
        int(timings["in_place"].sum()),
        int((~timings["in_place"].astype(bool)).sum()),
        reused=int(timings["reused"].sum()),
        highs_runs=int(timings["highs_runs"].sum()),
    )
