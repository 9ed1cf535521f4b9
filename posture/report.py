"""A run's folder contents: the manifest, the resolved inputs and the tables.

``summary.json`` carries everything needed to judge and reproduce a run (status,
objective, bound, gap, timings, input hash, versions, scenario, options); the
resolved inputs are saved beside the results, so the tables can be traced back.
"""

from __future__ import annotations

import datetime as dt
import math
import platform
import re
from importlib import metadata
from typing import Any

import yaml

from posture.loader import ResolvedStudy
from posture.run import RunResult
from posture.schema import SolverOptions
from posture.writer import RunFiles

_PACKAGES = ("posture", "pyomo", "highspy", "pandas", "pydantic", "pyyaml", "numpy", "scipy")


def package_versions() -> dict[str, str]:
    """Installed versions of the packages that shape a result."""
    found = {}
    for name in _PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    found["python"] = platform.python_version()
    return found


def _finite(x: float | None) -> float | None:
    return x if x is not None and math.isfinite(x) else None


def default_run_name(result: RunResult, now: dt.datetime | None = None) -> str:
    """``<study>-<scenario>-<UTC timestamp>``: sortable and safe as a folder name."""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", result.resolved.files[0].stem)
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{stem}-{result.resolved.scenario or 'base'}-{stamp}"


def provenance(resolved: ResolvedStudy, options: SolverOptions, highs: str) -> dict[str, Any]:
    """What every manifest records to trace and reproduce a run: inputs, options, versions."""
    return {
        "scenario": resolved.scenario,
        "overrides": list(resolved.overrides),
        "study_files": [str(f) for f in resolved.files],
        "input_hash": resolved.input_hash,
        "options": options.model_dump(exclude={"source"}),
        "versions": {**package_versions(), "highs": highs},
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def summary_of(result: RunResult) -> dict[str, Any]:
    """The manifest written as summary.json."""
    r = result.resolved
    seconds = {k: round(v, 6) for k, v in result.seconds.items()}  # "write" added by the writer
    return {
        **provenance(r, result.options, result.highs_version),
        "status": result.status.value,
        "headline": result.headline,
        "exit_code": int(result.exit_code),
        "highs_status": result.highs_status,
        "objective": _finite(result.objective),
        "best_bound": _finite(result.bound),
        "gap": _finite(result.gap),
        "scenario_description": r.description,
        "seconds": seconds,
        "model_size": result.model_size,
        "diagnosis": [d.format() for d in result.diagnosis],
        "tables": sorted(result.tables),
    }


def resolved_yaml(resolved: ResolvedStudy) -> str:
    """The study exactly as solved (scenario and overrides applied), as YAML."""
    header = (
        f"# Resolved inputs: scenario {resolved.scenario or 'base'}; "
        f"overrides {list(resolved.overrides)}\n"
    )
    return header + yaml.safe_dump(resolved.data, sort_keys=False, allow_unicode=True)


def resolved_inputs_yaml(result: RunResult) -> str:
    """The resolved inputs of a solve run."""
    return resolved_yaml(result.resolved)


def run_files(result: RunResult) -> RunFiles:
    """Everything that goes into the run folder."""
    return RunFiles(
        tables=result.tables,
        summary=summary_of(result),
        texts={"resolved_inputs.yaml": resolved_inputs_yaml(result)},
        caption=result.headline,
    )
