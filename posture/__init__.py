"""posture: force-posture optimization with Pyomo and HiGHS.

``posture.load`` reads and validates a study; ``posture.solve`` solves it and
returns result tables as pandas DataFrames. Importing the package stays light:
the solver stack is imported only when a solve needs it.
"""

from posture.api import load, solve
from posture.errors import Diagnostic, InputError

__all__ = ["Diagnostic", "InputError", "load", "solve"]
__version__ = "0.1.0"
