"""Constraint rows described in the input's own terms.

One place maps a constraint family and index to the YAML key that states the rule
and to a sentence a planner reads, for the binding-rules table and for the
infeasibility report alike.
"""

from __future__ import annotations

from typing import Any

from posture.errors import KeyPath
from posture.overlay import SourceIndex

Index = Any


def _parts(index: Index) -> tuple[str, ...]:
    if index is None:
        return ()
    return tuple(index) if isinstance(index, tuple) else (str(index),)


def rule_path(family: str, index: Index) -> KeyPath:
    """The input key that states the rule behind one constraint row."""
    i = _parts(index)
    paths: dict[str, KeyPath] = {
        "inventory": ("assets", *i[:1], "inventory", *i[1:2]),
        "locked_units": ("assets", *i[:1], "locked", *i[1:2]),
        "coverage_floor": ("requirements", *i, "floor"),
        "coverage_target": ("requirements", *i, "target"),
        "replacement_backfill": ("replacement_rules", *i[:1]),
        "source_availability": ("replacement_sources", *i, "available"),
        "personnel_floor": ("personnel", *i, "floor"),
        "personnel_cap": ("personnel", *i, "cap"),
        "basing_capacity": ("basing", *i[:1], "capacity", *i[1:2]),
        "budget": ("budget", "limit_musd"),
        "turbulence_cap": ("persistence", "max_turbulence"),
        "units_added": ("assets", *i[:1], "inventory", *i[1:2]),
        "sources_added": ("replacement_sources", *i, "available"),
    }
    return paths.get(family, ())


def rule_key(family: str, index: Index, written: SourceIndex) -> KeyPath:
    """:func:`rule_path`, or the key the user actually wrote when that one is absent.

    Units of a ``movable: false`` asset are locked by ``assets.<a>.movable``, not by
    a ``locked.<o>`` entry: point there.
    """
    path = rule_path(family, index)
    if family == "locked_units" and path not in written.values:
        movable = ("assets", *_parts(index)[:1], "movable")
        if movable in written.values:
            return movable
    return path


def rule_label(family: str, index: Index) -> str:
    """A planner's sentence for one rule."""
    i = _parts(index)
    texts: dict[str, str] = {
        "inventory": "units of {0} at {1} are all placed or held in reserve",
        "locked_units": "locked units of {0} stay at {1}",
        "coverage_floor": "{0} {1} at least its hard floor",
        "coverage_target": "{0} {1} meets its target (else shortfall is priced)",
        "replacement_backfill": "rule {0}: {1} removed from the baseline is backfilled",
        "source_availability": "activations of {0} within its availability",
        "personnel_floor": "{0} personnel at least its floor",
        "personnel_cap": "{0} personnel at most its cap",
        "basing_capacity": "{0} {1} basing within capacity",
        "budget": "move and activation costs within the budget",
        "turbulence_cap": "turbulence within the persistence cap",
        "units_added": "add units of {0} at {1}",
        "sources_added": "add units of replacement source {0}",
    }
    template = texts.get(family, family + " {0}")
    try:
        return template.format(*i)
    except IndexError:
        return f"{family} {'/'.join(i)}"


def index_label(index: Index) -> str:
    """An index as one readable cell: ``korea/air_missile_defence``."""
    return "/".join(_parts(index))
