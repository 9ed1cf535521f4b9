"""Re-solving in place gives exactly what rebuilding gives.

For random tiny studies (tests/bruteforce.py) and random changes to their numbers,
the kept model updated in place (posture.resolve) must reach the same status and
optimum as a model built from scratch, and as exhaustive enumeration. Every in-place
re-solve starts from the previous variant's plan, which the perturbation often makes
infeasible or poor: these cases check that a start never changes the optimum.
"""

from __future__ import annotations

import copy
import math
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import highspy
import numpy as np
import pytest
from bruteforce import brute_force, random_study, write_yaml

import posture
from posture.data import build_model_data
from posture.errors import InputError
from posture.model import build_model
from posture.resolve import Resolver
from posture.reuse import settled_columns
from posture.schema import SolverOptions
from posture.solver import (
    KeptModel,
    _integer_columns,
    _plan_objective,
    compile_model,
    criterion_vectors,
)
from posture.sweep import halving_order

OPTIONS = SolverOptions(mip_rel_gap=0.0)
SEEDS = range(60)
PATHS_TAKEN = {"in_place": 0, "rebuilt": 0, "started": 0}
NUMBER_KEYS = {
    "floor",
    "target",
    "weight",
    "priority",
    "available",
    "move_cost_musd",
    "activation_cost_musd",
    "limit_musd",
    "cap",
    "turbulence_weight",
    "shortfall",
    "cost",
    "turbulence",
}


def _perturb(node: Any, rng: random.Random, cross: bool, parent: str = "") -> Any:
    """Change some numbers: parameters only, ints stay ints.

    Without ``cross`` every number keeps its sign pattern (the in-place path); with it,
    one change in five crosses zero, which changes the model's structure (rebuild).
    """
    if isinstance(node, dict):
        return {
            k: _perturb(v, rng, cross, k if parent != "inventory" else "inventory")
            for k, v in node.items()
        }
    if isinstance(node, list):
        return node
    numeric = isinstance(node, int | float) and not isinstance(node, bool)
    if not numeric or (parent not in NUMBER_KEYS and parent != "inventory") or rng.random() < 0.5:
        return node
    if cross and rng.random() < 0.2:
        return type(node)(0 if node else 1)
    if isinstance(node, int):
        return max(1 if node else 0, node + rng.choice((-1, 1, 2)))
    return round(node * rng.choice((0.5, 1.5, 2.0)), 2)


def _data(study: dict[str, Any], folder: Path) -> Any:
    return build_model_data(posture.load(write_yaml(study, folder / "study.yaml")).study)


def _same(a: float | None, b: float | None, rel_tol: float = 1e-7) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=rel_tol, abs_tol=1e-6)


def _assert_enumeration_agrees(solved: Any, variant: dict[str, Any], rel_tol: float = 1e-7) -> None:
    """Same status and optimum as enumerating every posture of ``variant``."""
    truth = brute_force(variant)
    if solved.result.status.has_solution:
        assert truth is not None and _same(solved.result.objective, truth, rel_tol)
    else:
        assert truth is None


@pytest.mark.parametrize("seed", SEEDS)
def test_in_place_equals_rebuild_and_enumeration(seed: int, tmp_path: Path) -> None:
    rng = random.Random(7000 + seed)
    base = random_study(rng)
    kept = Resolver(OPTIONS)
    kept.solve(_data(base, tmp_path))
    for _ in range(4):
        variant = _perturb(copy.deepcopy(base), rng, cross=rng.random() < 0.3)
        try:
            data = _data(variant, tmp_path)
        except InputError:
            continue  # e.g. a target pushed below its floor: not a what-if one can run
        kept_plan = kept._last_plan is not None
        solved = kept.solve(data)
        PATHS_TAKEN["in_place" if solved.in_place else "rebuilt"] += 1
        PATHS_TAKEN["started"] += solved.started
        assert solved.started == (solved.in_place and kept_plan), "start from the last plan"
        fresh = Resolver(OPTIONS, in_place=False).solve(data)
        assert solved.result.status == fresh.result.status
        assert _same(solved.result.objective, fresh.result.objective)
        _assert_enumeration_agrees(solved, variant)


def test_random_changes_took_both_paths() -> None:
    """Runs after the seeds above (file order): both paths were really compared."""
    if sum(PATHS_TAKEN.values()) == 0:
        pytest.skip("run together with the seeded test")
    assert PATHS_TAKEN["in_place"] >= 60 and PATHS_TAKEN["rebuilt"] >= 20, PATHS_TAKEN
    assert PATHS_TAKEN["started"] >= 50, PATHS_TAKEN


def test_in_place_is_used_when_only_numbers_change(tmp_path: Path) -> None:
    study = posture.load(Path(__file__).resolve().parents[1] / "inputs" / "study.yaml")
    data = build_model_data(study.study)
    resolver = Resolver(OPTIONS)
    first = resolver.solve(data)
    assert not first.in_place
    more = build_model_data(
        posture.load(
            Path(__file__).resolve().parents[1] / "inputs" / "study.yaml",
            sets=["objective.turbulence=0.5"],
        ).study
    )
    second = resolver.solve(more)
    assert second.in_place and resolver.rebuilds == 1 and resolver.updates == 1
    rebuilt = Resolver(OPTIONS, in_place=False).solve(more)
    assert _same(second.result.objective, rebuilt.result.objective)
    # and back: the kept model forgets nothing of the first study
    again = resolver.solve(data)
    assert again.in_place and _same(again.result.objective, first.result.objective)


def test_a_bad_start_does_not_change_the_optimum() -> None:
    """Starts HiGHS cannot use (every column at a bound that breaks rows) are ignored."""
    study = posture.load(Path(__file__).resolve().parents[1] / "inputs" / "study.yaml")
    compiled = compile_model(build_model(build_model_data(study.study)))
    plain = KeptModel(compiled, OPTIONS).solve()
    lp = compiled.lp
    for bad in (np.zeros(len(compiled.columns)), np.minimum(lp.col_upper_, 1e6)):
        started = KeptModel(compiled, OPTIONS).solve(start=bad)
        assert started.status == plain.status
        assert _same(started.objective, plain.objective)
    with pytest.raises(ValueError, match="start has 3 values"):
        KeptModel(compiled, OPTIONS).solve(start=np.zeros(3))


NEAR_TALLY = {"searched": 0, "improved": 0, "repaired": 0}


@pytest.mark.parametrize("seed", range(20))
def test_the_start_near_remembered_plans_is_a_plan_no_worse_than_its_base(
    seed: int, tmp_path: Path
) -> None:
    """Before HiGHS runs in place, a sub-MIP holds every integer column on which the
    remembered plans agree at the start's value (posture/reuse.py: settled_columns).
    Offered the oldest remembered plan (often poor now, or breaking a changed rule),
    what it returns meets the model, is better than that plan (or repairs it), and
    keeps the held columns; every answer still agrees with enumeration."""
    resolver = Resolver(OPTIONS)
    for solved, variant in _solved_variants(9900 + seed, resolver, 10, tmp_path):
        _assert_enumeration_agrees(solved, variant)
        NEAR_TALLY["searched"] += "near_start" in solved.result.seconds
        kept = resolver.kept
        assert kept is not None
        if not kept._solved:
            continue
        lp = kept.h.getLp()
        base = kept._solved[-1].plan
        found = kept._start_near_remembered(base, OPTIONS, 10.0)
        assert found is not None
        if found is base:
            continue  # nothing better near it
        before, after = _plan_objective(lp, base), _plan_objective(lp, found)
        assert after is not None, "the sub-MIP's plan breaks the model"
        assert before is None or after < before
        NEAR_TALLY["improved" if before is not None else "repaired"] += 1
        held = settled_columns([p.plan for p in kept._solved] + [base], _integer_columns(lp))
        lower, upper = np.asarray(lp.col_lower_)[held], np.asarray(lp.col_upper_)[held]
        assert np.array_equal(np.round(found[held]), np.clip(np.round(base[held]), lower, upper))


def test_starts_near_remembered_plans_took_every_path() -> None:
    """Runs after the seeds above: in-place solves searched near their remembered
    plans, and the search repaired plans that break a changed rule (these tiny studies
    leave it nothing to improve: the test below has a case)."""
    if sum(NEAR_TALLY.values()) == 0:
        pytest.skip("run together with the seeded test")
    assert NEAR_TALLY["searched"] >= 20 and NEAR_TALLY["repaired"] >= 10, NEAR_TALLY


def test_the_start_near_remembered_plans_finds_the_optimum_between_two_priorities() -> None:
    """Default study, Middle East war, Middle East air-defence target 20: solved at
    priority 1 and 5.5, then set to priority 3. The priority-5.5 plan scores 5,763.82
    there; its two neighbours' plans differ in a few placements, and the sub-MIP that
    moves only those finds 5,752.22, the optimum HiGHS proves at priority 3."""
    from posture.loader import read_study_files
    from posture.parameters import set_parameters
    from posture.sweep import plan_points

    target = {"requirements.middle_east.air_missile_defence.target": "20"}
    grid = [{"theatres.middle_east.priority": p, **target} for p in ("1", "5.5", "3")]
    study = read_study_files(Path(__file__).resolve().parents[1] / "inputs" / "study.yaml")
    _, points = plan_points(study, "middle_east_war", [], grid)
    resolver = Resolver(OPTIONS)
    for point in points[:3]:  # the unchanged study, then priorities 1 and 5.5
        resolver.solve(point.data)
    kept = resolver.kept
    assert kept is not None
    high = kept._solved[0].plan  # the latest: priority 5.5
    set_parameters(kept.compiled.model, points[3].data)
    kept.refresh()
    lp = kept.h.getLp()
    found = kept._start_near_remembered(high, OPTIONS, 10.0)
    assert found is not None
    assert _plan_objective(lp, high) == pytest.approx(5763.82)
    assert _plan_objective(lp, found) == pytest.approx(5752.22)
    assert resolver.solve(points[3].data).result.objective == pytest.approx(5752.22)


SEARCH = SolverOptions(mip_rel_gap=0.0, neighbourhood_search="on")
SEARCH_TALLY = {"searched": 0, "started": 0}


def _solved_variants(
    seed: int, resolver: Resolver, rounds: int, tmp_path: Path
) -> Iterator[tuple[Any, dict[str, Any]]]:
    """A random study, then perturbations of its numbers (in-place changes), each
    solved by ``resolver``; variants that do not validate, or are decided before
    building (a rule no posture can meet), are skipped."""
    rng = random.Random(seed)
    study = random_study(rng)
    for round_ in range(rounds):
        variant = study if round_ == 0 else _perturb(copy.deepcopy(study), rng, cross=False)
        try:
            data = _data(variant, tmp_path)
        except InputError:
            continue
        solved = resolver.solve(data)
        if solved.compiled is not None:
            yield solved, variant


@pytest.mark.parametrize("seed", range(20))
def test_kept_models_run_the_search_before_every_solve(seed: int, tmp_path: Path) -> None:
    """Large kept models (here forced on) search before HiGHS as a single solve does,
    also when the previous plan is offered (HiGHS gets the better of the two); neither
    changes the optimum."""
    resolver = Resolver(SEARCH)
    for solved, variant in _solved_variants(9100 + seed, resolver, 4, tmp_path):
        searched = solved.result.neighbourhood is not None
        # a plan proven optimal without a solve (posture/reuse.py) needs no search
        assert searched == (solved.compiled.is_mip and not solved.result.reused)
        assert ("neighbourhood" in solved.result.seconds) == searched
        SEARCH_TALLY["searched"] += searched
        SEARCH_TALLY["started"] += solved.started
        _assert_enumeration_agrees(solved, variant)


def test_kept_searches_took_both_paths() -> None:
    """Runs after the seeds above: solves searched, some of them offered a plan too."""
    if sum(SEARCH_TALLY.values()) == 0:
        pytest.skip("run together with the seeded test")
    assert SEARCH_TALLY["searched"] >= 10 and SEARCH_TALLY["started"] >= 10, SEARCH_TALLY


@pytest.mark.parametrize("seed", range(8))
def test_large_kept_models_solve_in_a_child(
    seed: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every MIP counts as large here: each solve (search, then full MIP) runs in a
    forked child on its copy of the kept model, whose own HiGHS object never runs, and
    the optimum still equals enumeration through in-place re-solves and starts."""
    import posture.solver

    monkeypatch.setattr(posture.solver, "LARGE_MODEL_INTEGERS", 0)
    resolver = Resolver(OPTIONS)
    for solved, variant in _solved_variants(9300 + seed, resolver, 3, tmp_path):
        assert resolver.kept is not None
        assert resolver.kept.solves_in_child == solved.compiled.is_mip
        if solved.compiled.is_mip:
            assert solved.result.neighbourhood is not None  # large: the search ran too
            assert str(resolver.kept.h.getModelStatus()).endswith("kNotset")
        _assert_enumeration_agrees(solved, variant)


LOOSER_WHEN_LARGER = {"available", "limit_musd", "cap"}
"""Of the numbers ``_perturb`` may change, those a smaller value makes harder to meet;
raising any of the others (floors, targets, weights, prices) can only cost more.
Inventories are left alone: they are also today's posture, which turbulence and
replacement baselines are measured from, so fewer units can cost less."""
REUSE_TALLY = {"reused": 0, "solved": 0}


def _tighten(node: Any, rng: random.Random, parent: str = "") -> Any:
    """A harder variant: some numbers move the way that can only raise the optimum
    (zero stays zero, so the structure and the in-place path are kept)."""
    if isinstance(node, dict):
        return {k: _tighten(v, rng, k) for k, v in node.items()}
    numeric = isinstance(node, int | float) and not isinstance(node, bool)
    if not numeric or parent not in NUMBER_KEYS or not node or rng.random() < 0.85:
        return node
    down = parent in LOOSER_WHEN_LARGER
    if isinstance(node, int):
        return max(1, node - 1) if down else node + 1
    return round(node * (0.75 if down else 1.25), 4)


@pytest.mark.parametrize("gap", [0.0, 0.05])
@pytest.mark.parametrize("seed", range(40))
def test_harder_variants_reuse_proven_plans(seed: int, gap: float, tmp_path: Path) -> None:
    """Chains of ever harder variants, re-solved in place: a plan proven optimal from
    a remembered one without a solve (posture/reuse.py) must be what enumeration
    finds, or within the gap asked for of it; the optimum never falls along the
    chain (by more than that gap)."""
    rng = random.Random(9500 + seed)
    study = random_study(rng)
    resolver = Resolver(SolverOptions(mip_rel_gap=gap))
    last: float | None = None
    for round_ in range(6):
        variant = study if round_ == 0 else _tighten(copy.deepcopy(study), rng)
        try:
            data = _data(variant, tmp_path)
        except InputError:
            continue  # e.g. a floor raised above its target
        study = variant
        solved = resolver.solve(data)
        if solved.compiled is None:
            break  # no posture meets it; harder variants cannot either
        result = solved.result
        truth = brute_force(variant)
        assert result.status.has_solution == (truth is not None)
        if truth is None or result.objective is None:
            break
        within = gap * max(1.0, abs(result.objective)) + 1e-6
        assert truth - 1e-6 <= result.objective <= truth + within
        assert result.bound is not None and result.bound <= truth + 1e-6
        assert last is None or result.objective >= last - within, "a harder variant did better"
        last = result.objective
        REUSE_TALLY["reused"] += result.reused
        REUSE_TALLY["solved"] += not result.reused
        if result.reused:
            assert solved.in_place and result.gap is not None and result.gap <= gap


def test_harder_variants_took_both_paths() -> None:
    """Runs after the seeds above: proofs without a solve happened, and solves too."""
    if sum(REUSE_TALLY.values()) == 0:
        pytest.skip("run together with the seeded test")
    assert REUSE_TALLY["reused"] >= 40 and REUSE_TALLY["solved"] >= 80, REUSE_TALLY


LINE_PATHS = (
    ("objective", "shortfall"),
    ("objective", "cost"),
    ("objective", "turbulence"),
    ("theatres", "t0", "priority"),
)
LINE_TALLY = {"reused": 0, "solved": 0, "crossings": 0}


@pytest.mark.parametrize("falling", [False, True])
@pytest.mark.parametrize("seed", range(30))
def test_points_along_a_price_line_are_proven_between_solved_ones(
    seed: int, falling: bool, tmp_path: Path
) -> None:
    """One weight or priority scaled from 0.1x to 10x (or from 10x down), the
    points solved ends first then by halving (as a sweep's run is): points between
    two solved ones may be proven from that pair (posture/reuse.py); every answer
    must be what enumeration finds."""
    rng = random.Random(9700 + seed)
    study = random_study(rng)
    paths = [p for p in LINE_PATHS if _lookup(study, p)]
    if not paths:
        pytest.skip("no nonzero weight to scale")
    path = rng.choice(paths)
    base = float(_lookup(study, path))
    resolver = Resolver(OPTIONS)
    for k in halving_order(10):
        variant = copy.deepcopy(study)
        node = variant
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = round(base * ((9 - k if falling else k) + 1) ** 2 / 10, 6)
        solved = resolver.solve(_data(variant, tmp_path))
        if solved.compiled is None:
            return
        # HiGHS accepts a shortfall 1e-6 short (its feasibility tolerance); scaled
        # weights turn that into more (seed 27: 8.749998 against 8.75)
        _assert_enumeration_agrees(solved, variant, rel_tol=1e-6)
        LINE_TALLY["reused" if solved.result.reused else "solved"] += 1
        # a solve where two remembered plans cross (posture/reuse.py: crossing)
        LINE_TALLY["crossings"] += solved.result.highs_runs - (not solved.result.reused)


def test_points_along_price_lines_took_both_paths() -> None:
    """Runs after the seeds above: points were proven from pairs, solved, and solved
    where two plans cross."""
    if sum(LINE_TALLY.values()) == 0:
        pytest.skip("run together with the seeded test")
    assert LINE_TALLY["reused"] >= 100 and LINE_TALLY["solved"] >= 100, LINE_TALLY
    assert LINE_TALLY["crossings"] >= 5, LINE_TALLY


def _lookup(study: dict[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = study
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node


@pytest.mark.parametrize("change", ["objective", "column_bounds", "row_bounds"])
def test_trade_off_changes_are_never_answered_from_the_previous_plan(change: str) -> None:
    """Changes made through the trade-off methods bypass the numbers a refresh keeps;
    the next solve must run HiGHS, and agree with a fresh model changed the same way."""
    study = posture.load(Path(__file__).resolve().parents[1] / "inputs" / "study.yaml")
    compiled = compile_model(build_model(build_model_data(study.study)))
    cost, offset = criterion_vectors(compiled)["cost"]
    answers = []
    for solved_before in (True, False):
        kept = KeptModel(compiled, OPTIONS)
        plan = kept.solve().col_values if solved_before else None
        if change == "objective":
            kept.set_objective(cost, offset)
        elif change == "row_bounds":  # lift every limit of the first row
            kept.set_row_bounds(0, -highspy.kHighsInf, highspy.kHighsInf)
        else:  # forbid one placement the default study's plan makes
            if plan is None:
                plan = KeptModel(compiled, OPTIONS).solve().col_values
            assert plan is not None
            j = np.array([int(np.argmax(plan))])
            kept.set_col_bounds(j, np.zeros(1), np.zeros(1))
        result = kept.solve()
        assert not result.reused
        answers.append(result.objective)
    assert _same(answers[0], answers[1])


def _limited_study(move_cost: float, turbulence_weight: float, limit: str) -> dict[str, Any]:
    """Two units at a reserve origin, each 0.75 of the one capability (target 1.75);
    moving them is limited by a budget of 1.5 (``limit="budget"``), by a turbulence cap
    of 1.5 (``"persistence"``) or not at all (``"none"``). With ``"persistence_home"``
    the origin defends a second theatre today, so turbulence counts the units that do
    not stay there: the cap's row holds the constant weight x 2 units held."""
    note = "Hand-made test study (estimate)."
    study: dict[str, Any] = {
        "study": {"name": "limit rows"},
        "theatres": {"t0": {"name": "T0", "priority": 1.0, "source": note}},
        "origins": {"o0": {"name": "O0"}},
        "capabilities": {"c0": {"name": "C0", "unit": "unit-equivalent"}},
        "assets": {
            "a0": {
                "name": "A0",
                "category": "air_defence_battery",
                "unit": "battery",
                "inventory": {"o0": 2},
                "contributes": {"c0": 0.75},
                "personnel_per_unit": 0.0,
                "move_cost_musd": move_cost,
                "turbulence_weight": turbulence_weight,
                "source": note,
            }
        },
        "requirements": {
            "t0": {"c0": {"floor": 0.0, "target": 1.75, "weight": 1.0, "source": note}}
        },
        "objective": {"shortfall": 100.0, "cost": 0.0, "turbulence": 0.0},
        "solver": {"mip_rel_gap": 0.0, "threads": 1},
    }
    if limit == "budget":
        study["budget"] = {"limit_musd": 1.5, "source": note}
    if limit in ("persistence", "persistence_home"):
        study["persistence"] = {"max_turbulence": 1.5, "source": note}
    if limit == "persistence_home":
        study["theatres"]["t1"] = {"name": "T1", "priority": 1.0, "source": note}
        study["origins"]["o0"]["theatre"] = "t1"
    return study


@pytest.mark.parametrize("limit", ["budget", "persistence", "persistence_home", "none"])
def test_a_coefficient_of_a_limit_row_changes_in_place(limit: str, tmp_path: Path) -> None:
    """Move costs are coefficients of the budget row and turbulence weights of the
    turbulence cap; refresh() updates them there as well as in the objective.

    At 1.5 a unit the limit allows one move (shortfall 1.75 - 0.75 = 1.0, objective
    100); at 0.75 both (shortfall 0.25, objective 25). When the row kept its old
    coefficients the answer stayed 100. Without a limit row both units move either way.
    """
    resolver = Resolver(OPTIONS)
    first = resolver.solve(_data(_limited_study(1.5, 1.5, limit), tmp_path))
    assert _same(first.result.objective, 25.0 if limit == "none" else 100.0)
    cheaper = _limited_study(0.75, 0.75, limit)
    second = resolver.solve(_data(cheaper, tmp_path))
    assert second.in_place and resolver.rebuilds == 1
    assert _same(second.result.objective, 25.0) and _same(brute_force(cheaper), 25.0)
    assert second.compiled is not None  # the compiled matrix follows (marginal values)
    assert _same(Resolver(OPTIONS).solve(_data(cheaper, tmp_path)).result.objective, 25.0)
    if limit != "none":
        row = second.compiled.lp.row_names_.index(
            "budget" if limit == "budget" else "turbulence_cap"
        )
        held = 2 * 0.75 if limit == "persistence_home" else 0.0  # weight x units held
        assert second.compiled.lp.row_upper_[row] == pytest.approx(1.5 - held)
        matrix = second.compiled.lp.a_matrix_
        entries = np.asarray(matrix.index_) == row
        assert sorted(set(np.abs(np.asarray(matrix.value_)[entries]))) == [0.75]
    # and back again, in place
    again = resolver.solve(_data(_limited_study(1.5, 1.5, limit), tmp_path))
    assert again.in_place and _same(again.result.objective, first.result.objective)


def test_plan_objective_checks_rows_bounds_and_integrality() -> None:
    """x0 integer in [0, 3], x1 continuous >= 0; row x0 + x1 >= 2; cost 3 x0 + x1 + 5."""
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = 2, 1
    lp.col_cost_, lp.offset_ = np.array([3.0, 1.0]), 5.0
    lp.col_lower_, lp.col_upper_ = np.array([0.0, 0.0]), np.array([3.0, highspy.kHighsInf])
    lp.row_lower_, lp.row_upper_ = np.array([2.0]), np.array([highspy.kHighsInf])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_ = np.array([0, 1, 2]), np.array([0, 0])
    lp.a_matrix_.value_ = np.array([1.0, 1.0])
    lp.integrality_ = [highspy.HighsVarType.kInteger, highspy.HighsVarType.kContinuous]
    assert _plan_objective(lp, np.array([1.0, 1.0])) == pytest.approx(9.0)
    assert _plan_objective(lp, np.array([0.0, 2.5])) == pytest.approx(7.5)
    assert _plan_objective(lp, np.array([1.0, 0.5])) is None  # row 1.5 < 2
    assert _plan_objective(lp, np.array([4.0, 0.0])) is None  # above x0's bound
    assert _plan_objective(lp, np.array([1.5, 0.5])) is None  # x0 not whole
