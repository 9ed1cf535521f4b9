"""Independent re-check of a run folder against ``models/formulation.md``.

Every number a planner may have to defend is re-derived from ``resolved_inputs.yaml``,
``summary.json`` and the CSV tables alone. Nothing here imports the model, solver or
table code: the rules are written again from the formulation, so a mistake in one cannot
vouch for itself in the other. Decisions come from ``assignments.csv`` (place, reserve)
and ``replacements.csv`` (activated); a decision absent from them is 0.

Rules reported: ``integrality``, ``bounds``, ``allowed_destinations`` and
``allowed_activations`` (decisions outside PLACEMENTS or ACTIVATIONS), each constraint
family by its name (the soft target is priced, not checked: its shortfall is recomputed
as max(0, target - provided)), ``objective`` (recomputed vs summary.json) and ``table``
(every row and figure of assignments, replacements, moves, coverage, personnel and
cost_breakdown; the breakdown adds up). Sums count every decision on a held unit or a
known source, allowed or not: the units are where the tables say they are.

A folder that cannot be read (a file missing or not UTF-8/CSV/JSON/YAML, a column
missing, a number not finite, inputs failing the schema) raises :class:`InputError` with
located diagnostics; once read, every disagreement is a :class:`Violation`. A run neither
optimal nor feasible has no solution: its report is ok, ``checked`` empty, status kept.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from posture.errors import Diagnostic, InputError, Location
from posture.schema import Asset, ReplacementSource, Study
from posture.yamlsafe import parse_yaml_file

# A row fails when its excess passes abs + rel * (the larger magnitude of its two sides).
# Tables are written rounded to 6 decimals, and HiGHS reports the objective from its
# unrounded integer columns: both are compared with a looser relative tolerance.
TOLERANCES: dict[str, float] = {
    "row_abs": 1e-6,
    "row_rel": 1e-9,
    "integrality": 1e-6,
    "objective_abs": 1e-6,
    "objective_rel": 1e-6,
    "table_abs": 1e-6,
    "table_rel": 1e-6,
}
RESERVE = "reserve"
SOLVED = frozenset({"optimal", "feasible"})
STATUSES = SOLVED | {"infeasible", "unbounded", "infeasible_or_unbounded", "no_solution", "error"}
_KEYS = {  # key columns of each table checked
    "assignments": ("asset", "origin", "location"),
    "replacements": ("source", "theatre"),
    "moves": ("asset", "origin", "from", "to"),
    "coverage": ("theatre", "capability"),
    "personnel": ("theatre",),
    "cost_breakdown": ("term",),
}
Key = tuple[str, ...]
Expected = dict[Key, dict[str, float | None]]
Decisions = Mapping[Key, float]


@dataclass(frozen=True)
class Violation:
    """One broken rule: family, index, a planner-readable message and by how much."""

    rule: str
    index: str
    message: str
    amount: float


@dataclass(frozen=True)
class CheckReport:
    """Every violation found, rows checked per rule family and both objective values."""

    violations: tuple[Violation, ...]
    checked: dict[str, int]
    objective_recomputed: float | None
    objective_reported: float | None
    status: str | None = None

    @property
    def ok(self) -> bool:
        """True when no rule is violated."""
        return not self.violations

    def format(self) -> str:
        """One line per violation, then a summary line."""
        if not self.checked:
            return f"nothing to check: a run with status '{self.status}' has no solution"
        rows, obj = sum(self.checked.values()), _g(self.objective_recomputed)
        tail = f"{rows} rows in {len(self.checked)} rule families; objective {obj} recomputed"
        if self.ok:
            return f"check passed: {tail}, {_g(self.objective_reported)} reported"
        rules = ", ".join(sorted({v.rule for v in self.violations}))
        last = f"check FAILED: {len(self.violations)} violation(s) of {rules}; {tail}"
        return "\n".join([*(v.message for v in self.violations), last])


def _g(x: float | None) -> str:
    return "none" if x is None else f"{x:.10g}"


def _bad(file: Path, line: int, message: str, key: str | None = None) -> InputError:
    return InputError([Diagnostic(message, Location(str(file), line, 1), (key,) if key else ())])


@dataclass(frozen=True)
class _Row:
    file: Path
    line: int
    cells: dict[str, str]

    def num(self, column: str, required: bool = False) -> float | None:
        """The cell as a number; None when empty and not required."""
        cell = self.cells.get(column, "").strip().removeprefix("'")  # the writer's guard
        try:
            value = float(cell) if cell or required else None
        except ValueError:
            value = math.nan
        if value is not None and not math.isfinite(value):
            raise _bad(self.file, self.line, f"{column} is not a finite number: {cell!r}", column)
        return value


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError([Diagnostic(f"cannot read {path}: {exc.strerror or exc}")]) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _bad(path, data.count(b"\n", 0, exc.start) + 1, "not valid UTF-8") from None


def _read_csv(path: Path, needed: tuple[str, ...]) -> list[_Row]:
    rows, reader = [], csv.reader(io.StringIO(_read_text(path), newline=""))
    try:
        header = next(reader, [])
        if missing := [c for c in needed if c not in header]:
            raise _bad(path, 1, f"missing column(s): {', '.join(missing)}")
        last = reader.line_num
        for record in reader:
            start, last = last + 1, reader.line_num  # a quoted cell may span lines
            if record and len(record) != len(header):
                raise _bad(path, start, f"{len(record)} cells under {len(header)} columns")
            if record:
                rows.append(_Row(path, start, dict(zip(header, record, strict=True))))
    except csv.Error as exc:
        raise _bad(path, reader.line_num, f"not valid CSV: {exc}") from None
    return rows


def _read_study(path: Path) -> Study:
    doc = parse_yaml_file(path)  # raises located InputErrors itself
    try:
        study = Study.model_validate(doc.data)
    except ValidationError as exc:
        where = [(e["msg"], tuple(e["loc"])) for e in exc.errors()]
        raise InputError([Diagnostic(m, doc.source.value(p), p) for m, p in where]) from None
    # Cross-references this module indexes by (the others are looked up with defaults).
    bad: list[Key] = [("requirements", t) for t in study.requirements if t not in study.theatres]
    for a, asset in study.assets.items():
        bad += [("assets", a, "inventory", o) for o in asset.inventory if o not in study.origins]
    if bad:
        raise InputError([Diagnostic(f"unknown id '{p[-1]}'", doc.source.key(p), p) for p in bad])
    return study


def _summary(path: Path) -> tuple[str, float | None]:
    try:
        data: Any = json.loads(_read_text(path))
    except json.JSONDecodeError as exc:
        raise _bad(path, exc.lineno, f"not valid JSON: {exc.msg}") from None
    data = data if isinstance(data, dict) else {}
    status, objective = data.get("status"), data.get("objective")
    if status not in STATUSES:
        raise _bad(path, 1, f"{status!r} is not a solve status", "status")
    if objective is not None and type(objective) not in (int, float):
        raise _bad(path, 1, f"{objective!r} is not a number", "objective")
    return str(status), None if objective is None else float(objective)


class _Checker:
    """One study's sets and one set of decisions: the expressions and violations found."""

    def __init__(self, study: Study, place: Decisions, reserve: Decisions, act: Decisions) -> None:
        self.s, self.found, self.checked = study, list[Violation](), Counter[str]()
        self.place, self.reserve, self.act = place, reserve, act
        self.home = {o: x.theatre for o, x in study.origins.items()}
        self.inv: dict[Key, int] = {}
        self.lock: dict[Key, int] = {}
        self.allowed: set[Key] = set()
        for a, asset in study.assets.items():
            for o, n in ((o, n) for o, n in asset.inventory.items() if n > 0):
                self.inv[a, o], h = n, self.home[o]
                dests = set(study.theatres if asset.destinations is None else asset.destinations)
                if lock := n if not asset.movable else asset.locked.get(o, 0):
                    self.lock[a, o] = lock
                    dests |= {h} if h else set()
                self.allowed |= {(a, o, t) for t in dests}
        late = math.inf if study.deadline_days is None else study.deadline_days
        srcs = study.replacement_sources.items()
        self.active = {(s, t) for s, x in srcs for t in x.theatres if x.lead_time_days <= late}

    def fail(self, rule: str, index: str, text: str, amount: float) -> None:
        self.found.append(Violation(rule, index, f"{rule}[{index}] {text}", amount))

    def row(self, rule: str, index: str, lhs: float, op: str, rhs: float, names: str) -> None:
        """Check ``lhs op rhs``; ``names`` says what the sides are, e.g. 'provided/floor'."""
        self.checked[rule] += 1
        excess = {">=": rhs - lhs, "<=": lhs - rhs, "==": abs(lhs - rhs)}[op]
        if excess > TOLERANCES["row_abs"] + TOLERANCES["row_rel"] * max(abs(lhs), abs(rhs)):
            left, right = names.split("/")
            sign = {">=": "<", "<=": ">", "==": "!="}[op]
            text = f"violated by {_g(excess)} ({left} {_g(lhs)} {sign} {right} {_g(rhs)})"
            self.fail(rule, index, text, excess)

    def same(self, rule: str, index: str, reported: float | None, want: float | None) -> None:
        """A reported figure against the one the decisions and inputs give."""
        self.checked[rule] += 1
        diff, scale = (0.0 if reported is want else math.inf), 0.0
        if reported is not None and want is not None:
            diff, scale = abs(reported - want), max(abs(reported), abs(want))
        kind = "objective" if rule == "objective" else "table"
        if diff > TOLERANCES[f"{kind}_abs"] + TOLERANCES[f"{kind}_rel"] * scale:
            self.fail(rule, index, f"is {_g(reported)}; the decisions give {_g(want)}", diff)

    def decision(self, kind: str, key: Key, x: float, upper: float) -> None:
        self.checked.update(("integrality", "bounds"))
        index, frac = "/".join(key), abs(x - round(x))
        if frac > TOLERANCES["integrality"]:
            self.fail("integrality", index, f"{kind} {_g(x)} is not a whole number", frac)
        if not -TOLERANCES["row_abs"] <= x <= upper + TOLERANCES["row_abs"]:
            self.fail("bounds", index, f"{kind} {_g(x)} outside 0..{_g(upper)}", max(-x, x - upper))

    def move_cost(self, a: str, o: str, t: str) -> float:
        asset = self.s.assets[a]
        route = asset.route_cost_musd.get(o, {}).get(t, asset.move_cost_musd)
        return 0.0 if t == self.home[o] else route

    def in_sets(self) -> None:
        """Every decision whole, within its bounds and inside its set."""
        for kind, decisions in (("place", self.place), ("reserve", self.reserve)):
            for key, x in decisions.items():
                self.decision(kind, key, x, self.inv.get(key[:2], 0))
                self.checked["allowed_destinations"] += kind == "place"
                if key[:2] not in self.inv and x:
                    self.fail("inventory", "/".join(key[:2]), f"{kind} {_g(x)}: none held", x)
                elif kind == "place" and key not in self.allowed and x:
                    why = f"{_g(x)} units in {key[2]}, not a destination of {key[0]}"
                    self.fail("allowed_destinations", "/".join(key), why, x)
        for (s, t), z in self.act.items():
            src = self.s.replacement_sources.get(s)
            self.decision("activated", (s, t), z, src.available if src else 0)
            self.checked["allowed_activations"] += 1
            if (s, t) not in self.active and z:
                why = f"{t} is not among its theatres" if src else "not a replacement source"
                if src and t in src.theatres:
                    why = f"lead time {_g(src.lead_time_days)} days > deadline "
                    why += f"{_g(self.s.deadline_days)} days"
                self.fail("allowed_activations", f"{s}/{t}", f"{_g(z)} units: {why}", z)

    def evaluate(self) -> float:
        """The formulation's expressions at the decisions (run first); returns the objective."""
        s, sources = self.s, self.s.replacement_sources
        self.cap: dict[str, dict[Key, float]] = {"assets": defaultdict(float)}
        self.cap["sources"], self.foot = defaultdict(float), defaultdict[Key, float](float)
        self.people, self.held = defaultdict[str, float](float), defaultdict[Key, float](float)
        self.cost = 0.0
        for (a, o, t), x in self.place.items():
            if (a, o) in self.inv and t in s.theatres:
                self.add("assets", t, x, s.assets[a], s.assets[a].effectiveness.get(t, 1.0))
                self.held[a, o] += x
                self.cost += self.move_cost(a, o, t) * x
        for (sid, t), z in self.act.items():
            if (src := sources.get(sid)) is not None and t in s.theatres:
                self.add("sources", t, z, src, 1.0)
                self.cost += src.activation_cost_musd * z
        self.base, self.base_people = defaultdict[Key, float](float), defaultdict[str, float](float)
        self.turbulence = self.risk = 0.0
        for (a, o), n in self.inv.items():
            asset, h = s.assets[a], self.home[o]
            if h is None:
                self.turbulence += asset.turbulence_weight * self.held[a, o]
                continue
            kept = self.place.get((a, o, h), 0.0) * ((a, o, h) in self.allowed)
            self.turbulence += asset.turbulence_weight * (n - kept)
            self.base_people[h] += asset.personnel_per_unit * n
            for c, k in asset.contributes.items():
                self.base[h, c] += asset.effectiveness.get(h, 1.0) * k * n
        for t, reqs in s.requirements.items():
            for c, req in reqs.items():
                got = self.cap["assets"][t, c] + self.cap["sources"][t, c]
                self.risk += s.theatres[t].priority * req.weight * max(0.0, req.target - got)
        w = s.objective
        return w.shortfall * self.risk + w.cost * self.cost + w.turbulence * self.turbulence

    def add(self, kind: str, t: str, x: float, unit: Asset | ReplacementSource, e: float) -> None:
        """Count x units in theatre t: capability (times effectiveness e), footprint, people."""
        for c, k in unit.contributes.items():
            self.cap[kind][t, c] += e * k * x
        for b, f in unit.basing.items():
            self.foot[t, b] += f * x
        self.people[t] += unit.personnel_per_unit * x

    def families(self) -> None:
        """Every constraint family of the formulation, row by row."""
        s, sources, assets = self.s, self.s.replacement_sources, self.cap["assets"]
        for (a, o), n in self.inv.items():
            used = self.held[a, o] + self.reserve.get((a, o), 0.0)
            self.row("inventory", f"{a}/{o}", used, "==", n, "placed + reserve/inventory")
            if (a, o) in self.lock:
                h = self.home[o]
                kept = (
                    self.reserve.get((a, o), 0.0) if h is None else self.place.get((a, o, h), 0.0)
                )
                where = f"kept at {h or RESERVE}/locked"
                self.row("locked_units", f"{a}/{o}", kept, ">=", self.lock[a, o], where)
        for t, reqs in s.requirements.items():
            for c, req in reqs.items():
                got = assets[t, c] + self.cap["sources"][t, c]
                if req.floor > 0:
                    self.row("coverage_floor", f"{t}/{c}", got, ">=", req.floor, "provided/floor")
        for r, rule in s.replacement_rules.items():
            t, soon = rule.theatre, rule.max_lead_time_days
            into = [(sources[i], z) for (i, u), z in self.act.items() if u == t and i in sources]
            for c in rule.capabilities:
                got = sum(
                    x.contributes.get(c, 0.0) * z for x, z in into if x.lead_time_days <= soon
                )
                gone = rule.ratio * (self.base[t, c] - assets[t, c])
                names = "backfilled/ratio x removed"
                self.row("replacement_backfill", f"{r}/{c}", got, ">=", gone, names)
        for i, src in sources.items():
            mine = [z for (j, _), z in self.act.items() if j == i]
            if mine or any(j == i for j, _ in self.active):
                self.row(
                    "source_availability", i, sum(mine), "<=", src.available, "activated/available"
                )
        for t, lim in s.personnel.items():
            if lim.floor is not None:
                self.row("personnel_floor", t, self.people[t], ">=", lim.floor, "personnel/floor")
            if lim.cap is not None:
                self.row("personnel_cap", t, self.people[t], "<=", lim.cap, "personnel/cap")
        for t, bases in s.basing.items():
            for b, cap in bases.capacity.items():
                self.row(
                    "basing_capacity", f"{t}/{b}", self.foot[t, b], "<=", cap, "footprint/capacity"
                )
        if s.budget is not None:
            self.row("budget", "limit_musd", self.cost, "<=", s.budget.limit_musd, "cost/budget")
        if s.persistence is not None:
            cap = s.persistence.max_turbulence
            self.row(
                "turbulence_cap", "max_turbulence", self.turbulence, "<=", cap, "turbulence/cap"
            )


def check_solution(
    study: Study,
    place: Mapping[tuple[str, str, str], float],
    reserve: Mapping[tuple[str, str], float],
    activated: Mapping[tuple[str, str], float],
    objective: float | None,
) -> CheckReport:
    """Check decisions (absent means 0) against every rule of the formulation, and the
    reported ``objective`` against the total recomputed from them (skipped when None)."""
    chk = _Checker(
        study, *({tuple(k): v for k, v in d.items()} for d in (place, reserve, activated))
    )
    total = chk.evaluate()
    chk.in_sets()
    chk.families()
    if objective is not None:
        chk.same("objective", "total", objective, total)
    return CheckReport(tuple(chk.found), dict(chk.checked), total, objective)


def check_run(run_dir: Path) -> CheckReport:
    """Re-check a run folder from its resolved inputs and tables alone (see the module doc).

    Raises :class:`InputError` with located diagnostics when a file is missing or garbled.
    """
    status, reported = _summary(run_dir / "summary.json")
    if status not in SOLVED:
        return CheckReport((), {}, None, reported, status)
    study = _read_study(run_dir / "resolved_inputs.yaml")
    need = {"assignments": ("units",), "replacements": ("units",), "cost_breakdown": ("weighted",)}
    tab = {n: _read_csv(run_dir / f"{n}.csv", k + need.get(n, ())) for n, k in _KEYS.items()}
    place: dict[Key, float] = {}
    reserve: dict[Key, float] = {}
    act: dict[Key, float] = {}
    for table, into in (("assignments", place), ("replacements", act)):
        for r in tab[table]:
            key = tuple(r.cells[c] for c in _KEYS[table])
            got, key = (reserve, key[:2]) if into is place and key[-1] == RESERVE else (into, key)
            got[key] = got.get(key, 0.0) + (r.num("units", required=True) or 0.0)
    chk = _Checker(study, place, reserve, act)
    total = chk.evaluate()
    chk.in_sets()
    chk.families()
    chk.same("objective", "total", reported, total)
    for table, expected in _expected(chk, total).items():
        _compare(chk, table, tab[table], expected)
    rows = {r.cells["term"]: r.num("weighted") or 0.0 for r in tab["cost_breakdown"]}
    terms = sum(rows.get(t, 0.0) for t in ("weighted_shortfall", "total_cost", "turbulence"))
    chk.checked["table"] += 1
    gap, scale = abs(terms - rows.get("total", 0.0)), abs(terms)
    # Four figures, each rounded to 6 decimals when written.
    if gap > 4 * TOLERANCES["table_abs"] + TOLERANCES["table_rel"] * scale:
        text = f"terms add up to {_g(terms)}, not the total {_g(rows.get('total'))}"
        chk.fail("table", "cost_breakdown total", text, gap)
    return CheckReport(tuple(chk.found), dict(chk.checked), total, reported, status)


def _expected(chk: _Checker, total: float) -> dict[str, Expected]:
    """Each table's rows, by key, as the decisions and inputs give them."""
    s, w, out = chk.s, chk.s.objective, {name: Expected() for name in _KEYS}
    for (a, o), n in chk.inv.items():
        h, per = chk.home[o], s.assets[a].personnel_per_unit
        for loc in [*s.theatres, RESERVE]:
            x = chk.reserve.get((a, o), 0.0) if loc == RESERVE else chk.place.get((a, o, loc), 0.0)
            was = n if loc == (h or RESERVE) else 0
            if x or was:
                out["assignments"][a, o, loc] = {"units": x, "baseline_units": was}
                out["assignments"][a, o, loc] |= {"change": x - was, "personnel": x * per}
            if x and loc != (h or RESERVE):
                cost = 0.0 if loc == RESERVE else x * chk.move_cost(a, o, loc)
                out["moves"][a, o, h or RESERVE, loc] = {"units": x, "cost_musd": cost}
    for (i, t), z in chk.act.items():
        if (src := s.replacement_sources.get(i)) is not None and z:
            cost, days = z * src.activation_cost_musd, src.lead_time_days
            out["replacements"][i, t] = {"units": z, "lead_time_days": days, "cost_musd": cost}
    for t, reqs in s.requirements.items():
        for c, req in reqs.items():
            x, y = chk.cap["assets"][t, c], chk.cap["sources"][t, c]
            out["coverage"][t, c] = {
                "floor": req.floor,
                "target": req.target,
                "baseline": chk.base[t, c],
                "from_assets": x,
                "from_replacements": y,
                "provided": x + y,
                "shortfall": max(0.0, req.target - x - y),
                "percent_of_target": 100.0 * (x + y) / req.target if req.target else None,
            }
    for t in s.theatres:
        lim, now, base = s.personnel.get(t), chk.people[t], chk.base_people[t]
        floor, cap = (lim.floor, lim.cap) if lim else (None, None)
        out["personnel"][t,] = {"baseline": base, "personnel": now, "change": now - base}
        out["personnel"][t,] |= {"floor": floor, "cap": cap}
    terms = {"weighted_shortfall": (chk.risk, w.shortfall), "total_cost": (chk.cost, w.cost)}
    for term, (value, weight) in (terms | {"turbulence": (chk.turbulence, w.turbulence)}).items():
        out["cost_breakdown"][term,] = {
            "value": value,
            "weight": weight,
            "weighted": value * weight,
        }
    out["cost_breakdown"]["total",] = {"value": None, "weight": None, "weighted": total}
    return out


def _compare(chk: _Checker, table: str, rows: list[_Row], expected: Expected) -> None:
    """A table's rows and figures against the expected ones; extra or missing rows fail."""
    seen: set[Key] = set()
    for r in rows:
        key = tuple(r.cells[c] for c in _KEYS[table])
        idx = f"{table} {'/'.join(key)}"
        if key in seen or key not in expected:
            why = "repeats an earlier row" if key in seen else "is not a row the decisions give"
            chk.fail("table", idx, f"(line {r.line}) {why}", math.inf)
            continue
        seen.add(key)
        for column, want in expected[key].items():
            chk.same("table", f"{idx} {column}", r.num(column), want)
    for key in [k for k in expected if k not in seen]:
        chk.fail("table", f"{table} {'/'.join(key)}", "row is missing", math.inf)
