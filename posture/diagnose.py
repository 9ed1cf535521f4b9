"""Infeasibility explained in the input's terms.

Two layers: a cheap pre-solve check that finds floors no posture could ever meet
(all inventory and every replacement source sent there still falls short), and an
elastic re-solve that relaxes the hard policy rules with penalised violations and
reports which rules cannot hold together, and by how much.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import pandas as pd

from posture.data import ModelData
from posture.errors import Diagnostic
from posture.extract import Solution
from posture.overlay import SourceIndex
from posture.rules import index_label, rule_key, rule_label, rule_path
from posture.schema import Study

VIOLATION_SUFFIX = "_violation"
_TOL = 1e-6


@dataclass(frozen=True)
class Conflict:
    """One rule that cannot be met, with the amount it is missed by."""

    family: str
    index: object
    amount: float
    unit: str
    diagnostic: Diagnostic


def impossible_rules(data: ModelData, index: SourceIndex, units: dict[str, str]) -> list[Conflict]:
    """Rules no posture could meet, found without solving (RELIABILITY #30).

    A floor above what all inventory and every replacement source could give, a
    personnel floor above all the people allowed there, and a backfill that even
    keeping every unit and activating every eligible source cannot reach.
    """
    most: dict[tuple[str, str], float] = defaultdict(float)
    contributors: dict[tuple[str, str], set[str]] = defaultdict(set)
    for (a, o, t), caps in data.capability_of.items():
        for c, k in caps.items():
            most[t, c] += k * data.inventory[a, o]
            contributors[t, c].add(a)
    for s, t in data.activations:
        for c, k in data.source_capability[s].items():
            most[t, c] += k * data.available[s]
            if k:
                contributors[t, c].add(s)
    found: list[Conflict] = []
    for q in data.requirements:
        floor = data.floor[q]
        if floor > most[q] + _TOL:
            t, c = q
            names = ", ".join(sorted(contributors[q])) or "nothing"
            found.append(
                Conflict(
                    "coverage_floor",
                    q,
                    floor - most[q],
                    units.get(c, ""),
                    Diagnostic(
                        f"floor {floor:g} {units.get(c, '')} of {c} in {t} cannot be met: every unit "
                        f"allowed there ({names}) gives at most {most[q]:g}",
                        index.value(rule_path("coverage_floor", q)),
                        rule_path("coverage_floor", q),
                        hint="lower the floor, add inventory or a replacement source, or widen destinations",
                    ),
                )
            )
    people: dict[str, float] = defaultdict(float)
    for a, o, t in data.placements:
        people[t] += data.personnel[a] * data.inventory[a, o]
    for s, t in data.activations:
        people[t] += data.source_personnel[s] * data.available[s]
    for t, floor in data.personnel_floor.items():
        if floor > people[t] + _TOL:
            path = rule_path("personnel_floor", t)
            found.append(
                Conflict(
                    "personnel_floor",
                    t,
                    floor - people[t],
                    "people",
                    Diagnostic(
                        f"personnel floor {floor} in {t} cannot be met: all units allowed there hold at most "
                        f"{people[t]:g} people",
                        index.value(path),
                        path,
                        hint="lower the floor or allow more units to deploy there",
                    ),
                )
            )
    for r, c in data.backfills:
        t, ratio = data.rule_theatre[r], data.rule_ratio[r]
        need = ratio * data.baseline.get((t, c), 0.0)
        kept = sum(
            caps.get(c, 0.0) * data.inventory[a, o]
            for (a, o, tt), caps in data.capability_of.items()
            if tt == t
        )
        replaced = sum(
            data.source_capability[s].get(c, 0.0) * data.available[s]
            for s, tt in data.activations
            if tt == t and data.lead_time[s] <= data.rule_lead_time[r]
        )
        if need > ratio * kept + replaced + _TOL:
            path = rule_path("replacement_backfill", (r, c))
            found.append(
                Conflict(
                    "replacement_backfill",
                    (r, c),
                    need - ratio * kept - replaced,
                    units.get(c, ""),
                    Diagnostic(
                        f"replacement rule {r} cannot hold for {c}: it needs {need:g} {units.get(c, '')} "
                        f"but keeping every unit and activating every eligible source gives at most "
                        f"{ratio * kept + replaced:g}",
                        index.value(path),
                        path,
                        hint="allow the units to stay, add a replacement source, or lower the ratio",
                    ),
                )
            )
    return found


def _unit_of(family: str, idx: object, units: dict[str, str]) -> str:
    if family in ("coverage_floor", "replacement_backfill") and isinstance(idx, tuple):
        return units.get(str(idx[-1]), "capability units")
    return {
        "personnel_floor": "people",
        "personnel_cap": "people",
        "budget": "MUSD",
        "locked_units": "units",
        "basing_capacity": "basing slots",
    }.get(family, "")


def explain_elastic(sol: Solution, index: SourceIndex, units: dict[str, str]) -> list[Conflict]:
    """The violated rules of an elastic solution, largest relative violation first."""
    conflicts = []
    for name, values in sol.values.items():
        if not name.endswith(VIOLATION_SUFFIX):
            continue
        family = name.removesuffix(VIOLATION_SUFFIX)
        for idx, amount in values.items():
            if amount <= _TOL:
                continue
            unit = _unit_of(family, idx, units)
            path = rule_key(family, idx, index)
            verb = (
                "over" if family in ("personnel_cap", "basing_capacity", "budget") else "short by"
            )
            conflicts.append(
                Conflict(
                    family,
                    idx,
                    amount,
                    unit,
                    Diagnostic(
                        f"cannot hold: {rule_label(family, idx)} ({verb} {amount:.6g} {unit})",
                        index.value(path),
                        path,
                    ),
                )
            )
    conflicts.sort(key=lambda c: (c.family, index_label(c.index)))
    return conflicts


def iis_conflicts(
    members: list[tuple[str, object, float | None]], index: SourceIndex, units: dict[str, str]
) -> list[Conflict]:
    """An IIS in the input's terms; each member with the amount that, relaxed alone,
    restores feasibility (None for physical limits such as inventory, which stay hard)."""
    found = []
    for family, idx, amount in members:
        path = rule_key(family, idx, index)
        unit = _unit_of(family, idx, units)
        if amount is None:
            fix = "a physical limit: add units or sources to relax it"
        else:
            verb = (
                "raise it"
                if family in ("personnel_cap", "basing_capacity", "budget")
                else "lower it"
            )
            fix = f"{verb} by {amount:.6g} {unit} and the rest can hold"
        found.append(
            Conflict(
                family,
                idx,
                amount if amount is not None else float("nan"),
                unit,
                Diagnostic(
                    f"conflicting rule: {rule_label(family, idx)} ({fix})", index.value(path), path
                ),
            )
        )
    return found


def supply_conflicts(
    added: dict[tuple[str, object], int], index: SourceIndex, study: Study
) -> list[Conflict]:
    """The verified "or add units" answer: one line per holding or source to grow."""
    found = []
    for (family, idx), n in sorted(added.items(), key=lambda kv: (kv[0][0], index_label(kv[0][1]))):
        path = rule_path(family, idx)
        if family == "units_added":
            a, o = (str(part) for part in idx)  # type: ignore[attr-defined]
            asset = study.assets[a]
            have = asset.inventory[o]
            what = f"{n} more {asset.unit}{'s' if n != 1 else ''} of {asset.name} at {o}"
        else:
            source = study.replacement_sources[str(idx)]
            have = source.available
            what = f"{n} more {source.name} (replacement source {idx})"
        found.append(
            Conflict(
                family,
                idx,
                float(n),
                "units",
                Diagnostic(
                    f"or, keeping every rule, add {what}: {have} -> {have + n}",
                    index.value(path),
                    path,
                    hint="the fewest units that make the study feasible, checked by solving it with them",
                ),
            )
        )
    return found


def conflicts_table(conflicts: list[Conflict]) -> pd.DataFrame:
    """The elastic report as a table for the diagnostic run folder."""
    rows = [
        {
            "family": c.family,
            "index": index_label(c.index),
            "rule": rule_label(c.family, c.index),
            "violation": round(c.amount, 6),
            "unit": c.unit,
            "location": str(c.diagnostic.location) if c.diagnostic.location else "",
        }
        for c in conflicts
    ]
    return pd.DataFrame(rows, columns=["family", "index", "rule", "violation", "unit", "location"])
