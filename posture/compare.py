"""Two run folders side by side: what moved differently, coverage and cost deltas.

Only what ``posture solve`` wrote is read (``summary.json`` and the CSV tables
assignments, moves, coverage, replacements, personnel, cost_breakdown); nothing here
imports the model, solver or table code, so runs from other versions or machines
compare as long as their tables have the columns used.

Every delta table holds only the rows that differ, sorted by its key columns, with
``<figure>_a``, ``<figure>_b`` and ``b - a`` deltas; figures differ when they are
further apart than 1e-6 absolute + 1e-6 relative (the tables are rounded to 6
decimals). Runs of different studies or scenarios compare too: a row whose asset
holding, theatre, requirement or term exists in one run only is shown with 0 (or
``absent``) on the other side and ``presence`` ``only A`` / ``only B``; otherwise
``presence`` is ``both``, and a decision a table does not list is 0.

A folder that is not a run, a run without a plan, or a table that cannot be read
raises :class:`InputError` with the file, line and a hint.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from posture.errors import Diagnostic, InputError, Location

RESERVE = "reserve"
BOTH, ONLY_A, ONLY_B = "both", "only A", "only B"
ABSENT = "absent"
SOLVED = frozenset({"optimal", "feasible"})
SUMMARY = "summary.json"
SUMMARY_TABLE = "comparison_summary"
_ABS, _REL = 1e-6, 1e-6
_REWRITE = "the tables are written by 'posture solve': solve again rather than edit them"

Key = tuple[str, ...]
Value = int | float | str
Rows = dict[Key, dict[str, Value]]


# --- reading a run folder ------------------------------------------------------------


@dataclass(frozen=True)
class _Table:
    """The columns compare reads from one CSV table of a run folder."""

    keys: tuple[str, ...]
    numbers: tuple[str, ...]
    whole: frozenset[str] = frozenset()  # counts of units: whole numbers
    optional: frozenset[str] = frozenset()  # may be empty


_TABLES: dict[str, _Table] = {
    "assignments": _Table(("asset", "origin", "location"), ("units",), frozenset({"units"})),
    "moves": _Table(
        ("asset", "origin", "from", "to"), ("units", "cost_musd"), frozenset({"units"})
    ),
    "coverage": _Table(("theatre", "capability"), ("floor", "target", "provided", "shortfall")),
    "replacements": _Table(("source", "theatre"), ("units", "cost_musd"), frozenset({"units"})),
    "personnel": _Table(("theatre",), ("personnel",)),
    # The total row has no unweighted value (it is the objective itself).
    "cost_breakdown": _Table(("term",), ("value", "weighted"), optional=frozenset({"value"})),
}


@dataclass(frozen=True)
class Run:
    """One run folder as compare reads it: its manifest facts and its table rows by key."""

    path: Path
    status: str
    scenario: str
    objective: float
    gap: float | None
    input_hash: str
    study: str
    tables: Mapping[str, Rows]
    holdings: frozenset[Key]  # (asset, origin) pairs with units
    theatres: frozenset[str]

    def describe(self) -> str:
        """``runs/a (optimal, scenario base, objective 35.3)``."""
        facts = f"{self.status}, scenario {self.scenario}, objective {self.objective:.10g}"
        return f"{self.path} ({facts})"


def _at(
    file: Path, line: int, message: str, key: str | None = None, hint: str | None = None
) -> InputError:
    where = Location(str(file), line, 1)
    return InputError([Diagnostic(message, where, (key,) if key else (), hint=hint)])


def _read_text(path: Path, hint: str) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError([Diagnostic(f"{path}: file is missing", hint=hint)]) from None
    except OSError as exc:
        raise InputError([Diagnostic(f"cannot read {path}: {exc.strerror or exc}")]) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _at(
            path, data.count(b"\n", 0, exc.start) + 1, "not valid UTF-8", hint=_REWRITE
        ) from None


def _line_of(text: str, key: str) -> int:
    """The line of a top-level key in summary.json (written one key a line), else 1."""
    found = re.search(rf'^\s*"{re.escape(key)}"\s*:', text, re.MULTILINE)
    return text.count("\n", 0, found.start()) + 1 if found else 1


def _finite(value: object) -> float | None:
    """A JSON number as a float; None for anything else (null, text, true, NaN)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _read_summary(run_dir: Path) -> dict[str, Any]:
    """The run's manifest, refused unless it is a run with a plan."""
    folder_hint = "give a run folder written by 'posture solve', e.g. results/latest"
    if not run_dir.is_dir():
        what = "is not a folder" if run_dir.exists() else "does not exist"
        raise InputError([Diagnostic(f"{run_dir}: {what}", hint=folder_hint)])
    path = run_dir / SUMMARY
    if not path.is_file():
        why = f"{run_dir}: not a run folder (no {SUMMARY})"
        raise InputError([Diagnostic(why, hint=folder_hint)])
    text = _read_text(path, folder_hint)
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _at(path, exc.lineno, f"not valid JSON: {exc.msg}", hint=_REWRITE) from None
    if not isinstance(data, dict):
        raise _at(path, 1, "expected a JSON object (the run's manifest)", hint=_REWRITE)

    def bad(key: str, message: str, hint: str = _REWRITE) -> InputError:
        return _at(path, _line_of(text, key), message, key, hint)

    status = data.get("status")
    if data.get("kind") == "comparison":
        raise bad("kind", "a 'posture compare' folder, not a run", "compare the runs themselves")
    if not isinstance(status, str):
        raise bad("status", f"expected a solve status, found {status!r}")
    if status not in SOLVED:
        hint = "only runs with a plan (exit 0 or 10) compare; its folder says why it has none"
        raise bad("status", f"run has no plan to compare (status '{status}')", hint)
    if _finite(data.get("objective")) is None:
        raise bad("objective", f"expected a number, found {data.get('objective')!r}")
    return data


def _number(file: Path, line: int, column: str, cell: str, spec: _Table) -> Value | None:
    text = cell.strip().removeprefix("'")  # the writer's spreadsheet-formula guard
    if not text and column in spec.optional:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise _at(
            file, line, f"expected a number in column '{column}', found {cell!r}", column, _REWRITE
        )
    if column in spec.whole:
        if not value.is_integer():
            raise _at(
                file, line, f"expected a whole number of units, found {cell!r}", column, _REWRITE
            )
        return int(value)
    return value


def _read_table(run_dir: Path, name: str) -> Rows:
    """A table's rows by key, numbers parsed; located errors for anything unreadable."""
    spec, path = _TABLES[name], run_dir / f"{name}.csv"
    text = _read_text(path, "the run folder is incomplete: " + _REWRITE)
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: Rows = {}
    lines: dict[Key, int] = {}
    try:
        header = next(reader, [])
        if missing := [c for c in (*spec.keys, *spec.numbers) if c not in header]:
            hint = f"expected the columns {', '.join(spec.keys + spec.numbers)}; {_REWRITE}"
            raise _at(path, 1, f"missing column(s): {', '.join(missing)}", hint=hint)
        col = {c: header.index(c) for c in (*spec.keys, *spec.numbers)}
        last = reader.line_num
        for record in reader:
            start, last = last + 1, reader.line_num  # a quoted cell may span lines
            if not record:
                continue
            if len(record) != len(header):
                why = f"{len(record)} cells under {len(header)} columns"
                raise _at(path, start, why, hint=_REWRITE)
            key = tuple(record[col[c]] for c in spec.keys)
            if empty := [c for c, k in zip(spec.keys, key, strict=True) if not k.strip()]:
                raise _at(path, start, f"empty {empty[0]}", empty[0], _REWRITE)
            if key in lines:
                why = f"repeats the row of line {lines[key]} ({'/'.join(key)})"
                raise _at(path, start, why, hint=_REWRITE)
            lines[key] = start
            values = {c: _number(path, start, c, record[col[c]], spec) for c in spec.numbers}
            rows[key] = {c: v for c, v in values.items() if v is not None}
    except csv.Error as exc:
        raise _at(path, reader.line_num, f"not valid CSV: {exc}", hint=_REWRITE) from None
    return rows


def _status(row: Mapping[str, Value]) -> str:
    """Where provided coverage stands against its floor and target."""
    provided, floor, target = (float(row[c]) for c in ("provided", "floor", "target"))
    if provided < floor - _ABS:
        return "below floor"
    return "below target" if provided < target - _ABS else "target met"


def read_run(run_dir: Path) -> Run:
    """Read a run folder written by ``posture solve`` (summary.json and six CSV tables)."""
    summary = _read_summary(run_dir)
    tables = {name: _read_table(run_dir, name) for name in _TABLES}
    for row in tables["coverage"].values():
        row["status"] = _status(row)
    for row in tables["cost_breakdown"].values():
        row.setdefault("value", row["weighted"])  # the total: the objective itself
    files = summary.get("study_files")
    return Run(
        path=run_dir,
        status=summary["status"],
        scenario=str(summary.get("scenario") or "base"),
        objective=float(summary["objective"]),
        gap=_finite(summary.get("gap")),
        input_hash=str(summary.get("input_hash") or ""),
        study=str(files[0]) if isinstance(files, list) and files else "",
        tables=tables,
        # Every holding has a row at its starting place (its baseline), and personnel a
        # row per theatre: together they say which assets and theatres the study has.
        holdings=frozenset(k[:2] for k in tables["assignments"]),
        theatres=frozenset(k[0] for k in tables["personnel"]),
    )


# --- deltas --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Figure:
    """A column of a run table, shown as ``<column>_a``, ``<column>_b`` and maybe a delta."""

    column: str
    delta: str | None = None


@dataclass(frozen=True)
class _Delta:
    """One delta table: its run table, the figures compared and when a key exists in a run."""

    table: str
    figures: tuple[_Figure, ...]
    exists: Callable[[Run, Key], bool]
    order: Callable[[Key], tuple[Any, ...]] = lambda key: key


def _located(run: Run, where: str) -> bool:
    return where == RESERVE or where in run.theatres


def _listed(table: str) -> Callable[[Run, Key], bool]:
    return lambda run, key: key in run.tables[table]


_TERMS = ("weighted_shortfall", "total_cost", "turbulence", "total")
_UNITS = _Figure("units", "delta")
_COST = _Figure("cost_musd", "cost_musd_delta")
DELTAS: dict[str, _Delta] = {
    "posture_delta": _Delta(
        "assignments", (_UNITS,), lambda r, k: k[:2] in r.holdings and _located(r, k[2])
    ),
    "moves_delta": _Delta(
        "moves", (_UNITS, _COST), lambda r, k: k[:2] in r.holdings and _located(r, k[3])
    ),
    "coverage_delta": _Delta(
        "coverage",
        (
            _Figure("floor"),
            _Figure("target"),
            _Figure("provided", "provided_delta"),
            _Figure("shortfall", "shortfall_delta"),
            _Figure("status"),
        ),
        _listed("coverage"),
    ),
    # Sources not activated are not listed, so a source's existence is not known: 0.
    "replacements_delta": _Delta("replacements", (_UNITS, _COST), lambda r, k: _located(r, k[1])),
    "personnel_delta": _Delta("personnel", (_Figure("personnel", "delta"),), _listed("personnel")),
    "cost_delta": _Delta(
        "cost_breakdown",
        (
            _Figure("value", "value_delta"),
            _Figure("weighted", "weighted_delta"),
        ),
        _listed("cost_breakdown"),
        # The objective's terms in the order they are written, the total last.
        lambda key: (_TERMS.index(key[0]) if key[0] in _TERMS else len(_TERMS), key),
    ),
}


def _r(x: float) -> float:
    """Round away float noise (0.30000000000000004, -0.0) so deltas read cleanly."""
    value = round(x, 6)
    return 0.0 if value == 0 else value


def _differ(a: Value, b: Value) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return a != b
    return abs(a - b) > _ABS + _REL * max(abs(a), abs(b))


def _minus(b: Value, a: Value) -> Value:
    """``b - a``: whole when both are unit counts, else rounded like the tables."""
    if isinstance(a, str) or isinstance(b, str):
        raise TypeError("text figures have no delta")
    if isinstance(a, int) and isinstance(b, int):
        return b - a
    return _r(b - a)


def _none_like(value: Value) -> Value:
    """What a run that does not list a row has instead: 0 units, 0.0, or 'absent'."""
    if isinstance(value, str):
        return ABSENT
    return 0 if isinstance(value, int) else 0.0


def _columns(delta: _Delta) -> list[str]:
    columns = list(_TABLES[delta.table].keys)
    for f in delta.figures:
        columns += [f"{f.column}_a", f"{f.column}_b", *([f.delta] if f.delta else [])]
    return [*columns, "presence"]


def delta_table(name: str, a: Run, b: Run) -> pd.DataFrame:
    """One delta table (a name in ``DELTAS``): the rows that differ, sorted by key."""
    delta = DELTAS[name]
    rows_a, rows_b = a.tables[delta.table], b.tables[delta.table]
    out = []
    for key in sorted(rows_a.keys() | rows_b.keys(), key=delta.order):
        in_a = key in rows_a or delta.exists(a, key)
        in_b = key in rows_b or delta.exists(b, key)
        presence = BOTH if in_a and in_b else ONLY_A if in_a else ONLY_B
        cells: list[Value] = list(key)
        changed = presence != BOTH
        for f in delta.figures:
            listed = rows_a.get(key) or rows_b[key]  # the key is listed in at least one run
            va = rows_a[key][f.column] if key in rows_a else _none_like(listed[f.column])
            vb = rows_b[key][f.column] if key in rows_b else _none_like(listed[f.column])
            changed = changed or _differ(va, vb)
            cells += [va, vb, *([_minus(vb, va)] if f.delta else [])]
        if changed:
            out.append([*cells, presence])
    return pd.DataFrame(out, columns=_columns(delta))


# --- the comparison ------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """Two runs and their tables: the ``DELTAS`` and ``comparison_summary``."""

    a: Run
    b: Run
    tables: dict[str, pd.DataFrame]

    @property
    def counts(self) -> dict[str, int]:
        """Differing rows per delta table."""
        return {name: len(self.tables[name]) for name in DELTAS}

    @property
    def identical(self) -> bool:
        """True when no delta table has a row: same posture, coverage and costs."""
        return not any(self.counts.values())

    def headline(self) -> str:
        """One line naming both runs and the verdict (also the caption of written tables)."""
        verdict = "identical" if self.identical else "they differ"
        return f"A {self.a.describe()} vs B {self.b.describe()}: {verdict}"

    def manifest(self) -> dict[str, Any]:
        """The summary.json of a comparison folder (marked, so it is not taken for a run)."""
        return {
            "kind": "comparison",
            "headline": self.headline(),
            "runs": {"a": str(self.a.path), "b": str(self.b.path)},
            "identical": self.identical,
            "differing_rows": self.counts,
            "objective": {
                "a": self.a.objective,
                "b": self.b.objective,
                "delta": _r(self.b.objective - self.a.objective),
            },
            "tables": sorted(self.tables),
        }


def summary_table(a: Run, b: Run, counts: Mapping[str, int]) -> pd.DataFrame:
    """One row: each run's study, scenario, status, objective and gap; differing rows."""
    row: dict[str, object] = {"run_a": str(a.path), "run_b": str(b.path)}
    for fact in ("study", "scenario", "status", "objective", "gap"):
        row |= {f"{fact}_a": getattr(a, fact), f"{fact}_b": getattr(b, fact)}
    row["objective_delta"] = _r(b.objective - a.objective)
    row["same_inputs"] = bool(a.input_hash) and a.input_hash == b.input_hash
    row |= {f"{name.removesuffix('_delta')}_rows": n for name, n in counts.items()}
    row["identical"] = not any(counts.values())
    return pd.DataFrame([row])


def compare_runs(run_a: Path, run_b: Path) -> Comparison:
    """Compare two run folders written by ``posture solve``; deltas are B minus A.

    Raises :class:`InputError` listing every problem found in either folder.
    """
    runs, problems = [], []
    for path in (run_a, run_b):
        try:
            runs.append(read_run(path))
        except InputError as exc:
            problems += exc.diagnostics
    if problems:
        raise InputError(list(dict.fromkeys(problems)))  # one folder given twice: once
    a, b = runs
    tables = {name: delta_table(name, a, b) for name in DELTAS}
    tables[SUMMARY_TABLE] = summary_table(a, b, {n: len(tables[n]) for n in DELTAS})
    return Comparison(a, b, tables)
