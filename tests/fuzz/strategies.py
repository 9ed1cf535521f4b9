"""Hypothesis strategies for fuzzing posture's input pipeline with real YAML text.

A :class:`Case` is a set of files (the study ``study.yaml`` and any overlay files),
an optional ``--scenario`` and ``--set`` overrides, and what the generator knows
about it: ``expect`` is ``"valid"`` (built only from valid studies by changes that
keep them valid), ``"invalid"`` (at least one change is certainly an error, and that
is re-checked on the final study) or ``"any"`` (e.g. a random byte flip).

Where cases come from:

* valid studies: :func:`bruteforce.random_study` (tiny random studies), the fixture
  ``tests/fixtures/tiny.yaml`` and the default study ``inputs/study.yaml`` with its
  overlay ``inputs/scenarios/taiwan.yaml``;
* changes that keep them valid: key order, odd but legal text in names (RTL marks,
  zero-width joiners, emoji, NUL, combining characters, ``=cmd``, markup), YAML 1.1
  look-alikes in text fields (``yes``, ``0755``, ``1:30``), ``-0.0`` for ``0.0``,
  ``2`` for ``2.0``, null for optional fields, added scenarios, comments, blank lines,
  trailing spaces, CRLF, a BOM, ``---``/``...`` markers and several rendering styles
  (block, flow, quoting, indentation; our own emitter or ``yaml.safe_dump``); a bad
  value replaced by a later layer (a ``--set`` of the same key, a scenario extending
  the one that holds it: the last one wins, see :func:`last_writer`);
* changes that make them invalid: wrong types, missing required keys, unknown and
  misspelt keys, broken references with near-miss spellings, non-finite, huge,
  negative and overlong numbers, ids with odd unicode, unknown scenarios, broken
  ``extends`` and ``scenario_files``, bad ``--set`` overrides;
* raw text changes: tabs, unclosed quotes and brackets, bad indentation, truncation,
  deleted/duplicated/swapped lines, byte flips (invalid UTF-8), fullwidth ``＝``/``：``,
  anchors, aliases, merge keys, tags, complex keys, duplicate keys, second documents,
  very long lines;
* hostile files: empty, comments only, non-mapping top level, alias bombs, deep
  nesting, huge lines, oversized files, UTF-16, control characters, Python tags.

:data:`STATS` counts what the tests executed, for the summary printed at the end.
"""

from __future__ import annotations

import copy
import functools
import math
import random
import re
import sys
import types
import typing
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from hypothesis import strategies as st
from pydantic import BaseModel
from pydantic.fields import FieldInfo

TESTS = Path(__file__).resolve().parents[1]
ROOT = TESTS.parent
if str(TESTS) not in sys.path:  # bruteforce.py and helpers.py live in tests/
    sys.path.insert(0, str(TESTS))

from bruteforce import random_study  # noqa: E402

from posture.schema import STUDY_KEYS, Scenario, StudyFile  # noqa: E402
from posture.yamlsafe import parse_yaml_text  # noqa: E402

Expect = Literal["valid", "invalid", "any"]
Path_ = tuple[str | int, ...]
Draw = Callable[[st.SearchStrategy[Any]], Any]

STUDY_FILE = "study.yaml"
TINY_FILE = TESTS / "fixtures" / "tiny.yaml"
DEFAULT_FILE = ROOT / "inputs" / "study.yaml"
MAX_FILE_BYTES = 2_000_000  # posture's size limit (RELIABILITY #14)

#: What the fuzz tests executed, for the end-of-session summary (see conftest.py).
STATS: Counter[str] = Counter()


# --------------------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------------------


class _Unknown:
    """Marker: the generator does not know what a raw YAML token loads as."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()


@dataclass(frozen=True)
class Raw:
    """A scalar written verbatim into the YAML text, with the value YAML 1.2 gives it."""

    text: str
    value: Any = UNKNOWN


@dataclass(frozen=True)
class Twice:
    """A mapping entry written twice (``first`` then ``second``): a duplicate key."""

    first: Any
    second: Any


@dataclass
class Case:
    """One fuzz input: files to write, the command-line choices, what to expect."""

    files: dict[str, bytes]
    expect: Expect
    origin: str
    labels: tuple[str, ...] = ()
    scenario: str | None = None
    sets: tuple[str, ...] = ()
    data: dict[str, Any] | None = None  # the study as it must load (valid cases only)

    def __repr__(self) -> str:
        sizes = {name: len(content) for name, content in self.files.items()}
        return (
            f"Case(origin={self.origin!r}, expect={self.expect!r}, files={sizes}, "
            f"scenario={self.scenario!r}, sets={self.sets!r}, labels={self.labels!r})"
        )

    def write(self, folder: Path) -> list[Path]:
        """Write the files under ``folder``; the study file comes first."""
        paths = []
        for name, content in self.files.items():
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
            paths.append(path)
        return paths

    def describe(self, limit: int = 4000) -> str:
        """A readable account of the case for hypothesis' failure report."""
        lines = [
            f"origin={self.origin} expect={self.expect} labels={list(self.labels)}",
            f"scenario={self.scenario!r} sets={list(self.sets)!r}",
        ]
        for name, content in self.files.items():
            try:
                text: str = content.decode("utf-8")
            except UnicodeDecodeError:
                text = repr(content)
            shown = text if len(text) <= limit else text[:limit] + f"... [{len(text)} chars]"
            lines += [f"----- {name} ({len(content)} bytes) -----", shown]
        return "\n".join(lines)


def line_count(content: bytes) -> int:
    """Lines in a file as PyYAML or the UTF-8 decoder may count them (the larger)."""
    text = content.decode("utf-8", errors="replace")
    breaks = len(re.findall("\r\n|[\r\n\x85\u2028\u2029]", text))
    return max(breaks, content.count(b"\n")) + 1


# --------------------------------------------------------------------------------------
# The schema, read from posture.schema: what each path of a study file holds
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    """What the schema allows at one path of a study file."""

    kind: str  # model, dict, list, int, float, bool, str, literal, unknown
    model: type[BaseModel] | None = None
    item: Any = None  # annotation of dict values or list items
    nullable: bool = False
    required: bool = False
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    min_len: int | None = None
    max_len: int | None = None
    pattern: str | None = None
    choices: tuple[str, ...] = ()
    key: Any = None  # annotation of dict keys


def _spec(annotation: Any, metadata: list[Any] | None = None, required: bool = False) -> Spec:
    """Unwrap Annotated/Optional and collect the bounds of one annotation."""
    meta = list(metadata or [])
    nullable = False
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation, *extras = typing.get_args(annotation)
            for extra in extras:
                meta.extend(extra.metadata if isinstance(extra, FieldInfo) else [extra])
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            nullable = nullable or len(args) < len(typing.get_args(annotation))
            if len(args) != 1:
                return Spec("unknown", nullable=nullable, required=required)
            annotation = args[0]
        else:
            break
    bounds: dict[str, Any] = {}
    for item in meta:
        for name, attr in (
            ("ge", "ge"),
            ("gt", "gt"),
            ("le", "le"),
            ("min_len", "min_length"),
            ("max_len", "max_length"),
            ("pattern", "pattern"),
        ):
            if getattr(item, attr, None) is not None:
                bounds[name] = getattr(item, attr)
    common = {"nullable": nullable, "required": required, **bounds}
    origin = typing.get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return Spec("model", model=annotation, **common)
    if origin is dict:
        key, value = typing.get_args(annotation)
        return Spec("dict", item=value, key=key, **common)
    if origin is list:
        return Spec("list", item=typing.get_args(annotation)[0], **common)
    if origin is typing.Literal:
        return Spec("literal", choices=tuple(typing.get_args(annotation)), **common)
    names = {bool: "bool", int: "int", float: "float", str: "str"}
    return Spec(names.get(annotation, "unknown"), **common)


ROOT_SPEC = Spec("model", model=StudyFile, required=True)


@functools.lru_cache(maxsize=4096)
def spec_at(path: Path_) -> Spec | None:
    """The schema at ``path`` of a study file, if it is validated on every load.

    Study keys inside a scenario are validated only when that scenario is chosen,
    so they give None (the generator then claims nothing about them).
    """
    spec = ROOT_SPEC
    for part in path:
        if spec.kind == "model":
            assert spec.model is not None
            if spec.model is Scenario and part in STUDY_KEYS:
                return None
            info = spec.model.model_fields.get(str(part))
            if info is None:
                return None
            spec = _spec(info.annotation, list(info.metadata), info.is_required())
        elif (spec.kind == "dict" and isinstance(part, str)) or (
            spec.kind == "list" and isinstance(part, int)
        ):
            spec = _spec(spec.item)
        else:
            return None
    return spec


def key_spec(parent: Path_) -> Spec | None:
    """The schema of the keys of the id-keyed mapping at ``parent``, if it is one."""
    spec = spec_at(parent)
    if spec is None or spec.kind != "dict":
        return None
    return _spec(spec.key)


def _fits_string(spec: Spec, value: str) -> Expect:
    if any(0xD800 <= ord(c) <= 0xDFFF for c in value):
        return "any"  # pydantic-core may refuse lone surrogates; either outcome is fine
    if spec.min_len is not None and len(value) < spec.min_len:
        return "invalid"
    if spec.max_len is not None and len(value) > spec.max_len:
        return "invalid"
    if spec.pattern is not None and not re.fullmatch(spec.pattern.strip("^$"), value):
        return "invalid"
    return "valid"


def judge(spec: Spec | None, value: Any) -> Expect:
    """What the field's own rules make of ``value``: invalid, valid, or unknown.

    ``valid`` means only that the value passes its own field; cross-field checks
    (references, floor <= target, ...) may still reject it.
    """
    if spec is None or spec.kind == "unknown":
        return "any"
    if isinstance(value, Raw):
        value = value.value
    if value is UNKNOWN:
        return "any"
    if value is None:
        return "valid" if spec.nullable else "invalid"
    if spec.kind in ("int", "float"):
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        if spec.kind == "int" and not isinstance(value, int):
            numeric = False
        if not numeric or not math.isfinite(value):
            return "invalid"
        too_low = (spec.ge is not None and value < spec.ge) or (
            spec.gt is not None and value <= spec.gt
        )
        too_high = spec.le is not None and value > spec.le
        return "invalid" if too_low or too_high else "valid"
    if spec.kind == "bool":
        return "valid" if isinstance(value, bool) else "invalid"
    if spec.kind == "str":
        return _fits_string(spec, value) if isinstance(value, str) else "invalid"
    if spec.kind == "literal":
        return "valid" if value in spec.choices else "invalid"
    if spec.kind in ("model", "dict"):
        return "any" if isinstance(value, dict) else "invalid"
    if spec.kind == "list":
        return "any" if isinstance(value, list) else "invalid"
    return "any"


# --------------------------------------------------------------------------------------
# Nested dict helpers
# --------------------------------------------------------------------------------------


def get_at(data: Any, path: Path_) -> Any:
    """The value at ``path``, or UNKNOWN if the path does not lead anywhere."""
    for part in path:
        if isinstance(data, dict):
            if not (isinstance(part, str) and part in data):
                return UNKNOWN
            data = data[part]
        elif isinstance(data, list):
            if not (isinstance(part, int) and 0 <= part < len(data)):
                return UNKNOWN
            data = data[part]
        else:
            return UNKNOWN
    return data


def set_at(data: Any, path: Path_, value: Any) -> None:
    """Replace the value at ``path`` (which must exist, or be a new key of a mapping)."""
    parent = get_at(data, path[:-1])
    parent[path[-1]] = value


def walk(data: Any, path: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    """Every (path, value) below ``data``, containers included, depth first."""
    yield path, data
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(key, str):
                yield from walk(value, (*path, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from walk(value, (*path, i))


def rename_key(mapping: dict[Any, Any], old: Any, new: Any) -> None:
    """Rename a key in place, keeping its position."""
    items = [(new if k == old else k, v) for k, v in mapping.items()]
    mapping.clear()
    mapping.update(items)


def plain_data(value: Any) -> Any:
    """``value`` with every Raw replaced by what it loads as (UNKNOWN if unknown)."""
    if isinstance(value, Raw):
        return value.value
    if isinstance(value, Twice):
        return UNKNOWN
    if isinstance(value, dict):
        return {k.value if isinstance(k, Raw) else k: plain_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain_data(v) for v in value]
    return value


def contains_unknown(value: Any) -> bool:
    """True if some Raw token in ``value`` has no known loaded value."""
    return any(v is UNKNOWN for _, v in walk(plain_data(value)))


def same_data(a: Any, b: Any) -> bool:
    """Equal, with types kept apart (1 is not 1.0 is not True; -0.0 is not 0.0)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_data(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_data(x, y) for x, y in zip(a, b, strict=True))
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    return bool(a == b)


# --------------------------------------------------------------------------------------
# A YAML emitter with styles (and Raw tokens written verbatim)
# --------------------------------------------------------------------------------------

_YAML_PRINTABLE = re.compile("[\t\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9_./()-]*(?: [A-Za-z0-9_./()-]+)*")
_RESERVED = {"null", "true", "false", "yes", "no", "on", "off", "y", "n"}


@dataclass(frozen=True)
class Style:
    """How to write a study as YAML text."""

    indent: int = 2
    flow_depth: int = 99  # mappings this deep or deeper are written {a: 1, b: 2}
    quote: str = "plain"  # preferred quoting of strings: plain, single or double
    ascii_only: bool = False  # escape all non-ASCII in double quotes
    list_flow: bool = False
    indentless_lists: bool = False
    null_token: str = "null"
    bool_case: str = "lower"

    def key_indent(self, level: int) -> str:
        return " " * (self.indent * level)


def _double(text: str, ascii_only: bool) -> str:
    out = ['"']
    for ch in text:
        code = ord(ch)
        special = ch in "\t\n\r\x85\u2028\u2029\ufeff" or 0xD800 <= code <= 0xDFFF
        if ch in '"\\':
            out.append("\\" + ch)
        elif special or not _YAML_PRINTABLE.match(ch) or (ascii_only and code > 0x7E):
            if code <= 0xFF:
                out.append(f"\\x{code:02x}")
            elif code <= 0xFFFF:
                out.append(f"\\u{code:04x}")
            else:
                out.append(f"\\U{code:08x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _single_ok(text: str) -> bool:
    return all(_YAML_PRINTABLE.match(c) and c != "\t" for c in text) and text.strip() == text


def scalar(value: Any, style: Style) -> str:
    """One scalar (or a small collection in flow style) as YAML text."""
    if isinstance(value, Raw):
        return value.text
    if value is None:
        return style.null_token or "null"
    if isinstance(value, bool):
        text = "true" if value else "false"
        return {"lower": text, "title": text.title(), "upper": text.upper()}[style.bool_case]
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        return repr(value)
    if isinstance(value, str):
        plain_ok = bool(_PLAIN.fullmatch(value)) and value.lower() not in _RESERVED
        if style.quote == "plain" and plain_ok:
            return value
        if style.quote == "single" and _single_ok(value) and value:
            return "'" + value.replace("'", "''") + "'"
        if plain_ok and style.quote == "single":
            return value
        return _double(value, style.ascii_only)
    if isinstance(value, dict):
        inner = ", ".join(
            f"{scalar(k, style)}: {scalar(v.first, style)}, {scalar(k, style)}: {scalar(v.second, style)}"
            if isinstance(v, Twice)
            else f"{scalar(k, style)}: {scalar(v, style)}"
            for k, v in value.items()
        )
        return "{" + inner + "}"
    if isinstance(value, list):
        return "[" + ", ".join(scalar(v, style) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__}")


def _block(mapping: dict[Any, Any], style: Style, level: int, lines: list[str]) -> None:
    pad = style.key_indent(level)
    for key, value in mapping.items():
        if isinstance(value, Twice):
            _block({key: value.first}, style, level, lines)
            _block({key: value.second}, style, level, lines)
            continue
        head = f"{pad}{scalar(key, style)}:"
        if isinstance(value, dict) and value and level + 1 < style.flow_depth:
            lines.append(head)
            _block(value, style, level + 1, lines)
        elif isinstance(value, list) and value and not style.list_flow:
            lines.append(head)
            item_pad = pad if style.indentless_lists else style.key_indent(level + 1)
            lines.extend(f"{item_pad}- {scalar(v, style)}" for v in value)
        elif value is None and style.null_token == "":
            lines.append(head)
        else:
            lines.append(f"{head} {scalar(value, style)}")


def emit(data: dict[str, Any], style: Style) -> str:
    """Write a study dict as block-style YAML in ``style`` (one line per key or item)."""
    lines: list[str] = []
    _block(data, style, 0, lines)
    return "\n".join(lines) + "\n"


@st.composite
def styles(draw: Draw) -> Style:
    """A rendering style."""
    return Style(
        indent=draw(st.sampled_from([2, 2, 2, 3, 4])),
        flow_depth=draw(st.sampled_from([99, 99, 3, 2])),
        quote=draw(st.sampled_from(["plain", "plain", "single", "double"])),
        ascii_only=draw(st.booleans()),
        list_flow=draw(st.booleans()),
        indentless_lists=draw(st.booleans()),
        null_token=draw(st.sampled_from(["null", "~", "Null", ""])),
        bool_case=draw(st.sampled_from(["lower", "title", "upper"])),
    )


# --------------------------------------------------------------------------------------
# Valid base studies
# --------------------------------------------------------------------------------------


@functools.cache
def _parsed(path: Path) -> dict[str, Any]:
    return parse_yaml_text(path.read_text(encoding="utf-8"), str(path)).data


@dataclass
class Base:
    """A valid study (and overlay files) to start from."""

    origin: str
    study: dict[str, Any]
    overlays: dict[str, dict[str, Any]]  # file name -> data
    texts: dict[str, str] | None  # original file texts, when the study is a real file


def random_base(seed: int) -> Base:
    """A tiny random study from bruteforce.random_study."""
    return Base("random", random_study(random.Random(seed)), {}, None)


def tiny_base() -> Base:
    """tests/fixtures/tiny.yaml (with its scenario no_rok)."""
    text = TINY_FILE.read_text(encoding="utf-8")
    return Base("tiny", copy.deepcopy(_parsed(TINY_FILE)), {}, {STUDY_FILE: text})


def default_base() -> Base:
    """inputs/study.yaml with its overlay file scenarios/taiwan.yaml."""
    overlay_names = _parsed(DEFAULT_FILE).get("scenario_files", [])
    overlays = {name: copy.deepcopy(_parsed(DEFAULT_FILE.parent / name)) for name in overlay_names}
    texts = {STUDY_FILE: DEFAULT_FILE.read_text(encoding="utf-8")}
    texts |= {n: (DEFAULT_FILE.parent / n).read_text(encoding="utf-8") for n in overlay_names}
    return Base("default", copy.deepcopy(_parsed(DEFAULT_FILE)), overlays, texts)


def bases(*, small_only: bool = False) -> st.SearchStrategy[Base]:
    """Valid studies: mostly tiny random ones, some tiny.yaml, a few of the default study."""
    seeds = st.integers(0, 2**32 - 1)
    # About 60 % random, 25 % tiny.yaml, 15 % the default study (60 ms a load).
    picks = st.integers(0, 99 if not small_only else 84)
    return st.tuples(picks, seeds).map(
        lambda ps: (
            random_base(ps[1]) if ps[0] < 60 else tiny_base() if ps[0] < 85 else default_base()
        )
    )


# --------------------------------------------------------------------------------------
# Pools of odd values
# --------------------------------------------------------------------------------------

ODD_TEXT = [
    "Korea \u200f\u05d0\u05d1 RTL",
    "\u202etxet desrever",
    "man\u200d\u2640\ufe0f zero-width joiner",
    "zero\u200bwidth space",
    "emoji \U0001f680\U0001f1f0\U0001f1f7",
    "nul \x00 byte",
    "bell \x07 and escape \x1b[31mred\x1b[0m",
    "=1+1",
    "=cmd|' /C calc'!A0",
    "\uff1dfullwidth equals",
    "+SUM(A1)",
    "@import",
    "-2+3",
    "e\u0301\u0301\u0301 combining",
    "a" + "\u0300" * 50,
    "[bold]markup[/bold] and [link=x]y[/link]",
    "\\input{/etc/passwd} & % $ # _ { } ~ ^",
    "pipe | in | markdown",
    "line\nbreak",
    "line\u2028separator",
    "tab\there",
    "  leading and trailing spaces  ",
    "'single' and \"double\" quotes",
    "# not a comment",
    "key: value",
    "- not a list",
    "&anchor *alias !tag",
    "{flow: [mapping]}",
    "\ufeffBOM inside",
    "caf\u00e9 na\u00efve \u00fc",
    "\u4e2d\u6587\u540d\u5b57",
    "\u0928\u092e\u0938\u094d\u0924\u0947",
    "\U0001d573\U0001d586\U0001d591\U0001d591",
    "x" * 2000,
    "${HOME} $(rm -rf /) `id`",
    "<script>alert(1)</script>",
    "%s %d {0} {name}",
    "null",
    "true",
    "~",
]
SURROGATE_TEXT = ["lone surrogate \ud800", "\udfff", "pair halves \ud83d \ude80"]
LOOKALIKES = [
    Raw("yes", "yes"),
    Raw("no", "no"),
    Raw("on", "on"),
    Raw("off", "off"),
    Raw("Yes", "Yes"),
    Raw("NO", "NO"),
    Raw("y", "y"),
    Raw("n", "n"),
    Raw("0755", "0755"),
    Raw("007", "007"),
    Raw("1:30", "1:30"),
    Raw("190:20:30", "190:20:30"),
    Raw("0x1F", "0x1F"),
    Raw("0o17", "0o17"),
    Raw("1_000", "1_000"),
    Raw("2001-12-14", "2001-12-14"),
]
NUMBERS = [
    Raw("1e400", math.inf),
    Raw("-1e400", -math.inf),
    Raw(".inf", math.inf),
    Raw("-.inf", -math.inf),
    Raw("+.inf", math.inf),
    Raw(".nan", math.nan),
    Raw(".NaN", math.nan),
    Raw("-0.0", -0.0),
    Raw("-0", 0),
    Raw("1e308", 1e308),
    Raw("1.7976931348623157e308", 1.7976931348623157e308),
    Raw("4.9e-324", 4.9e-324),
    Raw("1e3", 1000.0),
    Raw("1E-3", 0.001),
    Raw(".5", 0.5),
    Raw("5.", 5.0),
    Raw("+5", 5),
    Raw("-1", -1),
    Raw("-0.25", -0.25),
    Raw("1000000", 1_000_000),
    Raw("1000001", 1_000_001),
    Raw("2147483648", 2_147_483_648),
    Raw("99999999999999999999999999999", 99999999999999999999999999999),
    Raw("9" * 5000, UNKNOWN),  # longer than Python's int-parsing limit
    Raw("1" + "0" * 400 + ".5", math.inf),
    Raw("0.1e-999", 0.0),
    Raw("10.5", 10.5),
    Raw("1.0", 1.0),
]
WRONG_TYPES: list[Any] = [
    "1200",
    Raw('"3.5"', "3.5"),
    Raw("'true'", "true"),
    "",
    "text",
    "y" * 4001,
    12,
    1.5,
    True,
    False,
    None,
    [1, 2],
    ["a"],
    [],
    {"a": 1},
    {},
    Raw("[1, [2, {x: 3}]]", [1, [2, {"x": 3}]]),
    Raw("yes", "yes"),
    Raw("~", None),
]
YAML11_KEYS = [
    Raw("on", "on"),
    Raw("yes", "yes"),
    Raw("NO", "NO"),
    Raw("1", "1"),
    Raw("007", "007"),
    Raw("1:30", "1:30"),
    Raw('"on"', "on"),
]
HOMOGLYPHS = {"a": "\u0430", "e": "\u0435", "o": "\u043e", "c": "\u0441", "p": "\u0440"}
ODD_IDS = [
    "kor\u200dea",
    "\u200fkorea",
    "korea\u0301",
    "\uff4borea",
    "\U0001f680",
    "k\x00",
    "1korea",
    "_korea",
    "korea theatre",
    "korea.x",
    "a" * 65,
    "Ko\u0280ea",
    "x\ud800",
]


def near_misses(word: str) -> list[str]:
    """Plausible misspellings of ``word``: typos, case, homoglyphs, invisible marks."""
    if not word:  # an empty key has no letters to misspell
        return ["x", " "]
    found = [word + "s", word + "_", word.upper(), word.capitalize() + "x", word + "\u200d"]
    if len(word) > 1:
        found += [word[1:], word[:-1], word[0] + word, word[:-1] + chr(ord(word[-1]) ^ 1)]
        found += [word[1] + word[0] + word[2:]]
    found += [word.replace(k, v, 1) for k, v in HOMOGLYPHS.items() if k in word]
    found += [word[0] + "\u0301" + word[1:], "\u200f" + word, chr(0xFF21 + ord(word[0]) - 65)]
    found += [" " + word, word + " "]
    return list(dict.fromkeys(f for f in found if f and f != word))


# --------------------------------------------------------------------------------------
# Mutations of the study dict
# --------------------------------------------------------------------------------------

Check = Callable[["Ctx"], bool]


@dataclass
class Ctx:
    """The final case, for re-checking claims made along the way."""

    study: dict[str, Any]
    overlays: dict[str, dict[str, Any]]
    scenario: str | None
    sets: tuple[str, ...]
    scenario_names: list[str]


@dataclass
class Claim:
    """What one change does to validity; ``check`` re-verifies an invalid claim.

    An invalid change can be undone by a later layer: a ``--set`` of the same key
    (the last one wins), or a scenario extending the one that holds the bad value.
    ``valid_if`` says when that is certainly so; the claim then counts as valid
    (if neither ``check`` nor ``valid_if`` holds, it claims nothing).
    """

    effect: Expect
    label: str
    check: Check | None = None
    base_only: bool = False  # a "valid" claim that holds only without --scenario/--set
    valid_if: Check | None = None  # an "invalid" claim whose change has no effect


@dataclass
class Work:
    """A case under construction."""

    base: Base
    study: dict[str, Any]
    overlays: dict[str, dict[str, Any]]
    claims: list[Claim] = field(default_factory=list)
    scenario: str | None = None
    sets: tuple[str, ...] = ()
    extra_files: dict[str, bytes] = field(default_factory=dict)

    def ctx(self) -> Ctx:
        own = self.study.get("scenarios")
        names = list(own) if isinstance(own, dict) else []
        for overlay in self.overlays.values():
            scen = overlay.get("scenarios") if isinstance(overlay, dict) else None
            names += list(scen) if isinstance(scen, dict) else []
        return Ctx(self.study, self.overlays, self.scenario, self.sets, names)

    def expectation(self) -> Expect:
        ctx = self.ctx()
        if any(c.effect == "invalid" and c.check is not None and c.check(ctx) for c in self.claims):
            return "invalid"
        overlaid = ctx.scenario is not None or bool(ctx.sets)

        def harmless(c: Claim) -> bool:
            if c.effect == "valid":
                return not (c.base_only and overlaid)
            return c.effect == "invalid" and c.valid_if is not None and c.valid_if(ctx)

        if all(harmless(c) for c in self.claims):
            return "valid"
        return "any"


def _paths(study: dict[str, Any], keep: Callable[[Path_, Any], bool]) -> list[Path_]:
    return [p for p, v in walk(study) if p and keep(p, v)]


def _field_claim(path: Path_, label: str) -> Claim:
    """A value replaced at ``path``: invalid while its own field rejects the final value."""

    def check(ctx: Ctx) -> bool:
        value = get_at(ctx.study, path)
        return value is not UNKNOWN and judge(spec_at(path), value) == "invalid"

    return Claim("invalid", label, check)


def _replace_value(
    draw: Draw, work: Work, pool: list[Any], label: str, leaf_kinds: set[str]
) -> None:
    """Put a value from ``pool`` at a random path whose schema kind is in ``leaf_kinds``."""
    paths = _paths(
        work.study,
        lambda p, v: (s := spec_at(p)) is not None and s.kind in leaf_kinds,
    )
    if not paths:
        work.claims.append(Claim("any", f"{label}: no target"))
        return
    path = draw(st.sampled_from(paths))
    value = copy.deepcopy(draw(st.sampled_from(pool)))
    set_at(work.study, path, value)
    verdict = judge(spec_at(path), value)
    tag = f"{label} {'.'.join(map(str, path))}={value!r}"
    if verdict == "invalid":
        work.claims.append(_field_claim(path, tag))
    else:
        work.claims.append(Claim("any", tag))


def mutate_wrong_type(draw: Draw, work: Work) -> None:
    """A value of the wrong type (strings for numbers, lists for mappings, null, ...)."""
    kinds = {"int", "float", "bool", "str", "literal", "model", "dict", "list"}
    _replace_value(draw, work, WRONG_TYPES, "wrong type", kinds)


def mutate_number(draw: Draw, work: Work) -> None:
    """A huge, tiny, non-finite, negative, overlong or oddly written number."""
    _replace_value(draw, work, NUMBERS, "number", {"int", "float"})


def mutate_lookalike(draw: Draw, work: Work) -> None:
    """A YAML 1.1 look-alike (yes, 0755, 1:30, ...) in any scalar field."""
    _replace_value(draw, work, LOOKALIKES, "yaml1.1", {"int", "float", "bool", "str", "literal"})


def mutate_missing_key(draw: Draw, work: Work) -> None:
    """Delete a key from a mapping (required keys make the study invalid)."""
    paths = _paths(work.study, lambda p, v: isinstance(p[-1], str) and spec_at(p[:-1]) is not None)
    if not paths:
        return
    path = draw(st.sampled_from(paths))
    parent, key = path[:-1], path[-1]
    del get_at(work.study, parent)[key]
    spec = spec_at(path)
    label = f"missing {'.'.join(map(str, path))}"
    if spec is not None and spec.required and spec_at(parent) is not None:

        def check(ctx: Ctx) -> bool:
            holder = get_at(ctx.study, parent)
            return isinstance(holder, dict) and key not in holder

        work.claims.append(Claim("invalid", label, check))
    else:
        work.claims.append(Claim("any", label))


def _model_mappings(study: dict[str, Any]) -> list[Path_]:
    found: list[Path_] = [()] if isinstance(study, dict) else []
    for path, value in walk(study):
        spec = spec_at(path) if path else None
        if path and isinstance(value, dict) and spec is not None and spec.kind == "model":
            found.append(path)
    return found


def _unknown_key_claim(parent: Path_, key: Any, label: str) -> Claim:
    name = key.value if isinstance(key, Raw) else key

    def check(ctx: Ctx) -> bool:
        holder = get_at(ctx.study, parent)
        spec = spec_at(parent) if parent else ROOT_SPEC
        if not isinstance(holder, dict) or spec is None or spec.model is None:
            return False
        present = any((k.value if isinstance(k, Raw) else k) == name for k in holder)
        if spec.model is Scenario:
            allowed = set(STUDY_KEYS) | set(Scenario.model_fields)
        else:
            allowed = set(spec.model.model_fields)
        return present and name not in allowed

    return Claim("invalid", label, check)


def mutate_misspelt_key(draw: Draw, work: Work) -> None:
    """Rename a schema key to a near miss (``capcity``); renaming an id is a toss-up."""
    holders = [p for p in _model_mappings(work.study) if get_at(work.study, p)]
    if not holders:
        return
    parent = draw(st.sampled_from(holders))
    holder = get_at(work.study, parent)
    key = draw(st.sampled_from([k for k in holder if isinstance(k, str)]))
    spec = spec_at(parent) if parent else ROOT_SPEC
    assert spec is not None and spec.model is not None
    allowed = set(spec.model.model_fields) | (STUDY_KEYS if spec.model is Scenario else set())
    options = [m for m in near_misses(key) if m not in allowed and m not in holder]
    if not options:
        return
    new = draw(st.sampled_from(options))
    rename_key(holder, key, new)
    work.claims.append(_unknown_key_claim(parent, new, f"misspelt {key!r}->{new!r}"))


def mutate_extra_key(draw: Draw, work: Work) -> None:
    """An extra key in a schema mapping: a near miss, a YAML 1.1 key or odd unicode."""
    holders = _model_mappings(work.study)
    parent = draw(st.sampled_from(holders))
    holder = get_at(work.study, parent)
    spec = spec_at(parent) if parent else ROOT_SPEC
    assert spec is not None and spec.model is not None
    allowed = set(spec.model.model_fields) | (STUDY_KEYS if spec.model is Scenario else set())
    fields = sorted(allowed)
    word = draw(st.sampled_from(fields))
    pool: list[Any] = [*near_misses(word), *YAML11_KEYS, *ODD_IDS, "extra_key", word.upper()]
    key = draw(st.sampled_from(pool))
    name = key.value if isinstance(key, Raw) else key
    if name in allowed or any((k.value if isinstance(k, Raw) else k) == name for k in holder):
        return
    holder[key] = draw(st.sampled_from([1, "x", None, {"a": 1}, [1]]))
    work.claims.append(_unknown_key_claim(parent, key, f"extra key {key!r}"))


# Where ids are referred to: (path pattern, namespace, as a key?). '*' is any key.
REFERENCE_SITES: list[tuple[tuple[str, ...], str, bool]] = [
    (("origins", "*", "theatre"), "theatres", False),
    (("assets", "*", "inventory", "*"), "origins", True),
    (("assets", "*", "contributes", "*"), "capabilities", True),
    (("assets", "*", "effectiveness", "*"), "theatres", True),
    (("assets", "*", "destinations", "#"), "theatres", False),
    (("assets", "*", "locked", "*"), "origins", True),
    (("assets", "*", "route_cost_musd", "*"), "origins", True),
    (("assets", "*", "route_cost_musd", "*", "*"), "theatres", True),
    (("requirements", "*"), "theatres", True),
    (("requirements", "*", "*"), "capabilities", True),
    (("replacement_sources", "*", "theatres", "#"), "theatres", False),
    (("replacement_sources", "*", "contributes", "*"), "capabilities", True),
    (("replacement_rules", "*", "theatre"), "theatres", False),
    (("replacement_rules", "*", "capabilities", "#"), "capabilities", False),
    (("personnel", "*"), "theatres", True),
    (("basing", "*"), "theatres", True),
]


def _matches(path: Path_, pattern: tuple[str, ...]) -> bool:
    if len(path) != len(pattern):
        return False
    for part, want in zip(path, pattern, strict=True):
        if want == "#":
            if not isinstance(part, int):
                return False
        elif want != "*" and part != want:
            return False
    return True


def mutate_broken_reference(draw: Draw, work: Work) -> None:
    """Refer to a theatre/origin/capability that does not exist, by a near miss."""
    sites = []
    for path, value in walk(work.study):
        for pattern, namespace, as_key in REFERENCE_SITES:
            if _matches(path, pattern) and (as_key or isinstance(value, str)):
                sites.append((path, namespace, as_key))
    if not sites:
        return
    path, namespace, as_key = draw(st.sampled_from(sites))
    old = str(path[-1] if as_key else get_at(work.study, path))
    names = work.study.get(namespace)
    known = set(names) if isinstance(names, dict) else set()
    options = [m for m in near_misses(old) if m not in known]
    if not options:
        return
    new = draw(st.sampled_from(options))
    if as_key:
        holder = get_at(work.study, path[:-1])
        if new in holder:
            return
        rename_key(holder, path[-1], new)
        ref_path = (*path[:-1], new)
    else:
        set_at(work.study, path, new)
        ref_path = path

    def check(ctx: Ctx) -> bool:
        if ctx.scenario is not None or ctx.sets:
            return False  # an overlay could define the name; claim nothing
        names = ctx.study.get(namespace)
        if not isinstance(names, dict) or new in names:
            return False
        if as_key:
            holder = get_at(ctx.study, ref_path[:-1])
            return isinstance(holder, dict) and new in holder
        return bool(get_at(ctx.study, ref_path) == new)

    work.claims.append(Claim("invalid", f"broken ref {old!r}->{new!r} at {path}", check))


def mutate_odd_id(draw: Draw, work: Work) -> None:
    """An id key (theatre, asset, ...) with odd unicode or a bad shape."""
    parents = [
        p
        for p, v in walk(work.study)
        if isinstance(v, dict) and v and (ks := key_spec(p)) is not None and ks.pattern
    ]
    if not parents:
        return
    parent = draw(st.sampled_from(parents))
    holder = get_at(work.study, parent)
    old = draw(st.sampled_from(list(holder)))
    new = draw(st.sampled_from(ODD_IDS))
    if new in holder:
        return
    rename_key(holder, old, new)
    key_rule = key_spec(parent)
    verdict = _fits_string(key_rule, new) if key_rule is not None else "any"

    def check(ctx: Ctx) -> bool:
        h = get_at(ctx.study, parent)
        return isinstance(h, dict) and new in h

    label = f"odd id {old!r}->{new!r} in {parent}"
    work.claims.append(
        Claim("invalid", label, check) if verdict == "invalid" else Claim("any", label)
    )


def mutate_duplicate_key(draw: Draw, work: Work) -> None:
    """A key written twice in one mapping, with the same or another value (#1)."""
    paths = [p for p, v in walk(work.study) if p and isinstance(p[-1], str)]
    path = draw(st.sampled_from(paths))
    value = get_at(work.study, path)
    if isinstance(value, Twice):
        return
    other = copy.deepcopy(value)
    if isinstance(value, int | float) and not isinstance(value, bool) and draw(st.booleans()):
        other = value + 1 if isinstance(value, int) else value / 2  # both usually valid
    first, second = (value, other) if draw(st.booleans()) else (other, value)
    set_at(work.study, path, Twice(first, second))

    def check(ctx: Ctx) -> bool:
        return isinstance(get_at(ctx.study, path), Twice)

    work.claims.append(Claim("invalid", f"duplicate key {'.'.join(map(str, path))}", check))


def mutate_scenario_files(draw: Draw, work: Work) -> None:
    """A ``scenario_files`` entry escaping the folder, missing, or not YAML."""
    bad = draw(
        st.sampled_from(
            [
                "../outside.yaml",
                "/etc/passwd",
                "~/x.yaml",
                "sub\\x.yaml",
                "nul\x00.yaml",
                "missing.yaml",
                "notes.txt",
                "scenarios/../../x.yaml",
                "",
            ]
        )
    )
    files = work.study.setdefault("scenario_files", [])
    if not isinstance(files, list):
        return
    files.append(bad)

    def check(ctx: Ctx) -> bool:
        entries = ctx.study.get("scenario_files")
        return isinstance(entries, list) and bad in entries

    work.claims.append(Claim("invalid", f"scenario file {bad!r}", check))


def mutate_broken_overlay_file(draw: Draw, work: Work) -> None:
    """A second overlay file that is itself broken (its errors must name that file)."""
    name = "extra_scenarios.yaml"
    files = work.study.setdefault("scenario_files", [])
    if not isinstance(files, list) or name in files:
        return
    files.append(name)
    body = draw(
        st.sampled_from(
            [
                b"scenarios:\n  x: {description: [1]}\n",
                b"scenarios:\n  x: {description: ok, extends: [nowhere]}\n",
                b"scenarios: {}\n",
                b"scenarios:\n  x:\n    description: ok\n    bogus: 1\n",
                b"scenarios:\n\tx: 1\n",
                b'scenarios:\n  x: {description: "unclosed}\n',
                b"- a list\n",
                b"",
                b"\xff\xfe\x00x",
                b"scenarios:\n  x: &a {description: ok}\n",
            ]
        )
    )
    work.extra_files[name] = body
    work.claims.append(Claim("any", f"overlay file {body!r}"))


def mutate_valid_text(draw: Draw, work: Work) -> None:
    """Odd but legal text (unicode, NUL, markup, YAML 1.1 look-alikes) in a text field."""
    paths = _paths(
        work.study,
        lambda p, v: (
            (s := spec_at(p)) is not None
            and s.kind == "str"
            and not s.pattern
            and p[0] != "scenario_files"
        ),
    )
    if not paths:
        return
    path = draw(st.sampled_from(paths))
    spec = spec_at(path)
    pool = [*ODD_TEXT, *ODD_TEXT, *SURROGATE_TEXT, *LOOKALIKES]
    value = draw(st.sampled_from([v for v in pool if judge(spec, v) != "invalid"]))
    set_at(work.study, path, value)
    work.claims.append(
        Claim(judge(spec, value), f"text {'.'.join(map(str, path))}={value!r}"[:200])
    )


def mutate_valid_numbers(draw: Draw, work: Work) -> None:
    """Same value, other spelling: -0.0 for 0.0, 2 for 2.0 (valid for float fields)."""
    paths = _paths(
        work.study,
        lambda p, v: (
            isinstance(v, float)
            and v == int(v)
            and abs(v) < 1e15
            and (s := spec_at(p)) is not None
            and s.kind == "float"
        ),
    )
    if not paths:
        return
    path = draw(st.sampled_from(paths))
    value = get_at(work.study, path)
    spec = spec_at(path)
    assert spec is not None
    if value == 0.0 and spec.gt is None and draw(st.booleans()):
        set_at(work.study, path, -0.0)
    else:
        set_at(work.study, path, int(value))
    work.claims.append(Claim("valid", f"respelt number at {path}"))


def mutate_null_optional(draw: Draw, work: Work) -> None:
    """null (or ~, or nothing) for an optional field."""
    paths = _paths(
        work.study,
        lambda p, v: (
            v is not None
            and (s := spec_at(p)) is not None
            and s.nullable
            and p[:1] != ("scenarios",)
        ),
    )
    if not paths:
        return
    path = draw(st.sampled_from(paths))
    set_at(work.study, path, None)
    # Every optional field of the schema means something sensible as null; an overlay
    # that fills in part of a nulled mapping (budget) may not be complete, though.
    work.claims.append(Claim("valid", f"null at {path}", base_only=True))


def mutate_shuffle(draw: Draw, work: Work) -> None:
    """Reorder the keys of one mapping (order never matters)."""
    holders = [p for p, v in walk(work.study) if isinstance(v, dict) and len(v) > 1]
    if not holders:
        return
    holder = get_at(work.study, draw(st.sampled_from(holders)))
    items = list(holder.items())
    order = draw(st.permutations(range(len(items))))
    holder.clear()
    holder.update(items[i] for i in order)
    work.claims.append(Claim("valid", "shuffled keys"))


def mutate_add_scenario(draw: Draw, work: Work) -> None:
    """Add a valid scenario (optionally extending another) and maybe choose it."""
    scenarios = work.study.setdefault("scenarios", {})
    if not isinstance(scenarios, dict):
        return
    name = draw(st.sampled_from(["fuzz_a", "fuzz_b", "Fuzz-C"]))
    if name in scenarios:
        return
    body: dict[str, Any] = {"description": draw(st.sampled_from(["Fuzz overlay", *ODD_TEXT[:6]]))}
    existing = [n for n in scenarios if isinstance(n, str)]
    if existing and draw(st.booleans()):
        body["extends"] = [draw(st.sampled_from(existing))]
    body["objective"] = {"cost": draw(st.sampled_from([0.0, 0.5, 2.0]))}
    if isinstance(work.study.get("objective"), dict) and not any(
        work.study["objective"].get(k) for k in ("shortfall", "turbulence")
    ):
        body["objective"]["cost"] = 2.0  # keep one objective weight positive
    scenarios[name] = body
    work.claims.append(Claim("valid", f"scenario {name}"))


# Which layer wrote a value last: the base study, the chosen scenario's chain (each
# ``extends`` first) or the ``--set`` overrides (in order). Mappings merge key by key;
# anything else replaces what was there, so the last layer to write a value wins.


def set_path(text: str) -> Path_:
    """The key path that ``--set path=value`` names (split as posture splits it)."""
    return tuple(part.strip() for part in text.partition("=")[0].split("."))


def _covers(outer: Path_, inner: Path_) -> bool:
    """Writing a value at ``outer`` replaces whatever was at ``inner``."""
    return len(outer) <= len(inner) and tuple(inner[: len(outer)]) == tuple(outer)


def sets_overwrite(sets: tuple[str, ...], path: Path_, after: int = -1) -> bool | None:
    """Whether an override after ``sets[after]`` replaces the scalar at ``path``.

    True if one certainly does (it is well formed and assigns), None if one might
    (its fate is unknown: ``ANY_SETS``), False if none does.
    """
    found: bool | None = False
    for text in sets[after + 1 :]:
        if text in SET_ERRORS or not _covers(set_path(text), path):
            continue  # rejected before it assigns anything, or elsewhere
        if text in VALID_SETS or text in SET_BAD_VALUES:
            return True
        found = None
    return found


def scenario_bodies(ctx: Ctx) -> dict[str, Any]:
    """Every scenario of the case, by name: the study's own, then the overlay files'."""
    found: dict[str, Any] = {}
    holders = [ctx.study.get("scenarios")]
    holders += [o.get("scenarios") for o in ctx.overlays.values() if isinstance(o, dict)]
    for holder in holders:
        if isinstance(holder, dict):
            for name, body in holder.items():
                if isinstance(name, str):
                    found.setdefault(name, body)
    return found


def scenario_chain(ctx: Ctx, name: str) -> list[str] | None:
    """The scenarios applied for ``name``, parents first; None if posture refuses it."""
    bodies = scenario_bodies(ctx)
    order: list[str] = []

    def visit(current: Any, trail: tuple[str, ...]) -> bool:
        if not isinstance(current, str) or current in trail:
            return False
        body = bodies.get(current)
        parents = body.get("extends", []) if isinstance(body, dict) else None
        if not isinstance(parents, list):
            return False
        for parent in parents:
            if parent not in order and not visit(parent, (*trail, current)):
                return False
        if current not in order:
            order.append(current)
        return True

    return order if visit(name, ()) else None


def _writes(body: Any, path: Path_) -> bool:
    """Merging the scenario ``body`` replaces the scalar at ``path``."""
    node = body
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
        if not isinstance(node, dict):
            return True
    return True


def last_writer(ctx: Ctx, path: Path_) -> str | None:
    """Who wrote the scalar at ``path`` last: "base", "scenario NAME", "--set", or None
    if that is not certain (an override of unknown fate, a scenario posture refuses)."""
    overwritten = sets_overwrite(ctx.sets, path)
    if overwritten is None:
        return None
    if overwritten:
        return "--set"
    if ctx.scenario is None:
        return "base"
    chain = scenario_chain(ctx, ctx.scenario)
    if chain is None:
        return None
    bodies = scenario_bodies(ctx)
    for name in reversed(chain):
        if _writes(bodies[name], path):
            return f"scenario {name}"
    return "base"


BAD_COST = ("objective", "cost")


def _bad_cost_in_use(ctx: Ctx) -> bool | None:
    """Whether scenario ``broken``'s ``objective.cost: cheap`` reaches the merged study.

    None if that is not certain, or if the scenario has been changed since.
    """
    body = scenario_bodies(ctx).get("broken")
    if not (isinstance(body, dict) and get_at(body, BAD_COST) == "cheap"):
        return None
    writer = last_writer(ctx, BAD_COST)
    return None if writer is None else writer == "scenario broken"


def bad_scenario_claim(label: str) -> Claim:
    """The claim for scenario ``broken`` holding a bad cost: invalid while the cost is
    used; no effect if the scenario is not chosen, or a later scenario in the chain or
    a --set replaces the cost (study keys of a scenario are validated once merged)."""
    return Claim(
        "invalid",
        f"scenario {label}",
        lambda c: _bad_cost_in_use(c) is True,
        valid_if=lambda c: _bad_cost_in_use(c) is False,
    )


def mutate_broken_scenario(draw: Draw, work: Work) -> None:
    """A scenario with an unknown top-level key, an extends cycle or unknown parent, or a
    bad value (``objective.cost: cheap``) that is chosen, or overridden by a scenario
    extending it (valid: the last layer wins)."""
    scenarios = work.study.setdefault("scenarios", {})
    if not isinstance(scenarios, dict):
        return
    kind = draw(
        st.sampled_from(["unknown_key", "cycle", "unknown_parent", "bad_value", "fixed_by_child"])
    )
    if kind == "unknown_key":
        key = draw(st.sampled_from(["theatre", "objectve", "Objective", "scenario"]))
        scenarios["broken"] = {"description": "broken", key: {}}
        work.claims.append(_unknown_key_claim(("scenarios", "broken"), key, f"scenario key {key}"))
        return
    work.scenario = "broken"
    if kind in ("bad_value", "fixed_by_child"):
        scenarios["broken"] = {"description": "broken", "objective": {"cost": "cheap"}}
        if kind == "fixed_by_child":
            scenarios["fixed"] = {
                "description": "fixes broken",
                "extends": ["broken"],
                "objective": {"cost": 0.5},
            }
            work.scenario = "fixed"
        work.claims.append(bad_scenario_claim(kind))
        return
    if kind == "cycle":
        scenarios["broken"] = {"description": "a", "extends": ["broken2"]}
        scenarios["broken2"] = {"description": "b", "extends": ["broken"]}

        def check(ctx: Ctx) -> bool:
            bodies = scenario_bodies(ctx)
            return (
                ctx.scenario in ("broken", "broken2")
                and get_at(bodies, ("broken", "extends")) == ["broken2"]
                and get_at(bodies, ("broken2", "extends")) == ["broken"]
            )

    else:
        scenarios["broken"] = {"description": "a", "extends": ["nowhere"]}

        def check(ctx: Ctx) -> bool:
            bodies = scenario_bodies(ctx)
            return (
                ctx.scenario == "broken"
                and get_at(bodies, ("broken", "extends")) == ["nowhere"]
                and "nowhere" not in bodies
            )

    work.claims.append(Claim("invalid", f"scenario {kind}", check))


def choose_scenario(draw: Draw, work: Work, *, misspell: bool = True) -> None:
    """Select one of the study's scenarios, or (if ``misspell``) a misspelt one."""
    names = work.ctx().scenario_names
    if not names:
        return
    name = draw(st.sampled_from(names))
    if misspell and draw(st.integers(0, 4)) == 0:
        wrong = draw(st.sampled_from(near_misses(name)))
        if wrong in names:
            return
        work.scenario = wrong
        work.claims.append(
            Claim(
                "invalid",
                f"unknown scenario {wrong!r}",
                lambda c: c.scenario not in c.scenario_names,
            )
        )
    else:
        work.scenario = name
        work.claims.append(Claim("valid", f"scenario {name}"))


VALID_SETS = ["objective.cost=0.5", "solver.threads=1", "solver.seed=7", "study.name=Set by fuzz"]
# Well formed, but the schema rejects the value: a later --set of the same key (or of
# a mapping holding it) replaces it, and then it has no effect (the last one wins).
SET_BAD_VALUES = [
    "objective.cost=yes",
    "objective.cost=1e400",
    "objective.cost=.nan",
    "objective.cost=-1",
    "objective.cost=[1, 2]",
    "objective.cost={a: 1}",
    "objective.costs=1",
    "nokey=1",
    "solver.threads=0",
    "solver.threads=1.5",
    "objective.cost=1:30",
    "objective.cost=0755",
]
# Rejected while the overrides are read or applied, whatever comes after: no path,
# empty key, a value that is not acceptable YAML, a key inside a text value.
SET_ERRORS = [
    "objective.cost",
    "=5",
    "objective..cost=1",
    "objective.cost=[",
    "objective.cost=&a 1",
    "objective.cost=!!str 1",
    "objective.cost='unclosed",
    "study.name.x=1",
]
INVALID_SETS = SET_BAD_VALUES + SET_ERRORS
ANY_SETS = [
    "objective.cost=\t1",
    "budget.limit_musd=5",
    "theatres.x.priority=1",
    "objective=1",
    "deadline_days=null",
]


def _set_claim(number: int, text: str) -> Claim:
    """The claim for override ``number`` (0-based) ``text``, by what comes after it."""
    label = f"--set #{number + 1} {text}"

    def here(ctx: Ctx) -> bool:
        return number < len(ctx.sets) and ctx.sets[number] == text

    if text in SET_ERRORS:
        return Claim("invalid", label, here)
    if text in SET_BAD_VALUES:
        path = set_path(text)
        return Claim(
            "invalid",
            label,
            lambda c: here(c) and sets_overwrite(c.sets, path, after=number) is False,
            valid_if=lambda c: here(c) and sets_overwrite(c.sets, path, after=number) is True,
        )
    if text in VALID_SETS:
        return Claim("valid", label)
    return Claim("any", label)


def choose_sets(draw: Draw, work: Work) -> None:
    """One to three ``--set`` overrides, valid or not; often the same key twice."""
    pool = VALID_SETS + INVALID_SETS + ANY_SETS
    chosen = draw(st.lists(st.sampled_from(pool), max_size=2))
    if chosen and draw(st.integers(0, 2)) == 0:
        # The same key again, later: the last assignment wins ("last --set wins").
        path = set_path(chosen[-1])
        again = [t for t in pool if _covers(set_path(t), path) or _covers(path, set_path(t))]
        chosen.append(draw(st.sampled_from(again)))
    work.sets = tuple(chosen)
    for number, text in enumerate(work.sets):
        work.claims.append(_set_claim(number, text))


def choose_valid_sets(draw: Draw, work: Work) -> None:
    """A valid ``--set``, sometimes after a bad value for the same key that it replaces
    (valid: the last assignment wins)."""
    final = draw(st.sampled_from(VALID_SETS))
    shadowed = [t for t in SET_BAD_VALUES if set_path(t) == set_path(final)]
    if shadowed and draw(st.booleans()):
        work.sets = (draw(st.sampled_from(shadowed)), final)
    else:
        work.sets = (final,)
    for number, text in enumerate(work.sets):
        work.claims.append(_set_claim(number, text))


DICT_MUTATIONS: list[Callable[[Draw, Work], None]] = [
    mutate_wrong_type,
    mutate_wrong_type,
    mutate_number,
    mutate_number,
    mutate_lookalike,
    mutate_missing_key,
    mutate_misspelt_key,
    mutate_extra_key,
    mutate_broken_reference,
    mutate_broken_reference,
    mutate_odd_id,
    mutate_duplicate_key,
    mutate_scenario_files,
    mutate_broken_overlay_file,
    mutate_broken_scenario,
    mutate_valid_text,
]
VALID_MUTATIONS: list[Callable[[Draw, Work], None]] = [
    mutate_valid_text,
    mutate_valid_text,
    mutate_valid_numbers,
    mutate_null_optional,
    mutate_shuffle,
    mutate_add_scenario,
]


# --------------------------------------------------------------------------------------
# Raw text mutations
# --------------------------------------------------------------------------------------

_KEY_LINE = re.compile(r"^( *)([A-Za-z_\"'][^:#]*):(?: (.*))?$")
INSERT_CHARS = [
    '"', "'", "[", "]", "{", "}", ":", ": ", "#", "&", "*", "!", "|", ">", "%", "@", "`", ",",
    "- ", "? ", "\t", "\x00", "\x07", "\x1b", "\ufeff", "\u2028", "\x85", "\r", "\ud800",
    "\uff1d", "\uff1a", "\u200f", "\u200d", "\u0301", "\U0001f680", "\\", "\n", "  ",
]  # fmt: skip


@dataclass
class TextWork:
    """Raw text changes and what they do to validity."""

    lines: list[str]
    claims: list[Claim] = field(default_factory=list)
    prefix: bytes = b""
    newline: str = "\n"
    byte_edits: list[tuple[int, str, int]] = field(default_factory=list)

    def render(self) -> bytes:
        data = self.prefix + self.newline.join(self.lines).encode("utf-8", "surrogatepass")
        buf = bytearray(data)
        for pos, how, byte in self.byte_edits:
            if not buf:
                break
            i = pos % len(buf)
            if how == "flip":
                buf[i] ^= byte or 1
            elif how == "delete":
                del buf[i]
            else:
                buf.insert(i, byte)
        return bytes(buf)


def _pick_line(draw: Draw, tw: TextWork, pattern: re.Pattern[str] | None = None) -> int | None:
    options = [
        i for i, line in enumerate(tw.lines) if pattern is None or pattern.match(line) is not None
    ]
    return draw(st.sampled_from(options)) if options else None


def text_valid(draw: Draw, tw: TextWork) -> None:
    """Legal changes: comments, blank lines, trailing spaces, CRLF/CR, a BOM, markers."""
    kind = draw(st.sampled_from(["comment", "blank", "trailing", "crlf", "bom", "markers"]))
    if kind == "comment":
        i = draw(st.integers(0, len(tw.lines)))
        pad = " " * draw(st.integers(0, 8))
        note = draw(st.sampled_from(["# note", "#", "# key: value", "# \u200f\U0001f680 &a *b !t"]))
        tw.lines.insert(i, pad + note)
    elif kind == "blank":
        tw.lines.insert(draw(st.integers(0, len(tw.lines))), " " * draw(st.integers(0, 3)))
    elif kind == "trailing":
        i = _pick_line(draw, tw)
        if i is not None and tw.lines[i].strip():
            tw.lines[i] += draw(st.sampled_from(["   ", " # trailing comment", " "]))
    elif kind == "crlf":
        tw.newline = draw(st.sampled_from(["\r\n", "\r"]))
    elif kind == "bom":
        tw.prefix = b"\xef\xbb\xbf"
    else:
        tw.lines.insert(0, "---")
        if tw.lines and tw.lines[-1] == "":
            tw.lines.insert(len(tw.lines) - 1, "...")
    tw.claims.append(Claim("valid", f"text {kind}"))


def _certain(tw: TextWork, label: str) -> None:
    """An error no other change can undo (checked: only one raw change per case)."""
    tw.claims.append(Claim("invalid", label, lambda c: True))


def text_structural(draw: Draw, tw: TextWork) -> None:
    """Anchors, aliases, tags, merge keys, complex keys, duplicate keys, tabs, documents."""
    kind = draw(
        st.sampled_from(["anchor", "alias", "tag", "merge", "complex", "dup", "tab", "document"])
    )
    if kind == "document":
        tw.lines[-1:] = ["---", "extra: 1", ""]
        _certain(tw, "second document")
        return
    i = _pick_line(draw, tw, _KEY_LINE)
    if i is None:
        tw.claims.append(Claim("any", f"{kind}: no line"))
        return
    m = _KEY_LINE.match(tw.lines[i])
    assert m is not None
    pad, key, value = m.group(1), m.group(2), m.group(3)
    if kind in ("anchor", "alias", "tag") and value is None:
        tw.claims.append(Claim("any", f"{kind}: no value"))
        return
    if kind == "anchor":
        tw.lines[i] = f"{pad}{key}: &a1 {value}"
    elif kind == "alias":
        tw.lines[i] = f"{pad}{key}: *{draw(st.sampled_from(['a1', 'undefined', 'x' * 300]))}"
    elif kind == "tag":
        tag = draw(
            st.sampled_from(
                [
                    "!!python/object/apply:os.system",
                    "!!python/name:os.system",
                    "!!binary",
                    "!custom",
                    "!!str",
                    "!!float",
                    "!<tag:yaml.org,2002:str>",
                ]
            )
        )
        tw.lines[i] = f"{pad}{key}: {tag} {value}"
    elif kind == "merge":
        tw.lines.insert(i, f"{pad}<<: {draw(st.sampled_from(['{}', '*a1', '{a: 1}']))}")
    elif kind == "complex":
        tw.lines[i:i] = [f"{pad}? [a, b]", f"{pad}: 1"]
    elif kind == "dup":
        tw.lines.insert(i + 1, tw.lines[i].split(":")[0] + ": 1")
    else:
        tw.lines[i] = "\t" + tw.lines[i][1:] if pad else "\t" + tw.lines[i]
    _certain(tw, f"text {kind} at line {i + 1}")


def text_damage(draw: Draw, tw: TextWork) -> None:
    """Random damage: quotes, brackets, indentation, truncation, lines, bytes, long lines."""
    kind = draw(
        st.sampled_from(
            [
                "insert",
                "insert",
                "delete_char",
                "indent",
                "truncate",
                "delete_line",
                "duplicate_line",
                "swap_lines",
                "fullwidth",
                "long_line",
                "byte",
                "byte",
                "line_separator",
            ]
        )
    )
    n = len(tw.lines)
    i = draw(st.integers(0, max(0, n - 1)))
    line = tw.lines[i] if n else ""
    if kind == "insert":
        pos = draw(st.integers(0, len(line)))
        tw.lines[i] = line[:pos] + draw(st.sampled_from(INSERT_CHARS)) + line[pos:]
    elif kind == "delete_char" and line:
        pos = draw(st.integers(0, len(line) - 1))
        tw.lines[i] = line[:pos] + line[pos + 1 :]
    elif kind == "indent":
        shift = draw(st.sampled_from([-3, -2, -1, 1, 2, 3]))
        tw.lines[i] = (
            (" " * shift + line)
            if shift > 0
            else line[min(-shift, len(line) - len(line.lstrip(" "))) :]
        )
    elif kind == "truncate":
        text = "\n".join(tw.lines)
        cut = draw(st.integers(0, len(text)))
        tw.lines = text[:cut].split("\n")
    elif kind == "delete_line" and n:
        del tw.lines[i]
    elif kind == "duplicate_line" and n:
        tw.lines.insert(i, line)
    elif kind == "swap_lines" and n > 1:
        j = draw(st.integers(0, n - 1))
        tw.lines[i], tw.lines[j] = tw.lines[j], tw.lines[i]
    elif kind == "fullwidth":
        tw.lines[i] = line.replace(
            ": ", draw(st.sampled_from(["\uff1a ", " \uff1d ", "\uff1a"])), 1
        )
    elif kind == "long_line":
        size = draw(st.sampled_from([1025, 5000, 100_000, 200_000]))
        filler = draw(st.sampled_from(["x", "\u00e9", "\U0001f680", "a "]))
        tw.lines[i] = line + filler * (size // len(filler))
    elif kind == "byte":
        how = draw(st.sampled_from(["flip", "delete", "insert"]))
        byte = draw(st.sampled_from([0x00, 0x80, 0xC0, 0xFF, 0xFE, 0x09, 0x0D, 0x22, 0x7B, 1, 64]))
        tw.byte_edits.append((draw(st.integers(0, 2**31)), how, byte))
    elif kind == "line_separator":
        tw.newline = draw(st.sampled_from(["\u2028", "\x85", "\u2029"]))
    tw.claims.append(Claim("any", f"text {kind} at line {i + 1}"))


# --------------------------------------------------------------------------------------
# Hostile whole files
# --------------------------------------------------------------------------------------


def _billion_laughs(levels: int) -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for k in range(1, levels):
        refs = ",".join([f"*a{k - 1}"] * 9)
        lines.append(f"a{k}: &a{k} [{refs}]")
    return "\n".join(lines) + "\n"


@st.composite
def hostile_files(draw: Draw) -> tuple[bytes, str, Expect]:
    """A whole file built to hurt a YAML reader, and what it must give."""
    depth = draw(st.sampled_from([65, 100, 1000, 20_000]))
    options: list[tuple[str, Callable[[], bytes | str], Expect]] = [
        ("empty", lambda: b"", "invalid"),
        ("blank", lambda: "   \n\n", "invalid"),
        ("comments only", lambda: "# nothing here\n# at all\n", "invalid"),
        ("bare document", lambda: "---\n", "invalid"),
        ("document end", lambda: "...\n", "invalid"),
        ("top-level list", lambda: "- theatres\n- origins\n", "invalid"),
        ("top-level scalar", lambda: "hello world\n", "invalid"),
        ("top-level number", lambda: "1e400\n", "invalid"),
        ("top-level null", lambda: "~\n", "invalid"),
        ("billion laughs", lambda: _billion_laughs(9), "invalid"),
        ("alias bomb in flow", lambda: "a: &a [1]\nb: [*a, *a, *a]\n" * 3, "invalid"),
        ("merge key", lambda: "base: &b {x: 1}\nstudy:\n  <<: *b\n", "invalid"),
        (
            "python tag",
            lambda: "study: !!python/object/apply:os.system ['echo pwned']\n",
            "invalid",
        ),
        ("python name", lambda: "!!python/name:os.system\n", "invalid"),
        ("binary", lambda: "study: !!binary aGVsbG8=\n", "invalid"),
        ("deep flow", lambda: "study: " + "[" * depth + "]" * depth + "\n", "invalid"),
        ("deep flow map", lambda: "study: " + "{a: " * depth + "1" + "}" * depth + "\n", "invalid"),
        ("unclosed flow", lambda: "study: " + "[" * depth + "\n", "invalid"),
        (
            "deep block",
            lambda: (
                "".join(" " * i + "a:\n" for i in range(min(depth, 300))) + " " * 300 + "b: 1\n"
            ),
            "invalid",
        ),
        (
            "deep list",
            lambda: "study:\n" + "".join(" " * (2 * i) + "-\n" for i in range(min(depth, 200))),
            "invalid",
        ),
        ("two documents", lambda: "study: 1\n---\nstudy: 2\n", "invalid"),
        ("duplicate keys", lambda: "study: 1\nstudy: 2\n", "invalid"),
        ("complex key", lambda: "? [a, b]\n: 1\n", "invalid"),
        ("null key", lambda: "~: 1\nnull: 2\n: 3\n", "invalid"),
        ("utf-16", lambda: "study: {name: x}\n".encode("utf-16"), "invalid"),
        ("utf-32", lambda: "study: 1\n".encode("utf-32"), "invalid"),
        ("latin-1", lambda: "study: {name: caf\xe9}\n".encode("latin-1"), "invalid"),
        ("raw surrogate", lambda: b"study: {name: \xed\xa0\x80}\n", "invalid"),
        ("nul bytes", lambda: b"study:\x00 1\n", "invalid"),
        ("control char", lambda: "study: {name: a\x07b}\n", "invalid"),
        ("escape char", lambda: "study: {name: \x1b[2J}\n", "invalid"),
        ("only BOM", lambda: b"\xef\xbb\xbf", "invalid"),
        ("two BOMs", lambda: b"\xef\xbb\xbf\xef\xbb\xbfstudy: 1\n", "invalid"),
        ("huge line", lambda: "study: {name: " + "x" * 300_000 + "}\n", "invalid"),
        ("huge key", lambda: "k" * 2000 + ": 1\n", "invalid"),
        ("oversized", lambda: "# " + "x" * (MAX_FILE_BYTES + 10) + "\n", "invalid"),
        ("many errors", lambda: "".join(f"k{i}: &a{i} 1\n" for i in range(5000)), "invalid"),
        (
            "many warnings",
            lambda: "study:\n" + "".join(f"  k{i}: yes\n" for i in range(300)),
            "invalid",
        ),
        ("directive 1.1", lambda: "%YAML 1.1\n---\nstudy: {name: yes}\n", "invalid"),
        ("bad directive", lambda: "%YAML 9.9\n---\nstudy: 1\n", "invalid"),
        ("tag directive", lambda: "%TAG ! tag:evil.com,2000:\n---\nstudy: !x 1\n", "invalid"),
        ("tabs", lambda: "study:\n\tname: x\n", "invalid"),
        ("unclosed quote", lambda: 'study: {name: "x}\n', "invalid"),
        ("unclosed single", lambda: "study: 'x\n", "invalid"),
        ("block scalar", lambda: "study: |\n  text\n theatres: 1\n", "invalid"),
        ("fullwidth colon", lambda: "study\uff1a {name: x}\n", "invalid"),
        ("fullwidth equals", lambda: "study \uff1d x\n", "invalid"),
        ("only spaces and tabs", lambda: " \t \n", "invalid"),
        ("CR only", lambda: "study: 1\rtheatres: 2\r", "invalid"),
    ]
    name, make, expect = draw(st.sampled_from(options))
    content = make()
    data = content if isinstance(content, bytes) else content.encode("utf-8", "surrogatepass")
    return data, name, expect


# --------------------------------------------------------------------------------------
# Putting cases together
# --------------------------------------------------------------------------------------


def _render(draw: Draw, data: dict[str, Any], original: str | None) -> tuple[str, str]:
    """Text for ``data``: the original file, our emitter, or yaml.safe_dump."""
    if original is not None and draw(st.integers(0, 2)) == 0:
        return original, "original"
    if not contains_raw(data) and draw(st.integers(0, 3)) == 0:
        text = yaml.safe_dump(
            data,
            sort_keys=False,
            allow_unicode=draw(st.booleans()),
            default_flow_style=draw(st.sampled_from([False, None, True])),
            width=draw(st.sampled_from([80, 20, 10_000])),
            indent=draw(st.sampled_from([2, 4])),
        )
        return text, "safe_dump"
    return emit(data, draw(styles())), "emitter"


def contains_raw(data: Any) -> bool:
    """True if a Raw token appears anywhere in ``data`` (keys included)."""
    if isinstance(data, Raw | Twice):
        return True
    if isinstance(data, dict):
        return any(contains_raw(k) or contains_raw(v) for k, v in data.items())
    if isinstance(data, list):
        return any(contains_raw(v) for v in data)
    return False


@st.composite
def cases(draw: Draw, *, small_only: bool = False, valid_only: bool = False) -> Case:
    """A study case: valid, dict-mutated, text-mutated or hostile (see module docstring)."""
    if not valid_only and draw(st.integers(0, 99)) < 12:
        content, name, expect = draw(hostile_files())
        return Case({STUDY_FILE: content}, expect, "hostile", (name,))
    base: Base = draw(bases(small_only=small_only))
    work = Work(base, copy.deepcopy(base.study), copy.deepcopy(base.overlays))
    mode = (
        "valid"
        if valid_only
        else draw(st.sampled_from(["valid", "dict", "dict", "dict", "text", "text"]))
    )
    for mutate in draw(st.lists(st.sampled_from(VALID_MUTATIONS), max_size=3)):
        mutate(draw, work)
    if mode == "dict":
        for mutate in draw(st.lists(st.sampled_from(DICT_MUTATIONS), min_size=1, max_size=3)):
            mutate(draw, work)
    if draw(st.integers(0, 3)) == 0:
        choose_scenario(draw, work, misspell=not valid_only)
    if draw(st.integers(0, 9)) == 0:
        if valid_only or (mode == "valid" and draw(st.booleans())):
            choose_valid_sets(draw, work)
        else:
            choose_sets(draw, work)

    # Render the study (the original text if nothing changed), then change the text.
    unchanged = same_data(work.study, base.study) and not contains_raw(work.study)
    original = base.texts.get(STUDY_FILE) if base.texts and unchanged else None
    text, how = _render(draw, work.study, original)
    labels = [f"render:{how}"]
    tw = TextWork(text.split("\n"))
    target = STUDY_FILE
    if mode == "text":
        if base.overlays and draw(st.integers(0, 3)) == 0:
            target = draw(st.sampled_from(sorted(base.overlays)))
            assert base.texts is not None
            tw = TextWork(base.texts[target].split("\n"))
        changes = draw(
            st.lists(
                st.sampled_from([text_damage, text_damage, text_structural]), min_size=1, max_size=3
            )
        )
        for change in changes:
            change(draw, tw)
        if len(changes) > 1 or how != "emitter" or target != STUDY_FILE:
            # Several raw changes can undo each other (a truncation cuts an anchor off);
            # safe_dump folds long strings and real files have block scalars.
            tw.claims = [Claim("any", c.label) if c.effect == "invalid" else c for c in tw.claims]
        work.claims = [Claim("any", c.label) if c.effect == "invalid" else c for c in work.claims]
    if how == "emitter" and target == STUDY_FILE and draw(st.integers(0, 2)) == 0:
        text_valid(draw, tw)

    files = {
        STUDY_FILE: tw.render() if target == STUDY_FILE else text.encode("utf-8", "surrogatepass")
    }
    for name, overlay in work.overlays.items():
        if name == target:
            files[name] = tw.render()
        elif base.texts and name in base.texts and overlay == base.overlays.get(name):
            files[name] = base.texts[name].encode("utf-8")
        else:
            files[name] = emit(overlay, Style()).encode("utf-8", "surrogatepass")
    files.update(work.extra_files)

    claims = work.claims + tw.claims
    work.claims = claims
    expect = work.expectation()
    data = None
    if (
        expect == "valid"
        and work.scenario is None
        and not work.sets
        and not contains_unknown(work.study)
    ):
        data = {k: v for k, v in plain_data(work.study).items() if k in STUDY_KEYS}
    labels += [c.label for c in claims]
    return Case(files, expect, base.origin, tuple(labels), work.scenario, work.sets, data)
