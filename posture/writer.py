"""Run folders written whole or not at all, and table exports safe against hostile names.

Files are rendered in memory, written into a hidden ``<parent>/.tmp-<run>-<hex>``
folder (flock-ed while in use, so :func:`clean_stale_temps` spares live writers),
fsynced and renamed onto their final name: ``results/<run>`` is complete or absent
(RELIABILITY #43-#45). ``latest`` is a relative symlink swapped in with ``os.replace``.

Names come from analyst YAML: CSV text that a spreadsheet would run as a formula gets
a leading ``'`` (#47); Markdown and LaTeX escape their metacharacters and show control
characters as ``\\x1b``-style text (#48). Tables are exported without their index.

Numbers in Markdown/LaTeX: integers as they are; floats of magnitude in [1e-4, 1e15)
in fixed point with six significant digits, never rounding away integer digits
(``1234567.89`` -> ``1234568``, ``0.000123456789`` -> ``0.000123457``), trailing
zeros dropped; other magnitudes as ``%.6g`` (``1.5e-07``); NaN/None empty; ``inf``.
CSV keeps pandas' round-trip float precision.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import fcntl
import json
import math
import numbers
import os
import re
import secrets
import shutil
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from posture.errors import OutputError

_TMP = ".tmp-"
_LATEST = "latest"


@dataclass(frozen=True)
class RunFiles:
    """Everything that goes into one run folder."""

    tables: Mapping[str, pd.DataFrame]
    summary: Mapping[str, Any]
    texts: Mapping[str, str]
    caption: str


# --- cells ---------------------------------------------------------------------------

_FORMULA_STARTS = frozenset("=+-@\t\r\0＝＋－＠")
_CONTROLS = [*range(0x20), 0x7F, *range(0x80, 0xA0)]  # C1 too: \x9b is a terminal CSI
_VISIBLE = {c: f"\\x{c:02x}" for c in _CONTROLS} | {ord("\n"): " ", ord("\r"): " "}
# cmark-gfm splits cells at every | not directly after a backslash, so \| always holds.
# < becomes &lt; (no raw HTML); \< would not do, as a user's backslash before it is kept.
_MD_CELL = {ord("|"): "\\|", ord("<"): "&lt;"}
_MD_CAPTION = {ord(c): "\\" + c for c in "\\`*_[]<>|&!"}
# OT1 fonts print < > | as other glyphs. After \\, \toprule or \midrule a leading [
# is read as an optional length and a leading * as the starred \\: braces keep them text.
_TEXT_NAMES = ("backslash", "asciitilde", "asciicircum", "less", "greater", "bar")
_LATEX = (
    {ord(c): "\\" + c for c in "&%$#_{}"}
    | {ord(c): "{" + c + "}" for c in "[]*"}
    | {ord(c): f"\\text{name}{{}}" for c, name in zip("\\~^<>|", _TEXT_NAMES, strict=True)}
)


def neutralise_cell(value: object) -> object:
    """Prefix ``'`` to text a spreadsheet would run as a formula; numbers pass unchanged.

    Text starting with ``= + - @``, tab, CR, NUL or a fullwidth ``＝ ＋ － ＠`` is
    neutralised, including number-like text such as ``"-5"`` (it is a name, not a number).
    """
    if isinstance(value, str):
        return "'" + value if value[:1] in _FORMULA_STARTS else value
    if value is None or isinstance(value, numbers.Number | np.bool_):
        return value
    text = str(value)  # what to_csv would write for any other object
    return "'" + text if text[:1] in _FORMULA_STARTS else value


def _format_float(x: float) -> str:
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0:
        return "0"
    if not 1e-4 <= abs(x) < 1e15:
        return f"{x:.6g}"
    decimals = max(0, 5 - math.floor(math.log10(abs(x))))
    text = f"{x:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _plain(value: object) -> str:
    """A cell as display text, before any format-specific escaping."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return "" if math.isnan(value) else _format_float(float(value))
    return str(value)


def _is_number_column(column: pd.Series[Any]) -> bool:
    dtype = column.dtype
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


def _is_text_column(column: pd.Series[Any]) -> bool:
    dtype = column.dtype
    return (
        pd.api.types.is_object_dtype(dtype)
        or pd.api.types.is_string_dtype(dtype)
        or isinstance(dtype, pd.CategoricalDtype)
    )


# --- Markdown, LaTeX, CSV ------------------------------------------------------------


def _md(value: object) -> str:
    return _plain(value).translate(_VISIBLE).translate(_MD_CELL)


def _md_row(cells: Iterable[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def markdown_table(df: pd.DataFrame, caption: str) -> str:
    """A GitHub pipe table under an italic caption line; the index is not shown.

    Cells: ``|`` -> ``\\|``, newline/CR -> space, ``<`` -> ``&lt;`` (no raw HTML),
    control characters as ``\\x1b`` text, backslashes kept. Number columns are
    right-aligned; missing values are empty cells.
    """
    lines = []
    title = caption.translate(_VISIBLE).strip().translate(_MD_CAPTION)
    if title:
        lines += [f"*{title}*", ""]
    columns = [df.iloc[:, i] for i in range(df.shape[1])]
    if not columns:
        return "\n".join([*lines, "*(table has no columns)*"]) + "\n"
    lines.append(_md_row(_md(name) for name in df.columns))
    lines.append(_md_row("---:" if _is_number_column(c) else "---" for c in columns))
    lines.extend(_md_row(_md(v) for v in row) for row in df.itertuples(index=False, name=None))
    return "\n".join(lines) + "\n"


def _tex(value: object) -> str:
    return _plain(value).translate(_VISIBLE).translate(_LATEX)


def latex_table(df: pd.DataFrame, caption: str, label: str) -> str:
    """A booktabs ``table`` environment labelled ``tab:<label>``; the index is not shown.

    Every piece of text (cells, column names, caption) is escaped, so a name such as
    ``\\input{/etc/passwd}`` prints as text. ``label`` is reduced to ``[A-Za-z0-9:._-]``.
    """
    columns = [df.iloc[:, i] for i in range(df.shape[1])]
    spec = "".join("r" if _is_number_column(c) else "l" for c in columns) or "l"
    safe_label = re.sub(r"[^A-Za-z0-9:._-]", "-", label)
    lines = [
        "% needs \\usepackage{booktabs}",
        "\\begin{table}[htbp]",
        "  \\centering",
        f"  \\caption{{{_tex(caption)}}}",
        f"  \\label{{tab:{safe_label}}}",
        f"  \\begin{{tabular}}{{{spec}}}",
        "    \\toprule",
    ]
    if columns:
        lines.append("    " + " & ".join(_tex(name) for name in df.columns) + " \\\\")
    lines.append("    \\midrule")
    lines.extend(
        "    " + " & ".join(_tex(v) for v in row) + " \\\\"
        for row in df.itertuples(index=False, name=None)
    )
    lines += ["    \\bottomrule", "  \\end{tabular}", "\\end{table}"]
    return "\n".join(lines) + "\n"


def csv_text(df: pd.DataFrame) -> str:
    """CSV (no index, ``\\n`` line ends) with text cells and column names neutralised.

    Numbers keep pandas' round-trip precision. If any text contains a bare CR, every
    text field is quoted: Python 3.11's csv writer leaves CR unquoted with a ``\\n``
    line terminator, and readers then split the row.
    """
    out = df.copy()
    text_columns = []
    for i in range(out.shape[1]):
        if _is_text_column(out.iloc[:, i]):
            out.isetitem(i, [neutralise_cell(v) for v in out.iloc[:, i].astype(object)])
            text_columns.append(i)
    out.columns = pd.Index([neutralise_cell(c) for c in out.columns])
    texts = [str(c) for c in out.columns] + [
        v for i in text_columns for v in out.iloc[:, i] if isinstance(v, str)
    ]
    quoting: Literal[0, 2] = (
        csv.QUOTE_NONNUMERIC if any("\r" in t for t in texts) else csv.QUOTE_MINIMAL
    )
    return out.to_csv(index=False, lineterminator="\n", quoting=quoting)


# --- run folders ---------------------------------------------------------------------


def _json_safe(value: object) -> object:
    if isinstance(value, Mapping):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _check_file_name(name: str, what: str) -> None:
    if not name or name == "." or ".." in name or any(c in name for c in "/\\\0"):
        raise ValueError(f"{what} {name!r} must be a plain relative file name")


def _summary_json(summary: Mapping[str, Any], write_seconds: float | None = None) -> str:
    """summary.json text; ``write_seconds`` is added under ``seconds.write`` when known."""
    data = dict(summary)
    if write_seconds is not None:
        data["seconds"] = {**dict(data.get("seconds", {})), "write": round(write_seconds, 6)}
    return json.dumps(_json_safe(data), sort_keys=True, indent=2, allow_nan=False) + "\n"


def _render(files: RunFiles) -> dict[str, bytes]:
    """All file contents, so a rendering error happens before anything touches the disk."""
    for name in files.tables:
        _check_file_name(name, "table name")
    for name in files.texts:
        _check_file_name(name, "text file name")
    rendered: dict[str, bytes] = {}

    def add(file_name: str, text: str) -> None:
        if file_name in rendered:
            raise ValueError(f"two outputs would both be written to {file_name!r}")
        rendered[file_name] = text.encode("utf-8")

    for name in sorted(files.tables):
        df = files.tables[name]
        add(f"{name}.csv", csv_text(df))
        add(f"{name}.md", markdown_table(df, files.caption))
        add(f"{name}.tex", latex_table(df, files.caption, name))
    add("summary.json", _summary_json(files.summary))
    for name in sorted(files.texts):
        add(name, files.texts[name])
    return rendered


def _write_file(path: Path, data: bytes) -> None:
    with open(path, "xb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _point_latest(parent: Path, run_name: str) -> None:
    link = parent / f"{_TMP}latest-{secrets.token_hex(8)}"
    os.symlink(run_name, link)
    try:
        os.replace(link, parent / _LATEST)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(link)
        raise


def point_latest(run_dir: Path) -> None:
    """Atomically point ``<parent>/latest`` at a complete run folder."""
    try:
        _point_latest(run_dir.parent, run_dir.name)
    except OSError as exc:
        raise OutputError(f"{run_dir.parent / _LATEST}: {exc.strerror or exc}") from exc


def discard(run_dir: Path) -> None:
    """Remove a written run folder out of sight first (rmtree is not atomic)."""
    hidden = run_dir.parent / f"{_TMP}{run_dir.name}-discard-{secrets.token_hex(4)}"
    with contextlib.suppress(OSError):
        os.rename(run_dir, hidden)
        shutil.rmtree(hidden, ignore_errors=True)


def quarantine(run_dir: Path) -> Path:
    """Move a run folder that failed verification out of sight: ``.rejected-<run>``."""
    target = run_dir.parent / f".rejected-{run_dir.name}"
    try:
        os.rename(run_dir, target)
    except OSError as exc:
        raise OutputError(f"{run_dir}: cannot quarantine: {exc.strerror or exc}") from exc
    return target


def _exists(run_dir: Path) -> OutputError:
    return OutputError(f"run folder {run_dir} already exists; choose another --out or remove it")


def write_run(run_dir: Path, files: RunFiles, *, update_latest: bool = True) -> Path:
    """Write a complete run folder atomically and (optionally) point ``latest`` at it.

    Raises OutputError if ``run_dir`` exists (checked before anything is written) or
    on any OS error (temp folder removed, message names the file and the cause).
    KeyboardInterrupt/SystemExit remove the temp folder and propagate unchanged; a
    failure after the rename moves the run back out of sight, so the caller's
    "nothing written" exit codes stay true. ValueError for unsafe file names.
    """
    name, parent = run_dir.name, run_dir.parent
    if name in ("", ".", "..") or name.startswith(_TMP):
        raise OutputError(f"{run_dir}: not a usable run folder name")
    if update_latest and name == _LATEST:
        raise OutputError(f"{run_dir}: '{_LATEST}' is reserved for the newest-run symlink")
    started = time.perf_counter()
    rendered = _render(files)
    if os.path.lexists(run_dir):
        raise _exists(run_dir)
    latest = parent / _LATEST
    if update_latest and os.path.lexists(latest) and not latest.is_symlink():
        raise OutputError(f"{latest} exists and is not a symlink; remove it")
    where, tmp, fd, renamed = parent, None, -1, False
    try:
        parent.mkdir(parents=True, exist_ok=True)
        while tmp is None:
            candidate = parent / f"{_TMP}{name}-{secrets.token_hex(4)}"
            with contextlib.suppress(FileExistsError):
                os.mkdir(candidate)
                tmp = candidate
        fd = os.open(tmp, os.O_RDONLY | os.O_DIRECTORY)
        with contextlib.suppress(OSError):  # a lock only protects against cleaners
            fcntl.flock(fd, fcntl.LOCK_EX)
        for file_name, data in rendered.items():
            if file_name == "summary.json":
                continue
            where = run_dir / file_name
            _write_file(tmp / file_name, data)
        # Written last, so the manifest can say how long writing the rest took.
        where = run_dir / "summary.json"
        elapsed = time.perf_counter() - started
        _write_file(tmp / "summary.json", _summary_json(files.summary, elapsed).encode("utf-8"))
        where = run_dir
        os.fsync(fd)
        os.rename(tmp, run_dir)
        renamed = True
        if update_latest:
            where = latest
            _point_latest(parent, name)
        renamed = False  # committed: nothing from here on is rolled back
        with contextlib.suppress(OSError):  # durability of both renames; the run is complete
            _fsync_dir(parent)
        return run_dir
    except BaseException as exc:
        if renamed and tmp is not None:
            with contextlib.suppress(OSError):
                os.rename(run_dir, tmp)  # out of sight first: rmtree is not atomic
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        if not isinstance(exc, OSError):
            raise
        if where == run_dir and not renamed and exc.errno in (errno.EEXIST, errno.ENOTEMPTY):
            raise _exists(run_dir) from exc  # created by someone else since the check
        raise OutputError(f"{where}: {exc.strerror or exc}") from exc
    finally:
        if fd >= 0:
            os.close(fd)


STALE_AFTER_S = 60.0
"""A temp folder younger than this is never removed: between a writer's ``mkdir`` and
its lock there is a moment when a concurrent cleaner could otherwise take it (seen
with four runs written into one folder at once)."""


def clean_stale_temps(results_root: Path, min_age_s: float = STALE_AFTER_S) -> list[Path]:
    """Remove ``.tmp-*`` folders under ``results_root`` left by killed writers.

    A folder whose writer still holds its lock, or that was changed in the last
    ``min_age_s`` seconds, is left alone, so a concurrent run is not disturbed;
    symlinks and files are never touched. Returns what was removed.
    """
    try:
        with os.scandir(results_root) as it:
            entries = sorted(it, key=lambda e: e.name)
    except (FileNotFoundError, NotADirectoryError):
        return []
    removed = []
    for entry in entries:
        if not entry.name.startswith(_TMP) or not entry.is_dir(follow_symlinks=False):
            continue
        path = Path(entry.path)
        try:
            if time.time() - entry.stat(follow_symlinks=False).st_mtime < min_age_s:
                continue  # perhaps a writer between its mkdir and its lock
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # a live writer holds it (or locks are unsupported: leave it)
        finally:
            os.close(fd)
        shutil.rmtree(path, ignore_errors=True)
        if not os.path.lexists(path):
            removed.append(path)
    return removed
