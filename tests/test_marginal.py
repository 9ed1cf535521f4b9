"""Marginal values against exhaustive enumeration of the changed studies.

Each row of :func:`posture.marginal.marginal_values` is a what-if on the study
itself. Here every what-if is rebuilt independently from the row's key path (deep
copy + edit of the study dict) and its optimum enumerated by ``tests/bruteforce.py``
(no model code): the row's what-if objective must equal it, both infeasible counting
as agreement. A hand-made study checks values and the sign of the LP duals by hand.
"""

from __future__ import annotations

import copy
import math
import random
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from bruteforce import brute_force, random_study, write_yaml

import posture
import posture.marginal
from posture.marginal import marginal_values
from posture.resolve import Resolver
from posture.schema import SolverOptions
from posture.solver import SolveStatus

OPTIONS = SolverOptions(mip_rel_gap=0.0)
SEEDS = range(30)
NOTE = "Hand-made test study (illustrative)."


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-7, abs_tol=1e-6)


def _changed(study: dict[str, Any], row: pd.Series) -> dict[str, Any]:
    """The study a row's what-if describes, rebuilt from its key path alone."""
    doc = copy.deepcopy(study)
    *parents, last = str(row["key_path"]).split(".")  # ids never hold a dot
    node: Any = doc
    for part in parents:
        node = node[part]
    if row["kind"] in ("unit", "source"):
        node[last] += 1
    elif row["family"] == "coverage_floor":
        node[last] = 0.0
    elif last == "movable":
        node["movable"] = True
        node.pop("locked", None)
    elif row["family"] == "budget":
        del doc["budget"]
    elif row["family"] == "turbulence_cap":
        del doc["persistence"]
    else:
        del node[last]
    return doc


def _expected_paths(study: dict[str, Any]) -> set[str]:
    """Every what-if the table should hold, listed from the study dict."""
    paths = set()
    for a, spec in study["assets"].items():
        held = [o for o, n in spec["inventory"].items() if n > 0]
        paths |= {f"assets.{a}.inventory.{o}" for o in held}
        if held and spec.get("movable", True) is False:
            paths.add(f"assets.{a}.movable")
        elif spec.get("movable", True):
            locks = spec.get("locked", {})
            paths |= {f"assets.{a}.locked.{o}" for o in held if locks.get(o, 0) > 0}
    paths |= {f"replacement_sources.{s}.available" for s in study.get("replacement_sources", {})}
    for t, reqs in study.get("requirements", {}).items():
        paths |= {f"requirements.{t}.{c}.floor" for c, r in reqs.items() if r.get("floor", 0) > 0}
    for t, lim in study.get("personnel", {}).items():
        paths |= {f"personnel.{t}.{k}" for k in ("floor", "cap") if lim.get(k) is not None}
    paths |= {f"replacement_rules.{r}" for r in study.get("replacement_rules", {})}
    for t, b in study.get("basing", {}).items():
        paths |= {f"basing.{t}.capacity.{k}" for k in b["capacity"]}
    if "budget" in study:
        paths.add("budget.limit_musd")
    if "persistence" in study:
        paths.add("persistence.max_turbulence")
    return paths


def _check_against_enumeration(study: dict[str, Any], table: pd.DataFrame, label: str) -> None:
    """Every row's what-if objective is the enumerated optimum of its changed study."""
    assert set(table["key_path"]) == _expected_paths(study), label
    assert len(table) == len(set(table["key_path"])), label
    weights = study["objective"]
    for row in table.to_dict("records"):
        truth = brute_force(_changed(study, pd.Series(row)))
        if not math.isnan(row["value"]) and not math.isnan(row["delta_cost"]):
            # The criterion deltas add up to the objective's change, theatre by theatre.
            change = sum(
                weights[k] * row["delta_" + k] for k in ("shortfall", "cost", "turbulence")
            )
            assert _close(change, -row["value"]), label
            theatres = sum(row["delta_shortfall." + t] for t in study["theatres"])
            assert _close(theatres, row["delta_shortfall"]), label
        where = f"{label}: {row['kind']} {row['key_path']} ({row['status']}, {row['detail']})"
        if truth is None:
            assert row["status"] == SolveStatus.INFEASIBLE.value, where
            assert math.isnan(row["whatif_objective"]) and math.isnan(row["value"]), where
        else:
            assert row["status"] == SolveStatus.OPTIMAL.value, where
            assert _close(row["whatif_objective"], truth), f"{where}: {truth}"
            if math.isnan(row["base_objective"]):
                assert math.isnan(row["value"]), where
            else:
                assert _close(row["value"], row["base_objective"] - truth), where


def _sorted_by_value(table: pd.DataFrame) -> bool:
    values = [v for v in table["value"] if not math.isnan(v)]
    tail = table["value"].iloc[len(values) :]
    return values == sorted(values, reverse=True) and bool(tail.isna().all())


def hand_study() -> dict[str, Any]:
    """Korea and the Middle East, with a coverage floor, a personnel floor and a
    replacement rule that all bind (worked by hand in :func:`test_hand_made_study`)."""
    asset = {"category": "air_defence_battery", "unit": "battery"}
    return {
        "study": {"name": "Hand-made marginal values study"},
        "theatres": {
            "korea": {"name": "Korea", "priority": 1.0, "source": NOTE},
            "middle_east": {"name": "Middle East", "priority": 1.0, "source": NOTE},
        },
        "origins": {"korea": {"name": "Korea", "theatre": "korea"}, "conus": {"name": "CONUS"}},
        "capabilities": {"amd": {"name": "Air and missile defence", "unit": "battery"}},
        "assets": {
            "patriot": {
                **asset,
                "name": "Patriot",
                "inventory": {"korea": 4},
                "contributes": {"amd": 1.0},
                "personnel_per_unit": 100.0,
                "move_cost_musd": 1.0,
                "source": NOTE,
            },
            "thaad": {
                **asset,
                "name": "THAAD",
                "inventory": {"conus": 1},
                "contributes": {"amd": 1.0},
                "personnel_per_unit": 0.0,
                "move_cost_musd": 30.0,
                "source": NOTE,
            },
        },
        "requirements": {
            "korea": {"amd": {"floor": 0.0, "target": 4.0, "weight": 1.0, "source": NOTE}},
            "middle_east": {"amd": {"floor": 2.0, "target": 4.0, "weight": 2.0, "source": NOTE}},
        },
        "replacement_sources": {
            "cheongung": {
                "name": "Cheongung-II",
                "provider": "rok",
                "available": 2,
                "theatres": ["korea"],
                "contributes": {"amd": 1.0},
                "activation_cost_musd": 12.0,
                "lead_time_days": 30.0,
                "personnel_per_unit": 0.0,
                "source": NOTE,
            }
        },
        "replacement_rules": {
            "korea_backfill": {
                "theatre": "korea",
                "capabilities": ["amd"],
                "ratio": 1.0,
                "max_lead_time_days": 60.0,
                "source": NOTE,
            }
        },
        "personnel": {"korea": {"floor": 300, "source": NOTE}},
        "objective": {"shortfall": 10.0, "cost": 1.0, "turbulence": 0.0},
    }


def _run(study: dict[str, Any], folder: Path) -> posture.marginal.MarginalResult:
    return marginal_values(posture.load(write_yaml(study, folder / "study.yaml")), OPTIONS)


def _row(table: pd.DataFrame, key_path: str) -> dict[str, Any]:
    (row,) = table[table["key_path"] == key_path].to_dict("records")
    return {str(k): v for k, v in row.items()}


def test_hand_made_study(tmp_path: Path) -> None:
    """Worked by hand. A Korea shortfall costs 10 a unit, a Middle East one 20 (weight 2).
    k Patriots leave Korea for the Middle East (1 MUSD each); the backfill rule needs
    z >= k Cheongung-II (12 MUSD each, 2 available); Korea's personnel floor (300 people,
    100 a battery) keeps k <= 1; the Middle East floor of 2 then needs the THAAD from
    CONUS (30 MUSD).

    Base: k = 1, z = 1, THAAD to the Middle East. Korea 3 + 1 = 4 (no shortfall), Middle
    East 2 (short 2: 40); cost 1 + 12 + 30 = 43. Objective 83.

    Without the Middle East floor the THAAD stays home: the Middle East is short 3 (60),
    cost 13, objective 73: the floor costs 10, all of it in Middle East shortfall
    (+2 weighted, x 10 = +20) traded for cost (-30). Its LP dual, with every integer
    fixed, is 0: the floor row holds only integer columns, so fixing them leaves nothing
    for the floor to price (degenerate); the free shortfall columns sit in the target
    rows, whose dual is the shortfall price 10 x 1 x 2 = 20 > 0 (raising the Middle East
    target by one costs 20 more).

    Without the personnel floor: k = 2, z = 2, THAAD home: Middle East short 2 (40),
    cost 2 + 24 = 26, objective 66: price 17. Without the backfill rule: k = 1, z = 0,
    THAAD to the Middle East: Korea short 1 (10), Middle East 40, cost 31: 81, price 2.
    """
    study = hand_study()
    result = _run(study, tmp_path)
    table = result.marginal_values
    assert result.status is SolveStatus.OPTIMAL and result.objective == pytest.approx(83.0)
    assert result.lp_objective == pytest.approx(83.0)

    floor = _row(table, "requirements.middle_east.amd.floor")
    assert floor["kind"] == "rule" and floor["family"] == "coverage_floor"
    assert floor["whatif_objective"] == pytest.approx(73.0)
    assert floor["value"] == pytest.approx(10.0)
    assert floor["delta_shortfall.middle_east"] == pytest.approx(2.0)
    assert floor["delta_cost"] == pytest.approx(-30.0)
    assert floor["delta_shortfall.korea"] == pytest.approx(0.0)
    assert floor["lp_dual"] == 0.0
    assert floor["location"].endswith(_location(tmp_path, "floor: 2.0"))
    duals = result.row_duals.set_index(["family", "index"])["dual"]
    assert duals["coverage_target", "middle_east/amd"] == pytest.approx(20.0)
    assert duals["coverage_floor", "middle_east/amd"] == 0.0

    assert _row(table, "personnel.korea.floor")["value"] == pytest.approx(17.0)
    assert _row(table, "replacement_rules.korea_backfill")["value"] == pytest.approx(2.0)
    # Sorted by value, ties by kind then item: the personnel floor and one more Patriot
    # in Korea are both worth 17 (the extra battery lets a second one leave).
    assert _sorted_by_value(table)
    assert list(table["key_path"][:2]) == [
        "personnel.korea.floor",
        "assets.patriot.inventory.korea",
    ]
    assert list(table.columns) == [
        *posture.marginal.BASE_COLUMNS,
        "delta_shortfall",
        "delta_cost",
        "delta_turbulence",
        "delta_shortfall.korea",
        "delta_shortfall.middle_east",
    ]
    _check_against_enumeration(study, table, "hand-made")


def _location(folder: Path, text: str) -> str:
    """``study.yaml:line:col`` of the value in the first ``key: value`` matching ``text``."""
    lines = (folder / "study.yaml").read_text().splitlines()
    for n, line in enumerate(lines, start=1):
        if text in line:
            column = line.index(text) + len(text.split(":")[0]) + 3
            return f"study.yaml:{n}:{column}"
    raise AssertionError(text)


def test_locks_caps_budget_and_an_infeasible_what_if(tmp_path: Path) -> None:
    """Every other rule family; one more locked Patriot breaks Korea's personnel cap."""
    study = hand_study()
    study["assets"]["patriot"]["movable"] = False
    study["assets"]["thaad"]["locked"] = {"conus": 1}
    study["personnel"]["korea"]["cap"] = 400
    study["basing"] = {"middle_east": {"capacity": {"pad": 3.0}, "source": NOTE}}
    study["assets"]["thaad"]["basing"] = {"pad": 1.0}
    study["budget"] = {"limit_musd": 20.0, "source": NOTE}
    study["requirements"]["middle_east"]["amd"]["floor"] = 0.0
    result = _run(study, tmp_path)
    table = result.marginal_values
    assert result.status is SolveStatus.OPTIMAL
    _check_against_enumeration(study, table, "locks")
    more = _row(table, "assets.patriot.inventory.korea")
    assert more["status"] == "infeasible" and math.isnan(more["value"])
    assert math.isnan(more["delta_cost"])
    assert _sorted_by_value(table) and table["status"].iloc[-1] == "infeasible"
    assert not math.isnan(_row(table, "assets.patriot.movable")["lp_dual"])  # its lock row


def test_persistence_cap(tmp_path: Path) -> None:
    """The hand-made study without its Middle East floor, frozen by a persistence cap of
    0: nothing moves, the Middle East is short 4 (80). Without the cap: one Patriot
    leaves with one Cheongung-II behind it (73, as in the hand-made study): price 7.
    bruteforce.py has no persistence cap, so a plain solve is the reference here."""
    study = hand_study()
    study["requirements"]["middle_east"]["amd"]["floor"] = 0.0
    study["persistence"] = {"max_turbulence": 0.0, "source": NOTE}
    result = _run(study, tmp_path)
    assert result.objective == pytest.approx(80.0)
    cap = _row(result.marginal_values, "persistence.max_turbulence")
    assert cap["value"] == pytest.approx(7.0) and cap["lp_dual"] == 0.0
    free = _changed(study, pd.Series(cap))
    assert "persistence" not in free
    plain = posture.solve(posture.load(write_yaml(free, tmp_path / "free.yaml")))
    assert plain.objective == pytest.approx(cap["whatif_objective"])


def test_a_lock_can_have_a_negative_price(tmp_path: Path) -> None:
    """Patriots may go nowhere (``destinations: []``) but the locked ones stay home: the
    lock is what keeps Korea open to them. Unlocked, all four sit in reserve and Korea
    is short 4 (40 more; a Cheongung-II at 12 saves only 10): price 80 - 120 = -40."""
    study = hand_study()
    study["assets"]["patriot"] |= {"destinations": [], "locked": {"korea": 4}}
    study["requirements"]["middle_east"]["amd"]["floor"] = 0.0
    del study["replacement_rules"], study["personnel"]
    table = _run(study, tmp_path).marginal_values
    lock = _row(table, "assets.patriot.locked.korea")
    assert lock["base_objective"] == pytest.approx(80.0)
    assert lock["value"] == pytest.approx(-40.0)
    _check_against_enumeration(study, table, "negative lock")


def test_a_failing_re_solve_is_a_row_not_an_exception(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = Resolver.solve
    calls = {"n": 0}

    def flaky(self: Any, data: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 3:  # the base solves; one what-if blows up
            raise RuntimeError("simulated solver failure")
        return real(self, data)

    monkeypatch.setattr(Resolver, "solve", flaky)
    table = _run(hand_study(), tmp_path).marginal_values
    failed = table[table["status"] == "error"]
    assert len(failed) == 1
    assert failed["detail"].iloc[0] == "RuntimeError: simulated solver failure"
    assert failed["value"].isna().all() and _sorted_by_value(table)


FEASIBLE_SEEDS: list[int] = []


@pytest.mark.parametrize("seed", SEEDS)
def test_random_studies_match_enumeration(seed: int, tmp_path: Path) -> None:
    """Infeasible studies too: there the what-if objectives (a rule removed may restore
    feasibility) are still compared; only the values are NaN."""
    study = random_study(random.Random(4200 + seed))
    base = brute_force(study)
    result = _run(study, tmp_path)
    table = result.marginal_values
    if base is None:
        assert result.status is SolveStatus.INFEASIBLE and table["value"].isna().all()
        assert table["lp_dual"].isna().all()
    else:
        assert result.status is SolveStatus.OPTIMAL and _close(result.objective or 0.0, base)
        FEASIBLE_SEEDS.append(seed)
    _check_against_enumeration(study, table, f"seed {seed}")
    assert _sorted_by_value(table)


def test_enough_random_studies_were_feasible() -> None:
    """Runs after the seeds above (file order): values, not only NaNs, were compared."""
    if not FEASIBLE_SEEDS:
        pytest.skip("run together with the seeded test")
    assert len(FEASIBLE_SEEDS) >= 10, FEASIBLE_SEEDS
