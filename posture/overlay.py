"""Scenario overlays and ``--set`` overrides, merged onto the base study.

Merge rule: mappings merge key by key, recursively; scalars and lists replace.
Every value keeps the location of the layer that set it last, so an error in an
overridden value points at the overlay (or at the ``--set`` argument) that wrote it.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from posture.errors import Diagnostic, InputError, KeyPath, Location, did_you_mean
from posture.schema import STUDY_KEYS
from posture.yamlsafe import SourceMap, parse_yaml_text

SCENARIO_OWN_KEYS = frozenset({"description", "extends", "source"})


@dataclass
class SourceIndex:
    """Locations of values and keys in the merged study, across all files."""

    values: dict[KeyPath, Location] = field(default_factory=dict)
    keys: dict[KeyPath, Location] = field(default_factory=dict)
    fallback: Location | None = None

    def absorb(self, source: SourceMap, src_prefix: KeyPath = (), dst_prefix: KeyPath = ()) -> None:
        """Take the locations under ``src_prefix`` in one file, re-rooted at ``dst_prefix``."""
        n = len(src_prefix)
        for table, into in ((source.values, self.values), (source.keys, self.keys)):
            for path, loc in table.items():
                if path[:n] == src_prefix and (len(path) > n or dst_prefix):
                    into[dst_prefix + path[n:]] = loc

    def value(self, path: KeyPath) -> Location | None:
        """Where the value at ``path`` was written, or its nearest written ancestor."""
        for cut in range(len(path), -1, -1):
            loc = self.values.get(path[:cut])
            if loc is not None:
                return loc
        return self.fallback

    def key(self, path: KeyPath) -> Location | None:
        """Where the key of the entry at ``path`` was written, else :meth:`value`."""
        return self.keys.get(path) or self.value(path)


def merge_into(base: dict[str, Any], overlay: Mapping[str, Any]) -> None:
    """Merge ``overlay`` onto ``base`` in place (mappings recurse, the rest replaces)."""
    for key, value in overlay.items():
        current = base.get(key)
        if isinstance(current, dict) and isinstance(value, Mapping):
            merge_into(current, value)
        else:
            base[key] = copy.deepcopy(value)


def scenario_chain(
    name: str, scenarios: Mapping[str, Mapping[str, Any]], index: SourceIndex
) -> list[str]:
    """Scenario names in application order: each ``extends`` first, then the scenario."""
    order: list[str] = []
    errors: list[Diagnostic] = []

    def visit(current: str, trail: tuple[str, ...]) -> None:
        if current in trail:
            links = trail[trail.index(current) :]
            cycle = " -> ".join(
                [f"{n} ({index.value(('scenarios', n, 'extends'))})" for n in links] + [current]
            )
            errors.append(
                Diagnostic(
                    f"scenario 'extends' cycle: {cycle}",
                    index.value(("scenarios", current, "extends")),
                    ("scenarios", current, "extends"),
                )
            )
            return
        for i, parent in enumerate(scenarios[current].get("extends", [])):
            if parent not in scenarios:
                path: KeyPath = ("scenarios", current, "extends", i)
                errors.append(
                    Diagnostic(
                        f"unknown scenario '{parent}'",
                        index.value(path),
                        path,
                        hint=did_you_mean(str(parent), scenarios),
                    )
                )
            elif parent not in order:
                visit(parent, (*trail, current))
        if current not in order:
            order.append(current)

    visit(name, ())
    if errors:
        raise InputError(errors)
    return order


def check_scenario_keys(
    scenarios: Mapping[str, Mapping[str, Any]], index: SourceIndex
) -> list[Diagnostic]:
    """Unknown top-level keys in overlays, reported for every scenario, selected or not."""
    allowed = STUDY_KEYS | SCENARIO_OWN_KEYS
    problems = []
    for name, body in scenarios.items():
        for key in body:
            if key not in allowed:
                path: KeyPath = ("scenarios", name, key)
                problems.append(
                    Diagnostic(
                        "unknown key",
                        index.key(path),
                        path,
                        hint=did_you_mean(key, allowed),
                    )
                )
    return problems


def apply_scenarios(
    base: dict[str, Any],
    chain: Iterable[str],
    scenarios: Mapping[str, Mapping[str, Any]],
    index: SourceIndex,
) -> None:
    """Merge each scenario of ``chain`` onto ``base`` and re-root its locations."""
    for name in chain:
        body = {k: v for k, v in scenarios[name].items() if k not in SCENARIO_OWN_KEYS}
        merge_into(base, body)
        prefix: KeyPath = ("scenarios", name)
        for table in (index.values, index.keys):
            for path, loc in list(table.items()):
                if path[:2] == prefix and len(path) > 2 and path[2] not in SCENARIO_OWN_KEYS:
                    table[path[2:]] = loc


_SET_PREFIX = "value: "


def _as_set_value(d: Diagnostic, keys: KeyPath) -> Diagnostic:
    """A parse problem in a --set value, in the user's terms: their path, their column."""
    loc = d.location
    if loc is not None and loc.line == 1:
        loc = Location(loc.file, 1, max(1, loc.column - len(_SET_PREFIX)))
    elif loc is not None:
        loc = Location(loc.file, 1, 1)
    return Diagnostic(d.message, loc, keys + d.path[1:], d.severity)


def apply_sets(base: dict[str, Any], assignments: Iterable[str], index: SourceIndex) -> None:
    """Apply ``--set path=value`` overrides; values are read as YAML scalars or flow lists."""
    errors: list[Diagnostic] = []
    for number, text in enumerate(assignments, start=1):
        where = Location(f"--set #{number}", 1, 1)
        name, sep, raw = text.partition("=")
        keys = tuple(part.strip() for part in name.split("."))
        if not sep or not all(keys):
            errors.append(
                Diagnostic(
                    f"expected path=value, got {text!r}",
                    where,
                    hint="e.g. --set assets.thaad_battery.inventory.korea=0",
                )
            )
            continue
        try:
            value = parse_yaml_text(f"{_SET_PREFIX}{raw}\n", where.file).data.get("value")
        except InputError as exc:
            errors.extend(_as_set_value(d, keys) for d in exc.diagnostics)
            continue
        target: Any = base
        for depth, key in enumerate(keys[:-1]):
            nxt = target.get(key) if isinstance(target, dict) else None
            if nxt is None and isinstance(target, dict):
                nxt = target[key] = {}
                # A mapping the override creates is the override's doing: locate it there.
                index.values[keys[: depth + 1]] = index.keys[keys[: depth + 1]] = where
            if not isinstance(nxt, dict):
                errors.append(
                    Diagnostic("cannot set inside a non-mapping value", where, keys[: depth + 1])
                )
                break
            target = nxt
        else:
            target[keys[-1]] = value
            index.values[keys] = where
            index.keys[keys] = where
    if errors:
        raise InputError(errors)
