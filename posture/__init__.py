"""posture: force-posture optimization with Pyomo and HiGHS.

``posture.load`` reads and validates a study; ``posture.solve`` solves it and
returns result tables as pandas DataFrames. Importing the package stays light:
the schema and the solver stack are imported only when first used, so
``posture --help`` starts as fast as the command-line framework allows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from posture.errors import Diagnostic, InputError

if TYPE_CHECKING:
    from posture.api import load, solve

__all__ = ["Diagnostic", "InputError", "load", "solve"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """``posture.load`` and ``posture.solve``, imported on first use (PEP 562)."""
    if name in ("load", "solve"):
        from posture import api

        return getattr(api, name)
    raise AttributeError(f"module 'posture' has no attribute {name!r}")
