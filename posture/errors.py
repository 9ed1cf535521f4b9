"""Located diagnostics and the exceptions that carry them.

Every problem an analyst can cause is reported as a :class:`Diagnostic`: where
(``file:line:col``), which key (a dotted path such as ``assets.thaad.inventory``),
what is wrong, and what to do about it. Errors are collected, not raised one at a
time, so a user sees every mistake in a file in one run.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

KeyPath = tuple[str | int, ...]
Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Location:
    """A 1-based position in an input file."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


def format_path(path: KeyPath) -> str:
    """Render a key path the way users write it: ``assets.thaad.inventory[0]``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


@dataclass(frozen=True)
class Diagnostic:
    """One located message about the inputs."""

    message: str
    location: Location | None = None
    path: KeyPath = ()
    severity: Severity = "error"
    hint: str | None = None

    def format(self) -> str:
        """``file:line:col: key.path: message (hint)``; the parts that are known."""
        parts = []
        if self.location is not None:
            parts.append(str(self.location))
        if self.path:
            parts.append(format_path(self.path))
        prefix = ": ".join(parts)
        label = "warning: " if self.severity == "warning" else ""
        text = f"{label}{self.message}"
        if self.hint:
            text += f"; {self.hint}"
        return f"{prefix}: {text}" if prefix else text


@dataclass
class InputError(Exception):
    """The inputs cannot be used; ``diagnostics`` lists every problem found."""

    diagnostics: list[Diagnostic] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return "\n".join(d.format() for d in self.diagnostics)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]


class OutputError(Exception):
    """A run folder could not be written (permission, disk full, target exists)."""


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """A ``did you mean 'x'?`` hint for a misspelt name, or None."""
    matches = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean '{matches[0]}'?" if matches else None


def expected_one_of(choices: Sequence[str], limit: int = 8) -> str:
    """A short 'expected one of' list for messages."""
    shown = ", ".join(f"'{c}'" for c in sorted(choices)[:limit])
    more = f", ... ({len(choices)} in all)" if len(choices) > limit else ""
    return f"expected one of {shown}{more}"
