"""Postures as long table rows, shared by the frontier, alternatives and sweep tables."""

from __future__ import annotations

Decisions = dict[tuple[str, tuple[str, ...]], float]


def posture_rows(decisions: Decisions) -> list[dict[str, object]]:
    """One row per non-zero decision: placed units, reserves and activated sources.

    Columns: ``kind`` (placed, reserve, activated), ``name`` (asset or source),
    ``origin`` (empty for sources), ``theatre`` (``reserve`` for reserves), ``units``.
    """
    kinds = {"place": "placed", "reserve": "reserve", "activated": "activated"}
    rows = []
    for (variable, index), units in sorted(decisions.items()):
        if variable == "place":
            name, origin, theatre = index
        elif variable == "reserve":
            (name, origin), theatre = index, "reserve"
        else:
            (name, theatre), origin = index, ""
        rows.append(
            {
                "kind": kinds[variable],
                "name": name,
                "origin": origin,
                "theatre": theatre,
                "units": round(units),
            }
        )
    return rows
