"""Benchmark the posture pipeline stage by stage on synthetic studies of growing size.

    cd /work/main && PYTHONPATH=. python benchmarks/run.py [--sizes S,M,L] \
        [--time-limit SECONDS] [--out FILE.md] [--seed 0] [--keep DIR] [--no-cli]

For each size a study is generated (benchmarks/generate.py, in its own process) and
measured in a fresh Python process, so each size's peak RSS (``ru_maxrss``) is its
own. Every stage is timed with ``time.perf_counter`` around the library function
that does it, chained exactly as ``posture.run.solve_study`` and the CLI's
``_solve_and_write`` chain them. Side measurements (the direct-highspy floor and
the LP relaxation) run after the pipeline and are not part of its total.
Then the command line is timed end to end against bare interpreter imports.

This file is not part of the test suite (``make test`` collects ``tests/`` only).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
DEFAULT_STUDY = Path("inputs") / "study.yaml"
STAGES = (
    ("load", "load + validate (`load_study`)"),
    ("data", "model data (`build_model_data`)"),
    ("check", "pre-solve check (`impossible_rules`)"),
    ("build", "model build, Pyomo (`build_model`)"),
    ("compile", "compile to standard form (`compile_model`)"),
    ("handoff", "hand-off to HiGHS (`passModel` etc.)"),
    ("solve", "HiGHS solve"),
    ("post", "after the solve (status, solution copy, version)"),
    ("extract", "extraction (`extract_solution`)"),
    ("tables", "result tables (`result_tables`)"),
    ("write", "writing (`run_files` + `write_run`)"),
)


# ------------------------------------------------------------------------------------
# Child: one size, measured in a fresh process
# ------------------------------------------------------------------------------------


def _maxrss_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def _vm_hwm_mib() -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def measure(
    study_path: Path, time_limit: float | None, work: Path, progress: Path | None = None
) -> dict[str, Any]:
    """Run and time the whole pipeline once on one study; then the side measurements.

    With ``progress``, what is measured so far is written there before each stage, so
    a size stopped by the parent's timeout still reports its earlier stages.
    """
    clock = time.perf_counter
    out: dict[str, Any] = {"rss_start_mib": _maxrss_mib()}

    def stage(name: str) -> None:
        if progress is not None:
            found = {
                **out,
                "seconds": sec,
                "stage": name,
                "stage_started_unix": time.time(),
                "rss_so_far_mib": _maxrss_mib(),
            }
            progress.write_text(json.dumps(found, indent=1), encoding="utf-8")

    t0 = clock()
    import highspy
    import numpy as np

    from posture.data import build_model_data
    from posture.diagnose import impossible_rules
    from posture.extract import extract_solution
    from posture.loader import load_study
    from posture.model import build_model
    from posture.report import run_files
    from posture.run import RunResult
    from posture.solver import _new_highs, compile_model, highs_version, solve_compiled
    from posture.tables import result_tables
    from posture.writer import write_run

    sec: dict[str, float] = {"import": clock() - t0}
    out["rss_after_import_mib"] = _maxrss_mib()

    # Side measurement, before the pipeline so it runs on the same small heap as the load
    # stage: the YAML parse alone (the load stage parses the file again).
    from posture.report import resolved_inputs_yaml
    from posture.yamlsafe import parse_yaml_file

    t = clock()
    parse_yaml_file(study_path)
    out["yaml_parse_s"] = clock() - t

    stage("load")
    t = clock()
    resolved = load_study(study_path)
    sec["load"] = clock() - t
    options = resolved.study.solver
    if time_limit is not None:
        options = type(options).model_validate({**options.model_dump(), "time_limit_s": time_limit})

    stage("data")
    t = clock()
    data = build_model_data(resolved.study)
    sec["data"] = clock() - t

    stage("check")
    t = clock()
    units = {c: spec.unit for c, spec in resolved.study.capabilities.items()}
    impossible = impossible_rules(data, resolved.index, units)
    sec["check"] = clock() - t
    if impossible:
        raise SystemExit(f"{study_path}: infeasible by construction: {impossible[0].diagnostic}")

    stage("build")
    t = clock()
    model = build_model(data)
    sec["build"] = clock() - t

    stage("compile")
    t = clock()
    compiled = compile_model(model)
    sec["compile"] = clock() - t
    lp = compiled.lp
    integrality = [int(v) for v in lp.integrality_]
    out.update(
        columns=int(lp.num_col_),
        rows=int(lp.num_row_),
        nonzeros=len(lp.a_matrix_.value_),
        integers=sum(integrality),
    )

    stage("solve")
    t = clock()
    outcome = solve_compiled(compiled, options)
    wall = clock() - t
    sec["handoff"] = outcome.seconds["handoff"]
    sec["solve"] = outcome.seconds["solve"]
    sec["post"] = wall - sec["handoff"] - sec["solve"]
    solved = outcome.status.has_solution and outcome.objective is not None
    tables = {}
    if solved:  # as in solve_study: nothing to extract without an accepted solution
        t = clock()
        solution = extract_solution(compiled, outcome)
        sec["extract"] = clock() - t

        t = clock()
        tables = result_tables(resolved.study, data, solution, outcome.objective, resolved.index)
        sec["tables"] = clock() - t
    else:
        sec["extract"] = sec["tables"] = 0.0

    t = clock()
    lp = compiled.lp
    n_col, n_row = int(lp.num_col_), int(lp.num_row_)
    result = RunResult(
        resolved,
        options,
        outcome.status,
        outcome.highs_status,
        outcome.objective,
        outcome.bound,
        outcome.gap,
        tables=tables,
        seconds={
            "build": sum(sec[k] for k in ("data", "check", "build", "compile")),
            **outcome.seconds,
            "extract": sec["extract"] + sec["tables"],
        },
        highs_version=outcome.highs_version,
        model_size={  # counted as solve_study counts them
            "columns": len(compiled.columns),
            "rows": len(compiled.rows),
            "integers": sum(1 for v in compiled.columns if v.is_integer()),
        },
    )
    sec["write"] = clock() - t  # RunResult assembly (size count) is part of writing
    t = clock()
    write_run(work / "run", run_files(result), update_latest=solved)
    sec["write"] += clock() - t
    out["rss_pipeline_mib"] = _maxrss_mib()
    out["vmhwm_pipeline_mib"] = _vm_hwm_mib()

    # --- side measurement 0: parts of stages, repeated ------------------------------------
    t = clock()
    resolved_inputs_yaml(result)
    out["yaml_dump_s"] = clock() - t
    t = clock()
    again = compile_model(model)
    out["compile_warm_s"] = clock() - t
    del again

    # --- side measurement 1: the same matrix built directly with highspy's array API ----
    a = lp.a_matrix_
    plain = {  # plain Python lists, as a direct model builder would have them (not timed)
        "cost": [float(v) for v in lp.col_cost_],
        "col_lower": list(lp.col_lower_),
        "col_upper": list(lp.col_upper_),
        "row_lower": list(lp.row_lower_),
        "row_upper": list(lp.row_upper_),
        "start": [int(v) for v in a.start_],
        "index": [int(v) for v in a.index_],
        "value": [float(v) for v in a.value_],
        "integrality": integrality,
    }
    nnz = len(plain["value"])
    offset = float(lp.offset_)
    best: dict[str, float] = {}
    for _ in range(3):
        t = clock()
        f64, i32 = np.float64, np.int32
        arrays = (
            np.array(plain["cost"], dtype=f64),
            np.array(plain["col_lower"], dtype=f64),
            np.array(plain["col_upper"], dtype=f64),
            np.array(plain["row_lower"], dtype=f64),
            np.array(plain["row_upper"], dtype=f64),
            np.array(plain["start"], dtype=i32),
            np.array(plain["index"], dtype=i32),
            np.array(plain["value"], dtype=f64),
            np.array(plain["integrality"], dtype=i32),
        )
        t_arrays = clock() - t
        t = clock()
        h = _new_highs()
        t_new = clock() - t
        t = clock()
        status = h.passModel(
            n_col,
            n_row,
            nnz,
            int(highspy.MatrixFormat.kColwise),
            int(highspy.ObjSense.kMinimize),
            offset,
            *arrays,
        )
        t_pass = clock() - t
        if status != highspy.HighsStatus.kOk:
            raise SystemExit(f"direct passModel failed: {status}")
        same = (h.getNumCol(), h.getNumRow(), h.getNumNz()) == (n_col, n_row, nnz)
        total = t_arrays + t_new + t_pass
        if not best or total < best["total"]:
            best = {"arrays": t_arrays, "new_highs": t_new, "pass": t_pass, "total": total}
        del h
    out["direct"] = best
    out["direct_same_shape"] = same

    # --- side measurement 2: the LP relaxation on a copy (integrality -> continuous) -----
    h = _new_highs()
    h.setOptionValue("time_limit", float(options.time_limit_s))
    h.setOptionValue("threads", int(options.threads))
    h.setOptionValue("random_seed", int(options.seed))
    h.passModel(lp)
    if n_col:
        h.changeColsIntegrality(
            n_col,
            np.arange(n_col, dtype=np.int32),
            np.full(n_col, highspy.HighsVarType.kContinuous),
        )
    t = clock()
    h.run()
    out["lp_seconds"] = clock() - t
    out["lp_status"] = h.modelStatusToString(h.getModelStatus())
    out["lp_objective"] = float(h.getInfo().objective_function_value)
    del h

    out.update(
        seconds=sec,
        columns=n_col,
        rows=n_row,
        nonzeros=nnz,
        integers=sum(integrality),
        status=outcome.status.value,
        highs_status=outcome.highs_status,
        objective=outcome.objective,
        bound=outcome.bound,
        gap=outcome.gap,
        time_limit=options.time_limit_s,
        mip_rel_gap=options.mip_rel_gap,
        highs=highs_version(),
        rss_end_mib=_maxrss_mib(),
        neighbourhood=(
            None
            if outcome.neighbourhood is None
            else {
                "seconds": outcome.seconds.get("neighbourhood", 0.0),
                "rounds": outcome.neighbourhood.rounds,
                "objective": outcome.neighbourhood.objective,
            }
        ),
    )
    return out


def child_main(args: argparse.Namespace) -> int:
    work = Path(tempfile.mkdtemp(prefix="posture-bench-run-"))
    try:
        found = measure(args.child, args.time_limit, work, progress=args.json)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    args.json.write_text(json.dumps(found, indent=1), encoding="utf-8")
    return 0


# ------------------------------------------------------------------------------------
# Parent: generate, spawn one child per size, time the CLI, print the tables
# ------------------------------------------------------------------------------------


def _child_hwm_mib(pid: int) -> float | None:
    """Peak RSS (VmHWM) of a running child, from /proc."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def _env() -> dict[str, str]:
    path = os.environ.get("PYTHONPATH", "")
    return {**os.environ, "PYTHONPATH": str(ROOT) + (os.pathsep + path if path else "")}


def _wall(cmd: list[str], repeats: int) -> tuple[float, list[float]]:
    """Best-of-N wall time of a command run from the repository root."""
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        done = subprocess.run(
            cmd, cwd=ROOT, env=_env(), capture_output=True, text=True, check=False
        )
        times.append(time.perf_counter() - t)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} exited {done.returncode}:\n{done.stderr[-2000:]}")
    return min(times), times


ONE_PARAMETER_APP = """import typer

app = typer.Typer()


@app.command()
def main(name: str) -> None:
    print(name)


app()
"""


def cli_timings(repeats: int) -> dict[str, Any]:
    py = sys.executable
    scratch = Path(tempfile.mkdtemp(prefix="posture-bench-cli-"))
    try:
        counter = iter(range(10_000))
        # Typer coerces every parameter value through pydantic: the least any command
        # with a parameter costs, posture or not.
        one_parameter_app = scratch / "one_parameter_app.py"
        one_parameter_app.write_text(ONE_PARAMETER_APP)

        def solve_cmd() -> list[str]:  # --out must not exist: a new folder each time
            return [
                py,
                "-m",
                "posture",
                "solve",
                str(DEFAULT_STUDY),
                "--out",
                str(scratch / f"run{next(counter)}"),
            ]

        solve_times = []
        for _ in range(repeats):
            solve_times.append(_wall(solve_cmd(), 1)[0])
        found = {
            "solve": (min(solve_times), solve_times),
            "imports": _wall(
                [py, "-c", "import pyomo.environ, highspy, pandas, typer, pydantic, yaml"], repeats
            ),
            "help": _wall([py, "-m", "posture", "--help"], repeats),
            "validate": _wall([py, "-m", "posture", "validate", str(DEFAULT_STUDY)], repeats),
            "typer": _wall([py, "-c", "import typer"], repeats),
            # Floors under `validate`: any pydantic validation at all, then posture's schema.
            "pydantic": _wall(
                [py, "-c", "import typer, pydantic; pydantic.TypeAdapter(int)"], repeats
            ),
            "schema": _wall([py, "-c", "import typer, posture.schema"], repeats),
            "one_parameter_app": _wall([py, str(one_parameter_app), "x"], repeats),
            "python": _wall([py, "-c", "pass"], repeats),
        }
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return found


def _machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    versions = {}
    for name in ("pyomo", "highspy", "numpy", "scipy", "pandas", "pydantic", "pyyaml", "typer"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "?"
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "nproc": str(os.cpu_count()),
        "affinity": str(len(os.sched_getaffinity(0))) if hasattr(os, "sched_getaffinity") else "?",
        "memory": mem,
        "os": platform.platform(),
        "python": platform.python_version(),
        "versions": ", ".join(f"{k} {v}" for k, v in versions.items()),
    }


def _s(x: float | None) -> str:
    if x is None:
        return "-"
    if x < 0.001:
        return f"{x * 1000:.3f} ms"
    if x < 100:
        return f"{x:.3f}"
    return f"{x:.1f}"


def _ratio(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:,.0f}"


def _int(x: int | None) -> str:
    return "-" if x is None else f"{x:,}"


def _root_gap(r: dict[str, Any]) -> str:
    """(optimum - LP) / max(1, |optimum|); a range when the optimum is only bracketed."""
    lp, obj, bound = r["lp_objective"], r["objective"], r["bound"]

    def gap(opt: float) -> float:
        return 100 * (opt - lp) / max(1.0, abs(opt))

    if r["status"] == "optimal":
        return f"**{gap(obj):.3g} %**"
    # Not proven optimal: the optimum lies in [best bound, incumbent].
    return f"**{gap(bound):.3g} % to {gap(obj):.3g} %** (optimum unknown)"


def size_table(results: dict[str, dict[str, Any]]) -> list[str]:
    sizes = list(results)
    rows: list[tuple[str, list[str]]] = []

    def row(label: str, fn: Any) -> None:
        cells = []
        for s in sizes:
            r = results[s]
            try:
                cells.append(fn(r) if "error" not in r else r["error"])
            except (KeyError, TypeError, ZeroDivisionError):
                cells.append("-")
        rows.append((label, cells))

    def pipeline_total(r: dict[str, Any]) -> float:
        return sum(r["seconds"][k] for k, _ in STAGES)

    if any("incomplete" in r for r in results.values()):
        row("run", lambda r: r.get("incomplete", "complete"))
    row(
        "study file (KB) / generation (s)",
        lambda r: f"{r['bytes'] / 1000:,.0f} / {r['generate_s']:.2f}",
    )
    row("columns", lambda r: _int(r["columns"]))
    row("rows", lambda r: _int(r["rows"]))
    row("nonzeros", lambda r: _int(r["nonzeros"]))
    row("integer columns", lambda r: _int(r["integers"]))
    row("*seconds:* imports (not in total)", lambda r: _s(r["seconds"]["import"]))

    def stage_cell(r: dict[str, Any], key: str) -> str:
        value = r["seconds"][key]
        if value is None:
            return f"**> {r['stuck_for_s']:.0f} (stopped)**"
        return _s(value)

    for key, label in STAGES:
        row(label, lambda r, key=key: stage_cell(r, key))
    row("**total pipeline** (sum of the stages above)", lambda r: f"**{_s(pipeline_total(r))}**")
    row(
        "peak RSS, MiB (`ru_maxrss`, after writing)",
        lambda r: (
            f"{r['rss_pipeline_mib']:,.0f}"
            if "rss_pipeline_mib" in r
            else f"{r['rss_so_far_mib']:,.0f} before '{r['stage']}'; "
            f"{r['rss_when_stopped_mib']:,.0f} (VmHWM) when stopped"
        ),
    )
    row(
        "load: YAML parse alone (side, run just before the pipeline)",
        lambda r: _s(r["yaml_parse_s"]),
    )
    row(
        "writing: `resolved_inputs.yaml` dump alone (side, repeated after the pipeline)",
        lambda r: _s(r["yaml_dump_s"]),
    )
    row(
        "compile again, warm (side; cold − warm ≈ first-use imports)",
        lambda r: _s(r["compile_warm_s"]),
    )
    row("HiGHS status", lambda r: r["highs_status"].replace("wall-clock limit", "limit"))
    row(
        "of the solve: LP-guided start (s / rounds / its best plan)",
        lambda r: (
            "off"
            if r.get("neighbourhood") is None
            else f"{_s(r['neighbourhood']['seconds'])} / {r['neighbourhood']['rounds']} / "
            + (
                "none"
                if r["neighbourhood"]["objective"] is None
                else f"{r['neighbourhood']['objective']:.6g}"
            )
        ),
    )
    row("objective / best bound", lambda r: f"{r['objective']:.6g} / {r['bound']:.6g}")
    row(
        "reference posture objective (generator's feasible posture)",
        lambda r: f"{r['reference_objective']:.6g}",
    )
    row(
        "MIP gap reached / at (s)",
        lambda r: f"{100 * r['gap']:.3g} % / {r['seconds']['solve']:.1f}",
    )
    row(
        "**(total − solve) / solve**",
        lambda r: (
            f"**{_ratio((pipeline_total(r) - r['seconds']['solve']) / r['seconds']['solve'])}**"
        ),
    )
    row(
        "our build: build + compile + hand-off (s)",
        lambda r: _s(r["seconds"]["build"] + r["seconds"]["compile"] + r["seconds"]["handoff"]),
    )
    row(
        "direct highspy floor: lists→numpy + Highs() + passModel (s)",
        lambda r: (
            f"{_s(r['direct']['total'])} ({_s(r['direct']['arrays'])} + {_s(r['direct']['new_highs'])} + {_s(r['direct']['pass'])})"
        ),
    )
    row(
        "**our build / direct floor**",
        lambda r: (
            "**"
            + _ratio(
                (r["seconds"]["build"] + r["seconds"]["compile"] + r["seconds"]["handoff"])
                / r["direct"]["total"]
            )
            + "**"
        ),
    )
    row(
        "LP relaxation objective / time (s)",
        lambda r: f"{r['lp_objective']:.6g} / {r['lp_seconds']:.2f}",
    )
    row("**root gap** (obj − LP) / max(1, \\|obj\\|)", _root_gap)
    lines = ["| | " + " | ".join(sizes) + " |", "|---|" + "---:|" * len(sizes)]
    lines += [f"| {label} | " + " | ".join(cells) + " |" for label, cells in rows]
    return lines


def cli_table(cli: dict[str, Any]) -> list[str]:
    def t(k: str) -> float:
        return float(cli[k][0])

    def all_(k: str) -> str:
        return ", ".join(f"{x:.2f}" for x in cli[k][1])

    return [
        f"| command (best of {len(cli['solve'][1])}, wall s) | s | runs | ratio |",
        "|---|---:|---|---:|",
        f"| `posture solve inputs/study.yaml --out DIR` | {t('solve'):.2f} | {all_('solve')} | |",
        f'| `python -c "import pyomo.environ, highspy, pandas, typer, pydantic, yaml"` | {t("imports"):.2f} | {all_("imports")} | |',
        f"| **solve / imports** | | | **{t('solve') / t('imports'):.2f}** |",
        f"| `posture --help` | {t('help'):.2f} | {all_('help')} | |",
        f"| `posture validate inputs/study.yaml` | {t('validate'):.2f} | {all_('validate')} | |",
        f'| `python -c "import typer"` | {t("typer"):.2f} | {all_("typer")} | |',
        f"| `python -c pass` (interpreter start) | {t('python'):.2f} | {all_('python')} | |",
        f"| **--help / import typer** | | | **{t('help') / t('typer'):.2f}** |",
        f"| **validate / import typer** | | | **{t('validate') / t('typer'):.2f}** |",
        f'| `python -c "import typer, pydantic; pydantic.TypeAdapter(int)"` | {t("pydantic"):.2f} | {all_("pydantic")} | {t("pydantic") / t("typer"):.2f} |',
        f"| a one-command Typer app run with one `str` argument (no posture) | {t('one_parameter_app'):.2f} | {all_('one_parameter_app')} | {t('one_parameter_app') / t('typer'):.2f} |",
        f'| `python -c "import typer, posture.schema"` | {t("schema"):.2f} | {all_("schema")} | {t("schema") / t("typer"):.2f} |',
    ]


def report(
    machine: dict[str, str],
    argv: list[str],
    results: dict[str, Any],
    cli: dict[str, Any] | None,
    highs: str,
) -> str:
    lines = [
        f"Measured {machine['date']} on {machine['cpu']}, nproc {machine['nproc']} "
        f"(affinity {machine['affinity']}), {machine['memory']} RAM, {machine['os']}; "
        f"Python {machine['python']}, HiGHS {highs}; {machine['versions']}.",
        "",
        "Command: `" + " ".join(["python", "benchmarks/run.py", *argv]) + "`",
        "",
    ]
    if results:
        lines += [*size_table(results), ""]
    if cli is not None:
        lines += [*cli_table(cli), ""]
    return "\n".join(lines)


def parent_main(args: argparse.Namespace, argv: list[str]) -> int:
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    sys.path.insert(0, str(HERE))
    sys.dont_write_bytecode = True  # no __pycache__ in benchmarks/
    from generate import SIZES  # stdlib + yaml only: keeps this process small

    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        raise SystemExit(f"unknown size(s) {unknown}; choose from {', '.join(SIZES)}")
    studies = args.keep or Path(tempfile.mkdtemp(prefix="posture-bench-studies-"))
    studies.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict[str, Any]] = {}
    highs = "?"
    try:
        for size in sizes:
            path = studies / f"synthetic-{size}-seed{args.seed}.yaml"
            info_path = studies / f"synthetic-{size}-seed{args.seed}.json"
            t = time.perf_counter()
            gen = subprocess.run(
                [
                    sys.executable,
                    str(HERE / "generate.py"),
                    "--size",
                    size,
                    "--seed",
                    str(args.seed),
                    "--out",
                    str(path),
                    "--info",
                    str(info_path),
                ],
                cwd=ROOT,
                env=_env(),
                capture_output=True,
                text=True,
                check=False,
            )
            gen_s = time.perf_counter() - t
            if gen.returncode != 0:
                raise SystemExit(f"generate.py --size {size} failed:\n{gen.stdout}{gen.stderr}")
            print(f"[{size}] {gen.stdout.strip()} ({gen_s:.1f} s)", file=sys.stderr, flush=True)
            info = json.loads(info_path.read_text(encoding="utf-8"))
            json_path = studies / f"result-{size}.json"
            cmd = [
                sys.executable,
                str(Path(__file__).resolve()),
                "--child",
                str(path),
                "--json",
                str(json_path),
            ]
            if args.time_limit is not None:
                cmd += ["--time-limit", str(args.time_limit)]
            t = time.perf_counter()
            proc = subprocess.Popen(
                cmd,
                cwd=ROOT,
                env=_env(),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            try:
                stdout, stderr = proc.communicate(timeout=args.size_timeout)
            except subprocess.TimeoutExpired:
                hwm = _child_hwm_mib(proc.pid)  # its peak so far, before it is stopped
                proc.kill()  # only this child, which this process started
                proc.communicate()
                partial = (
                    json.loads(json_path.read_text(encoding="utf-8")) if json_path.exists() else {}
                )
                stuck = partial.get("stage", "?")
                partial["incomplete"] = (
                    f"stopped by the harness after {args.size_timeout:g} s in the '{stuck}' stage, "
                    f"{time.time() - partial.get('stage_started_unix', time.time()):.0f} s into it"
                )
                partial.update(
                    rss_when_stopped_mib=hwm,
                    generate_s=gen_s,
                    bytes=path.stat().st_size,
                    reference_objective=info["reference_objective"],
                )
                if stuck in partial.get("seconds", {}) or stuck == "?":
                    pass
                else:
                    partial.setdefault("seconds", {})[stuck] = None
                    partial["stuck_for_s"] = time.time() - partial["stage_started_unix"]
                results[size] = partial
                print(f"[{size}] {partial['incomplete']}", file=sys.stderr, flush=True)
                continue
            if proc.returncode != 0:
                results[size] = {"error": f"failed ({proc.returncode})"}
                print(
                    f"[{size}] child failed:\n{stdout[-3000:]}{stderr[-3000:]}",
                    file=sys.stderr,
                )
                continue
            found = json.loads(json_path.read_text(encoding="utf-8"))
            found["generate_s"] = gen_s
            found["bytes"] = path.stat().st_size
            found["reference_objective"] = info["reference_objective"]
            found["child_wall_s"] = time.perf_counter() - t
            results[size] = found
            highs = found["highs"]
            sec = found["seconds"]
            print(
                f"[{size}] {found['columns']:,} columns; pipeline "
                f"{sum(sec[k] for k, _ in STAGES):.1f} s (solve {sec['solve']:.1f} s); "
                f"child wall {found['child_wall_s']:.1f} s; peak {found['rss_pipeline_mib']:,.0f} MiB",
                file=sys.stderr,
                flush=True,
            )
    finally:
        if args.keep is None:
            shutil.rmtree(studies, ignore_errors=True)
    cli = None
    if not args.no_cli:
        print("[cli] timing the command line ...", file=sys.stderr, flush=True)
        cli = cli_timings(args.repeats)
    text = report(_machine(), argv, results, cli, highs)
    print(text)
    if args.out is not None:
        args.out.write_text(text, encoding="utf-8")
    if args.json_all is not None:
        args.json_all.write_text(
            json.dumps({"results": results, "cli": cli}, indent=1), encoding="utf-8"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", default="S,M,L", help="comma-separated: S, M, L, XL (default S,M,L)"
    )
    parser.add_argument(
        "--time-limit",
        type=float,
        default=None,
        help="HiGHS wall-clock limit per solve, seconds (default: the study's, 60)",
    )
    parser.add_argument("--out", type=Path, help="also write the tables as Markdown here")
    parser.add_argument("--seed", type=int, default=0, help="generator seed (default 0)")
    parser.add_argument(
        "--keep", type=Path, help="keep generated studies and per-size JSON in this folder"
    )
    parser.add_argument("--json-all", type=Path, help="write every raw measurement as JSON here")
    parser.add_argument(
        "--size-timeout",
        type=float,
        default=1800.0,
        help="give up on a size after this many seconds (default 1800)",
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="runs per CLI command (best of; default 3)"
    )
    parser.add_argument("--no-cli", action="store_true", help="skip the command-line timings")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        return child_main(args)
    return parent_main(args, argv)


if __name__ == "__main__":
    raise SystemExit(main())
