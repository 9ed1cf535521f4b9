"""Result tables (pandas) from an accepted solution, in the input's own names.

Stable table names and columns, rows in a fixed order, so report writers can rely
on them and identical runs give identical tables.
"""

from __future__ import annotations

from collections import defaultdict

import pandas as pd

from posture.data import ModelData
from posture.extract import Solution
from posture.overlay import SourceIndex
from posture.rules import index_label, rule_key, rule_label
from posture.schema import Study

RESERVE = "reserve"
TABLE_NAMES = (
    "assignments",
    "moves",
    "coverage",
    "replacements",
    "personnel",
    "cost_breakdown",
    "binding_rules",
)
_TOL = 1e-6


def _r(x: float) -> float:
    """Round away solver noise (1e-9 residues, -0.0) so tables read cleanly and stably."""
    value = round(x, 6)
    return 0.0 if value == 0 else value


def assignments_table(study: Study, data: ModelData, sol: Solution) -> pd.DataFrame:
    rows = []
    for a, o in data.holdings:
        asset = study.assets[a]
        h = data.home[o]
        # The home theatre is listed even where no unit may stay (destinations exclude
        # it), so the baseline that left is visible.
        places = [
            (t, sol.value("place", (a, o, t)))
            for t in data.theatres
            if (a, o, t) in data.capability_of or t == h
        ]
        places.append((RESERVE, sol.value("reserve", (a, o))))
        for where, units in places:
            baseline = data.inventory[a, o] if where == (h or RESERVE) else 0
            if units or baseline:
                rows.append(
                    {
                        "asset": a,
                        "asset_name": asset.name,
                        "unit": asset.unit,
                        "origin": o,
                        "location": where,
                        "units": int(units),
                        "baseline_units": baseline,
                        "change": int(units) - baseline,
                        "personnel": _r(units * asset.personnel_per_unit),
                    }
                )
    return pd.DataFrame(
        rows,
        columns=[
            "asset",
            "asset_name",
            "unit",
            "origin",
            "location",
            "units",
            "baseline_units",
            "change",
            "personnel",
        ],
    )


def moves_table(study: Study, data: ModelData, sol: Solution) -> pd.DataFrame:
    rows = []
    for a, o in data.holdings:
        h = data.home[o]
        start = h or RESERVE
        for t in data.theatres:
            units = sol.value("place", (a, o, t)) if (a, o, t) in data.capability_of else 0
            if units and t != h:
                rows.append((a, o, start, t, int(units), _r(units * data.move_cost[a, o, t])))
        withdrawn = sol.value("reserve", (a, o))
        if h is not None and withdrawn:
            rows.append((a, o, h, RESERVE, int(withdrawn), 0.0))
    df = pd.DataFrame(rows, columns=["asset", "origin", "from", "to", "units", "cost_musd"])
    df.insert(1, "unit", [study.assets[a].unit for a in df["asset"]])
    return df


def _provided(
    data: ModelData, sol: Solution
) -> tuple[dict[tuple[str, str], float], dict[tuple[str, str], float]]:
    assets: dict[tuple[str, str], float] = defaultdict(float)
    sources: dict[tuple[str, str], float] = defaultdict(float)
    for p, caps in data.capability_of.items():
        units = sol.value("place", p)
        for c, k in caps.items():
            assets[p[2], c] += k * units
    for s, t in data.activations:
        units = sol.value("activated", (s, t))
        for c, k in data.source_capability[s].items():
            sources[t, c] += k * units
    return assets, sources


def coverage_table(study: Study, data: ModelData, sol: Solution) -> pd.DataFrame:
    assets, sources = _provided(data, sol)
    rows = []
    for t, c in data.requirements:
        provided = assets[t, c] + sources[t, c]
        target = data.target[t, c]
        shortfall = max(0.0, target - provided)
        rows.append(
            {
                "theatre": t,
                "capability": c,
                "unit": study.capabilities[c].unit,
                "floor": data.floor[t, c],
                "target": target,
                "baseline": _r(data.baseline.get((t, c), 0.0)),
                "from_assets": _r(assets[t, c]),
                "from_replacements": _r(sources[t, c]),
                "provided": _r(provided),
                "shortfall": _r(shortfall),
                "percent_of_target": _r(100.0 * provided / target) if target else None,
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "theatre",
            "capability",
            "unit",
            "floor",
            "target",
            "baseline",
            "from_assets",
            "from_replacements",
            "provided",
            "shortfall",
            "percent_of_target",
        ],
    )


def replacements_table(study: Study, data: ModelData, sol: Solution) -> pd.DataFrame:
    rows = []
    for s, t in data.activations:
        units = sol.value("activated", (s, t))
        if units:
            src = study.replacement_sources[s]
            rows.append(
                {
                    "source": s,
                    "source_name": src.name,
                    "provider": src.provider,
                    "theatre": t,
                    "units": int(units),
                    "lead_time_days": src.lead_time_days,
                    "cost_musd": _r(units * src.activation_cost_musd),
                    "capability": "; ".join(
                        f"{c} {units * k:g}" for c, k in src.contributes.items() if k
                    ),
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            "source",
            "source_name",
            "provider",
            "theatre",
            "units",
            "lead_time_days",
            "cost_musd",
            "capability",
        ],
    )


def personnel_table(study: Study, data: ModelData, sol: Solution) -> pd.DataFrame:
    people: dict[str, float] = defaultdict(float)
    baseline: dict[str, float] = defaultdict(float)
    for p in data.capability_of:
        people[p[2]] += data.personnel[p[0]] * sol.value("place", p)
    for (a, o), units in data.inventory.items():
        h = data.home[o]
        if h is not None:
            baseline[h] += data.personnel[a] * units
    for s, t in data.activations:
        people[t] += data.source_personnel[s] * sol.value("activated", (s, t))
    rows = [
        {
            "theatre": t,
            "baseline": _r(baseline[t]),
            "personnel": _r(people[t]),
            "change": _r(people[t] - baseline[t]),
            "floor": data.personnel_floor.get(t),
            "cap": data.personnel_cap.get(t),
        }
        for t in data.theatres
    ]
    return pd.DataFrame(
        rows, columns=["theatre", "baseline", "personnel", "change", "floor", "cap"]
    )


def cost_breakdown_table(data: ModelData, sol: Solution, objective: float) -> pd.DataFrame:
    shortfall = sum(data.shortfall_weight[q] * sol.value("shortfall", q) for q in data.requirements)
    cost = sum(data.move_cost[p] * sol.value("place", p) for p in data.placements) + sum(
        data.activation_cost[s] * sol.value("activated", (s, t)) for s, t in data.activations
    )
    moved = 0.0
    for (a, o), units in data.inventory.items():
        h = data.home[o]
        if h is None:
            out = sum(sol.value("place", (a, o, t)) for t in data.theatres)
        else:
            out = units - sol.value("place", (a, o, h))
        moved += data.turbulence_weight[a] * out
    ws, wc, wt = data.weights
    rows = [
        (
            "weighted_shortfall",
            "priority x weight x shortfall",
            _r(shortfall),
            ws,
            _r(ws * shortfall),
        ),
        ("total_cost", "MUSD of moves and activations", _r(cost), wc, _r(wc * cost)),
        ("turbulence", "weighted units moved", _r(moved), wt, _r(wt * moved)),
        ("total", "objective", None, None, _r(objective)),
    ]
    return pd.DataFrame(rows, columns=["term", "measure", "value", "weight", "weighted"])


def binding_rules_table(sol: Solution, index: SourceIndex) -> pd.DataFrame:
    rows = []
    for row in sol.rows:
        if row.lower is not None and row.upper is not None and row.lower == row.upper:
            continue  # equalities (inventory) always hold with no slack: not informative
        for bound, side in ((row.lower, "lower"), (row.upper, "upper")):
            if bound is not None and abs(row.activity - bound) <= _TOL * max(1.0, abs(bound)):
                where = index.value(rule_key(row.family, row.index, index))
                rows.append(
                    {
                        "family": row.family,
                        "index": index_label(row.index),
                        "rule": rule_label(row.family, row.index),
                        "bound": side,
                        "value": _r(bound),
                        "location": str(where) if where else "",
                    }
                )
    return pd.DataFrame(rows, columns=["family", "index", "rule", "bound", "value", "location"])


def result_tables(
    study: Study, data: ModelData, sol: Solution, objective: float, index: SourceIndex
) -> dict[str, pd.DataFrame]:
    """All result tables, by their stable names (``TABLE_NAMES``)."""
    return {
        "assignments": assignments_table(study, data, sol),
        "moves": moves_table(study, data, sol),
        "coverage": coverage_table(study, data, sol),
        "replacements": replacements_table(study, data, sol),
        "personnel": personnel_table(study, data, sol),
        "cost_breakdown": cost_breakdown_table(data, sol, objective),
        "binding_rules": binding_rules_table(sol, index),
    }
