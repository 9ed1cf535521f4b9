"""RELIABILITY.md items checked end to end: the real CLI, on real YAML files.

``test_rNN`` names refer to the stable item numbers in RELIABILITY.md. Every test runs
``python -m posture`` in a subprocess with the working directory set to a fresh
folder, so a stray ``results/`` would appear there, and checks the exit code, the
exact ``file:line:col:`` location and key path, the substance of the message, and
that nothing was written (for input errors) or that the run folder is what the
exit-code table promises.

Studies are the tiny fixture with one or two lines edited, so every expected
location is computed from the text actually written (``pos``), 1-based.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from helpers import FIXTURES, run_cli

TINY = (FIXTURES / "tiny.yaml").read_text(encoding="utf-8")
LOCATED = re.compile(r"^[^\s:][^:]*:\d+:\d+: ")
SUMMARY = re.compile(r"^\d+ errors? in the inputs; nothing was written\.$")
FORMULA_STARTS = tuple("=+-@\t\r\0＝＋－＠")


# --- helpers --------------------------------------------------------------------------


def edit(*changes: tuple[str, str], text: str = TINY) -> str:
    """The tiny study with each ``old`` text (which must occur exactly once) replaced."""
    for old, new in changes:
        assert text.count(old) == 1, f"fixture text {old!r} is not unique"
        text = text.replace(old, new)
    return text


def pos(text: str, needle: str, nth: int = 1, offset: int = 0) -> str:
    """``line:col`` (1-based) of the ``nth`` occurrence of ``needle``, plus ``offset`` chars."""
    start = -1
    for _ in range(nth):
        start = text.index(needle, start + 1)
    start += offset
    line = text.count("\n", 0, start) + 1
    column = start - (text.rfind("\n", 0, start) + 1) + 1
    return f"{line}:{column}"


def line_of(text: str, needle: str) -> int:
    return int(pos(text, needle).split(":")[0])


def tree(root: Path) -> set[str]:
    """Every path under ``root`` (symlinks with their target), not following links."""
    found = set()
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            rel = str(path.relative_to(root))
            found.add(f"{rel} -> {os.readlink(path)}" if path.is_symlink() else rel)
    return found


@dataclass
class Outcome:
    proc: subprocess.CompletedProcess[str]
    root: Path
    before: set[str]

    @property
    def code(self) -> int:
        return self.proc.returncode

    @property
    def err(self) -> str:
        return self.proc.stderr

    @property
    def out(self) -> str:
        return self.proc.stdout

    def show(self) -> str:
        return f"exit {self.code}\n--- stdout\n{self.out}\n--- stderr\n{self.err}"


def run(root: Path, *args: str, files: dict[str, str | bytes] | None = None) -> Outcome:
    """Write ``files`` under ``root``, then run the CLI there and keep a before-snapshot."""
    for name, content in (files or {}).items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="")
    before = tree(root)
    return Outcome(run_cli(*args, cwd=root), root, before)


def solve(root: Path, name: str, text: str, *args: str) -> Outcome:
    return run(root, "solve", name, *args, files={name: text})


def assert_clean_stderr(outcome: Outcome) -> None:
    assert "Traceback" not in outcome.err, outcome.show()
    assert "internal error" not in outcome.err, outcome.show()


def expect_input_error(outcome: Outcome, *starts: str) -> list[str]:
    """Exit 3, no traceback, nothing written, every message located, each ``start`` shown.

    Each of ``starts`` must begin one stderr line (``file:line:col: key.path: message``).
    Returns the message lines.
    """
    assert outcome.code == 3, outcome.show()
    assert_clean_stderr(outcome)
    assert tree(outcome.root) == outcome.before, "files were written: " + str(
        tree(outcome.root) - outcome.before
    )
    assert not (outcome.root / "results").exists()
    lines = [ln for ln in outcome.err.splitlines() if ln.strip() and not ln.startswith("    ")]
    assert lines and SUMMARY.match(lines[-1]), outcome.show()
    messages = lines[:-1]
    for message in messages:
        assert LOCATED.match(message), f"message without file:line:col: {message!r}"
    for start in starts:
        assert any(m.startswith(start) for m in messages), f"missing {start!r}\n{outcome.show()}"
    return messages


def csv_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


def is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


# --- 1-3: duplicate, unknown and missing keys --------------------------------------------


def test_r01_duplicate_key(tmp_path: Path) -> None:
    text = edit(
        ("    move_cost_musd: 5.0\n", "    move_cost_musd: 5.0\n    move_cost_musd: 0.0\n"),
        (
            "  middle_east:\n    amd: {floor: 0.0",
            "  middle_east:\n    amd: {floor: 0.0, floor: 9.0",
        ),
    )
    out = solve(tmp_path, "dup.yaml", text)
    messages = expect_input_error(
        out,
        f"dup.yaml:{pos(text, 'move_cost_musd: 0.0')}: assets.patriot.move_cost_musd: "
        f"duplicate key 'move_cost_musd' (first defined at line {line_of(text, 'move_cost_musd: 5.0')})",
        f"dup.yaml:{pos(text, 'floor: 9.0')}: requirements.middle_east.amd.floor: "
        f"duplicate key 'floor' (first defined at line {line_of(text, 'floor: 9.0')})",
    )
    assert len(messages) == 2


def test_r02_unknown_keys_all_listed(tmp_path: Path) -> None:
    text = edit(
        ("    inventory: {korea: 4", "    inventry: {korea: 4"),
        (
            "objective:",
            "basing:\n  korea:\n    capcity: {runway: 10.0}\n    source: Test basing\nobjective:",
        ),
    )
    out = solve(tmp_path, "typo.yaml", text)
    expect_input_error(
        out,
        f"typo.yaml:{pos(text, 'inventry:')}: assets.patriot.inventry: unknown key; "
        "did you mean 'inventory'?",
        f"typo.yaml:{pos(text, 'capcity:')}: basing.korea.capcity: unknown key; "
        "did you mean 'capacity'?",
    )


def test_r03_missing_required_key_points_at_enclosing_mapping(tmp_path: Path) -> None:
    text = edit(
        ("    category: air_defence_battery\n", ""),
        (
            '  korea: {name: Korea, priority: 2.0, source: "Test fixture (illustrative)."}',
            "  korea: {name: Korea, priority: 2.0}",
        ),
    )
    out = solve(tmp_path, "miss.yaml", text)
    expect_input_error(
        out,
        # A block mapping starts at its first key; a flow mapping at its brace.
        f"miss.yaml:{pos(text, 'name: Patriot battery')}: assets.patriot.category: "
        "required key is missing",
        f"miss.yaml:{pos(text, '{name: Korea, priority')}: theatres.korea.source: "
        "required key is missing",
    )


# --- 4-10: YAML 1.1 traps, types, numbers ----------------------------------------------


@pytest.mark.parametrize("word", ["yes", "off", "y", "NO"])
def test_r04_yaml11_boolean_word_for_boolean_field(tmp_path: Path, word: str) -> None:
    text = edit(("    move_cost_musd: 5.0\n", f"    move_cost_musd: 5.0\n    movable: {word}\n"))
    out = solve(tmp_path, "bool.yaml", text)
    expect_input_error(
        out,
        f"bool.yaml:{pos(text, 'movable: ', offset=9)}: assets.patriot.movable: "
        f"expected true or false, got the string '{word}'",
    )


@dataclass
class Run:
    """A solve shared by several tests (it is the slow part)."""

    outcome: Outcome
    text: str
    folder: Path


STRINGS_TEXT = edit(
    ("study:\n  name: Tiny two-theatre study", "study:\n  name: no\n  description: 007"),
    ("    name: Patriot battery", "    name: NO"),
    ("    name: Cheongung-II battery", "    name: 0755"),
    (
        "  amd: {name: Air and missile defence, unit: battery-equivalent}",
        "  amd: {name: Air and missile defence, unit: 1:30}",
    ),
)


@pytest.fixture(scope="module")
def strings_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    root = tmp_path_factory.mktemp("strings")
    outcome = solve(root, "words.yaml", STRINGS_TEXT, "--out", "results/run")
    return Run(outcome, STRINGS_TEXT, root / "results" / "run")


def test_r04_yaml11_words_in_text_fields_warn_and_solve(strings_run: Run) -> None:
    out, text = strings_run.outcome, strings_run.text
    assert out.code == 0, out.show()
    assert_clean_stderr(out)
    for needle, path, word in (
        ("no\n  description", "study.name", "no"),
        ("NO\n", "assets.patriot.name", "NO"),
    ):
        start = (
            f"words.yaml:{pos(text, needle)}: {path}: warning: '{word}' is read as the "
            f"string '{word}' (YAML 1.2), not a boolean"
        )
        assert any(ln.startswith(start) for ln in out.err.splitlines()), out.show()
    rows = csv_rows(strings_run.folder / "assignments.csv")
    assert rows and {r["asset_name"] for r in rows} == {"NO"}
    resolved = yaml.safe_load((strings_run.folder / "resolved_inputs.yaml").read_text())
    assert resolved["study"]["name"] == "no"


def test_r05_quoted_number_is_not_a_number(tmp_path: Path) -> None:
    text = edit(("    move_cost_musd: 5.0", '    move_cost_musd: "1200"'))
    out = solve(tmp_path, "types.yaml", text)
    expect_input_error(
        out,
        f"types.yaml:{pos(text, 'move_cost_musd: ', offset=16)}: assets.patriot.move_cost_musd: "
        "expected a number, got the string '1200'",
    )


def test_r06_float_or_bool_for_integer_or_number(tmp_path: Path) -> None:
    text = edit(
        ("inventory: {korea: 4, conus: 1}", "inventory: {korea: 10.5, conus: true}"),
        ("    personnel_per_unit: 90.0", "    personnel_per_unit: true"),
        ("    available: 3", "    available: yes"),
    )
    out = solve(tmp_path, "types.yaml", text)
    messages = expect_input_error(
        out,
        f"types.yaml:{pos(text, '10.5')}: assets.patriot.inventory.korea: "
        "expected a whole number, got the number 10.5",
        f"types.yaml:{pos(text, 'true}')}: assets.patriot.inventory.conus: "
        "expected a whole number, got the boolean true",
        f"types.yaml:{pos(text, 'true', 2)}: assets.patriot.personnel_per_unit: "
        "expected a number, got the boolean true",
        f"types.yaml:{pos(text, 'yes')}: replacement_sources.cheongung.available: "
        "expected a whole number, got the string 'yes'",
    )
    assert len(messages) == 4


@pytest.mark.parametrize(
    ("written", "shown"), [(".inf", "inf"), ("-.inf", "-inf"), (".nan", "nan"), ("1e400", "inf")]
)
def test_r07_non_finite_numbers(tmp_path: Path, written: str, shown: str) -> None:
    text = edit(("    move_cost_musd: 5.0", f"    move_cost_musd: {written}"))
    out = solve(tmp_path, "nonfinite.yaml", text)
    expect_input_error(
        out,
        f"nonfinite.yaml:{pos(text, 'move_cost_musd: ', offset=16)}: "
        "assets.patriot.move_cost_musd: "
        f"must be a finite number (got {shown})",
    )


@pytest.mark.parametrize(
    ("old", "new", "value", "message"),
    [
        (
            "    personnel_per_unit: 90.0",
            "    personnel_per_unit: -1",
            "-1",
            "assets.patriot.personnel_per_unit: must be at least 0 (got -1); allowed: 0 to 100,000",
        ),
        (
            "inventory: {korea: 4,",
            "inventory: {korea: -3,",
            "-3",
            "assets.patriot.inventory.korea: must be at least 0 (got -3); allowed: 0 to 1,000,000",
        ),
        (
            "    ratio: 1.0",
            '    ratio: "80%"',
            '"80%"',
            "replacement_rules.korea_backfill.ratio: expected a number, got the string '80%'",
        ),
        (
            "    ratio: 1.0",
            "    ratio: 80%",
            "80%",
            "replacement_rules.korea_backfill.ratio: expected a number, got the string '80%'",
        ),
        (
            "    ratio: 1.0",
            "    ratio: 12.5",
            "12.5",
            "replacement_rules.korea_backfill.ratio: must be at most 10 (got 12.5); allowed: 0 to 10",
        ),
        (
            "objective: {",
            "solver: {mip_rel_gap: 1.5}\nobjective: {",
            "1.5}",
            "solver.mip_rel_gap: must be at most 1 (got 1.5); allowed: 0 to 1",
        ),
    ],
    ids=["negative-float", "negative-int", "quoted-percent", "percent", "ratio-high", "gap-high"],
)
def test_r08_out_of_range_values(
    tmp_path: Path, old: str, new: str, value: str, message: str
) -> None:
    text = edit((old, new))
    out = solve(tmp_path, "range.yaml", text)
    expect_input_error(out, f"range.yaml:{pos(text, value)}: {message}")


def test_r09_leading_zero_and_sexagesimal_rejected_by_numeric_fields(tmp_path: Path) -> None:
    text = edit(
        ("    move_cost_musd: 5.0", "    move_cost_musd: 0755"),
        ("    available: 3", "    available: 007"),
        ("    lead_time_days: 30.0", "    lead_time_days: 1:30"),
    )
    out = solve(tmp_path, "octal.yaml", text)
    expect_input_error(
        out,
        f"octal.yaml:{pos(text, '0755')}: assets.patriot.move_cost_musd: "
        "expected a number, got the string '0755'",
        f"octal.yaml:{pos(text, '007')}: replacement_sources.cheongung.available: "
        "expected a whole number, got the string '007'",
        f"octal.yaml:{pos(text, '1:30')}: replacement_sources.cheongung.lead_time_days: "
        "expected a number, got the string '1:30'",
    )


def test_r09_lookalikes_kept_as_text_in_text_fields(strings_run: Run) -> None:
    out = strings_run.outcome
    assert out.code == 0, out.show()
    [replacement] = csv_rows(strings_run.folder / "replacements.csv")
    assert replacement["source_name"] == "0755"  # never 493
    units = {r["unit"] for r in csv_rows(strings_run.folder / "coverage.csv")}
    assert units == {"1:30"}  # never 90
    resolved = yaml.safe_load((strings_run.folder / "resolved_inputs.yaml").read_text())
    assert resolved["study"]["description"] == "007"  # never 7


def test_r10_yaml11_keys_stay_strings(tmp_path: Path) -> None:
    text = edit(
        ("    move_cost_musd: 5.0\n", "    move_cost_musd: 5.0\n    on: 1\n    1: x\n    NO: y\n")
    )
    out = solve(tmp_path, "keys.yaml", text)
    messages = expect_input_error(
        out,
        *(
            f"keys.yaml:{pos(text, key + ':')}: assets.patriot.{key}: unknown key"
            for key in ("on", "1", "NO")
        ),
    )
    assert len(messages) == 3 and "duplicate" not in out.err
    # YAML 1.1 would turn on/yes/ON into the same boolean key: here they stay apart.
    text = edit(
        ("inventory: {korea: 4, conus: 1}", "inventory: {korea: 4, conus: 1, on: 1, yes: 2, ON: 3}")
    )
    out = solve(tmp_path, "keys2.yaml", text)
    messages = expect_input_error(
        out,
        *(
            f"keys2.yaml:{pos(text, key + ': ')}: assets.patriot.inventory.{key}: "
            f"unknown origin '{key}'"
            for key in ("on", "yes", "ON")
        ),
    )
    assert len(messages) == 3


# --- 11-20: anchors, bombs, size, tags, syntax, empty files, complex keys ----------------


def test_r11_anchors_aliases_and_merge_keys_rejected(tmp_path: Path) -> None:
    text = edit(
        ("  korea: {name: Korea, priority", "  korea: &k {name: Korea, priority"),
        (
            '  middle_east: {name: Middle East, priority: 1.0, source: "Test fixture (illustrative)."}',
            "  middle_east: *k",
        ),
        ("    move_cost_musd: 5.0\n", "    move_cost_musd: 5.0\n    <<: {unit: battery}\n"),
    )
    out = solve(tmp_path, "anchors.yaml", text)
    messages = expect_input_error(
        out,
        f"anchors.yaml:{pos(text, '&k')}: theatres.korea: YAML anchors (&k) are not allowed",
        f"anchors.yaml:{pos(text, '*k')}: theatres.middle_east: YAML aliases (*k) are not allowed",
        f"anchors.yaml:{pos(text, '<<')}: assets.patriot: YAML merge keys (<<) are not allowed",
    )
    assert len(messages) == 3


BILLION_LAUGHS = "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 9) if prev else ', '.join(['lol'] * 9)}]\n"
    for prev, name in zip(["", *"abcdefgh"], "abcdefghi", strict=True)
)


def test_r12_billion_laughs_rejected_fast(tmp_path: Path) -> None:
    assert len(BILLION_LAUGHS.encode()) < 500
    started = time.perf_counter()
    out = solve(tmp_path, "lol.yaml", BILLION_LAUGHS)
    elapsed = time.perf_counter() - started
    messages = expect_input_error(out, "lol.yaml:1:4: a: YAML anchors (&a) are not allowed")
    assert messages[0].startswith("lol.yaml:1:4:")
    assert elapsed < 5.0, f"took {elapsed:.1f} s"
    assert len(out.err) < 50_000  # one line per mark, never an expansion


def test_r14_oversized_file_rejected_before_parsing(tmp_path: Path) -> None:
    # A syntax error on line 1: had the file been parsed, that error would show.
    text = "\tnot: [yaml\n" + ("# " + "x" * 98 + "\n") * 20_001
    size = len(text.encode())
    assert size > 2_000_000
    out = solve(tmp_path, "big.yaml", text)
    messages = expect_input_error(
        out, f"big.yaml:1:1: file is larger than the 2000000-byte limit (got {size} bytes)"
    )
    assert len(messages) == 1 and "syntax" not in out.err


def test_r15_explicit_tags_rejected_nothing_run(tmp_path: Path) -> None:
    text = edit(
        (
            "    move_cost_musd: 5.0",
            '    move_cost_musd: !!python/object/apply:os.system ["touch pwned"]',
        ),
        ("    name: Patriot battery", "    name: !!binary UGF0cmlvdA=="),
        ("    ratio: 1.0", "    ratio: !custom 1.0"),
    )
    out = solve(tmp_path, "tags.yaml", text)
    messages = expect_input_error(
        out,
        f"tags.yaml:{pos(text, '!!python')}: assets.patriot.move_cost_musd: "
        "explicit tag '!!python/object/apply:os.system' is not allowed",
        f"tags.yaml:{pos(text, '!!binary')}: assets.patriot.name: "
        "explicit tag '!!binary' is not allowed",
        f"tags.yaml:{pos(text, '!custom')}: replacement_rules.korea_backfill.ratio: "
        "explicit tag '!custom' is not allowed",
    )
    assert len(messages) == 3
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize(
    ("text", "where", "problem", "excerpt"),
    [
        (
            "study:\n  name: x\ntheatres:\n\tkorea: {}\n",
            "4:1",
            "found character '\\t' that cannot start any token",
            ("     korea: {}", "    ^"),
        ),
        (
            "study:\n  name: x\n theatres: 1\n",
            "3:2",
            "expected <block end>, but found '<block mapping start>'",
            ("     theatres: 1", "     ^"),
        ),
        (
            'study:\n  name: "x\ntheatres: 1\n',
            "4:1",
            "found unexpected end of stream (while scanning a quoted scalar started at line 2, column 9)",
            ('      name: "x', "            ^"),
        ),
        (
            "study:\n  name: x\ntheatres: [a, b\norigins: 1\n",
            "4:8",
            "expected ',' or ']', but got ':' (while parsing a flow sequence started at line 3, column 11)",
            ("    origins: 1", "           ^"),
        ),
    ],
    ids=["tab", "indentation", "unclosed-quote", "unclosed-bracket"],
)
def test_r17_yaml_syntax_errors_located_with_excerpt(
    tmp_path: Path, text: str, where: str, problem: str, excerpt: tuple[str, str]
) -> None:
    out = solve(tmp_path, "syntax.yaml", text)
    expect_input_error(out, f"syntax.yaml:{where}: YAML syntax error: {problem}")
    lines = out.err.splitlines()
    at = next(i for i, ln in enumerate(lines) if ln.startswith("syntax.yaml:"))
    assert tuple(lines[at + 1 : at + 3]) == excerpt, out.show()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "file is empty"),
        ("# only\n# comments\n", "file is empty"),
        ("---\n", "file is empty"),
        ("- korea\n- taiwan\n", "top level must be a mapping, got a list"),
        ("just some text\n", "top level must be a mapping, got a string"),
    ],
    ids=["empty", "comments", "bare-document", "list", "scalar"],
)
def test_r18_empty_or_not_a_mapping(tmp_path: Path, text: str, message: str) -> None:
    out = solve(tmp_path, "empty.yaml", text)
    assert expect_input_error(out, f"empty.yaml:1:1: {message}") == [f"empty.yaml:1:1: {message}"]


def test_r20_complex_and_null_mapping_keys(tmp_path: Path) -> None:
    text = edit(
        (
            "  name: Tiny two-theatre study\n",
            "  name: Tiny two-theatre study\n  ? [a, b]\n  : 1\n  {c: 1}: 2\n  ~: 3\n",
        ),
    )
    out = solve(tmp_path, "keys.yaml", text)
    messages = expect_input_error(
        out,
        *(
            f"keys.yaml:{pos(text, key)}: study: mapping keys must be plain strings"
            for key in ("[a, b]", "{c: 1}", "~: 3")
        ),
    )
    assert len(messages) == 3


# --- 22-23: ids and references -----------------------------------------------------------


def test_r22_duplicate_asset_id_is_duplicate_key(tmp_path: Path) -> None:
    second = (
        "  patriot:\n    name: Patriot again\n    category: air_defence_battery\n"
        "    unit: battery\n    inventory: {conus: 2}\n    personnel_per_unit: 90.0\n"
        "    source: Test duplicate\nrequirements:"
    )
    text = edit(("requirements:", second))
    out = solve(tmp_path, "dupids.yaml", text)
    messages = expect_input_error(
        out,
        f"dupids.yaml:{pos(text, 'patriot:', 2)}: assets.patriot: duplicate key 'patriot' "
        f"(first defined at line {line_of(text, 'patriot:')})",
    )
    assert len(messages) == 1


def test_r23_dangling_references_with_suggestions(tmp_path: Path) -> None:
    text = edit(
        ("inventory: {korea: 4, conus: 1}", "inventory: {korea: 4, conis: 1}"),
        (
            "    contributes: {amd: 1.0}\n    personnel_per_unit: 90.0",
            "    contributes: {amdd: 1.0}\n    destinations: [korea, middle_est]\n"
            "    personnel_per_unit: 90.0",
        ),
    )
    out = solve(tmp_path, "refs.yaml", text)
    messages = expect_input_error(
        out,
        f"refs.yaml:{pos(text, 'conis')}: assets.patriot.inventory.conis: "
        "unknown origin 'conis'; did you mean 'conus'?",
        f"refs.yaml:{pos(text, 'amdd')}: assets.patriot.contributes.amdd: "
        "unknown capability 'amdd'; did you mean 'amd'?",
        f"refs.yaml:{pos(text, 'middle_est')}: assets.patriot.destinations[1]: "
        "unknown theatre 'middle_est'; did you mean 'middle_east'?",
    )
    assert len(messages) == 3


# --- 25-27: overlay files (scenario_files) -----------------------------------------------

OVERLAY_OK = "scenarios:\n  outside_secret:\n    description: A valid overlay outside the folder\n"


def with_scenario_files(*entries: str, text: str = TINY) -> str:
    return text + "scenario_files:\n" + "".join(f"  - {e}\n" for e in entries)


def test_r25_scenario_files_escaping_the_study_folder(tmp_path: Path) -> None:
    entries = [
        "../outside.yaml",
        "/etc/passwd",
        "~/x.yaml",
        "'a\\b.yaml'",
        '"a\\0b.yaml"',
        "x.txt",
        "link.yaml",
        "sub/../../outside.yaml",
    ]
    text = with_scenario_files(*entries)
    (tmp_path / "proj" / "sub").mkdir(parents=True)
    (tmp_path / "proj" / "link.yaml").symlink_to("../outside.yaml")
    # outside.yaml is a valid overlay: only the refusal can make these runs fail.
    files: dict[str, str | bytes] = {"outside.yaml": OVERLAY_OK, "proj/study.yaml": text}
    plain = "must be a plain relative path (no '~', '\\', NUL or leading '/')"
    expected = [
        "scenario file '../outside.yaml' escapes the study folder proj",
        f"scenario file '/etc/passwd' {plain}",
        f"scenario file '~/x.yaml' {plain}",
        "scenario file ",  # the backslash entry, quoted as Python would
        "scenario file ",  # the NUL entry
        "scenario file 'x.txt' must end in .yaml or .yml",
        "scenario file 'link.yaml' escapes the study folder proj",
        "scenario file 'sub/../../outside.yaml' escapes the study folder proj",
    ]
    starts = [
        f"proj/study.yaml:{pos(text, entry, 1)}: scenario_files[{i}]: {message}"
        for i, (entry, message) in enumerate(zip(entries, expected, strict=True))
    ]
    for command in ("solve", "validate"):
        out = run(tmp_path, command, "proj/study.yaml", files=files)
        messages = expect_input_error(out, *starts)
        assert len(messages) == len(entries)
        for i in (3, 4):
            assert plain in messages[i], messages[i]
        assert "outside_secret" not in out.err + out.out


def test_r25_missing_scenario_file_located_at_its_entry(tmp_path: Path) -> None:
    text = with_scenario_files("missing.yaml")
    out = solve(tmp_path, "study.yaml", text)
    expect_input_error(out, f"study.yaml:{pos(text, 'missing.yaml')}: scenario_files[0]: ")


def test_r26_same_overlay_file_listed_twice(tmp_path: Path) -> None:
    text = with_scenario_files("more.yaml", "./more.yaml")
    overlay = "scenarios:\n  extra:\n    description: Extra scenario\n"
    out = run(tmp_path, "solve", "study.yaml", files={"study.yaml": text, "more.yaml": overlay})
    messages = expect_input_error(
        out,
        f"study.yaml:{pos(text, './more.yaml')}: scenario_files[1]: "
        "scenario file './more.yaml' is listed twice",
    )
    assert len(messages) == 1


CYCLE_TEXT = (
    TINY
    + "  a:\n    description: A\n    extends: [b]\n  b:\n    description: B\n    extends: [a]\n"
)


def test_r26_scenario_extends_cycle(tmp_path: Path) -> None:
    text = CYCLE_TEXT
    out = solve(tmp_path, "cycle.yaml", text, "--scenario", "a")
    messages = expect_input_error(
        out,
        f"cycle.yaml:{pos(text, '[b]')}: scenarios.a.extends: scenario 'extends' cycle: "
        f"a (cycle.yaml:{pos(text, '[b]')}) -> b (cycle.yaml:{pos(text, '[a]')}) -> a",
    )
    assert len(messages) == 1
    out = run(tmp_path, "validate", "cycle.yaml")
    expect_input_error(
        out,
        f"cycle.yaml:{pos(text, '[b]')}: scenarios.a.extends: scenario 'extends' cycle: "
        f"a (cycle.yaml:{pos(text, '[b]')}) -> b (cycle.yaml:{pos(text, '[a]')}) -> a",
        f"cycle.yaml:{pos(text, '[a]')}: scenarios.b.extends: scenario 'extends' cycle: "
        f"b (cycle.yaml:{pos(text, '[a]')}) -> a (cycle.yaml:{pos(text, '[b]')}) -> b",
    )


def test_r26_extends_cycle_across_files_names_every_link(tmp_path: Path) -> None:
    text = with_scenario_files(
        "more.yaml", text=TINY + "  a:\n    description: A\n    extends: [b]\n"
    )
    overlay = "# overlay\nscenarios:\n  b:\n    description: B\n    extends: [a]\n"
    out = run(
        tmp_path,
        "solve",
        "study.yaml",
        "--scenario",
        "a",
        files={"study.yaml": text, "more.yaml": overlay},
    )
    [message] = expect_input_error(out, f"study.yaml:{pos(text, '[b]')}: scenarios.a.extends: ")
    assert f"more.yaml:{pos(overlay, '[a]')}" in message


def test_r27_scenario_defined_in_study_and_overlay(tmp_path: Path) -> None:
    text = with_scenario_files("more.yaml")
    overlay = "# overlay\nscenarios:\n  no_rok:\n    description: Defined again\n"
    out = run(tmp_path, "solve", "study.yaml", files={"study.yaml": text, "more.yaml": overlay})
    messages = expect_input_error(
        out,
        f"more.yaml:{pos(overlay, 'no_rok:')}: scenarios.no_rok: scenario 'no_rok' is defined "
        f"twice (first at study.yaml:{pos(text, 'no_rok:')})",
    )
    assert len(messages) == 1


# --- 29-31: magnitudes and infeasibility --------------------------------------------------


def test_r29_implausible_magnitudes_hit_schema_limits(tmp_path: Path) -> None:
    text = edit(
        ("    move_cost_musd: 5.0", "    move_cost_musd: 1e15"),
        (
            "    contributes: {amd: 1.0}\n    personnel_per_unit: 90.0",
            "    contributes: {amd: 2.5e6}\n    personnel_per_unit: 90.0",
        ),
    )
    out = solve(tmp_path, "big.yaml", text)
    messages = expect_input_error(
        out,
        f"big.yaml:{pos(text, '1e15')}: assets.patriot.move_cost_musd: "
        "must be at most 1,000,000 (got 1e+15); allowed: 0 to 1,000,000",
        f"big.yaml:{pos(text, '2.5e6')}: assets.patriot.contributes.amd: "
        "must be at most 10,000 (got 2,500,000); allowed: 0 to 10,000",
    )
    assert len(messages) == 2


def test_r29_coefficient_range_in_one_constraint_is_flagged(tmp_path: Path) -> None:
    decoy = (
        "  decoy:\n    name: Decoy\n    category: enabler\n    unit: battery\n"
        "    inventory: {korea: 1}\n    contributes: {amd: 0.0000001}\n"
        "    personnel_per_unit: 1.0\n    source: Test decoy\nrequirements:"
    )
    text = edit(("requirements:", decoy))
    out = solve(tmp_path, "range.yaml", text, "--out", "results/run")
    assert out.code in (0, 3), out.show()
    assert_clean_stderr(out)
    start = f"range.yaml:{pos(text, '0.0000001')}: assets.decoy.contributes.amd: "
    flagged = [ln for ln in out.err.splitlines() if ln.startswith(start)]
    assert flagged, out.show()
    if out.code == 0:
        assert "warning" in flagged[0]


def test_r30_infeasible_by_construction(tmp_path: Path) -> None:
    text = edit(("amd: {floor: 2.0, target: 4.0", "amd: {floor: 10.0, target: 10.0"))
    out = solve(tmp_path, "inf.yaml", text)
    assert out.code == 4, out.show()
    assert_clean_stderr(out)
    start = (
        f"inf.yaml:{pos(text, '10.0,')}: requirements.korea.amd.floor: floor 10 "
        "battery-equivalent of amd in korea cannot be met"
    )
    [line] = [ln for ln in out.err.splitlines() if ln.startswith(start)]
    assert "at most 8" in line  # 5 patriot + 3 cheongung
    results = tmp_path / "results"
    [run_dir] = list(results.iterdir())  # no latest, no temp folder left behind
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "infeasible" and summary["exit_code"] == 4
    assert any(d.startswith(start) for d in summary["diagnosis"])
    assert not list(run_dir.glob("assignments.*")) and not list(run_dir.glob("coverage.*"))


def test_r31_infeasible_elastic_report_located(tmp_path: Path) -> None:
    # Middle East needs 200 people, but 4 of the 5 Patriot batteries (90 each) are locked
    # in Korea. The pre-solve check ignores locks and passes; the solve and the elastic
    # re-solve find it.
    text = edit(
        ("    move_cost_musd: 5.0\n", "    move_cost_musd: 5.0\n    locked: {korea: 4}\n"),
        ("objective:", "personnel:\n  middle_east: {floor: 200, source: Test floor}\nobjective:"),
    )
    out = solve(tmp_path, "inf.yaml", text)
    assert out.code == 4, out.show()
    assert_clean_stderr(out)
    floor_at = f"inf.yaml:{pos(text, '200,')}: personnel.middle_east.floor: "
    assert any(
        ln.startswith(floor_at) and "floor" in ln[len(floor_at) :] for ln in out.err.splitlines()
    ), out.show()
    results = tmp_path / "results"
    [run_dir] = list(results.iterdir())  # no latest, no temp folder left behind
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "infeasible" and summary["exit_code"] == 4
    report = csv_rows(run_dir / "infeasibility.csv")
    assert f"inf.yaml:{pos(text, '200,')}" in {r["location"] for r in report}
    assert not list(run_dir.glob("assignments.*"))


# --- 37, 45: gap stated, run folder never overwritten -------------------------------------


def test_r37_loosened_gap_stated_in_outputs(tmp_path: Path) -> None:
    out = solve(tmp_path, "tiny.yaml", TINY, "--gap", "0.01", "--quiet")
    assert out.code == 0, out.show()
    assert_clean_stderr(out)
    run_dir = (tmp_path / "results" / "latest").resolve()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["options"]["mip_rel_gap"] == 0.01
    assert summary["best_bound"] is not None and summary["gap"] is not None
    caption = (run_dir / "coverage.md").read_text().splitlines()[0]
    assert "within 0.01 relative gap" in caption and "bound" in caption and "gap" in caption
    assert "within 0.01 relative gap" in out.out


def test_r45_existing_run_folder_untouched(tmp_path: Path) -> None:
    results = tmp_path / "results"
    (results / "r1").mkdir(parents=True)
    (results / "r1" / "keep.txt").write_text("mine")
    (results / "latest").symlink_to("r1")
    out = solve(tmp_path, "tiny.yaml", TINY, "--out", "results/r1")
    assert out.code == 11, out.show()
    assert_clean_stderr(out)
    assert "already exists" in out.err
    assert tree(tmp_path) == out.before  # no temp folder left, latest unchanged
    assert (results / "r1" / "keep.txt").read_text() == "mine"
    assert os.readlink(results / "latest") == "r1"


# --- 47-48: hostile names in every export --------------------------------------------------

FORMULA = "=cmd|' /C calc'!A0"
MARKUP = "\\input{/etc/passwd} & % | [bold]x[/bold]"
HOSTILE_TEXT = edit(
    ("    name: Patriot battery", "    name: \"=cmd|' /C calc'!A0\""),
    ("    name: Cheongung-II battery", '    name: "\\\\input{/etc/passwd} & % | [bold]x[/bold]"'),
    ("unit: battery-equivalent}", 'unit: "@SUM(A1) \\e[31mred\\nline"}'),
)
HOSTILE_OUT = "results/[bold]run"


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    root = tmp_path_factory.mktemp("hostile")
    outcome = solve(root, "hostile.yaml", HOSTILE_TEXT, "--out", HOSTILE_OUT)
    return Run(outcome, HOSTILE_TEXT, root / HOSTILE_OUT)


def test_r47_formula_cells_neutralised_in_csv(hostile_run: Run) -> None:
    out, folder = hostile_run.outcome, hostile_run.folder
    assert out.code == 0, out.show()
    assert_clean_stderr(out)
    assignments = csv_rows(folder / "assignments.csv")
    assert assignments and {r["asset_name"] for r in assignments} == {"'" + FORMULA}
    assert all(r["units"].lstrip("-").isdigit() for r in assignments)  # numbers stay numbers
    [replacement] = csv_rows(folder / "replacements.csv")
    assert replacement["source_name"] == MARKUP  # no formula start: unchanged
    units = {r["unit"] for r in csv_rows(folder / "coverage.csv")}
    assert units == {"'@SUM(A1) \x1b[31mred\nline"}
    for table in folder.glob("*.csv"):
        for row in csv.reader(io.StringIO(table.read_text(encoding="utf-8"), newline="")):
            for cell in row:
                assert is_number(cell) or not cell.startswith(FORMULA_STARTS), (table.name, cell)


def unescaped(char: str, line: str) -> int:
    return len(re.findall(r"(?<!\\)" + re.escape(char), line))


def test_r48_latex_markdown_terminal_escaped(hostile_run: Run) -> None:
    out, folder = hostile_run.outcome, hostile_run.folder
    assert out.code == 0, out.show()
    # Terminal: rich markup in user text (here the run folder) printed literally.
    assert f"Run folder: {HOSTILE_OUT}" in out.out
    assert "\x1b" not in out.out
    for name in ("assignments", "replacements", "coverage"):
        n_rows = len(csv_rows(folder / f"{name}.csv"))
        md = (folder / f"{name}.md").read_text(encoding="utf-8")
        rows = [ln for ln in md.splitlines() if ln.startswith("|")]
        assert len(rows) == n_rows + 2, md  # header, rule, one line per row
        assert len({unescaped("|", row) for row in rows}) == 1, md
        tex = (folder / f"{name}.tex").read_text(encoding="utf-8")
        body = tex.split("\\toprule\n")[1].split("    \\bottomrule")[0]
        body_rows = [ln for ln in body.splitlines() if ln.strip() != "\\midrule"]
        assert len(body_rows) == n_rows + 1, tex
        assert len({unescaped("&", row) for row in body_rows}) == 1, tex
        assert "\x1b" not in md and "\x1b" not in tex
        assert "\\input{" not in tex and "[bold]" not in tex
    md = (folder / "replacements.md").read_text(encoding="utf-8")
    assert "& % \\| [bold]x[/bold]" in md
    tex = (folder / "replacements.tex").read_text(encoding="utf-8")
    assert "\\textbackslash{}input\\{/etc/passwd\\} \\& \\%" in tex
    coverage_md = (folder / "coverage.md").read_text(encoding="utf-8")
    assert "@SUM(A1) \\x1b[31mred line" in coverage_md  # control shown, newline -> space


# --- command-line arguments ---------------------------------------------------------------


def test_unknown_scenario_suggests(tmp_path: Path) -> None:
    out = solve(tmp_path, "tiny.yaml", TINY, "--scenario", "nork")
    [message] = expect_input_error(out)
    assert message.startswith("--scenario:1:1: unknown scenario 'nork'; did you mean 'no_rok'?")


def test_set_without_equals(tmp_path: Path) -> None:
    out = solve(tmp_path, "tiny.yaml", TINY, "--set", "budget.limit_musd")
    expect_input_error(out, "--set #1:1:1: expected path=value, got 'budget.limit_musd'")


def test_set_value_of_wrong_type(tmp_path: Path) -> None:
    out = solve(
        tmp_path,
        "tiny.yaml",
        TINY,
        "--set",
        "assets.patriot.inventory.korea=4",
        "--set",
        'assets.patriot.move_cost_musd="12"',
        "--set",
        "assets.patriot.inventory.conus=lots",
    )
    messages = expect_input_error(
        out,
        "--set #2:1:1: assets.patriot.move_cost_musd: expected a number, got the string '12'",
        "--set #3:1:1: assets.patriot.inventory.conus: expected a whole number, "
        "got the string 'lots'",
    )
    assert len(messages) == 2


def test_set_unknown_key_located_at_the_set(tmp_path: Path) -> None:
    out = solve(tmp_path, "tiny.yaml", TINY, "--set", "assets.patriot.inventry.korea=1")
    expect_input_error(
        out, "--set #1:1:1: assets.patriot.inventry: unknown key; did you mean 'inventory'?"
    )


def test_set_value_yaml_error_names_the_path(tmp_path: Path) -> None:
    out = solve(tmp_path, "tiny.yaml", TINY, "--set", "assets.patriot.move_cost_musd=&a 1")
    [message] = expect_input_error(out)
    assert message.startswith("--set #1:") and "anchors (&a) are not allowed" in message
    assert "assets.patriot.move_cost_musd" in message and ": value:" not in message
