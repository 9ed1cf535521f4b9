"""OR-Library set-covering instances written as posture studies.

One theatre; each row is a capability with a hard floor of 1; each column is an
asset type with one unit in reserve whose move cost is the column's cost. The
cheapest posture meeting every floor is then the cheapest cover.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

ORLIB = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "orlib"
NOTE = "OR-Library (Beasley) set-covering instance; see shared/benchmarks/orlib/README.md."


def read_scp(path: Path) -> tuple[list[int], list[list[int]]]:
    """Column costs and, per row, the 0-based columns covering it."""
    numbers = [int(x) for x in path.read_text().split()]
    m, n = numbers[0], numbers[1]
    costs = numbers[2 : 2 + n]
    pos, rows = 2 + n, []
    for _ in range(m):
        k = numbers[pos]
        rows.append([c - 1 for c in numbers[pos + 1 : pos + 1 + k]])
        pos += 1 + k
    return costs, rows


def scp_study(path: Path) -> dict[str, Any]:
    """The instance as a posture study dict (hard floors, cost objective)."""
    costs, rows = read_scp(path)
    covers: list[dict[str, float]] = [{} for _ in costs]
    for r, cols in enumerate(rows):
        for c in cols:
            covers[c][f"row{r + 1}"] = 1.0
    return {
        "study": {"name": f"OR-Library {path.stem}"},
        "theatres": {"area": {"name": "Covered area", "priority": 1.0, "source": NOTE}},
        "origins": {"depot": {"name": "Depot (reserve)"}},
        "capabilities": {
            f"row{r + 1}": {"name": f"Row {r + 1}", "unit": "cover"} for r in range(len(rows))
        },
        "assets": {
            f"col{j + 1}": {
                "name": f"Column {j + 1}",
                "category": "enabler",
                "unit": "launcher",
                "inventory": {"depot": 1},
                "contributes": covers[j],
                "personnel_per_unit": 0.0,
                "move_cost_musd": float(cost),
                "turbulence_weight": 0.0,
                "source": NOTE,
            }
            for j, cost in enumerate(costs)
        },
        "requirements": {
            "area": {
                f"row{r + 1}": {"floor": 1.0, "target": 0.0, "weight": 0.0, "source": NOTE}
                for r in range(len(rows))
            }
        },
        "objective": {"shortfall": 0.0, "cost": 1.0, "turbulence": 0.0},
        "solver": {"time_limit_s": 300.0, "mip_rel_gap": 0.0, "threads": 1, "seed": 0},
    }
