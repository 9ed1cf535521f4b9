"""Search limits: a limited solve keeps its incumbent (exit 10) and says it is not
proven optimal; a limit with no incumbent writes only a diagnostic folder (exit 6).

The instance is OR-Library scp41 with unit costs (unicost set covering), hard enough
that HiGHS cannot close the gap at the root. Node limits, unlike time limits, make
this reproducible.
"""

from __future__ import annotations

import json
from pathlib import Path

import highspy
import numpy as np
import pyomo.environ as pyo
import pytest
from helpers import DEFAULT_STUDY, run_cli, write_study
from orlib import ORLIB, scp_study

import posture
from posture.data import build_model_data
from posture.model import build_model
from posture.schema import SolverOptions
from posture.solver import KeptModel, SolveStatus, _classify, _highs, _solution, compile_model


@pytest.fixture(scope="module")
def unicost(tmp_path_factory: pytest.TempPathFactory) -> Path:
    study = scp_study(ORLIB / "scp41.txt")
    for asset in study["assets"].values():
        asset["move_cost_musd"] = 1.0
    folder = tmp_path_factory.mktemp("unicost")
    write_study(folder / "u41.yaml", study)
    return folder


def test_node_limit_with_incumbent_exit_10_labelled(unicost: Path) -> None:
    proc = run_cli(
        "solve", "u41.yaml", "--node-limit", "1", "--out", "results/lim", "-q", cwd=unicost
    )
    assert proc.returncode == 10, proc.stderr
    assert "FEASIBLE - not proven optimal" in proc.stdout
    run = unicost / "results" / "lim"
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "feasible" and summary["exit_code"] == 10
    assert summary["best_bound"] < summary["objective"] and summary["gap"] > 0
    caption = (run / "coverage.md").read_text().splitlines()[0]
    assert "not proven optimal" in caption and "gap" in caption and "bound" in caption
    assert "not proven optimal" in (run / "assignments.tex").read_text()
    assert (unicost / "results" / "latest").resolve() == run.resolve()


def test_node_limit_without_incumbent_exit_6_no_tables(tmp_path: Path) -> None:
    # scp41 with its own costs: HiGHS stops at node 0 before any incumbent.
    write_study(tmp_path / "s41.yaml", scp_study(ORLIB / "scp41.txt"))
    proc = run_cli(
        "solve", "s41.yaml", "--node-limit", "0", "--out", "results/none", cwd=tmp_path, timeout=120
    )
    assert proc.returncode == 6, proc.stderr
    run = tmp_path / "results" / "none"
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "no_solution" and summary["objective"] is None
    assert not list(run.glob("*.csv"))
    latest = tmp_path / "results" / "latest"
    assert not latest.exists() or latest.resolve() != run.resolve()


def test_kept_model_solves_again_after_a_wall_clock_stop(
    unicost: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HiGHS keeps its cancel flag: without a fresh object, the next solve on a kept
    model would stop at once as 'interrupted' (found by the alternatives search)."""
    import posture
    import posture.solver

    # HiGHS's own clock must not stop it first: this is about our interrupt's path.
    monkeypatch.setattr(posture.solver, "_highs_time_limit", lambda options: 3600.0)
    from posture.data import build_model_data
    from posture.model import build_model
    from posture.schema import SolverOptions
    from posture.solver import KeptModel, SolveStatus, compile_model

    study = posture.load(unicost / "u41.yaml")
    options = SolverOptions(time_limit_s=1.0, mip_rel_gap=0.0)
    kept = KeptModel(compile_model(build_model(build_model_data(study.study))), options)
    first = kept.solve()
    assert first.status is SolveStatus.FEASIBLE and "wall-clock" in first.highs_status
    second = kept.solve()
    assert second.status is SolveStatus.FEASIBLE and "wall-clock" in second.highs_status
    assert second.seconds["solve"] >= 0.8  # it searched for its full second


def test_a_mip_stopped_before_any_bound_claims_none() -> None:
    """A node limit of 0 stops HiGHS before its root LP, holding only the plan it was
    offered: the result is feasible with bound -inf and an infinite gap, never the
    plan's own objective as bound (gap 0, which would pass as proven), and a kept
    model does not remember it for posture/reuse.py to build on."""
    study = posture.load(DEFAULT_STUDY, "middle_east_war")
    compiled = compile_model(build_model(build_model_data(study.study)))
    plan = KeptModel(compiled, SolverOptions()).solve().col_values
    kept = KeptModel(compiled, SolverOptions(node_limit=0))
    result = kept.solve(start=plan)
    assert result.status is SolveStatus.FEASIBLE, result.highs_status
    assert result.objective is not None and result.objective > 0
    assert result.bound == -np.inf and result.gap == np.inf
    assert kept._solved == []


def test_an_lp_stopped_before_its_optimum_claims_no_bound() -> None:
    """The same for a model without integers: an iteration limit of 0 stops HiGHS
    holding only its feasible start (every variable at its upper bound)."""
    rng = np.random.default_rng(3)
    n, m = 60, 20
    a = rng.integers(1, 10, (m, n)).astype(float)
    cost = rng.integers(5, 30, n).astype(float)
    model = pyo.ConcreteModel()
    model.x = pyo.Var(range(n), bounds=(0, 3))
    model.cost = pyo.Objective(expr=sum(cost[j] * model.x[j] for j in range(n)))
    model.cover = pyo.Constraint(
        range(m), rule=lambda b, i: sum(a[i, j] * b.x[j] for j in range(n)) >= 0.3 * a[i].sum()
    )
    compiled = compile_model(model)
    assert not compiled.is_mip
    options = SolverOptions()
    # HiGHS's one scheduler keeps the thread count of the process's first parallel
    # solve, and its simplex then refuses another count ("Not Set"): an earlier test
    # solved in-process with 2 threads.
    highspy.Highs.resetThreadScheduler(False)
    h = _highs(compiled.lp, options)
    h.setSolution(_solution(np.full(n, 3.0)))
    h.setOptionValue("simplex_iteration_limit", 0)
    h.run()
    result = _classify(h, compiled, options, False)
    assert result.status is SolveStatus.FEASIBLE, result.highs_status
    assert result.objective == pytest.approx(3 * cost.sum())
    assert result.bound == -np.inf and result.gap == np.inf
