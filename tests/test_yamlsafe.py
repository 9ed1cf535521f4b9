"""Tests for posture.yamlsafe; ``test_rNN`` names refer to RELIABILITY.md items."""

from __future__ import annotations

import math
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from posture import yamlsafe
from posture.errors import Diagnostic, InputError, Location
from posture.yamlsafe import YamlDocument, parse_yaml_file, parse_yaml_text


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", newline="")
    return path


def load(tmp_path: Path, name: str, text: str | bytes, **options: Any) -> YamlDocument:
    return parse_yaml_file(write(tmp_path, name, text), display_name=name, **options)


def failures(tmp_path: Path, name: str, text: str | bytes, **options: Any) -> list[Diagnostic]:
    with pytest.raises(InputError) as caught:
        load(tmp_path, name, text, **options)
    return caught.value.diagnostics


def lines(diagnostics: list[Diagnostic]) -> list[str]:
    return [d.format() for d in diagnostics]


def at(file: str, line: int, column: int) -> Location:
    return Location(file, line, column)


# --- 1: duplicate keys ------------------------------------------------------------


def test_r01_duplicate_key_located(tmp_path: Path) -> None:
    text = "# base\n#\n#\n#\n    name: guam\n    capacity: 10\n    capacity: 0\n"
    [diag] = failures(tmp_path, "dup.yaml", text)
    assert (
        diag.format()
        == "dup.yaml:7:5: capacity: duplicate key 'capacity' (first defined at line 6)"
    )
    assert diag.path == ("capacity",)
    assert diag.severity == "error"


def test_r01_every_nested_duplicate_is_reported(tmp_path: Path) -> None:
    text = (
        "bases:\n"
        "  - id: guam\n"
        "    capacity: 10\n"
        "    capacity: 0\n"
        "  - id: kadena\n"
        "    id: misawa\n"
        "budget: 1\n"
        "budget: 2\n"
    )
    assert lines(failures(tmp_path, "dup.yaml", text)) == [
        "dup.yaml:4:5: bases[0].capacity: duplicate key 'capacity' (first defined at line 3)",
        "dup.yaml:6:5: bases[1].id: duplicate key 'id' (first defined at line 5)",
        "dup.yaml:8:1: budget: duplicate key 'budget' (first defined at line 7)",
    ]


# --- 4: YAML 1.1 booleans -------------------------------------------------------------


@pytest.mark.parametrize(
    "word", ["yes", "no", "on", "off", "y", "n", "YES", "No", "ON", "Off", "Y", "N"]
)
def test_r04_yaml11_booleans_stay_strings_with_warning(tmp_path: Path, word: str) -> None:
    doc = load(tmp_path, "flags.yaml", f"alert:\n  enabled: {word}\n")
    assert doc.data == {"alert": {"enabled": word}}
    [warning] = doc.warnings
    assert warning.severity == "warning"
    assert warning.location == at("flags.yaml", 2, 12)
    assert warning.path == ("alert", "enabled")
    assert warning.message == (
        f"'{word}' is read as the string '{word}' (YAML 1.2), not a boolean; "
        "write true/false, or quote it to keep the text"
    )


def test_r04_warning_format_and_no_warning_when_quoted(tmp_path: Path) -> None:
    doc = load(tmp_path, "flags.yaml", "a: 'yes'\nb: true\nc: [NO]\n")
    assert doc.data == {"a": "yes", "b": True, "c": ["NO"]}
    assert lines(list(doc.warnings)) == [
        "flags.yaml:3:5: c[0]: warning: 'NO' is read as the string 'NO' (YAML 1.2), "
        "not a boolean; write true/false, or quote it to keep the text"
    ]


# --- 7: non-finite numbers reach the schema as floats ----------------------------------


def test_r07_inf_nan_and_overflow_are_floats(tmp_path: Path) -> None:
    text = "a: .inf\nb: -.Inf\nc: +.INF\nd: .nan\ne: .NaN\nf: 1e400\ng: -1e400\n"
    data = load(tmp_path, "inf.yaml", text).data
    assert data["a"] == math.inf and data["c"] == math.inf and data["f"] == math.inf
    assert data["b"] == -math.inf and data["g"] == -math.inf
    assert math.isnan(data["d"]) and math.isnan(data["e"])
    assert all(type(value) is float for value in data.values())


# --- 9: octal, sexagesimal and leading-zero look-alikes --------------------------------


def test_r09_lookalikes_stay_strings(tmp_path: Path) -> None:
    text = "mode: 0755\nduration: 1:30\ncode: 007\nhex: 0x1F\nbig: 1_000\nclock: 12:30:00\n"
    data = load(tmp_path, "look.yaml", text).data
    assert data == {
        "mode": "0755",
        "duration": "1:30",
        "code": "007",
        "hex": "0x1F",
        "big": "1_000",
        "clock": "12:30:00",
    }


# --- 10: keys are never retyped ------------------------------------------------------


def test_r10_keys_are_raw_strings(tmp_path: Path) -> None:
    doc = load(tmp_path, "keys.yaml", "on: 1\n1: 2\nNO: 3\ntrue: 4\n0755: 5\n1.5: 6\n")
    assert list(doc.data) == ["on", "1", "NO", "true", "0755", "1.5"]
    assert doc.warnings == ()


def test_r10_key_spelled_two_ways_is_a_duplicate(tmp_path: Path) -> None:
    assert lines(failures(tmp_path, "keys.yaml", "1: a\n'1': b\n")) == [
        "keys.yaml:2:1: 1: duplicate key '1' (first defined at line 1)"
    ]


# --- 11: anchors, aliases, merge keys ------------------------------------------------


def test_r11_anchor_rejected_at_the_anchor(tmp_path: Path) -> None:
    assert lines(failures(tmp_path, "anchor.yaml", "base: &a\n  x: 1\n")) == [
        "anchor.yaml:1:7: base: YAML anchors (&a) are not allowed"
    ]


def test_r11_alias_rejected_even_without_an_anchor(tmp_path: Path) -> None:
    assert lines(failures(tmp_path, "alias.yaml", "a: 1\nlist: [1, *a]\n")) == [
        "alias.yaml:2:11: list[1]: YAML aliases (*a) are not allowed"
    ]


def test_r11_merge_key_rejected(tmp_path: Path) -> None:
    text = "base: &b {x: 1}\nsite:\n  <<: *b\n  y: 2\n"
    assert lines(failures(tmp_path, "merge.yaml", text)) == [
        "merge.yaml:1:7: base: YAML anchors (&b) are not allowed",
        "merge.yaml:3:3: site: YAML merge keys (<<) are not allowed",
        "merge.yaml:3:7: site: YAML aliases (*b) are not allowed",
    ]


def test_r11_quoted_merge_key_is_an_ordinary_key(tmp_path: Path) -> None:
    assert load(tmp_path, "merge.yaml", "'<<': 1\n").data == {"<<": 1}


# --- 12: billion laughs ---------------------------------------------------------------


def billion_laughs() -> str:
    rows = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        rows.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    return "\n".join(rows) + "\n"


def test_r12_billion_laughs_rejected_fast_with_flat_memory(tmp_path: Path) -> None:
    path = write(tmp_path, "lol.yaml", billion_laughs())
    start = time.perf_counter()
    with pytest.raises(InputError) as caught:
        parse_yaml_file(path, display_name="lol.yaml")
    elapsed = time.perf_counter() - start
    tracemalloc.start()
    try:
        with pytest.raises(InputError):
            parse_yaml_file(path, display_name="lol.yaml")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < 0.05
    assert peak < 1_000_000
    first = caught.value.diagnostics[0]
    assert first.format() == "lol.yaml:1:4: a: YAML anchors (&a) are not allowed"
    assert all("not allowed" in d.message for d in caught.value.diagnostics)


def test_error_flood_is_capped(tmp_path: Path) -> None:
    text = "items: [" + ", ".join(["*a"] * 500) + "]\n"
    diagnostics = failures(tmp_path, "flood.yaml", text)
    assert len(diagnostics) == 101
    assert diagnostics[-1].message == "too many errors; stopped after 100"


def test_warning_flood_is_capped(tmp_path: Path) -> None:
    doc = load(tmp_path, "flood.yaml", "items: [" + ", ".join(["y"] * 150) + "]\n")
    assert len(doc.warnings) == 101
    assert doc.warnings[-1].message == "50 more warnings not shown"


# --- 14: oversized file -----------------------------------------------------------------


def test_r14_oversized_file_rejected(tmp_path: Path) -> None:
    [diag] = failures(tmp_path, "big.yaml", "a: " + "x" * 98, max_bytes=100)
    assert diag.format() == "big.yaml:1:1: file is larger than the 100-byte limit (got 101 bytes)"


def test_r14_size_checked_before_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as handle:
        handle.truncate(10_000_000_000)  # sparse: costs no disk space

    def no_open(*args: object, **kwargs: object) -> None:
        raise AssertionError("the file was opened")

    monkeypatch.setattr(yamlsafe, "open", no_open, raising=False)
    with pytest.raises(InputError) as caught:
        parse_yaml_file(path, display_name="huge.yaml")
    assert lines(caught.value.diagnostics) == [
        "huge.yaml:1:1: file is larger than the 2000000-byte limit (got 10000000000 bytes)"
    ]


# --- 15: explicit tags ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tag", "column"),
    [
        ('cmd: !!python/object/apply:os.system ["echo hi"]', "!!python/object/apply:os.system", 6),
        ("blob: !!binary aGVsbG8=", "!!binary", 7),
        ("name: !!str 12", "!!str", 7),
        ("unit: !custom {a: 1}", "!custom", 7),
        ("list: !!seq [1]", "!!seq", 7),
        ("odd: ! plain", "!", 6),
        ("full: !<tag:example.com,2024:x> 1", "tag:example.com,2024:x", 7),
    ],
)
def test_r15_explicit_tags_rejected(tmp_path: Path, text: str, tag: str, column: int) -> None:
    [diag] = failures(tmp_path, "tags.yaml", text + "\n")
    assert diag.message == f"explicit tag '{tag}' is not allowed"
    assert diag.location == at("tags.yaml", 1, column)


def test_r15_tags_run_no_code(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = (
        f'a: !!python/object/apply:os.system ["touch {marker}"]\n'
        f'b: !!python/object/apply:builtins.open ["{marker}", "w"]\n'
        f"c: !!python/object/new:builtins.exec [\"open(r'{marker}', 'w')\"]\n"
        "d: !!python/name:os.system\n"
    )
    assert lines(failures(tmp_path, "tags.yaml", text)) == [
        "tags.yaml:1:4: a: explicit tag '!!python/object/apply:os.system' is not allowed",
        "tags.yaml:2:4: b: explicit tag '!!python/object/apply:builtins.open' is not allowed",
        "tags.yaml:3:4: c: explicit tag '!!python/object/new:builtins.exec' is not allowed",
        "tags.yaml:4:4: d: explicit tag '!!python/name:os.system' is not allowed",
    ]
    assert not marker.exists()


# --- 17: syntax errors ------------------------------------------------------------------


def test_r17_tab_indentation_with_excerpt(tmp_path: Path) -> None:
    text = "name: study\nbases:\n  - id: guam\n\t  capacity: 10\n"
    [diag] = failures(tmp_path, "tab.yaml", text)
    assert diag.format() == (
        "tab.yaml:4:1: YAML syntax error: found character '\\t' that cannot start any token; "
        "\n       capacity: 10\n    ^"
    )


@pytest.mark.parametrize(
    ("text", "where", "message", "excerpt"),
    [
        (
            "name: study\nbases:\n    capacity: 10\n  budget: 5\n",
            (4, 3),
            "expected <block end>, but found '<block mapping start>' "
            "(while parsing a block mapping started at line 1, column 1)",
            ["  budget: 5", "  ^"],
        ),
        (
            'name: study\ntitle: "unclosed\nbudget: 5\n',
            (4, 1),
            "found unexpected end of stream "
            "(while scanning a quoted scalar started at line 2, column 8)",
            ['title: "unclosed', "       ^"],  # the problem line is blank: show the opening
        ),
        (
            "name: study\nitems: [1, 2\nbudget: 5\n",
            (3, 7),
            "expected ',' or ']', but got ':' "
            "(while parsing a flow sequence started at line 2, column 8)",
            ["budget: 5", "      ^"],
        ),
        (
            "name: study\nnote: a\x01b\n",
            (2, 8),
            "unacceptable character #x0001: special characters are not allowed",
            ["note: a b", "       ^"],
        ),
    ],
    ids=["bad-indent", "unclosed-quote", "unclosed-bracket", "control-character"],
)
def test_r17_syntax_errors_located(
    tmp_path: Path, text: str, where: tuple[int, int], message: str, excerpt: list[str]
) -> None:
    [diag] = failures(tmp_path, "syntax.yaml", text)
    assert diag.location == at("syntax.yaml", *where)
    assert diag.message == f"YAML syntax error: {message}"
    assert diag.hint is not None
    assert diag.hint.splitlines() == ["", *("    " + row for row in excerpt)]


def test_r17_errors_before_a_syntax_error_are_kept(tmp_path: Path) -> None:
    text = "a: &x 1\nb: [1, 2\n"
    assert [d.message.split(" (while")[0] for d in failures(tmp_path, "s.yaml", text)] == [
        "YAML anchors (&x) are not allowed",
        "YAML syntax error: expected ',' or ']', but got '<stream end>'",
    ]


# --- 18: empty or non-mapping top level ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "file is empty"),
        ("\n   \n", "file is empty"),
        ("# only a comment\n# and another\n", "file is empty"),
        ("---\n", "file is empty"),
        ("- a\n- b\n", "top level must be a mapping, got a list"),
        ("just text\n", "top level must be a mapping, got a string"),
        ("42\n", "top level must be a mapping, got a number"),
        ("true\n", "top level must be a mapping, got a boolean"),
        ("~\n", "top level must be a mapping, got null"),
    ],
)
def test_r18_empty_or_not_a_mapping(tmp_path: Path, text: str, message: str) -> None:
    assert lines(failures(tmp_path, "top.yaml", text)) == [f"top.yaml:1:1: {message}"]


# --- 20: non-scalar or null keys --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("? [a, b]\n: 1\n", (1, 3)),
        ("ok: 1\n? {a: 1}\n: 2\n", (2, 3)),
        ("~: 1\n", (1, 1)),
        ("null: 1\n", (1, 1)),
        ('"": 1\n', (1, 1)),
        ("?\n: 1\n", (1, 2)),
        ("? |\n  block\n: 1\n", (1, 3)),
    ],
)
def test_r20_non_string_keys_rejected(tmp_path: Path, text: str, where: tuple[int, int]) -> None:
    [diag] = failures(tmp_path, "keys.yaml", text)
    assert diag.message == "mapping keys must be plain strings"
    assert diag.location == at("keys.yaml", *where)


def test_r20_bad_key_nested_path(tmp_path: Path) -> None:
    assert lines(failures(tmp_path, "keys.yaml", "assets:\n  [a, b]: 1\n")) == [
        "keys.yaml:2:3: assets: mapping keys must be plain strings"
    ]


# --- documents, depth, encoding, reading --------------------------------------------------


def test_more_than_one_document_rejected(tmp_path: Path) -> None:
    assert lines(failures(tmp_path, "multi.yaml", "a: 1\n---\nb: 2\n")) == [
        "multi.yaml:2:1: only one YAML document is allowed per file; another starts here"
    ]


def test_explicit_single_document_accepted(tmp_path: Path) -> None:
    assert load(tmp_path, "one.yaml", "---\na: 1\n...\n").data == {"a": 1}


def test_deep_flow_nesting_is_an_error_not_a_crash(tmp_path: Path) -> None:
    text = "k: " + "[" * 10_000 + "]" * 10_000 + "\n"
    [diag] = failures(tmp_path, "deep.yaml", text)
    assert diag.message == "nesting deeper than 64 levels"
    # The root mapping is level 1, so the 64th '[' (column 3 + 64) is level 65.
    assert diag.location == at("deep.yaml", 1, 67)
    assert diag.path == ("k",) + (0,) * 63


def test_deep_block_mapping_is_an_error_not_a_crash(tmp_path: Path) -> None:
    text = "".join("  " * level + f"k{level}:\n" for level in range(100))
    [diag] = failures(tmp_path, "deep.yaml", text)
    assert diag.message == "nesting deeper than 64 levels"
    # Level 65 is the mapping that starts with key k64, on line 65.
    assert diag.location == at("deep.yaml", 65, 129)


def test_max_depth_boundary(tmp_path: Path) -> None:
    assert load(tmp_path, "ok.yaml", "k: " + "[" * 63 + "]" * 63 + "\n").data["k"] is not None
    [diag] = failures(tmp_path, "no.yaml", "k: [[1]]\n", max_depth=2)
    assert diag.message == "nesting deeper than 2 levels"
    with pytest.raises(ValueError):
        parse_yaml_text("a: 1\n", "x.yaml", max_depth=10_000)


def test_non_utf8_located(tmp_path: Path) -> None:
    [diag] = failures(tmp_path, "latin.yaml", "a: 1\nname: caf\u00e9 \u00fc\n".encode("latin-1"))
    assert diag.format() == (
        "latin.yaml:2:10: file is not valid UTF-8 (byte 0xe9 cannot be decoded); "
        "save the file as UTF-8"
    )
    [diag] = failures(tmp_path, "mixed.yaml", "name: \u00fc\u00fc".encode() + b"\xff\n")
    assert diag.location == at("mixed.yaml", 1, 9)  # columns count characters, not bytes


def test_utf8_bom_accepted(tmp_path: Path) -> None:
    doc = load(tmp_path, "bom.yaml", b"\xef\xbb\xbfname: caf\xc3\xa9\n")
    assert doc.data == {"name": "caf\u00e9"}
    assert doc.source.value(("name",)) == at("bom.yaml", 1, 7)
    text_doc = parse_yaml_text("\ufeffname: x\n", "bom.yaml")
    assert text_doc.source.value(("name",)) == at("bom.yaml", 1, 7)


def test_missing_file_has_no_location(tmp_path: Path) -> None:
    [diag] = failures_for_path(tmp_path / "missing.yaml")
    assert diag.location is None
    assert (
        diag.format() == f"cannot read file: {tmp_path / 'missing.yaml'}: No such file or directory"
    )


def test_directory_is_not_read(tmp_path: Path) -> None:
    [diag] = failures_for_path(tmp_path)
    assert diag.message == f"cannot read file: {tmp_path} is not a regular file"


def failures_for_path(path: Path) -> list[Diagnostic]:
    with pytest.raises(InputError) as caught:
        parse_yaml_file(path)
    return caught.value.diagnostics


# --- source map ---------------------------------------------------------------------------

STUDY = """\
name: study
assets:
  thaad:
    inventory: 7
    sites: [guam, "okinawa"]
bases:
  - id: guam
    capacity: 10
  - id: kadena
empty:
"""


def test_source_map_values_and_keys(tmp_path: Path) -> None:
    doc = load(tmp_path, "study.yaml", STUDY)
    assert doc.data == {
        "name": "study",
        "assets": {"thaad": {"inventory": 7, "sites": ["guam", "okinawa"]}},
        "bases": [{"id": "guam", "capacity": 10}, {"id": "kadena"}],
        "empty": None,
    }
    expected_values = {
        (): (1, 1),
        ("name",): (1, 7),
        ("assets",): (3, 3),
        ("assets", "thaad"): (4, 5),
        ("assets", "thaad", "inventory"): (4, 16),
        ("assets", "thaad", "sites"): (5, 12),
        ("assets", "thaad", "sites", 0): (5, 13),
        ("assets", "thaad", "sites", 1): (5, 19),
        ("bases",): (7, 3),
        ("bases", 0): (7, 5),
        ("bases", 0, "id"): (7, 9),
        ("bases", 0, "capacity"): (8, 15),
        ("bases", 1): (9, 5),
        ("bases", 1, "id"): (9, 9),
        ("empty",): (10, 7),
    }
    expected_keys = {
        ("name",): (1, 1),
        ("assets",): (2, 1),
        ("assets", "thaad"): (3, 3),
        ("assets", "thaad", "inventory"): (4, 5),
        ("assets", "thaad", "sites"): (5, 5),
        ("bases",): (6, 1),
        ("bases", 0, "id"): (7, 5),
        ("bases", 0, "capacity"): (8, 5),
        ("bases", 1, "id"): (9, 5),
        ("empty",): (10, 1),
    }
    source = doc.source
    assert {path: (loc.line, loc.column) for path, loc in source.values.items()} == expected_values
    assert {path: (loc.line, loc.column) for path, loc in source.keys.items()} == expected_keys
    assert all(loc.file == "study.yaml" for loc in [*source.values.values(), *source.keys.values()])


def test_source_map_fallbacks(tmp_path: Path) -> None:
    source = load(tmp_path, "study.yaml", STUDY).source
    assert source.value(("bases", 0, "missing")) == at("study.yaml", 7, 5)
    assert source.key(("bases", 0, "missing")) == at("study.yaml", 7, 5)
    assert source.key(("bases", 1)) == at("study.yaml", 9, 5)
    assert source.value(("nope", "deeper")) == at("study.yaml", 1, 1)
    assert yamlsafe.SourceMap("x.yaml", {}, {}).value(("a",)) == at("x.yaml", 1, 1)


# --- scalar resolution ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", None),
        ("~", None),
        ("null", None),
        ("Null", None),
        ("NULL", None),
        ("nULL", "nULL"),
        ("true", True),
        ("True", True),
        ("TRUE", True),
        ("false", False),
        ("False", False),
        ("FALSE", False),
        ("tRUE", "tRUE"),
        ("0", 0),
        ("-0", 0),
        ("+12", 12),
        ("-12", -12),
        ("123456789012345678901234567890", 123456789012345678901234567890),
        ("007", "007"),
        ("0755", "0755"),
        ("0o17", "0o17"),
        ("0x1F", "0x1F"),
        ("1_000", "1_000"),
        ("1:30", "1:30"),
        ("1.5", 1.5),
        ("-1.5", -1.5),
        (".5", 0.5),
        ("1.", 1.0),
        ("1e3", 1000.0),
        ("1E-2", 0.01),
        ("+2.5e+2", 250.0),
        ("0.0", 0.0),
        ("00.5", "00.5"),
        ("1e", "1e"),
        ("e3", "e3"),
        ("1.2.3", "1.2.3"),
        (".inf", math.inf),
        ("-.INF", -math.inf),
        ("inf", "inf"),
        ("nan", "nan"),
        ("12 %", "12 %"),
        ("80%", "80%"),
        ("2024-01-01", "2024-01-01"),
        ("'0755'", "0755"),
        ('"true"', "true"),
        ("'~'", "~"),
        ('"1e3"', "1e3"),
        ("''", ""),
        ("|\n  12\n", "12\n"),
        (">-\n  true\n", "true"),
        ("\u0661\u0662", "\u0661\u0662"),  # Arabic-Indic digits are not ASCII numbers
    ],
)
def test_scalar_resolution(tmp_path: Path, text: str, expected: object) -> None:
    value = load(tmp_path, "scalars.yaml", f"value: {text}\n").data["value"]
    assert type(value) is type(expected)
    assert value == expected


def test_integer_too_long_for_python_is_an_error(tmp_path: Path) -> None:
    [diag] = failures(tmp_path, "long.yaml", "n: " + "9" * 5000 + "\n")
    assert diag.format() == "long.yaml:1:4: n: integer is too long (5000 digits)"


# --- everything at once ------------------------------------------------------------------


def test_all_errors_reported_together(tmp_path: Path) -> None:
    text = (
        "name: study\n"
        "name: again\n"
        "defaults: &d {x: 1}\n"
        "cmd: !!python/object/apply:os.system [ls]\n"
        "? [a, b]\n"
        ": 1\n"
        "flag: yes\n"
        "bases:\n"
        "  - <<: *d\n"
        "    capacity: 1\n"
        "    capacity: 2\n"
        "---\n"
        "extra: 1\n"
    )
    with pytest.raises(InputError) as caught:
        load(tmp_path, "many.yaml", text)
    assert lines(caught.value.diagnostics) == [
        "many.yaml:2:1: name: duplicate key 'name' (first defined at line 1)",
        "many.yaml:3:11: defaults: YAML anchors (&d) are not allowed",
        "many.yaml:4:6: cmd: explicit tag '!!python/object/apply:os.system' is not allowed",
        "many.yaml:5:3: mapping keys must be plain strings",
        "many.yaml:9:5: bases[0]: YAML merge keys (<<) are not allowed",
        "many.yaml:9:9: bases[0]: YAML aliases (*d) are not allowed",
        "many.yaml:11:5: bases[0].capacity: duplicate key 'capacity' (first defined at line 10)",
        "many.yaml:12:1: only one YAML document is allowed per file; another starts here",
        "many.yaml:7:7: flag: warning: 'yes' is read as the string 'yes' (YAML 1.2), "
        "not a boolean; write true/false, or quote it to keep the text",
    ]
    assert len(caught.value.errors) == 8


def test_parse_yaml_text_matches_file_parsing() -> None:
    doc = parse_yaml_text("a:\n  - 1\n  - x\n", "inline.yaml")
    assert doc.data == {"a": [1, "x"]}
    assert doc.source.value(("a", 1)) == at("inline.yaml", 3, 5)
    assert doc.source.file == "inline.yaml"


# --- libyaml and the pure-Python parser agree on clean files -------------------------

ROOT = Path(__file__).resolve().parents[1]


def _both(text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    """(libyaml document or None, pure-Python document or InputError) for ``text``."""
    fast = yamlsafe._parse_with_libyaml(text, "f.yaml", 64)
    with monkeypatch.context() as patch:
        patch.setattr(yamlsafe, "CParser", None)
        try:
            pure: Any = parse_yaml_text(text, "f.yaml")
        except InputError as exc:
            pure = exc
    return fast, pure


def _same(fast: YamlDocument, pure: YamlDocument) -> None:
    assert fast.data == pure.data
    assert dict(fast.source.values) == dict(pure.source.values)
    assert dict(fast.source.keys) == dict(pure.source.keys)
    assert fast.warnings == pure.warnings


@pytest.mark.skipif(yamlsafe.CParser is None, reason="PyYAML without libyaml")
@pytest.mark.parametrize(
    "path",
    sorted(ROOT.glob("inputs/**/*.yaml")) + sorted(ROOT.glob("tests/fixtures/*.yaml")),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_libyaml_reads_the_repository_studies_as_the_pure_parser(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, pure = _both(path.read_text(encoding="utf-8"), monkeypatch)
    assert fast is not None, "a clean study must take the libyaml path"
    _same(fast, pure)


TRICKY_CLEAN = [
    "a: 1\r\nb:\r\n  c: [1, 2, {d: e}]\r\n",  # CRLF, flow collections
    "naïve: \"ümlaut ✓\"\nκλειδί: 'τιμή'\nemoji: 🚀 x\nafter: 1\n",  # non-ASCII columns
    "text: |\n  line one\n  line two\nfolded: >\n  a\n  b\nnext: 3\n",  # block scalars
    "# comment\nlist:\n- 1\n-   two\n- - nested\n  - 0.5e3\nz: ~\n",  # nesting, nulls
    "flag: yes\nother: off\nnum: 007\nhex: 0x1F\nneg: -.inf\n",  # YAML 1.1 words warn
    "---\nk: v\n...\n",  # explicit document markers
    "a:\n    b: 1\n    c:\n        d: 2\ne: 'x''y'\n",  # deep indentation, quote
    "key with spaces: 'value with: colon'\n'quoted key': \"esc\\tape\\u00e9\"\n",
    "long: " + "x" * 5000 + "\nshort: 1\n",
]


@pytest.mark.skipif(yamlsafe.CParser is None, reason="PyYAML without libyaml")
@pytest.mark.parametrize("text", TRICKY_CLEAN, ids=range(len(TRICKY_CLEAN)))
def test_libyaml_and_pure_parser_agree_on_tricky_clean_files(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, pure = _both(text, monkeypatch)
    assert fast is not None
    _same(fast, pure)


BROKEN = [
    "a: 1\na: 2\n",  # duplicate key
    "a: &x 1\nb: *x\n",  # anchor and alias
    "a: !!python/object:os.system 1\n",  # tag
    "a: [1, 2\n",  # syntax
    "- 1\n- 2\n",  # top level not a mapping
    "a: 1\x07\n",  # control character
    "<<: {a: 1}\n",  # merge key
    "? [1, 2]\n: x\n",  # non-scalar key
]


@pytest.mark.skipif(yamlsafe.CParser is None, reason="PyYAML without libyaml")
@pytest.mark.parametrize("text", BROKEN, ids=range(len(BROKEN)))
def test_files_with_problems_are_read_by_the_pure_parser(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """libyaml declines every file with a problem, so the diagnostics are the reference ones."""
    fast, pure = _both(text, monkeypatch)
    assert fast is None
    assert isinstance(pure, InputError)
    with pytest.raises(InputError) as caught:
        parse_yaml_text(text, "f.yaml")
    assert lines(caught.value.diagnostics) == lines(pure.diagnostics)
