"""One hand-solved case per constraint family, on the tiny study.

The tiny study (tests/fixtures/tiny.yaml): Korea holds 4 Patriot batteries and CONUS 1;
Korea wants 4 (priority 2), the Middle East 3 (priority 1), shortfall weight 100;
moving a battery costs 5 MUSD and 0.1 turbulence; a Cheongung-II battery (3 available)
costs 10 and backfills Korea. Unconstrained, the optimum sends the CONUS battery and two
Korea batteries to the Middle East and backfills Korea with two Cheongung-II:
5.1 + 2 x (5.1 + 10) = 35.3. Each case below changes one rule; the comment gives the
hand-worked optimum.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers import write_study

import posture
from posture.solver import SolveStatus

SRC = "Test case (illustrative)."


def _set(study: dict[str, Any], path: str, value: Any) -> None:
    keys = path.split(".")
    for key in keys[:-1]:
        study = study.setdefault(key, {})
    study[keys[-1]] = value


CASES: dict[str, tuple[dict[str, Any], float]] = {
    # no change: 5.1 (CONUS) + 2 x 15.1 (Korea battery + Cheongung backfill)
    "baseline": ({}, 35.3),
    # locked_units: 3 of 4 locked in Korea, one can leave: ME short 1 -> 100 + 5.1 + 15.1
    "locked_units": ({"assets.patriot.locked": {"korea": 3}}, 120.2),
    # movable false locks every unit where it is, the CONUS battery too: ME short 3
    "movable_false": ({"assets.patriot.movable": False}, 300.0),
    # coverage_floor without the rule or ROK batteries: floor 3 keeps 3 in Korea
    # (Korea target 0): ME = CONUS + 1 Korea, short 1 -> 100 + 5.1 + 5.1
    "coverage_floor": (
        {
            "replacement_rules": {},
            "replacement_sources.cheongung.available": 0,
            "requirements.korea.amd": {"floor": 3.0, "target": 0.0, "weight": 1.0, "source": SRC},
        },
        110.2,
    ),
    # coverage_target alone (no rule, no ROK, Korea target 0): all three go: 3 x 5.1
    "coverage_target": (
        {
            "replacement_rules": {},
            "replacement_sources.cheongung.available": 0,
            "requirements.korea.amd": {"floor": 0.0, "target": 0.0, "weight": 1.0, "source": SRC},
        },
        15.3,
    ),
    # replacement_backfill at ratio 0.5 (Korea target 0): two Korea batteries leave,
    # one Cheongung backfills: 3 x 5.1 + 10
    "replacement_backfill_half": (
        {
            "replacement_rules.korea_backfill.ratio": 0.5,
            "requirements.korea.amd": {"floor": 0.0, "target": 0.0, "weight": 1.0, "source": SRC},
        },
        25.3,
    ),
    # rule lead time 20 days < Cheongung's 30: no valid backfill, Korea keeps all 4
    "replacement_lead_time": ({"replacement_rules.korea_backfill.max_lead_time_days": 20.0}, 205.1),
    # source_availability: one Cheongung only (Korea target 0): one Korea battery leaves
    "source_availability": (
        {
            "replacement_sources.cheongung.available": 1,
            "requirements.korea.amd": {"floor": 0.0, "target": 0.0, "weight": 1.0, "source": SRC},
        },
        120.2,
    ),
    # turbulence_cap 2 (the unconstrained optimum moves 3 batteries, turbulence 3): two move,
    # the CONUS one and one from Korea with its backfill, ME short 1: 5.1 + 15.1 + 100
    "turbulence_cap": ({"persistence": {"max_turbulence": 2.0, "source": SRC}}, 120.2),
    # turbulence_cap 1: only the cheapest move, the CONUS battery: 5.1 + 2 x 100
    "turbulence_cap_one_move": ({"persistence": {"max_turbulence": 1.0, "source": SRC}}, 205.1),
    # personnel_floor 360 in Korea = 4 x 90: no battery may leave
    "personnel_floor": ({"personnel": {"korea": {"floor": 360, "source": SRC}}}, 205.1),
    # personnel_cap 180 in the ME: two batteries there at most, short 1
    "personnel_cap": ({"personnel": {"middle_east": {"cap": 180, "source": SRC}}}, 120.2),
    # basing_capacity: two Patriot sites in the ME
    "basing_capacity": (
        {
            "assets.patriot.basing": {"patriot_site": 1.0},
            "basing": {"middle_east": {"capacity": {"patriot_site": 2.0}, "source": SRC}},
        },
        120.2,
    ),
    # budget 20: CONUS move 5 + one Korea move 5 + one Cheongung 10
    "budget": ({"budget": {"limit_musd": 20.0, "source": SRC}}, 120.2),
    # allowed destinations: Patriots may serve only in Korea: ME short 3
    "destinations": ({"assets.patriot.destinations": ["korea"]}, 300.0),
    # scenario deadline 20 days: Cheongung (30 days) cannot be activated at all
    "deadline": ({"deadline_days": 20.0}, 205.1),
    # route cost CONUS -> ME of 50: the CONUS battery goes to Korea instead (5.1) and
    # three Korea batteries go to the ME (3 x 5.1); Korea keeps 2 of its baseline 4,
    # so two Cheongung backfill (20): 5.1 + 15.3 + 20
    "route_cost": ({"assets.patriot.route_cost_musd": {"conus": {"middle_east": 50.0}}}, 40.4),
    # effectiveness 0.5 in the ME: all 5 batteries' worth cannot reach 3; best is CONUS
    # + 3 Korea (2.0 provided, short 1): 100 + 5.1 + 3 x 15.1; a 4th Korea battery
    # would cost 15.1 for 0.5 less shortfall (50): also worth it -> 50 + 5.1 + 4 x 15.1
    # but only 3 Cheongung exist, so the 4th leaves Korea short 1 (priority 2: 200): no.
    "effectiveness": ({"assets.patriot.effectiveness": {"middle_east": 0.5}}, 150.4),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_family_hand_solved(case: str, tmp_path: Path, study_dict: dict[str, Any]) -> None:
    changes, expected = CASES[case]
    for path, value in changes.items():
        _set(study_dict, path, value)
    result = posture.solve(posture.load(write_study(tmp_path / "s.yaml", study_dict)))
    assert result.status is SolveStatus.OPTIMAL, result.diagnosis
    assert result.objective == pytest.approx(expected, abs=1e-6)


def test_inventory_every_unit_accounted_for(tmp_path: Path, study_dict: dict[str, Any]) -> None:
    result = posture.solve(posture.load(write_study(tmp_path / "s.yaml", study_dict)))
    held = result.tables["assignments"].groupby(["asset", "origin"])["units"].sum().to_dict()
    assert held == {("patriot", "conus"): 1, ("patriot", "korea"): 4}


def test_infeasible_by_construction_is_located(tmp_path: Path, study_dict: dict[str, Any]) -> None:
    _set(study_dict, "requirements.korea.amd.floor", 10.0)
    _set(study_dict, "requirements.korea.amd.target", 10.0)
    path = write_study(tmp_path / "s.yaml", study_dict)
    result = posture.solve(posture.load(path))
    assert result.status is SolveStatus.INFEASIBLE
    (diagnostic,) = result.diagnosis
    assert diagnostic.location is not None and diagnostic.location.file.endswith("s.yaml")
    assert diagnostic.path == ("requirements", "korea", "amd", "floor")
    assert "at most 8" in diagnostic.message  # 4 + 1 Patriot + 3 Cheongung


def test_infeasible_conflict_set_named_with_relaxations(
    tmp_path: Path, study_dict: dict[str, Any]
) -> None:
    # The ME must hold 270 people (3 batteries) but every battery is locked where it is
    # (movable: false locks the CONUS one in reserve too). HiGHS's IIS names the three
    # rules; relaxing one alone: 3 locked units must move, or the floor drops by 270.
    _set(study_dict, "assets.patriot.movable", False)
    _set(study_dict, "personnel", {"middle_east": {"floor": 270, "source": SRC}})
    result = posture.solve(posture.load(write_study(tmp_path / "s.yaml", study_dict)))
    assert result.status is SolveStatus.INFEASIBLE
    table = result.tables["infeasibility"].set_index("family")
    assert set(table.index) == {"inventory", "locked_units", "personnel_floor"}
    assert table.loc["locked_units", "violation"] == pytest.approx(3.0)
    assert table.loc["personnel_floor", "violation"] == pytest.approx(270.0)
    assert all(d.location is not None for d in result.diagnosis)
    # the lock is the key the user wrote, movable: false, not a locked.<origin> entry
    (lock,) = [d for d in result.diagnosis if "locked units" in d.message]
    assert lock.path == ("assets", "patriot", "movable")


def test_infeasible_only_by_integrality_is_said_honestly(
    tmp_path: Path, study_dict: dict[str, Any]
) -> None:
    # Half a battery (effectiveness 2 in the ME) would meet the ME floor of 1 within a
    # 45-person cap; whole batteries cannot: 0 gives nothing, 1 brings 90 people.
    _set(study_dict, "assets.patriot.effectiveness", {"middle_east": 2.0})
    _set(study_dict, "requirements.middle_east.amd.floor", 1.0)
    _set(study_dict, "personnel", {"middle_east": {"cap": 45, "source": SRC}})
    result = posture.solve(posture.load(write_study(tmp_path / "s.yaml", study_dict)))
    assert result.status is SolveStatus.INFEASIBLE
    assert "LP relaxation is feasible" in result.diagnosis[0].message
    assert all(d.location is not None for d in result.diagnosis)  # found by fuzzing
    assert set(result.tables["infeasibility"]["family"]) <= {"coverage_floor", "personnel_cap"}
    assert len(result.tables["infeasibility"]) >= 1


def test_infeasible_study_gets_a_verified_add_units_answer(
    tmp_path: Path, study_dict: dict[str, Any]
) -> None:
    # Only Korea's 4 batteries; the ME must hold 2. Each one leaving Korea needs a
    # Cheongung-II backfill (ratio 1) and only 1 is available. Adding a Patriot in Korea
    # does not help (it raises the baseline the rule protects); one more Cheongung-II does.
    _set(study_dict, "assets.patriot.inventory", {"korea": 4})
    _set(study_dict, "requirements.middle_east.amd.floor", 2.0)
    _set(study_dict, "replacement_sources.cheongung.available", 1)
    result = posture.solve(posture.load(write_study(tmp_path / "s.yaml", study_dict)))
    assert result.status is SolveStatus.INFEASIBLE
    table = result.tables["infeasibility"].set_index("family")
    assert table.loc["sources_added", "violation"] == pytest.approx(1.0)
    assert "units_added" not in table.index
    (added,) = [d for d in result.diagnosis if d.path[:1] == ("replacement_sources",)]
    assert "add 1 more Cheongung-II battery" in added.message and "1 -> 2" in added.message
    assert added.location is not None and added.location.file.endswith("s.yaml")
    # and the answer is right: with it, the study solves
    _set(study_dict, "replacement_sources.cheongung.available", 2)
    fixed = posture.solve(posture.load(write_study(tmp_path / "t.yaml", study_dict)))
    assert fixed.status is SolveStatus.OPTIMAL
