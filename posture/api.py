"""The Python API: ``posture.load`` and ``posture.solve`` return the CLI's results as objects.

Example::

    import posture
    study = posture.load("inputs/study.yaml", scenario="middle_east_war")
    result = posture.solve(study)
    result.tables["coverage"]        # a pandas DataFrame
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from posture.loader import ResolvedStudy, load_study

if TYPE_CHECKING:
    from posture.run import RunResult
    from posture.schema import SolverOptions


def load(path: str | Path, scenario: str | None = None, sets: Sequence[str] = ()) -> ResolvedStudy:
    """Read, merge and validate a study; raises :class:`posture.errors.InputError`."""
    return load_study(Path(path), scenario, sets)


def solve(study: ResolvedStudy | str | Path, options: SolverOptions | None = None) -> RunResult:
    """Solve a loaded study (or a path to one); the result holds status and DataFrames."""
    from posture.run import solve_study

    resolved = study if isinstance(study, ResolvedStudy) else load(study)
    return solve_study(resolved, options)
