"""Run folders for the trade-off commands: frontier, alternatives, marginal values, sweeps.

Each folder holds its tables (CSV, Markdown, LaTeX), any charts (SVG), the resolved
inputs and a ``summary.json`` manifest with the same provenance as a solve run
(input hash, scenario, overrides, options, versions) plus the command's own figures.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

import pandas as pd

from posture.loader import ResolvedStudy
from posture.report import provenance, resolved_yaml
from posture.schema import SolverOptions
from posture.solver import highs_version
from posture.writer import RunFiles


def tradeoff_run_name(resolved: ResolvedStudy, command: str, now: dt.datetime | None = None) -> str:
    """``<study>-<scenario>-<command>-<UTC timestamp>``, safe as a folder name."""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", resolved.files[0].stem)
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{stem}-{resolved.scenario or 'base'}-{command}-{stamp}"


def tradeoff_files(
    resolved: ResolvedStudy,
    options: SolverOptions,
    *,
    command: str,
    headline: str,
    tables: Mapping[str, pd.DataFrame],
    figures: Mapping[str, Any],
    charts: Mapping[str, str] | None = None,
) -> RunFiles:
    """Everything that goes into a trade-off run folder."""
    summary = {
        "kind": command,
        "headline": headline,
        **figures,
        **provenance(resolved, options, highs_version()),
        "tables": sorted(tables),
    }
    texts = {"resolved_inputs.yaml": resolved_yaml(resolved), **(charts or {})}
    return RunFiles(tables=tables, summary=summary, texts=texts, caption=headline)
