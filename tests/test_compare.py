"""posture compare: deltas between real run folders, as a library call and through the CLI.

The runs are real solves through the real CLI, made once for the module:

- ``base``: tiny.yaml. Korea sends 2 of its 4 Patriots to the Middle East, CONUS sends
  its 1, and 2 Cheongung-II batteries backfill Korea: objective 35 MUSD + 0.1 x 3
  units moved = 35.3.
- ``no_rok``: the same study without Cheongung-II. Backfill is impossible, so Korea keeps
  its 4 Patriots; the Middle East gets only CONUS's battery and is 2 short of its
  target 3: 100 x 1 x 2 + 5 + 0.1 x 1 = 205.1.
- ``wide``: a different study (tiny plus a Taiwan theatre and a Japan-held Patriot).
- ``infeasible``: a Korea floor of 10 that no posture can meet (no plan).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest
from helpers import FIXTURES, ROOT, run_cli, tiny_study, write_study

from posture.compare import DELTAS, SUMMARY_TABLE, Comparison, compare_runs
from posture.errors import InputError

TABLES = [*DELTAS, SUMMARY_TABLE]
SOURCE = "Test fixture (illustrative)."
TARGET_10 = "requirements.korea.amd.target=10"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Run folders by name (see the module docstring), solved in parallel."""
    root = tmp_path_factory.mktemp("compare")
    shutil.copy(FIXTURES / "tiny.yaml", root / "tiny.yaml")
    wide = tiny_study()
    wide["theatres"]["taiwan"] = {"name": "Taiwan", "priority": 3.0, "source": SOURCE}
    wide["origins"]["japan"] = {"name": "Japan"}
    wide["assets"]["patriot"]["inventory"]["japan"] = 1
    wide["requirements"]["taiwan"] = {
        "amd": {"floor": 0.0, "target": 1.0, "weight": 1.0, "source": SOURCE}
    }
    write_study(root / "wide.yaml", wide)
    solves = {
        "base": (["tiny.yaml"], 0),
        "no_rok": (["tiny.yaml", "--scenario", "no_rok"], 0),
        "wide": (["wide.yaml"], 0),
        "infeasible": (
            ["tiny.yaml", "--set", "requirements.korea.amd.floor=10", "--set", TARGET_10],
            4,
        ),
    }

    def solve(name: str) -> None:
        args, code = solves[name]
        proc = run_cli("solve", *args, "--quiet", "--out", f"runs/{name}", cwd=root)
        assert proc.returncode == code, proc.stderr

    with ThreadPoolExecutor(len(solves)) as pool:
        list(pool.map(solve, solves))
    return {name: root / "runs" / name for name in solves}


@pytest.fixture(scope="module")
def base_vs_no_rok(runs: dict[str, Path]) -> Comparison:
    return compare_runs(runs["base"], runs["no_rok"])


def records(df: pd.DataFrame) -> list[tuple[object, ...]]:
    """Rows as plain Python tuples (numpy scalars unwrapped), for exact comparison."""
    return [tuple(v.item() if hasattr(v, "item") else v for v in row) for row in df.values]


def copy_run(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# --- deltas ----------------------------------------------------------------------------


def test_hand_checked_deltas(base_vs_no_rok: Comparison) -> None:
    """Without Cheongung-II, Korea keeps the 2 Patriots that went to the Middle East."""
    t = base_vs_no_rok.tables
    assert records(t["posture_delta"]) == [
        ("patriot", "korea", "korea", 2, 4, 2, "both"),
        ("patriot", "korea", "middle_east", 2, 0, -2, "both"),
    ]
    assert records(t["moves_delta"]) == [
        ("patriot", "korea", "korea", "middle_east", 2, 0, -2, 10.0, 0.0, -10.0, "both")
    ]
    # Korea stays at 4 (2 Patriots + 2 Cheongung -> 4 Patriots): not a coverage change.
    assert records(t["coverage_delta"]) == [
        (
            *("middle_east", "amd"),
            *(0.0, 0.0, 3.0, 3.0),  # floor a/b, target a/b
            *(3.0, 1.0, -2.0, 0.0, 2.0, 2.0),  # provided, shortfall: a, b, delta
            *("target met", "below target", "both"),
        )
    ]
    assert records(t["replacements_delta"]) == [
        ("cheongung", "korea", 2, 0, -2, 20.0, 0.0, -20.0, "both")
    ]
    assert records(t["personnel_delta"]) == [
        ("korea", 180.0, 360.0, 180.0, "both"),
        ("middle_east", 270.0, 90.0, -180.0, "both"),
    ]
    assert records(t["cost_delta"]) == [
        ("weighted_shortfall", 0.0, 2.0, 2.0, 0.0, 200.0, 200.0, "both"),
        ("total_cost", 35.0, 5.0, -30.0, 35.0, 5.0, -30.0, "both"),
        ("turbulence", 3.0, 1.0, -2.0, 0.3, 0.1, -0.2, "both"),
        ("total", 35.3, 205.1, 169.8, 35.3, 205.1, 169.8, "both"),
    ]
    (summary,) = t[SUMMARY_TABLE].to_dict("records")
    assert summary["scenario_a"] == "base" and summary["scenario_b"] == "no_rok"
    assert summary["status_a"] == summary["status_b"] == "optimal"
    assert (summary["objective_a"], summary["objective_b"]) == (35.3, 205.1)
    assert summary["objective_delta"] == 169.8 and summary["gap_a"] == pytest.approx(0)
    assert not summary["same_inputs"] and not summary["identical"]
    counts = [summary[f"{n}_rows"] for n in ("posture", "moves", "coverage")]
    counts += [summary[f"{n}_rows"] for n in ("replacements", "personnel", "cost")]
    assert counts == [2, 1, 1, 1, 2, 4]
    assert not base_vs_no_rok.identical


def test_same_run_twice_is_identical(runs: dict[str, Path]) -> None:
    cmp = compare_runs(runs["base"], runs["base"])
    assert cmp.identical
    for name in DELTAS:
        assert cmp.tables[name].empty, name
        assert "presence" in cmp.tables[name].columns
    (summary,) = cmp.tables[SUMMARY_TABLE].to_dict("records")
    assert summary["identical"] and summary["same_inputs"] and summary["objective_delta"] == 0


def _swapped(df: pd.DataFrame) -> pd.DataFrame:
    """A delta table as it should read with the runs the other way round."""
    out = df.copy()
    for col in [c for c in df.columns if c.endswith("_a")]:
        out[col], out[col[:-2] + "_b"] = df[col[:-2] + "_b"], df[col]
    for col in [c for c in df.columns if c.endswith("delta")]:
        out[col] = -df[col] + 0  # + 0 turns -0.0 into 0.0
    out["presence"] = df["presence"].replace({"only A": "only B", "only B": "only A"})
    return out


@pytest.mark.parametrize("pair", [("base", "no_rok"), ("base", "wide")])
def test_swapping_the_runs_negates_every_delta(
    runs: dict[str, Path], pair: tuple[str, str]
) -> None:
    forward = compare_runs(runs[pair[0]], runs[pair[1]])
    backward = compare_runs(runs[pair[1]], runs[pair[0]])
    assert not forward.identical
    for name in DELTAS:
        pd.testing.assert_frame_equal(
            backward.tables[name], _swapped(forward.tables[name]), check_dtype=False
        )
    summary_f, summary_b = (c.tables[SUMMARY_TABLE].iloc[0] for c in (forward, backward))
    assert summary_b["objective_delta"] == -summary_f["objective_delta"]


def test_different_studies_flag_absent_rows_without_nan(runs: dict[str, Path]) -> None:
    """wide adds a Taiwan theatre and a Japan-held Patriot: those rows are 'only B', 0 in A."""
    cmp = compare_runs(runs["base"], runs["wide"])
    for name in DELTAS:
        assert not cmp.tables[name].isna().any().any(), name
    posture = cmp.tables["posture_delta"].set_index(["asset", "origin", "location"])
    assert set(posture.loc[("patriot", "japan"), "presence"]) == {"only B"}
    assert posture.loc[("patriot", "japan"), "units_a"].eq(0).all()
    assert posture.loc[("patriot", "conus", "taiwan"), "presence"] == "only B"
    assert posture.loc[("patriot", "conus", "middle_east"), "presence"] == "both"
    (taiwan,) = cmp.tables["coverage_delta"].to_dict("records")
    assert (taiwan["theatre"], taiwan["presence"]) == ("taiwan", "only B")
    assert (taiwan["status_a"], taiwan["provided_a"], taiwan["target_a"]) == ("absent", 0, 0)
    assert taiwan["status_b"] == "target met" and taiwan["provided_delta"] == 1.0
    assert records(cmp.tables["personnel_delta"]) == [("taiwan", 0.0, 90.0, 90.0, "only B")]
    assert set(cmp.tables["cost_delta"]["presence"]) == {"both"}
    assert cmp.tables[SUMMARY_TABLE].loc[0, "study_b"].endswith("wide.yaml")


# --- the command line ------------------------------------------------------------------


def test_cli_prints_the_differences_and_writes_the_tables(
    runs: dict[str, Path], base_vs_no_rok: Comparison, tmp_path: Path
) -> None:
    out = tmp_path / "cmp"
    proc = run_cli(
        "compare", str(runs["base"]), str(runs["no_rok"]), "--out", str(out), cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    for title in ("Posture", "Moves", "Coverage", "Replacements", "Personnel", "Objective"):
        assert title in proc.stdout
    assert "target met -> below target" in proc.stdout and "+169.8" in proc.stdout
    assert "objective 35.3 -> 205.1 (+169.8)" in proc.stdout
    written = {p.name for p in out.iterdir()}
    assert written == {f"{n}.{ext}" for n in TABLES for ext in ("csv", "md", "tex")} | {
        "summary.json"
    }
    for name in TABLES:
        back = pd.read_csv(out / f"{name}.csv", keep_default_na=False)
        assert back.columns.tolist() == base_vs_no_rok.tables[name].columns.tolist(), name
        assert len(back) == len(base_vs_no_rok.tables[name]), name
    posture = pd.read_csv(out / "posture_delta.csv")
    assert posture["delta"].tolist() == [2, -2]
    manifest = json.loads((out / "summary.json").read_text())
    assert manifest["kind"] == "comparison" and manifest["identical"] is False
    assert manifest["differing_rows"]["posture_delta"] == 2
    assert "no\\_rok" in (out / "cost_delta.md").read_text()  # the caption names both runs
    assert not (tmp_path / "latest").exists()
    # A comparison folder is not mistaken for a run.
    again = run_cli("compare", str(out), str(runs["base"]), cwd=tmp_path)
    assert again.returncode == 3 and "'posture compare' folder, not a run" in again.stderr


def test_cli_identical_runs_print_one_line(runs: dict[str, Path], tmp_path: Path) -> None:
    proc = run_cli("compare", str(runs["base"]), str(runs["base"]), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        f"identical: {runs['base']} and {runs['base']} have the same plan, coverage and costs"
    ]


def test_cli_quiet_prints_only_the_verdict(runs: dict[str, Path], tmp_path: Path) -> None:
    proc = run_cli("compare", str(runs["base"]), str(runs["wide"]), "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    (line,) = proc.stdout.splitlines()
    assert line.startswith("they differ in posture (4 rows)") and "(+5.1)" in line


def test_cli_tampered_csv_exits_3_and_writes_nothing(runs: dict[str, Path], tmp_path: Path) -> None:
    bad = copy_run(runs["base"], tmp_path / "bad")
    edit(bad / "coverage.csv", ",3.0,0.0,100.0", ",lots,0.0,100.0")  # middle_east provided
    out = tmp_path / "cmp"
    proc = run_cli("compare", str(bad), str(runs["no_rok"]), "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 3
    assert f"{bad / 'coverage.csv'}:3:1: provided: expected a number" in proc.stderr
    assert "solve again" in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stdout == "" and not out.exists()


def test_cli_reports_problems_in_both_runs(runs: dict[str, Path], tmp_path: Path) -> None:
    missing = copy_run(runs["base"], tmp_path / "missing")
    (missing / "moves.csv").unlink()
    proc = run_cli("compare", str(missing), str(runs["infeasible"]), cwd=tmp_path)
    assert proc.returncode == 3
    assert f"{missing / 'moves.csv'}: file is missing" in proc.stderr
    assert "no plan to compare (status 'infeasible')" in proc.stderr
    assert "2 errors in the inputs; nothing was written." in proc.stderr


def test_cli_existing_out_folder_exits_11(runs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "taken"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    proc = run_cli(
        "compare", str(runs["base"]), str(runs["no_rok"]), "--out", str(out), cwd=tmp_path
    )
    assert proc.returncode == 11
    assert "already exists" in proc.stderr and "Traceback" not in proc.stderr
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]


# --- unreadable run folders ------------------------------------------------------------


def _not_a_folder(run: Path) -> None:
    shutil.rmtree(run)


def _empty_folder(run: Path) -> None:
    shutil.rmtree(run)
    run.mkdir()


def _bad_json(run: Path) -> None:
    edit(run / "summary.json", '"status": "optimal"', '"status": optimal')


def _no_units_column(run: Path) -> None:
    edit(run / "assignments.csv", ",units,", ",units_moved,")


def _fractional_units(run: Path) -> None:
    edit(run / "moves.csv", "middle_east,2,", "middle_east,1.5,")


def _repeated_row(run: Path) -> None:
    text = (run / "personnel.csv").read_text()
    (run / "personnel.csv").write_text(text + text.splitlines()[1] + "\n")


def _short_row(run: Path) -> None:
    edit(run / "replacements.csv", ",amd 2", "")


@pytest.mark.parametrize(
    ("tamper", "where", "message"),
    [
        (_not_a_folder, None, "does not exist"),
        (_empty_folder, None, "not a run folder (no summary.json)"),
        (_bad_json, "summary.json", "not valid JSON"),
        (_no_units_column, "assignments.csv:1", "missing column(s): units"),
        (_fractional_units, "moves.csv:2", "whole number of units"),
        (_repeated_row, "personnel.csv:4", "repeats the row of line 2 (korea)"),
        (_short_row, "replacements.csv:2", "7 cells under 8 columns"),
    ],
)
def test_unreadable_run_folders_are_located_input_errors(
    runs: dict[str, Path],
    tmp_path: Path,
    tamper: Callable[[Path], None],
    where: str | None,
    message: str,
) -> None:
    run = copy_run(runs["base"], tmp_path / "run")
    tamper(run)
    with pytest.raises(InputError) as caught:
        compare_runs(runs["no_rok"], run)
    (diag,) = caught.value.diagnostics
    assert message in diag.message and diag.hint
    if where is None:
        assert diag.location is None and str(run) in diag.message
    else:
        file, _, line = where.partition(":")
        assert diag.location is not None and diag.location.file == str(run / file)
        assert diag.location.line == int(line or diag.location.line)


def test_infeasible_run_is_refused_at_its_status_line(runs: dict[str, Path]) -> None:
    with pytest.raises(InputError) as caught:
        compare_runs(runs["base"], runs["infeasible"])
    (diag,) = caught.value.diagnostics
    assert diag.location is not None and diag.path == ("status",)
    lines = (runs["infeasible"] / "summary.json").read_text().splitlines()
    assert '"status": "infeasible"' in lines[diag.location.line - 1]
    assert not (runs["infeasible"] / "assignments.csv").exists()


def test_compare_imports_no_model_or_solver_code() -> None:
    forbidden = ["pyomo", "highspy"]
    forbidden += [f"posture.{m}" for m in ("model", "data", "solver", "extract", "run", "tables")]
    code = (
        "import sys, posture.compare, posture.cli_compare\n"
        f"print([m for m in {forbidden!r} if m in sys.modules])"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
