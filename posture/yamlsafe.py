"""Safe YAML loading: plain data plus a source map, with every problem located.

PyYAML's loaders have traps for analysts' files: duplicate keys silently kept, YAML
1.1 booleans (``no``), ``0755`` read as 493, alias bombs, tags that construct objects
and recursion crashes. Only PyYAML's parsers are used here (libyaml's when it is
installed, the pure-Python one for any file with a problem); values are built from
the event stream by this module, which refuses anchors, aliases and tags as they go
past and types scalars by YAML 1.2 core-schema rules.
"""

from __future__ import annotations

import codecs
import math
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from yaml import events as ev
from yaml.error import MarkedYAMLError, YAMLError
from yaml.parser import Parser
from yaml.reader import Reader, ReaderError
from yaml.scanner import Scanner

from posture.errors import Diagnostic, InputError, KeyPath, Location

CParser: Any
try:
    from yaml._yaml import CParser
except ImportError:  # PyYAML built without libyaml: the pure-Python parser reads everything
    CParser = None

_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_YAML11_BOOLS = frozenset({"yes", "no", "on", "off", "y", "n"})
_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
# Stricter than the 1.2 core schema on purpose: a leading zero (007, 0755) stays text (#9).
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|(?:0|[1-9][0-9]*)(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_SPECIAL_FLOATS = {s: math.nan for s in (".nan", ".NaN", ".NAN")}
for _inf in (".inf", ".Inf", ".INF"):
    _SPECIAL_FLOATS.update({_inf: math.inf, "+" + _inf: math.inf, "-" + _inf: -math.inf})
_KINDS = ((bool, "a boolean"), (int | float, "a number"), (str, "a string"), (list, "a list"))
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")  # the breaks PyYAML counts as lines
_MAX_DIAGNOSTICS = 100  # a hostile file must not produce millions of messages
_DEPTH_CEILING = 200  # building values recurses; deeper limits risk Python's recursion limit
_EXCERPT_WIDTH = 100


@dataclass(frozen=True)
class SourceMap:
    """Where each key and value of a parsed file starts (1-based)."""

    file: str
    values: Mapping[KeyPath, Location]
    keys: Mapping[KeyPath, Location]

    def value(self, path: KeyPath) -> Location:
        """Location of the value at ``path``, else of its nearest located ancestor."""
        for end in range(len(path), -1, -1):
            found = self.values.get(path[:end])
            if found is not None:
                return found
        return Location(self.file, 1, 1)

    def key(self, path: KeyPath) -> Location:
        """Location of the key token of the entry at ``path``, else :meth:`value`."""
        found = self.keys.get(path)
        return found if found is not None else self.value(path)


@dataclass(frozen=True)
class YamlDocument:
    """A parsed study file: plain data, its source map and any warnings."""

    data: dict[str, Any]
    source: SourceMap
    warnings: tuple[Diagnostic, ...]


class _Mark(Protocol):
    line: int
    column: int


class _Stop(Exception):
    """Parsing cannot usefully go on; the reason is already recorded."""


class _Report:
    """Collects diagnostics so one run shows the user every problem."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.errors: list[Diagnostic] = []
        self.warnings: list[Diagnostic] = []
        self.truncated = False
        self.hidden_warnings = 0

    def loc(self, mark: _Mark | None) -> Location:
        if mark is None:
            return Location(self.file, 1, 1)
        return Location(self.file, mark.line + 1, mark.column + 1)  # PyYAML counts from 0

    def error(
        self, message: str, mark: _Mark | None, path: KeyPath = (), fatal: bool = False
    ) -> None:
        self.errors.append(Diagnostic(message, self.loc(mark), path))
        self.truncated = len(self.errors) >= _MAX_DIAGNOSTICS
        if fatal or self.truncated:
            raise _Stop

    def warn(self, message: str, mark: _Mark | None, path: KeyPath) -> None:
        if len(self.warnings) < _MAX_DIAGNOSTICS:
            self.warnings.append(Diagnostic(message, self.loc(mark), path, severity="warning"))
        else:
            self.hidden_warnings += 1


def _show_tag(tag: str) -> str:
    """Tags as the user wrote them: the parser expands ``!!x`` to a full URI."""
    prefix = "tag:yaml.org,2002:"
    return "!!" + tag[len(prefix) :] if tag.startswith(prefix) else tag


class _PureEvents(Reader, Scanner, Parser):
    """PyYAML's pure-Python reader, scanner and parser: the reference event source.

    Its errors (a control character at its offset, syntax errors with context marks)
    are the ones users see; it checks for control characters as it is built.
    """

    def __init__(self, text: str) -> None:
        Reader.__init__(self, text)
        Scanner.__init__(self)
        Parser.__init__(self)


class _LibyamlEvents:
    """libyaml's parser (about 20 times faster), for files the composer then finds clean.

    Its plain scalars carry style ``""`` where the pure parser has None, and its
    ``check_event`` ignores subclasses; both are evened out here so the composer sees
    one event language.
    """

    def __init__(self, text: str) -> None:
        self.parser = CParser(text)

    @staticmethod
    def _even(event: Any) -> Any:
        if isinstance(event, ev.ScalarEvent) and event.style == "":
            event.style = None
        return event

    def get_event(self) -> Any:
        return self._even(self.parser.get_event())

    def peek_event(self) -> Any:
        return self._even(self.parser.peek_event())

    def check_event(self, *choices: Any) -> bool:
        # libyaml's own check_event matches exact classes, not CollectionEndEvent's kin
        return isinstance(self.parser.peek_event(), choices)

    def dispose(self) -> None:
        self.parser.dispose()


class _Composer:
    """A safe composer over an event source (pure or libyaml).

    No PyYAML composer, resolver or constructor runs: values are built from events,
    no anchor is registered and no alias is followed, so an alias bomb costs one
    error per mark instead of an exponential expansion.
    """

    def __init__(self, events: Any, report: _Report, max_depth: int) -> None:
        self.events = events
        self.report = report
        self.max_depth = max_depth
        self.values: dict[KeyPath, Location] = {}
        self.keys: dict[KeyPath, Location] = {}

    def next_event(self) -> ev.Event:
        event: ev.Event = self.events.get_event()
        return event

    def upcoming(self) -> ev.Event:
        event: ev.Event = self.events.peek_event()
        return event

    def check_event(self, *choices: type[ev.Event]) -> bool:
        return bool(self.events.check_event(*choices))

    def dispose(self) -> None:
        self.events.dispose()

    def check(self, event: ev.Event, path: KeyPath) -> bool:
        """Report an alias, anchor or tag on a node event; False for an alias."""
        error, mark = self.report.error, event.start_mark
        if isinstance(event, ev.AliasEvent):
            error(f"YAML aliases (*{event.anchor}) are not allowed", mark, path)
            return False
        assert isinstance(event, ev.ScalarEvent | ev.CollectionStartEvent)  # by the grammar
        if event.anchor is not None:
            error(f"YAML anchors (&{event.anchor}) are not allowed", mark, path)
        if event.tag is not None:
            error(f"explicit tag '{_show_tag(event.tag)}' is not allowed", mark, path)
        return True

    def compose(self, path: KeyPath, depth: int, record: bool = True) -> Any:
        """The value of the next node; ``depth`` counts the enclosing collections."""
        event = self.next_event()
        if record:
            # Under a rejected key this may overwrite an entry: harmless, errors hide the map.
            self.values[path] = self.report.loc(event.start_mark)
        if not self.check(event, path):
            return None
        if isinstance(event, ev.ScalarEvent):
            return event.value if event.style else self.plain(event, path)
        if depth > self.max_depth:  # fatal: skipping the rest costs the scanner O(n^2)
            message = f"nesting deeper than {self.max_depth} levels"
            self.report.error(message, event.start_mark, path, fatal=True)
        if isinstance(event, ev.MappingStartEvent):
            return self.mapping(path, depth)
        items: list[Any] = []
        while not self.check_event(ev.CollectionEndEvent):
            items.append(self.compose((*path, len(items)), depth + 1))
        self.next_event()
        return items

    def mapping(self, path: KeyPath, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        while not self.check_event(ev.CollectionEndEvent):
            mark = self.upcoming().start_mark
            key = self.key(path, depth)
            if key is not None and key in first_line:
                message = f"duplicate key '{key}' (first defined at line {first_line[key]})"
                self.report.error(message, mark, (*path, key))
                key = None
            entry = path if key is None else (*path, key)
            value = self.compose(entry, depth + 1)  # walked anyway to report errors inside
            if key is not None:
                self.keys[entry] = self.report.loc(mark)
                first_line[key] = self.keys[entry].line
                result[key] = value
        self.next_event()
        return result

    def key(self, path: KeyPath, depth: int) -> str | None:
        """The raw text of the next key, never retyped (#10); None if unusable."""
        event = self.upcoming()
        if isinstance(event, ev.AliasEvent):
            self.compose(path, depth + 1, record=False)  # reports the alias
            return None
        if (
            not isinstance(event, ev.ScalarEvent)
            or event.style not in (None, "'", '"')
            or event.value == ""
            or (event.style is None and event.value in _NULLS)
        ):
            self.report.error("mapping keys must be plain strings", event.start_mark, path)
            self.compose(path, depth + 1, record=False)  # reports what is inside the key
            return None
        self.check(self.next_event(), path)
        if event.value == "<<" and event.style is None:
            self.report.error("YAML merge keys (<<) are not allowed", event.start_mark, path)
            return None
        return event.value

    def plain(self, event: ev.ScalarEvent, path: KeyPath) -> Any:
        """A plain scalar typed by the YAML 1.2 core schema (quoted ones stay text)."""
        text, mark = event.value, event.start_mark
        if text in _NULLS:
            return None
        if text in _BOOLS:
            return _BOOLS[text]
        if text.lower() in _YAML11_BOOLS:
            message = f"'{text}' is read as the string '{text}' (YAML 1.2), not a boolean"
            self.report.warn(
                f"{message}; write true/false, or quote it to keep the text", mark, path
            )
            return text
        if _INT.fullmatch(text):
            try:
                return int(text)
            except ValueError:  # Python refuses to parse integers of over ~4300 digits
                self.report.error(f"integer is too long ({len(text)} digits)", mark, path)
                return text
        if _FLOAT.fullmatch(text):
            return float(text)  # 1e400 becomes inf; the schema layer rejects non-finite
        return _SPECIAL_FLOATS.get(text, text)


def _parse(loader: _Composer) -> Any:
    report = loader.report
    loader.next_event()  # stream start
    if loader.check_event(ev.StreamEndEvent):
        report.error("file is empty", None, fatal=True)
    loader.next_event()  # document start
    root = loader.upcoming()
    # A lone '---' yields an empty plain scalar: as empty, for the user, as no document.
    empty = isinstance(root, ev.ScalarEvent) and root.style is None and root.value == ""
    value = loader.compose((), 1)
    loader.next_event()  # document end
    if not loader.check_event(ev.StreamEndEvent):
        second = loader.upcoming().start_mark
        report.error("only one YAML document is allowed per file; another starts here", second)
    if empty:
        report.error("file is empty", None)
    elif not isinstance(value, dict) and not isinstance(root, ev.AliasEvent):
        kind = next((name for cls, name in _KINDS if isinstance(value, cls)), "null")
        report.error(f"top level must be a mapping, got {kind}", None)
    return value


def _excerpt(text: str, where: Location) -> str:
    """The source line at ``where`` and a caret under its column; "" for a blank line."""
    lines = _LINE_BREAK.split(text)
    source = lines[where.line - 1] if where.line <= len(lines) else ""
    if where.line == 1:
        source = source.removeprefix("\ufeff")  # PyYAML does not count a BOM as a column
    if not source.strip():
        return ""
    col = where.column - 1
    if len(source) > _EXCERPT_WIDTH:
        start = max(0, min(col - _EXCERPT_WIDTH // 2, len(source) - _EXCERPT_WIDTH))
        source, col = source[start : start + _EXCERPT_WIDTH], col - start
    # Tabs and control characters would shift the caret or garble a terminal.
    source = "".join(c if c.isprintable() else " " for c in source)
    # The leading newline keeps the caret aligned: format() puts the hint after "; ".
    return f"\n    {source}\n    {' ' * col}^"


def _syntax_error(exc: YAMLError, text: str, file: str) -> Diagnostic:
    where, message, context = Location(file, 1, 1), str(exc), None
    if isinstance(exc, ReaderError):  # a control character; PyYAML gives only an offset
        parts = _LINE_BREAK.split(text[: exc.position])
        where = Location(file, len(parts), len(parts[-1]) + 1)
        message = f"unacceptable character #x{exc.character:04x}: {exc.reason}"
    elif isinstance(exc, MarkedYAMLError):
        report = _Report(file)
        where = report.loc(exc.problem_mark or exc.context_mark)
        message = exc.problem or exc.context or "invalid YAML"
        if exc.problem and exc.context and exc.context_mark is not None:
            context = report.loc(exc.context_mark)
            message += f" ({exc.context} started at line {context.line}, column {context.column})"
    # At the end of the file the problem line is blank; where the construct began says more.
    hint = _excerpt(text, where) or (context and _excerpt(text, context)) or None
    return Diagnostic(f"YAML syntax error: {message}", where, hint=hint)


def parse_yaml_text(text: str, file: str, *, max_depth: int = 64) -> YamlDocument:
    """Parse YAML text into plain data with a source map; ``file`` names it in messages.

    Raises :class:`InputError` listing every error found (then the warnings).
    """
    if not 1 <= max_depth <= _DEPTH_CEILING:
        raise ValueError(f"max_depth must be between 1 and {_DEPTH_CEILING}")
    fast = _parse_with_libyaml(text, file, max_depth)
    if fast is not None:
        return fast
    report = _Report(file)
    data: Any = None
    source = SourceMap(file, {}, {})
    try:
        loader = _Composer(_PureEvents(text), report, max_depth)  # checks control characters
        source = SourceMap(file, loader.values, loader.keys)
        try:
            data = _parse(loader)
        finally:
            loader.dispose()
    except _Stop:
        pass
    except YAMLError as exc:  # syntax errors are fatal: the rest cannot be read reliably
        report.errors.append(_syntax_error(exc, text, file))
    errors, warnings = _diagnostics(report)
    if errors or not isinstance(data, dict):
        raise InputError(diagnostics=[*errors, *warnings])
    return YamlDocument(data, source, tuple(warnings))


def _diagnostics(report: _Report) -> tuple[list[Diagnostic], list[Diagnostic]]:
    """The report's errors and warnings in file order, with the truncation notes."""
    top = Location(report.file, 1, 1)
    errors = sorted(report.errors, key=lambda d: d.location or top)
    if report.truncated:
        errors.append(Diagnostic(f"too many errors; stopped after {_MAX_DIAGNOSTICS}", top))
    warnings = sorted(report.warnings, key=lambda d: d.location or top)
    if report.hidden_warnings:
        more = f"{report.hidden_warnings} more warnings not shown"
        warnings.append(Diagnostic(more, top, severity="warning"))
    return errors, warnings


def _parse_with_libyaml(text: str, file: str, max_depth: int) -> YamlDocument | None:
    """The document, when libyaml reads the file and the composer finds nothing wrong.

    None sends the file through the pure-Python parser, whose diagnostics are the
    reference: every file with a problem is read there, so messages and locations do
    not depend on which parser is installed. Clean files give the same data, source
    map and warnings either way (``tests/test_yamlsafe.py``).
    """
    if CParser is None or Reader.NON_PRINTABLE.search(text):
        return None
    report = _Report(file)
    try:
        loader = _Composer(_LibyamlEvents(text), report, max_depth)
        try:
            data = _parse(loader)
        finally:
            loader.dispose()
    except (YAMLError, _Stop):
        return None
    errors, warnings = _diagnostics(report)
    if errors or not isinstance(data, dict):
        return None
    return YamlDocument(data, SourceMap(file, loader.values, loader.keys), tuple(warnings))


def _fail(message: str, where: Location | None = None, hint: str | None = None) -> InputError:
    return InputError([Diagnostic(message, where, hint=hint)])


def _read_bounded(path: Path, name: str, max_bytes: int) -> bytes:
    too_large = f"file is larger than the {max_bytes}-byte limit (got {{}} bytes)"
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):  # a FIFO or device could block or never end
            raise _fail(f"cannot read file: {name} is not a regular file")
        if info.st_size > max_bytes:
            raise _fail(too_large.format(info.st_size), Location(name, 1, 1))
        with open(path, "rb") as handle:
            # read(n) allocates n bytes up front, so ask for the stat size first.
            data = handle.read(info.st_size + 1)
            if len(data) > info.st_size:  # the file grew after the stat
                data += handle.read(max_bytes + 1 - len(data))
            size = os.fstat(handle.fileno()).st_size
    except OSError as exc:
        raise _fail(f"cannot read file: {name}: {exc.strerror or exc}") from None
    if len(data) > max_bytes:
        raise _fail(too_large.format(max(size, len(data))), Location(name, 1, 1))
    return data


def _decode(data: bytes, name: str) -> str:
    data = data.removeprefix(codecs.BOM_UTF8)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        line_start = data.rfind(b"\n", 0, exc.start) + 1  # the bytes before exc.start are valid
        column = len(data[line_start : exc.start].decode("utf-8")) + 1
        message = f"file is not valid UTF-8 (byte 0x{data[exc.start]:02x} cannot be decoded)"
        raise _fail(message, Location(name, line, column), "save the file as UTF-8") from None


def parse_yaml_file(
    path: Path, *, display_name: str | None = None, max_bytes: int = 2_000_000, max_depth: int = 64
) -> YamlDocument:
    """Read and parse a YAML file (see :func:`parse_yaml_text`); ``display_name`` names it.

    The size is checked before reading; a missing or unreadable file gives a diagnostic
    without a location.
    """
    name = display_name if display_name is not None else str(path)
    text = _decode(_read_bounded(path, name, max_bytes), name)
    return parse_yaml_text(text, name, max_depth=max_depth)
