"""Text from the inputs made safe to print through rich.

Names come from analyst YAML: rich markup (``[bold]``) is escaped and control
characters (ANSI escapes, ``\\x9b``) are shown as ``\\x1b``-style text, so no name
can restyle or drive the terminal (RELIABILITY #48).
"""

from __future__ import annotations

from rich.markup import escape


def safe(text: str) -> str:
    """``text`` with markup escaped and non-printable characters made visible."""
    return escape("".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text))
