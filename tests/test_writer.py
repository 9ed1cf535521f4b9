"""Tests for posture.writer on real files; ``test_rNN`` names refer to RELIABILITY.md items."""

from __future__ import annotations

import errno
import fcntl
import io
import json
import math
import os
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from posture import writer
from posture.errors import OutputError
from posture.writer import (
    RunFiles,
    clean_stale_temps,
    csv_text,
    latex_table,
    markdown_table,
    neutralise_cell,
    write_run,
)

CAPTION = "FEASIBLE - not proven optimal, gap 0.23 % (bound 89 963)"
HOSTILE = ["\\input{/etc/passwd}", "R&D", "50%", "a|b", "a\nb", "[bold]x[/bold]", "\x1b[31m"]
FORMULAS = ["=cmd|' /C calc'!A0", "+1", "-2", "@SUM(A1)", "\tx", "\rx", "＝1"]


def sample_files(**changes: Any) -> RunFiles:
    tables = {
        "assignments": pd.DataFrame(
            {
                "asset": ["thaad", "=cmd|' /C calc'!A0"],
                "units": [2, 3],
                "personnel": [95.5, 1 / 3],
            }
        ),
        "coverage": pd.DataFrame(
            {
                "theatre": ["guam", "R&D | 50%"],
                "provided": [1.0, 2.5],
                "shortfall": [0.0, math.nan],
            }
        ),
    }
    summary = {
        "status": "feasible",
        "objective": 1.5,
        "gap": math.nan,
        "best_bound": math.inf,
        "seconds": {"solve": np.float64(0.25), "write": -math.inf},
        "rows": np.int64(3),
        "tables": ["assignments", "coverage"],
    }
    fields: dict[str, Any] = {
        "tables": tables,
        "summary": summary,
        "texts": {"resolved_inputs.yaml": "budget_musd: 1200\n"},
        "caption": CAPTION,
    }
    return RunFiles(**{**fields, **changes})


EXPECTED = {
    "assignments.csv",
    "assignments.md",
    "assignments.tex",
    "coverage.csv",
    "coverage.md",
    "coverage.tex",
    "summary.json",
    "resolved_inputs.yaml",
}


def snapshot(root: Path) -> dict[str, str]:
    """Every entry under root (symlinks not followed) with its kind and content."""
    found: dict[str, str] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            rel = str(path.relative_to(root))
            if path.is_symlink():
                found[rel] = "link:" + os.readlink(path)
            elif path.is_dir():
                found[rel] = "dir"
            else:
                found[rel] = path.read_text(encoding="utf-8", errors="replace")
    return found


def temps(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name.startswith(".tmp-"))


def with_first_run(tmp_path: Path) -> Path:
    """A results folder holding one complete run that ``latest`` points at."""
    results = tmp_path / "results"
    write_run(results / "first", sample_files())
    return results


# --- complete folders ------------------------------------------------------------------


def test_complete_folder_written(tmp_path: Path) -> None:
    results = tmp_path / "results"  # missing parent is created
    final = write_run(results / "run1", sample_files())
    assert final == results / "run1"
    assert {p.name for p in final.iterdir()} == EXPECTED
    summary = json.loads((final / "summary.json").read_text(encoding="utf-8"))
    assert summary["gap"] is None and summary["best_bound"] is None
    assert summary["seconds"]["solve"] == 0.25  # non-finite 'write' replaced by the measured time
    assert 0 <= summary["seconds"]["write"] < 60
    assert summary["rows"] == 3
    text = (final / "summary.json").read_text(encoding="utf-8")
    assert text == json.dumps(summary, sort_keys=True, indent=2) + "\n"
    assert (final / "resolved_inputs.yaml").read_text(encoding="utf-8") == "budget_musd: 1200\n"
    assert os.readlink(results / "latest") == "run1"  # relative: the folder can be moved
    assert (results / "latest").resolve() == final.resolve()
    assert temps(results) == []

    write_run(results / "run2", sample_files())
    assert os.readlink(results / "latest") == "run2"
    assert temps(results) == []


def test_latest_left_alone_when_not_requested(tmp_path: Path) -> None:
    results = with_first_run(tmp_path)
    write_run(results / "diagnostic", sample_files(tables={}), update_latest=False)
    assert os.readlink(results / "latest") == "first"
    assert {p.name for p in (results / "diagnostic").iterdir()} == {
        "summary.json",
        "resolved_inputs.yaml",
    }


def test_byte_identical_output(tmp_path: Path) -> None:
    a = write_run(tmp_path / "a", sample_files(), update_latest=False)
    b = write_run(tmp_path / "b", sample_files(), update_latest=False)
    for name in EXPECTED - {"summary.json"}:  # timings live only in summary.json
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


# --- 45: existing target -------------------------------------------------------------


@pytest.mark.parametrize("kind", ["empty dir", "non-empty dir", "file", "dangling symlink"])
def test_r45_existing_target_refused_before_writing(tmp_path: Path, kind: str) -> None:
    results = with_first_run(tmp_path)
    target = results / "run"
    if kind == "empty dir":
        target.mkdir()
    elif kind == "non-empty dir":
        target.mkdir()
        (target / "keep.txt").write_text("mine", encoding="utf-8")
    elif kind == "file":
        target.write_text("mine", encoding="utf-8")
    else:
        target.symlink_to("nowhere")
    before = snapshot(results)
    with pytest.raises(OutputError) as caught:
        write_run(target, sample_files())
    assert str(caught.value) == (
        f"run folder {target} already exists; choose another --out or remove it"
    )
    assert snapshot(results) == before
    assert os.readlink(results / "latest") == "first"


def test_r45_target_created_during_write_is_not_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = with_first_run(tmp_path)
    target = results / "run"
    real_write = writer._write_file

    def racing_write(path: Path, data: bytes) -> None:
        if not target.exists():  # another process claims the name mid-write
            target.mkdir()
            (target / "theirs.txt").write_text("theirs", encoding="utf-8")
        real_write(path, data)

    monkeypatch.setattr(writer, "_write_file", racing_write)
    with pytest.raises(OutputError, match="already exists"):
        write_run(target, sample_files())
    assert [p.name for p in target.iterdir()] == ["theirs.txt"]
    assert temps(results) == []
    assert os.readlink(results / "latest") == "first"


# --- 43: failures and interrupts while writing ---------------------------------------


class Exploding:
    """A cell that raises when an exporter turns it into text."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def __str__(self) -> str:
        raise self.exc


@pytest.mark.parametrize("exc", [RuntimeError("boom"), KeyboardInterrupt(), SystemExit(130)])
def test_r43_failing_table_leaves_nothing(tmp_path: Path, exc: BaseException) -> None:
    results = with_first_run(tmp_path)
    before = snapshot(results)
    bad = pd.DataFrame({"asset": ["ok", Exploding(exc)], "units": [1, 2]})
    files = sample_files(tables={"assignments": sample_files().tables["assignments"], "bad": bad})
    with pytest.raises(type(exc)):
        write_run(results / "run", files)
    assert snapshot(results) == before


@pytest.mark.parametrize(
    "exc",
    [OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)), KeyboardInterrupt(), SystemExit(1)],
    ids=["ENOSPC", "KeyboardInterrupt", "SystemExit"],
)
def test_r43_failure_mid_write_removes_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exc: BaseException
) -> None:
    results = with_first_run(tmp_path)
    before = snapshot(results)
    real_write = writer._write_file
    written: list[Path] = []

    def failing_write(path: Path, data: bytes) -> None:
        if len(written) == 3:
            assert path.parent.name.startswith(".tmp-run-")  # really mid-write
            assert len(list(path.parent.iterdir())) == 3
            raise exc
        real_write(path, data)
        written.append(path)

    monkeypatch.setattr(writer, "_write_file", failing_write)
    expected = OutputError if isinstance(exc, OSError) else type(exc)
    with pytest.raises(expected) as caught:
        write_run(results / "run", sample_files())
    if isinstance(exc, OSError):
        message = str(caught.value)
        assert message.startswith(str(results / "run") + os.sep)
        assert message.endswith(": No space left on device")
    assert snapshot(results) == before


@pytest.mark.parametrize("exc", [OSError(errno.EIO, "Input/output error"), KeyboardInterrupt()])
def test_r43_failure_while_pointing_latest_rolls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exc: BaseException
) -> None:
    results = with_first_run(tmp_path)
    before = snapshot(results)

    def failing_point(parent: Path, run_name: str) -> None:
        assert (parent / run_name / "summary.json").exists()  # the rename had happened
        raise exc

    monkeypatch.setattr(writer, "_point_latest", failing_point)
    with pytest.raises(OutputError if isinstance(exc, OSError) else KeyboardInterrupt):
        write_run(results / "run", sample_files())
    assert snapshot(results) == before


# --- 11: permission errors -----------------------------------------------------------


@pytest.mark.skipif(
    hasattr(os, "geteuid") and os.geteuid() == 0,
    reason="root ignores directory permissions; see the monkeypatched EACCES tests",
)
def test_r11_unwritable_parent(tmp_path: Path) -> None:
    results = tmp_path / "results"
    results.mkdir()
    results.chmod(0o500)
    try:
        with pytest.raises(OutputError, match="Permission denied"):
            write_run(results / "run", sample_files())
        assert list(results.iterdir()) == []
    finally:
        results.chmod(0o700)


def _denied(*args: object, **kwargs: object) -> Any:
    raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))


@pytest.mark.parametrize("target", ["rename", "open"])
def test_r11_permission_denied_simulated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: str
) -> None:
    results = with_first_run(tmp_path)
    before = snapshot(results)
    if target == "rename":
        monkeypatch.setattr(os, "rename", _denied)  # the same module object writer uses
    else:
        monkeypatch.setattr(writer, "open", _denied, raising=False)
    with pytest.raises(OutputError, match=r": Permission denied$"):
        write_run(results / "run", sample_files())
    monkeypatch.undo()
    assert snapshot(results) == before


def test_latest_that_is_a_real_folder_is_refused_before_writing(tmp_path: Path) -> None:
    (tmp_path / "latest").mkdir()
    with pytest.raises(OutputError, match="not a symlink"):
        write_run(tmp_path / "run", sample_files())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest"]


@pytest.mark.parametrize("name", ["", "..", "a/b", "../evil.yaml", "c\\d", "nul\0"])
def test_unsafe_text_names_rejected_before_writing(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="plain relative file name"):
        write_run(tmp_path / "results" / "run", sample_files(texts={name: "x"}))
    assert not (tmp_path / "results").exists()


def test_unsafe_table_name_and_clashing_names_rejected(tmp_path: Path) -> None:
    df = pd.DataFrame({"a": [1]})
    with pytest.raises(ValueError, match="plain relative file name"):
        write_run(tmp_path / "run", sample_files(tables={"../x": df}))
    with pytest.raises(ValueError, match=r"summary\.json"):
        write_run(tmp_path / "run", sample_files(texts={"summary.json": "{}"}))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", [".tmp-run", "latest", ".."])
def test_unusable_run_names(tmp_path: Path, name: str) -> None:
    with pytest.raises(OutputError):
        write_run(tmp_path / name, sample_files())


# --- 44: stale temp folders ----------------------------------------------------------


def test_r44_clean_stale_temps_removes_only_temp_folders(tmp_path: Path) -> None:
    results = with_first_run(tmp_path)
    stale = results / ".tmp-run-0a1b2c3d"
    (stale / "deep").mkdir(parents=True)
    (stale / "deep" / "coverage.csv").write_text("half", encoding="utf-8")
    (results / ".tmp-other-ffff").mkdir()
    (results / ".tmp-file").write_text("not ours", encoding="utf-8")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_text("keep", encoding="utf-8")
    (results / ".tmp-link").symlink_to(outside)
    (results / ".rejected-run").mkdir()
    before = snapshot(results)

    removed = clean_stale_temps(results, min_age_s=0)

    assert removed == [results / ".tmp-other-ffff", stale]
    after = snapshot(results)
    gone = (".tmp-run-0a1b2c3d", ".tmp-other-ffff")
    assert after == {k: v for k, v in before.items() if not k.startswith(gone)}
    assert (outside / "precious.txt").read_text(encoding="utf-8") == "keep"
    assert os.readlink(results / "latest") == "first"


def test_r44_clean_stale_temps_spares_a_live_writer(tmp_path: Path) -> None:
    live = tmp_path / ".tmp-run-live"
    live.mkdir()
    fd = os.open(live, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # what write_run holds while it writes
        assert clean_stale_temps(tmp_path, min_age_s=0) == []
        assert live.is_dir()
    finally:
        os.close(fd)
    assert clean_stale_temps(tmp_path, min_age_s=0) == [live]


def test_r44_cleaner_started_during_a_write_leaves_it_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = writer._write_file
    removed: list[Path] = []

    def write_while_another_run_starts(path: Path, data: bytes) -> None:
        removed.extend(clean_stale_temps(path.parent.parent))
        real_write(path, data)

    monkeypatch.setattr(writer, "_write_file", write_while_another_run_starts)
    final = write_run(tmp_path / "run", sample_files())
    assert removed == []
    assert {p.name for p in final.iterdir()} == EXPECTED


def test_r44_a_fresh_temp_folder_is_spared_until_it_is_old(tmp_path: Path) -> None:
    fresh = tmp_path / ".tmp-run-fresh"
    fresh.mkdir()  # no lock yet: a writer between its mkdir and its flock
    assert clean_stale_temps(tmp_path) == []
    an_hour_ago = time.time() - 3600
    os.utime(fresh, (an_hour_ago, an_hour_ago))
    assert clean_stale_temps(tmp_path) == [fresh]


def test_r44_cleaner_between_mkdir_and_lock_leaves_the_writer_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race seen in CI: four runs written into one folder at once, one run's
    cleaner took another's temp folder before it was locked ("runs: No such file")."""
    real_mkdir = os.mkdir
    removed: list[Path] = []

    def mkdir_then_another_run_cleans(path: Any, *args: Any, **kwargs: Any) -> None:
        real_mkdir(path, *args, **kwargs)
        if Path(path).name.startswith(".tmp-"):
            removed.extend(clean_stale_temps(Path(path).parent))

    monkeypatch.setattr(writer.os, "mkdir", mkdir_then_another_run_cleans)
    final = write_run(tmp_path / "results" / "run", sample_files())
    assert removed == []
    assert {p.name for p in final.iterdir()} == EXPECTED


def test_r44_clean_stale_temps_missing_root(tmp_path: Path) -> None:
    assert clean_stale_temps(tmp_path / "missing") == []


# --- 47: formula injection in CSV ----------------------------------------------------


@pytest.mark.parametrize("text", [*FORMULAS, "-5", "\0x", "＠x", "＋1", "－1"])
def test_r47_neutralise_cell_text(text: str) -> None:
    assert neutralise_cell(text) == "'" + text


@pytest.mark.parametrize(
    "value", [-5, -2.5, True, np.int64(-3), np.float64(-0.5), np.bool_(True), None, math.nan]
)
def test_r47_numbers_pass_unchanged(value: object) -> None:
    assert neutralise_cell(value) is value


@pytest.mark.parametrize("text", ["", "guam", "'=already", " =x", "a=b", "5"])
def test_r47_harmless_text_unchanged(text: str) -> None:
    assert neutralise_cell(text) == text


def test_r47_csv_neutralises_text_and_keeps_numbers(tmp_path: Path) -> None:
    names = [*FORMULAS, "-5", "guam", "a\r\nb"]
    n = len(names)
    df = pd.DataFrame(
        {
            "asset": names,
            "units": list(range(-3, n - 3)),
            "cost": [1 / 3, -0.1, 1e-300, 2.5e20, -7.0] + [0.1 + 0.2] * (n - 5),
            "mixed": pd.Series([-1, "=x", 2.5, None, "ok"] + ["y"] * (n - 5), dtype=object),
        }
    )
    df = df.rename(columns={"mixed": "=HYPERLINK(x)"})
    text = csv_text(df)
    back = pd.read_csv(io.StringIO(text), keep_default_na=False)
    assert list(back.columns) == ["asset", "units", "cost", "'=HYPERLINK(x)"]
    assert back["asset"].tolist() == ["'" + t for t in FORMULAS] + ["'-5", "guam", "a\r\nb"]
    assert back["units"].dtype == np.int64
    assert back["cost"].dtype == np.float64
    assert back["units"].tolist() == df["units"].tolist()
    assert back["cost"].tolist() == df["cost"].tolist()  # exact round trip
    assert back["'=HYPERLINK(x)"].tolist()[:5] == ["-1", "'=x", "2.5", "", "ok"]
    for line in text.splitlines()[1:]:
        assert not line.startswith(tuple("=+-@"))


def test_r47_csv_without_carriage_returns_uses_minimal_quoting() -> None:
    df = pd.DataFrame({"asset": ["guam", "a,b", "=1"], "units": [1, 2, 3]})
    assert csv_text(df) == 'asset,units\nguam,1\n"a,b",2\n\'=1,3\n'


# --- 48: LaTeX and Markdown metacharacters -------------------------------------------


def hostile_frame() -> pd.DataFrame:
    return pd.DataFrame({"name": HOSTILE, "units": range(len(HOSTILE))})


def test_r48_latex_escapes_names() -> None:
    tex = latex_table(hostile_frame(), "gap 5% & more_\\x", "coverage")
    for escaped in [
        "\\textbackslash{}input\\{/etc/passwd\\} & 0 \\\\",
        "R\\&D & 1 \\\\",
        "50\\% & 2 \\\\",
        "a\\textbar{}b & 3 \\\\",
        "a b & 4 \\\\",
        "{[}bold{]}x{[}/bold{]} & 5 \\\\",
        "\\textbackslash{}x1b{[}31m & 6 \\\\",
        "\\caption{gap 5\\% \\& more\\_\\textbackslash{}x}",
        "\\label{tab:coverage}",
        "\\begin{tabular}{lr}",
        "\\toprule",
        "\\midrule",
        "\\bottomrule",
    ]:
        assert escaped in tex
    assert "\\input" not in tex and "\x1b" not in tex
    assert tex.startswith("% needs \\usepackage{booktabs}\n\\begin{table}")
    assert tex.endswith("\\end{table}\n")
    assert_latex_safe(tex, 2, len(HOSTILE))


def test_r48_markdown_escapes_names() -> None:
    md = markdown_table(hostile_frame(), "status *x* [y] \x1b")
    lines = md.split("\n")
    assert lines[0] == "*status \\*x\\* \\[y\\] \\\\x1b*"
    assert lines[1] == ""
    assert lines[2:4] == ["| name | units |", "| --- | ---: |"]
    assert lines[4:-1] == [
        "| \\input{/etc/passwd} | 0 |",
        "| R&D | 1 |",
        "| 50% | 2 |",
        "| a\\|b | 3 |",
        "| a b | 4 |",
        "| [bold]x[/bold] | 5 |",
        "| \\x1b[31m | 6 |",
    ]
    assert_markdown_safe(md, 2, len(HOSTILE))
    assert [row[0] for row in rendered_cells(md)[1:]][3] == "a|b"  # one cell, pipe kept


def test_r48_markdown_blocks_raw_html() -> None:
    md = markdown_table(pd.DataFrame({"n": ["<script>x</script>", "\\<b>"]}), "")
    assert "<script>" not in md and "<b>" not in md
    assert "| &lt;script>x&lt;/script> |" in md


def test_number_formatting_and_alignment() -> None:
    values = [0.23, 89963.4567, 1234567.89, 0.000123456789, 1.5e-7, 2e15, -0.0, math.nan, 3.0]
    df = pd.DataFrame(
        {
            "x": values,
            "n": range(len(values)),
            "flag": [True] * len(values),
            "text": ["a"] * len(values),
        }
    )
    md = markdown_table(df, "")
    expected = ["0.23", "89963.5", "1234568", "0.000123457", "1.5e-07", "2e+15", "0", "", "3"]
    rows = md.split("\n")[2:-1]
    assert md.split("\n")[1] == "| ---: | ---: | --- | --- |"
    assert [row.split(" | ")[0].removeprefix("| ").strip() for row in rows] == expected
    assert "\\begin{tabular}{rrll}" in latex_table(df, "", "t")
    assert "| inf |" in markdown_table(pd.DataFrame({"x": [math.inf]}), "")


def test_empty_tables_still_render() -> None:
    empty_rows = pd.DataFrame({"asset": pd.Series([], dtype=str), "units": []})
    assert markdown_table(empty_rows, "c").endswith("| asset | units |\n| --- | ---: |\n")
    assert "\\midrule\n    \\bottomrule" in latex_table(empty_rows, "c", "t")
    no_columns = pd.DataFrame()
    assert "no columns" in markdown_table(no_columns, "c")
    assert "\\begin{tabular}{l}" in latex_table(no_columns, "c", "t")
    assert csv_text(empty_rows) == "asset,units\n"


# --- properties ----------------------------------------------------------------------

_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")
_TEX_ESCAPE = re.compile(
    r"\\text(?:backslash|asciitilde|asciicircum|less|greater|bar)\{\}|\\[&%$#_{}]|\{[\[\]*]\}"
)
_TEX_SPECIAL = set("\\{}$&#%_~^[]*<>|")
_CONTROL = {chr(c) for c in [*range(0x20), 0x7F, *range(0x80, 0xA0)]}


def assert_markdown_safe(md: str, ncols: int, nrows: int) -> None:
    """Cmark-gfm splits cells on every | not directly after a backslash."""
    assert md.endswith("\n")
    lines = md[:-1].split("\n")
    assert len(lines) == 2 + 2 + nrows
    for line in lines[2:]:
        assert len(_UNESCAPED_PIPE.findall(line)) == ncols + 1, line
        assert line.startswith("| ") and line.endswith(" |")
    assert not _CONTROL & set(md.replace("\n", ""))


def _assert_tex_text(text: str, ampersands: int) -> None:
    bare = _TEX_ESCAPE.sub("", text)
    assert bare.count("&") == ampersands, text
    assert not (_TEX_SPECIAL - {"&"}) & set(bare), text
    assert not _CONTROL & set(text), text


def assert_latex_safe(tex: str, ncols: int, nrows: int) -> None:
    """Every line keeps its structural role; in text only known escapes remain."""
    lines = tex.split("\n")
    assert len(lines) == 9 + nrows + 3 + 1
    caption = lines[3]
    assert caption.startswith("  \\caption{") and caption.endswith("}")
    _assert_tex_text(caption[len("  \\caption{") : -1], 0)
    for line in [lines[7], *lines[9 : 9 + nrows]]:
        assert line.startswith("    ") and line.endswith(" \\\\"), line
        _assert_tex_text(line[4:-3], ncols - 1)
    assert lines[9 + nrows :] == ["    \\bottomrule", "  \\end{tabular}", "\\end{table}", ""]


text_frames = st.integers(min_value=1, max_value=4).flatmap(
    lambda ncols: st.tuples(
        st.lists(st.text(), min_size=ncols, max_size=ncols),
        st.lists(st.lists(st.text(), min_size=ncols, max_size=ncols), max_size=5),
    )
)


@settings(max_examples=300, deadline=None)
@given(frame=text_frames, caption=st.text())
def test_r48_property_markdown_and_latex_structure(
    frame: tuple[list[str], list[list[str]]], caption: str
) -> None:
    names, rows = frame
    df = pd.DataFrame(rows, columns=names, dtype=object)
    assert_markdown_safe_with_caption(markdown_table(df, caption), caption, len(names), len(rows))
    assert_latex_safe(latex_table(df, caption, "t"), len(names), len(rows))


def assert_markdown_safe_with_caption(md: str, caption: str, ncols: int, nrows: int) -> None:
    if md.startswith("*"):
        title, blank, rest = md.split("\n", 2)
        assert title.endswith("*") and len(title) > 2 and blank == ""
        md = "x\n\n" + rest
    else:
        md = "x\n\n" + md
    assert_markdown_safe(md, ncols, nrows)


def rendered_cells(md: str) -> list[list[str]]:
    """Cells per row as an independent CommonMark+table parser sees them; no raw HTML."""
    markdown_it = pytest.importorskip("markdown_it")
    tokens = markdown_it.MarkdownIt("commonmark").enable("table").parse(md)
    rows: list[list[str]] = []
    for token in tokens:
        if token.type == "tr_open":
            rows.append([])
        elif token.type == "inline" and rows and token.level > 2:
            rows[-1].append(token.content)
        for child in [token, *(token.children or [])]:
            assert child.type not in ("html_inline", "html_block"), md
    return rows


@settings(max_examples=300, deadline=None)
@given(frame=text_frames, caption=st.text())
def test_r48_property_markdown_cells_as_a_renderer_sees_them(
    frame: tuple[list[str], list[list[str]]], caption: str
) -> None:
    names, rows = frame
    df = pd.DataFrame(rows, columns=names, dtype=object)
    cells = rendered_cells(markdown_table(df, caption))
    assert len(cells) == 1 + len(rows)
    assert all(len(row) == len(names) for row in cells)


@settings(max_examples=300, deadline=None)
@given(texts=st.lists(st.text(), min_size=1, max_size=6))
def test_r47_property_csv_round_trip(texts: list[str]) -> None:
    df = pd.DataFrame({"name": texts, "units": range(len(texts))})
    back = pd.read_csv(io.StringIO(csv_text(df)), dtype={"name": str}, keep_default_na=False)
    assert back["name"].tolist() == [neutralise_cell(t) for t in texts]
    assert back["units"].tolist() == list(range(len(texts)))
    for value in back["name"]:
        assert value[:1] not in set("=+-@\t\r\0＝＋－＠")


@given(value=st.one_of(st.integers(), st.floats(), st.booleans()))
def test_r47_property_numbers_unchanged(value: object) -> None:
    assert neutralise_cell(value) is value
