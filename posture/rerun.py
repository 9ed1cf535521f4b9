"""Reproduce a run from its manifest: same study files, scenario, overrides, options.

``summary.json`` records the study files, their hash, the scenario, the ``--set``
overrides and every solver option (seed and threads included; HiGHS is deterministic
for a fixed seed and thread count), so the same inputs can be solved again and the
tables compared byte for byte.
"""

from __future__ import annotations

import json
from pathlib import Path

from posture.errors import Diagnostic, InputError, Location
from posture.loader import ResolvedStudy, load_study
from posture.overlay import SourceIndex
from posture.schema import SolverOptions
from posture.validation import validate_model

SUMMARY = "summary.json"


def _manifest(run_dir: Path) -> dict[str, object]:
    path = run_dir / SUMMARY
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(
            [Diagnostic(f"cannot read the run's manifest: {exc}", Location(str(path), 1, 1))]
        ) from None
    if not isinstance(data, dict):
        raise InputError([Diagnostic("manifest is not a JSON object", Location(str(path), 1, 1))])
    return data


def rerun_inputs(run_dir: Path) -> tuple[ResolvedStudy, SolverOptions]:
    """The study and options of a past run, refusing if the study files have changed."""
    manifest = _manifest(run_dir)
    where = Location(str(run_dir / SUMMARY), 1, 1)
    files = manifest.get("study_files")
    if not isinstance(files, list) or not files or not isinstance(files[0], str):
        raise InputError([Diagnostic("manifest names no study file", where, ("study_files",))])
    scenario = manifest.get("scenario")
    overrides = manifest.get("overrides") or []
    resolved = load_study(
        Path(files[0]),
        scenario if isinstance(scenario, str) else None,
        [str(o) for o in overrides] if isinstance(overrides, list) else [],
    )
    if resolved.input_hash != manifest.get("input_hash"):
        raise InputError(
            [
                Diagnostic(
                    "the study files have changed since this run (input hash differs), so it cannot be "
                    "reproduced",
                    where,
                    ("input_hash",),
                    hint="restore the files, or solve the current inputs with 'posture solve'",
                )
            ]
        )
    options = validate_model(SolverOptions, manifest.get("options"), SourceIndex(fallback=where))
    return resolved, options


def differing_files(first: Path, second: Path) -> list[str]:
    """Result files (all but the manifest) that differ between two run folders."""
    names = {p.name for p in first.iterdir()} | {p.name for p in second.iterdir()}
    names.discard(SUMMARY)
    return sorted(
        n
        for n in names
        if not (first / n).is_file()
        or not (second / n).is_file()
        or (first / n).read_bytes() != (second / n).read_bytes()
    )
