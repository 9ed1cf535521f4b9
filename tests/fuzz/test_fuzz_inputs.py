"""Fuzz the inputs: any file gives a study or located errors, never a crash (RELIABILITY.md).

Dedicated run (random cases; scales the in-process cases to N, solves to N/20 and
CLI runs to N/100; prints the counts at the end)::

    POSTURE_FUZZ_CASES=10000 /tmp/venv/bin/python -m pytest tests/fuzz -q -s

(``.venv/bin/python`` in a ``make`` checkout.) Without the variable this is a smoke
run inside ``make test``: 200 in-process cases, 20 solves and 5 CLI runs, the same
cases every time (``derandomize``).

Properties:

1. ``posture.load`` returns a study or raises ``InputError`` (nothing else); every
   diagnostic is located ``file:line:col`` (1-based, within the file, naming the study,
   an overlay file, ``--scenario`` or ``--set #k``) and ``format()`` starts with it;
   studies the generator built valid load, exactly as written; studies it made
   certainly invalid are rejected.
2. Valid tiny studies solve (optimal or feasible, with tables) or are infeasible
   with a located explanation; never an error status or an exception.
3. ``python -m posture solve`` exits 0, 3, 4 or 10 without a traceback, writes
   nothing on exit 3, and leaves complete folders otherwise.

Cases come from ``strategies.py``. A failure prints the case (files, scenario,
overrides, what the generator changed) through ``note``.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from helpers import run_cli
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st
from strategies import (
    ANY_SETS,
    INVALID_SETS,
    STATS,
    STUDY_FILE,
    VALID_SETS,
    Case,
    Style,
    Work,
    _covers,
    _set_claim,
    bad_scenario_claim,
    cases,
    emit,
    line_count,
    same_data,
    set_path,
    tiny_base,
)

import posture
from posture.errors import Diagnostic, InputError
from posture.solver import SolveStatus

FUZZ_CASES = int(os.environ.get("POSTURE_FUZZ_CASES") or 0)
DEDICATED = FUZZ_CASES > 0
LOAD_CASES = FUZZ_CASES if DEDICATED else 200
SOLVE_CASES = max(20, FUZZ_CASES // 20) if DEDICATED else 20
CLI_CASES = max(5, FUZZ_CASES // 100) if DEDICATED else 5

DOCUMENTED_EXITS = {0, 3, 4, 10}  # for inputs alone; 5-8 would be a library bug here
_BREAKS = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
_LOCATED = re.compile(r"^[^\n]+?:\d+:\d+: ")  # file:line:col: at the start


def fuzz_settings(max_examples: int) -> settings:
    """Hypothesis settings: reproducible in the smoke run, random in the dedicated run."""
    extra: dict[str, Any] = {} if DEDICATED else {"database": None}
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=not DEDICATED,
        print_blob=DEDICATED,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
        **extra,
    )


def _line_width(content: bytes, line: int) -> int:
    """Characters on ``line`` (1-based), counting lines as PyYAML does or by "\\n" only
    (the UTF-8 decoder's count); the larger, as either may locate an error. A BOM
    at the start counts, although readers skip it."""
    text = content.decode("utf-8", errors="replace")
    widths = [0]
    for lines in (_BREAKS.split(text), text.split("\n")):
        if line <= len(lines):
            widths.append(len(lines[line - 1]))
    return max(widths)


def check_located(
    diagnostics: Sequence[Diagnostic], case: Case, folder: Path, *, what: str
) -> None:
    """Every diagnostic names a real place: a written file, --scenario or --set #k."""
    written = {(folder / name).resolve(): content for name, content in case.files.items()}
    for d in diagnostics:
        text = d.format()
        STATS["load.diagnostics"] += 1
        loc = d.location
        if loc is None:
            # Only a file that cannot be read at all has no position; ours always exist.
            assert d.message.startswith("cannot read file"), f"{what}: unlocated: {text!r}"
            continue
        assert loc.line >= 1 and loc.column >= 1, f"{what}: position below 1: {text!r}"
        assert text.startswith(f"{loc}: "), f"{what}: format() does not start at {loc}: {text!r}"
        if loc.file == "--scenario":
            assert case.scenario is not None and loc.line == 1, f"{what}: {text!r}"
            continue
        if loc.file.startswith("--set #"):
            number = int(loc.file.removeprefix("--set #"))
            assert 1 <= number <= len(case.sets) and loc.line == 1, f"{what}: {text!r}"
            continue
        path = Path(loc.file)
        path = (path if path.is_absolute() else Path.cwd() / path).resolve()
        assert path in written, f"{what}: names a file we did not write: {text!r}"
        content = written[path]
        assert loc.line <= line_count(content) + 1, (
            f"{what}: line {loc.line} beyond the {line_count(content)} lines of "
            f"{path.name}: {text!r}"
        )
        width = _line_width(content, loc.line)
        assert loc.column <= width + 1, (
            f"{what}: column {loc.column} beyond line {loc.line} ({width} characters): {text!r}"
        )


def _load(case: Case, folder: Path) -> Any:
    """Write the case into ``folder`` and load it; loading must write nothing."""
    paths = case.write(folder)
    before = sorted(folder.rglob("*"))
    try:
        return posture.load(paths[0], scenario=case.scenario, sets=case.sets)
    finally:
        assert sorted(folder.rglob("*")) == before, "loading a study wrote files"


@fuzz_settings(LOAD_CASES)
@given(case=cases())
def test_load_gives_study_or_located_errors(case: Case) -> None:
    """Property 1: a study or a located InputError, for every generated text."""
    note(case.describe())
    STATS["load.cases"] += 1
    STATS[f"load.expect.{case.expect}"] += 1
    STATS[f"load.origin.{case.origin}"] += 1
    with tempfile.TemporaryDirectory(prefix="posture-fuzz-") as tmp:
        folder = Path(tmp)
        try:
            resolved = _load(case, folder)
        except InputError as exc:
            STATS["load.invalid"] += 1
            event("rejected")
            shown = "\n".join(d.format() for d in exc.diagnostics[:20])
            note(f"diagnostics:\n{shown}")
            assert exc.errors, "InputError without a single error"
            check_located(exc.diagnostics, case, folder, what="error")
            assert case.expect != "valid", f"a valid study was rejected:\n{shown}"
            return
        STATS["load.valid"] += 1
        event("loaded")
        check_located(resolved.warnings, case, folder, what="warning")
        assert case.expect != "invalid", "a certainly invalid study loaded"
        if case.data is not None:
            assert same_data(resolved.data, case.data), (
                "the study loaded differently from how it was written "
                "(retyped, reordered into other keys, or lost values)"
            )


@fuzz_settings(SOLVE_CASES)
@given(case=cases(small_only=True, valid_only=True))
def test_valid_studies_solve_or_explain(case: Case) -> None:
    """Property 2: optimal/feasible with tables, or infeasible with located reasons."""
    note(case.describe())
    STATS["solve.cases"] += 1
    with tempfile.TemporaryDirectory(prefix="posture-fuzz-") as tmp:
        folder = Path(tmp)
        try:
            resolved = _load(case, folder)
        except InputError as exc:
            shown = "\n".join(d.format() for d in exc.diagnostics[:20])
            assert case.expect != "valid", f"a valid study was rejected:\n{shown}"
            STATS["solve.status.not loaded"] += 1
            return
        result = posture.solve(resolved)
        STATS[f"solve.status.{result.status.value}"] += 1
        event(f"status {result.status.value}")
        note(f"status {result.status} ({result.highs_status})")
        assert result.status in (
            SolveStatus.OPTIMAL,
            SolveStatus.FEASIBLE,
            SolveStatus.INFEASIBLE,
        ), f"status {result.status} ({result.highs_status}) for a valid tiny study"
        if result.status.has_solution:
            assert result.objective is not None and math.isfinite(result.objective)
            for table in ("assignments", "coverage", "cost_breakdown"):
                assert table in result.tables, f"no {table} table"
        else:
            assert result.diagnosis, "infeasible without an explanation"
            check_located(result.diagnosis, case, folder, what="diagnosis")
            assert "infeasibility" in result.tables


def _cli_args(case: Case) -> list[str]:
    args = ["solve", STUDY_FILE, "--quiet"]
    if case.scenario is not None:
        args += ["--scenario", case.scenario]
    for text in case.sets:
        args += ["--set", text]
    return args


@fuzz_settings(CLI_CASES)
@given(
    case=st.one_of(
        cases(small_only=True, valid_only=True),
        cases(small_only=True),
    )
)
def test_cli_exit_codes_and_folders(case: Case) -> None:
    """Property 3: documented exit codes, no traceback, nothing written on exit 3."""
    note(case.describe())
    STATS["cli.cases"] += 1
    with tempfile.TemporaryDirectory(prefix="posture-fuzz-") as tmp:
        folder = Path(tmp)
        case.write(folder)
        proc = run_cli(*_cli_args(case), cwd=folder, timeout=300)
        code = proc.returncode
        STATS[f"cli.exit.{code}"] += 1
        event(f"exit {code}")
        note(f"exit {code}\nstdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-3000:]}")
        # The output goes into the messages too: a failure that does not reproduce
        # (hypothesis' FlakyFailure) shows only the first run's exception.
        said = f"stdout:\n{proc.stdout[-2000:]}\nstderr:\n{proc.stderr[-3000:]}"
        assert code in DOCUMENTED_EXITS, f"exit {code}\n{said}"
        assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, said
        results = folder / "results"
        if code == 3:
            assert not results.exists(), "exit 3 but results/ was created"
            assert _LOCATED.match(proc.stderr), "exit 3 without a located first message"
            assert case.expect != "valid", "a valid study was rejected"
            return
        assert case.expect != "invalid", f"a certainly invalid study was solved (exit {code})"
        runs = [p for p in results.iterdir() if p.name != "latest"]
        assert not [p for p in runs if p.name.startswith(".")], "a temporary folder was left"
        assert len(runs) == 1, f"expected one run folder, found {[p.name for p in runs]}"
        run = runs[0]
        assert (run / "summary.json").is_file()
        if code in (0, 10):
            assert (results / "latest").resolve() == run.resolve()
            assert (run / "assignments.csv").is_file()
        else:  # 4: a diagnostic folder, no plan
            assert not (results / "latest").exists()
            assert not (run / "assignments.csv").exists()
            assert (run / "infeasibility.csv").is_file()


# --------------------------------------------------------------------------------------
# The generator's own oracle for layered values (not generated cases: fixed tables)
# --------------------------------------------------------------------------------------


def _expect_vs_load(work: Work, folder: Path) -> tuple[str, str]:
    """The generator's expectation for ``work`` and what posture.load made of it."""
    path = folder / STUDY_FILE
    path.write_text(emit(work.study, Style()), encoding="utf-8")
    try:
        posture.load(path, scenario=work.scenario, sets=work.sets)
    except InputError:
        return work.expectation(), "rejected"
    return work.expectation(), "loaded"


def _agrees(expect: str, outcome: str) -> bool:
    return expect == "any" or (expect == "valid") == (outcome == "loaded")


def test_last_set_wins_in_the_oracle(tmp_path: Path) -> None:
    """Overrides of one key (or of a mapping holding it): the generator expects what
    posture does, the last one winning; e.g. ``objective.cost=yes`` then
    ``objective.cost=0.5`` is valid, the other way round invalid."""
    pool = VALID_SETS + INVALID_SETS + ANY_SETS
    runs = [(t,) for t in pool] + [
        (a, b)
        for a in pool
        for b in pool
        if _covers(set_path(a), set_path(b)) or _covers(set_path(b), set_path(a))
    ]
    wrong = []
    for sets in runs:
        base = tiny_base()
        work = Work(base, base.study, {}, [_set_claim(i, t) for i, t in enumerate(sets)])
        work.sets = sets
        expect, outcome = _expect_vs_load(work, tmp_path)
        if not _agrees(expect, outcome):
            wrong.append(f"{sets!r}: generator said {expect}, posture {outcome}")
    assert not wrong, "\n".join(wrong)
    base = tiny_base()
    work = Work(base, base.study, {}, [])
    work.sets = ("objective.cost=yes", "objective.cost=0.5")
    work.claims = [_set_claim(i, t) for i, t in enumerate(work.sets)]
    assert _expect_vs_load(work, tmp_path) == ("valid", "loaded")
    work.sets = work.sets[::-1]
    work.claims = [_set_claim(i, t) for i, t in enumerate(work.sets)]
    assert _expect_vs_load(work, tmp_path) == ("invalid", "rejected")


def test_scenario_layers_in_the_oracle(tmp_path: Path) -> None:
    """A scenario holding a bad value: invalid when chosen, valid when not chosen or
    when a scenario extending it, or a --set, replaces the value."""
    tables = {
        (None, ()): "valid",
        ("broken", ()): "invalid",
        ("fixed", ()): "valid",
        ("no_rok", ()): "valid",
        ("broken", ("objective.cost=0.5",)): "valid",
        ("broken", ("objective.cost=yes", "objective.cost=0.5")): "valid",
        ("broken", ("objective.cost=0.5", "objective.cost=yes")): "invalid",
        ("broken", ("objective=1",)): "any",
        ("fixed", ("objective.cost=-1",)): "invalid",
        ("fixed", ("solver.seed=7",)): "valid",
    }
    wrong = []
    for (scenario, sets), want in tables.items():
        base = tiny_base()
        study = base.study
        study["scenarios"]["broken"] = {"description": "broken", "objective": {"cost": "cheap"}}
        study["scenarios"]["fixed"] = {
            "description": "fixes broken",
            "extends": ["broken"],
            "objective": {"cost": 0.5},
        }
        claims = [bad_scenario_claim("bad_value"), *(_set_claim(i, t) for i, t in enumerate(sets))]
        work = Work(base, study, {}, claims, scenario, sets)
        expect, outcome = _expect_vs_load(work, tmp_path)
        if expect != want or not _agrees(expect, outcome):
            wrong.append(f"{scenario} {sets!r}: want {want}, generator {expect}, posture {outcome}")
    assert not wrong, "\n".join(wrong)
