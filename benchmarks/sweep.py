"""Sweep throughput: rebuild vs re-solve in place, and 1 vs 2 workers (local and Dask).

    cd /work/main && PYTHONPATH=. python benchmarks/sweep.py [--points 100] [--study S.yaml]
        [--scenario middle_east_war] [--param path=values ...] [--set path=value ...]
        [--no-dask] [--out FILE.md]

Everything is measured side by side in one run on the same validated points: the
same grid solved sequentially with a rebuild per point, sequentially re-solving in
place, with 2 local processes, and on a local Dask cluster (scheduler and workers in
separate processes) with 1 and with 2 workers. For each: points per second (wall
clock, setup of the cluster excluded), per point the setup time (build or in-place
update) and the HiGHS solve time as measured around the solve, the ratio
per-point time / HiGHS solve time, and how many in-place points needed no solve
(the previous plan proven optimal: posture/reuse.py). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_AXES = (
    "requirements.middle_east.air_missile_defence.target=20:39:1",
    "theatres.middle_east.priority=1:5.5:0.5",
)


def _points(
    study: Path, scenario: str | None, sets: list[str], axes: list[str], count: int
) -> tuple[Any, list[Any]]:
    from posture.loader import read_study_files
    from posture.sweep import grid_points, parse_axis, plan_points

    grid = grid_points([parse_axis(a, k) for k, a in enumerate(axes, 1)])[:count]
    return plan_points(read_study_files(study), scenario, sets, grid)


def _measure(label: str, run: Any) -> dict[str, Any]:
    started = time.perf_counter()
    result = run()
    wall = time.perf_counter() - started
    table, timings = result.table, result.timings
    n = len(table)
    solve = float(timings["solve_s"].sum())
    setup = float(timings["setup_s"].sum())
    return {
        "label": label,
        "points": n,
        "wall": wall,
        "points_per_s": n / wall,
        "setup_ms": 1000 * setup / n,
        "solve_ms": 1000 * solve / n,
        "per_point_ms": 1000 * wall / n,
        "over_solve": wall / solve if solve else float("nan"),
        "in_place": int(timings["in_place"].sum()),
        "reused": int(timings["reused"].sum()),
        "highs_runs": int(timings["highs_runs"].sum()),
        "objectives": list(table["objective"]),
    }


def _dask(points: list[Any], options: Any, workers: int) -> dict[str, Any]:
    from distributed import LocalCluster

    from posture.sweep import run_sweep

    # Worker processes, one thread each: the same shape as `dask worker --nthreads 1`.
    with LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        address = cluster.scheduler_address
        run_sweep(points[:2], options, scheduler=address)  # warm the workers' imports
        return _measure(
            f"Dask, {workers} worker{'s' if workers > 1 else ''}",
            lambda: run_sweep(points, options, scheduler=address),
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", type=Path, default=ROOT / "inputs" / "study.yaml")
    parser.add_argument("--scenario", default="middle_east_war")
    parser.add_argument("--param", action="append", default=None)
    parser.add_argument("--set", action="append", default=[], help="override, path=value")
    parser.add_argument("--points", type=int, default=100)
    parser.add_argument("--no-dask", action="store_true")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    from posture.sweep import run_sweep

    resolved, points = _points(
        args.study, args.scenario, args.set, args.param or list(DEFAULT_AXES), args.points
    )
    options = resolved.study.solver
    run_sweep(points[:3], options)  # warm imports and caches once for every variant
    rows = [
        _measure(
            "1 process, rebuild per point", lambda: run_sweep(points, options, in_place=False)
        ),
        _measure("1 process, re-solve in place", lambda: run_sweep(points, options)),
        _measure("2 local processes, in place", lambda: run_sweep(points, options, workers=2)),
    ]
    if not args.no_dask:
        rows += [_dask(points, options, 1), _dask(points, options, 2)]
    reference = rows[1]["objectives"]
    for row in rows:
        same = all(
            (a is None and b is None) or abs(a - b) <= 1e-5 * max(1.0, abs(a))
            for a, b in zip(row["objectives"], reference, strict=True)
        )
        row["same"] = "yes" if same else "NO"
    lines = [
        f"Sweep benchmark: {args.study.name} scenario {args.scenario}"
        f"{''.join(f', --set {x}' for x in args.set)}, {len(points)} points "
        f"(point 0 + {len(points) - 1} grid points); {platform.python_version()}, "
        f"{os.cpu_count()} CPUs",
        "",
        "| run | points/s | per point ms | setup ms | HiGHS solve ms | per point / solve | in place | proven from remembered plans | HiGHS runs | same objectives |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|:---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['label']} | {r['points_per_s']:.1f} | {r['per_point_ms']:.1f} | "
            f"{r['setup_ms']:.2f} | {r['solve_ms']:.1f} | {r['over_solve']:.2f} | "
            f"{r['in_place']} | {r['reused']} | {r['highs_runs']} | {r['same']} |"
        )
    rebuild, in_place = rows[0], rows[1]
    lines += [
        "",
        f"- re-solve in place vs rebuild: {in_place['points_per_s'] / rebuild['points_per_s']:.2f}x "
        f"points/s; setup per point {rebuild['setup_ms']:.2f} ms -> {in_place['setup_ms']:.2f} ms "
        f"({rebuild['setup_ms'] / max(in_place['setup_ms'], 1e-9):.1f}x)",
        f"- per point / HiGHS solve (in place, 1 process): {in_place['over_solve']:.2f}; "
        f"{in_place['reused']} of {in_place['points']} points were proven from remembered "
        f"plans, with {in_place['highs_runs']} HiGHS runs in all (the solve column counts "
        "them and the proofs)",
        f"- per point in place / HiGHS solve per point of the rebuild run (each point solved "
        f"from scratch): {in_place['per_point_ms'] / rebuild['solve_ms']:.2f}",
        f"- 2 local processes vs 1: {rows[2]['points_per_s'] / in_place['points_per_s']:.2f}x",
    ]
    if not args.no_dask:
        lines.append(
            f"- Dask 2 workers vs 1: {rows[4]['points_per_s'] / rows[3]['points_per_s']:.2f}x"
        )
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
