"""Marginal values: what one more unit, one more replacement, or one rule fewer is worth.

Every what-if is a change to the study itself (the merged input dict), validated
and turned into model data again, so derived numbers stay consistent: one more
Patriot battery in Korea also raises Korea's baseline, and with it what the
replacement rule asks for. All variants are solved with one shared
:class:`posture.resolve.Resolver`, in place when only numbers change.

Rows of the table (``marginal_values``), one per what-if:

* ``unit``: one more unit of asset ``a`` at origin ``o``, for each holding;
* ``source``: one more unit of each replacement source;
* ``rule``: each hard rule that is present, taken away (a coverage floor set to 0;
  a personnel floor or cap, a replacement rule, a basing capacity, the budget, a
  lock, the persistence cap removed).

``value`` is always ``base objective - what-if objective``: what the extra unit
saves, or what the rule costs (its price). Taking a rule away only relaxes the
model, so its price is >= 0, with one exception: a lock also keeps the home theatre
open to the asset's units at that origin when ``destinations`` leaves it out
(``models/formulation.md``: PLACEMENTS), so unlocking closes it, those units must
leave, and a lock's price can be negative. Each row also carries the dual of
its constraint rows in the LP with every integer fixed at the base optimum
(:meth:`posture.solver.KeptModel.lp_duals`), and its dual in the LP relaxation.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from posture.data import ModelData, build_model_data, edited_model_data
from posture.errors import KeyPath, Location, format_path
from posture.extract import row_identity
from posture.loader import ResolvedStudy
from posture.model import criterion_names
from posture.parameters import structure_key
from posture.resolve import Resolver, Solved
from posture.rules import index_label, rule_label, rule_path
from posture.schema import SolverOptions
from posture.solver import SolveInterrupted, SolveStatus

NAN = float("nan")
BASE_COLUMNS = [
    "kind",
    "item",
    "family",
    "key_path",
    "location",
    "base_objective",
    "whatif_objective",
    "value",
    "status",
    "detail",
    "in_place",
    "lp_dual",
    "relaxation_dual",
]
DUAL_COLUMNS = [
    "family",
    "index",
    "rule",
    "key_path",
    "location",
    "activity",
    "dual",
    "relaxation_dual",
]
# Differences below this are solver residue, not value; rounding them away keeps the
# sort (by value) stable across platforms.
_DIGITS = 9

Row = tuple[str, Any]  # (constraint family, Pyomo index) as posture.extract.row_identity gives
Edit = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class WhatIf:
    """One change to the study, and the constraint rows it acts on."""

    kind: str  # unit | source | rule
    item: str
    family: str  # the constraint family of its rows
    path: KeyPath
    location: Location | None
    rows: tuple[Row, ...]
    edit: Edit


@dataclass
class MarginalResult:
    """The base solve and one row per what-if, sorted by value (largest first)."""

    status: SolveStatus
    highs_status: str
    objective: float | None
    criteria: dict[str, float]
    marginal_values: pd.DataFrame
    row_duals: pd.DataFrame  # every row of the LP with integers fixed, with its dual
    lp_objective: float | None  # that LP's objective: equals ``objective`` when all is well
    rebuilds: int = 0
    updates: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables to write, by their file names."""
        return {"marginal_values": self.marginal_values, "marginal_row_duals": self.row_duals}


def _setter(path: KeyPath, update: Callable[[Any], Any]) -> Edit:
    """An edit replacing the value at ``path`` by ``update(old)``."""

    def edit(doc: dict[str, Any]) -> None:
        node: Any = doc
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = update(node[path[-1]])

    return edit


def _remover(path: KeyPath) -> Edit:
    """An edit deleting the entry at ``path`` (the schema's default then applies)."""

    def edit(doc: dict[str, Any]) -> None:
        node: Any = doc
        for part in path[:-1]:
            node = node[part]
        del node[path[-1]]

    return edit


def _unlock(asset: str) -> Edit:
    """Make every unit of ``asset`` movable: ``movable: true`` and no ``locked`` entries
    (with ``movable: false`` the entries were overridden; unlocking must not revive them)."""

    def edit(doc: dict[str, Any]) -> None:
        spec = doc["assets"][asset]
        spec["movable"] = True
        spec.pop("locked", None)

    return edit


def what_ifs(resolved: ResolvedStudy, data: ModelData) -> list[WhatIf]:
    """Every what-if of the marginal table, for the study as resolved."""
    study, ix = resolved.study, resolved.index
    found: list[WhatIf] = []

    def add(kind: str, item: str, family: str, path: KeyPath, rows: list[Row], edit: Edit) -> None:
        # A number that changes is located at its value; a rule that goes, at its key.
        where = ix.value(path) if kind != "rule" or family == "coverage_floor" else ix.key(path)
        found.append(WhatIf(kind, item, family, path, where, tuple(rows), edit))

    for a, o in data.holdings:
        path: KeyPath = ("assets", a, "inventory", o)
        add(
            "unit",
            f"one more {a} at {o}",
            "inventory",
            path,
            [("inventory", (a, o))],
            _setter(path, lambda n: n + 1),
        )
    for s in study.replacement_sources:
        path = ("replacement_sources", s, "available")
        add(
            "source",
            f"one more {s}",
            "source_availability",
            path,
            [("source_availability", s)],
            _setter(path, lambda n: n + 1),
        )
    for q in data.requirements:
        if data.floor[q] > 0:
            path = rule_path("coverage_floor", q)
            add(
                "rule",
                rule_label("coverage_floor", q),
                "coverage_floor",
                path,
                [("coverage_floor", q)],
                _setter(path, lambda _: 0.0),
            )
    for family, present in (
        ("personnel_floor", data.personnel_floor),
        ("personnel_cap", data.personnel_cap),
    ):
        for t in present:
            path = rule_path(family, t)
            add("rule", rule_label(family, t), family, path, [(family, t)], _remover(path))
    for r, rule in study.replacement_rules.items():
        label = (
            f"replacement rule {r}: {', '.join(rule.capabilities)} removed from {rule.theatre} "
            f"is backfilled at ratio {rule.ratio:g}"
        )
        rows: list[Row] = [("replacement_backfill", (r, c)) for c in rule.capabilities]
        path = ("replacement_rules", r)
        add("rule", label, "replacement_backfill", path, rows, _remover(path))
    for q in data.basing_limits:
        path = rule_path("basing_capacity", q)
        add(
            "rule",
            rule_label("basing_capacity", q),
            "basing_capacity",
            path,
            [("basing_capacity", q)],
            _remover(path),
        )
    if data.budget is not None:
        add(
            "rule",
            rule_label("budget", None),
            "budget",
            rule_path("budget", None),
            [("budget", None)],
            _remover(("budget",)),
        )
    for a, asset in study.assets.items():
        held = [h for h in data.holdings if h[0] == a and h in data.locked]
        if not held:
            continue
        if not asset.movable:
            add(
                "rule",
                f"every unit of {a} stays where it is (movable: false)",
                "locked_units",
                ("assets", a, "movable"),
                [("locked_units", h) for h in held],
                _unlock(a),
            )
            continue
        for h in held:
            path = rule_path("locked_units", h)
            add(
                "rule",
                rule_label("locked_units", h),
                "locked_units",
                path,
                [("locked_units", h)],
                _remover(path),
            )
    if data.max_turbulence is not None:
        add(
            "rule",
            rule_label("turbulence_cap", None),
            "turbulence_cap",
            rule_path("turbulence_cap", None),
            [("turbulence_cap", None)],
            _remover(("persistence",)),
        )
    return found


@dataclass
class _Outcome:
    status: str
    detail: str
    objective: float | None = None
    criteria: dict[str, float] = field(default_factory=dict)
    in_place: bool = False


def _outcome(solved: Solved) -> _Outcome:
    result = solved.result
    outcome = _Outcome(
        result.status.value,
        result.highs_status,
        result.objective if result.status.has_solution else None,
        in_place=solved.in_place,
    )
    # Criteria are read now: the kept model's parameters change with the next variant.
    outcome.criteria = solved.criteria()
    return outcome


def _failed(exc: Exception) -> _Outcome:
    text = str(exc).strip().splitlines()
    return _Outcome(SolveStatus.ERROR.value, f"{type(exc).__name__}: {text[0] if text else ''}")


def _round(x: float) -> float:
    value = round(x, _DIGITS)
    return 0.0 if value == 0 else value


def _difference(a: float | None, b: float | None) -> float:
    return NAN if a is None or b is None else _round(a - b)


def _row_duals(
    solved: Solved, resolver: Resolver, resolved: ResolvedStudy
) -> tuple[dict[Row, float], dict[Row, float], pd.DataFrame, float | None]:
    """Duals of the base model's rows: with every integer fixed at the base optimum, and
    in the LP relaxation."""
    kept, compiled, x = resolver.kept, solved.compiled, solved.result.col_values
    found = None if kept is None or compiled is None or x is None else kept.lp_duals(x)
    relaxed = None if kept is None else kept.lp_duals(None)
    if found is None or compiled is None or solved.result.row_values is None:
        return {}, {}, pd.DataFrame(columns=DUAL_COLUMNS), None
    duals, lp_objective = found
    relaxed_duals = relaxed[0] if relaxed is not None else [NAN] * len(duals)
    by_row: dict[Row, float] = {}
    by_row_relaxed: dict[Row, float] = {}
    records = []
    for i, (dual, activity) in enumerate(zip(duals, solved.result.row_values, strict=True)):
        family, idx = row_identity(compiled, i)
        by_row[family, idx] = float(dual) + 0.0  # + 0.0 turns HiGHS's -0.0 into 0.0
        by_row_relaxed[family, idx] = float(relaxed_duals[i]) + 0.0
        path = rule_path(family, idx)
        where = resolved.index.value(path) if path else None
        records.append(
            {
                "family": family,
                "index": index_label(idx),
                "rule": rule_label(family, idx),
                "key_path": format_path(path),
                "location": str(where) if where else "",
                "activity": float(activity),
                "dual": by_row[family, idx],
                "relaxation_dual": by_row_relaxed[family, idx],
            }
        )
    return by_row, by_row_relaxed, pd.DataFrame(records, columns=DUAL_COLUMNS), lp_objective


def _lp_dual(what: WhatIf, duals: dict[Row, float]) -> float:
    present = [duals[r] for r in what.rows if r in duals]
    return float(sum(present)) if present else NAN


def marginal_values(resolved: ResolvedStudy, options: SolverOptions) -> MarginalResult:
    """Solve the study, then every what-if of :func:`what_ifs`; one table row each.

    Columns: ``kind`` (unit, source, rule), ``item`` (readable), ``family`` (the
    constraint family the what-if acts on), ``key_path`` (the dotted input key),
    ``location`` (``file:line:col`` of that key or value), ``base_objective``,
    ``whatif_objective``, ``value`` (base - what-if: >= 0 when the extra unit helps
    or the rule costs; a lock's can be negative, see the module docstring), ``status`` and ``detail`` of the re-solve, ``in_place``
    (re-solved on the kept model without rebuilding), ``lp_dual`` and one
    ``delta_<criterion>`` per criterion (what-if minus base; ``cost``,
    ``turbulence``, ``shortfall``, ``shortfall.<theatre>``).

    ``lp_dual`` is the row dual of the LP with every integer column fixed at the base
    optimum, in HiGHS's sense: the objective's change per unit increase of the row's
    bound (so >= 0 on a binding floor, <= 0 on a binding cap, and minus the LP value of
    one more unit on an ``inventory`` row). A rule spanning several rows (a
    replacement rule over several capabilities, ``movable: false`` over several
    origins) gets the sum of their duals. It is NaN when the base has no solution,
    when that LP does not solve, or when the rule has no row: the model skips a row
    no posture could break (a personnel cap or basing capacity nothing allowed there
    counts against, a replacement rule on a theatre with no baseline or a zero ratio)
    and a source with no activation (none available, or beyond the deadline) has no
    availability row. Every decision variable is an integer, so with integers fixed
    only the shortfall columns are free: duals of hard rules are then 0 (degenerate,
    not a price) and the re-solve ``value`` is the number to read. ``relaxation_dual``
    is the same row's dual in the LP relaxation (integrality dropped): a local price
    of the rule in the continuous model, an indication rather than a MIP value.

    A what-if that is infeasible, stops without a plan, fails validation or fails to
    solve keeps its status (``error`` with the reason in ``detail`` for the latter
    two) and a NaN value; it never raises, except on an interrupt.
    """
    t0 = time.perf_counter()
    data = build_model_data(resolved.study)
    resolver = Resolver(options)
    base_solved = resolver.solve(data)
    base = _outcome(base_solved)
    duals, relaxed, dual_table, lp_objective = _row_duals(base_solved, resolver, resolved)
    t1 = time.perf_counter()

    changes = what_ifs(resolved, data)
    variants: list[ModelData | _Outcome] = []
    for what in changes:
        try:
            variants.append(edited_model_data(resolved, what.edit))
        except Exception as exc:  # an invalid what-if is reported in its row, not raised
            variants.append(_failed(exc))
    # Variants with the base's structure first: they all re-solve in place.
    key = structure_key(data)

    def rebuilds(i: int) -> bool:
        variant = variants[i]
        return not isinstance(variant, ModelData) or structure_key(variant) != key

    order = sorted(range(len(changes)), key=rebuilds)
    outcomes: dict[int, _Outcome] = {}
    for i in order:
        variant = variants[i]
        if isinstance(variant, _Outcome):
            outcomes[i] = variant
            continue
        try:
            outcomes[i] = _outcome(resolver.solve(variant))
        except SolveInterrupted:
            raise
        except Exception as exc:  # a failing re-solve is reported in its row, not raised
            outcomes[i] = _failed(exc)

    names = criterion_names(data)
    records = []
    for i, what in enumerate(changes):
        out = outcomes[i]
        record: dict[str, Any] = {
            "kind": what.kind,
            "item": what.item,
            "family": what.family,
            "key_path": format_path(what.path),
            "location": str(what.location) if what.location else "",
            "base_objective": NAN if base.objective is None else base.objective,
            "whatif_objective": NAN if out.objective is None else out.objective,
            "value": _difference(base.objective, out.objective),
            "status": out.status,
            "detail": out.detail,
            "in_place": out.in_place,
            "lp_dual": _lp_dual(what, duals),
            "relaxation_dual": _lp_dual(what, relaxed),
        }
        for name in names:
            record["delta_" + name] = _difference(out.criteria.get(name), base.criteria.get(name))
        records.append(record)
    table = pd.DataFrame(records, columns=BASE_COLUMNS + ["delta_" + n for n in names])
    table = table.sort_values(
        ["value", "kind", "item"], ascending=[False, True, True], na_position="last"
    ).reset_index(drop=True)
    return MarginalResult(
        status=base_solved.result.status,
        highs_status=base_solved.result.highs_status,
        objective=base.objective,
        criteria=base.criteria,
        marginal_values=table,
        row_duals=dual_table,
        lp_objective=lp_objective,
        rebuilds=resolver.rebuilds,
        updates=resolver.updates,
        seconds={"base": t1 - t0, "what_ifs": time.perf_counter() - t1},
    )
