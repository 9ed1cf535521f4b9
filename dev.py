"""Set up and run posture with nothing but Python 3.11+ and pip.

    python3 dev.py run    # .venv with posture, then solve inputs/study.yaml
    python3 dev.py test   # .venv with the test extras, then lint, type checks, tests
    python3 dev.py fuzz   # the dedicated 10,000-case input fuzzing run

The virtual environment is created once in ``.venv`` and reinstalled only when
``pyproject.toml`` changes. The exit code is the command's own.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def _run(*args: str | Path, env: dict[str, str] | None = None) -> None:
    done = subprocess.run([str(a) for a in args], cwd=ROOT, env=env, check=False)
    if done.returncode:
        sys.exit(done.returncode)


def _install(extras: str) -> None:
    """Create .venv and install posture (with ``extras``) unless already done."""
    if sys.version_info < (3, 11):  # noqa: UP036 - users may start it with an older python3
        sys.exit(f"posture needs Python 3.11 or newer, this is {sys.version.split()[0]}")
    if not (BIN / "python").exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
        _run(BIN / "python", "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:16]
    marker = VENV / f".installed-{extras or 'base'}-{digest}"
    if not marker.exists():
        target = f".[{extras}]" if extras else "."
        _run(BIN / "python", "-m", "pip", "install", "--quiet", "-e", target)
        marker.touch()


def main() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "run":
        _install("")
        _run(BIN / "posture", "solve", "inputs/study.yaml")
    elif command == "test":
        _install("test")
        _run(BIN / "ruff", "check", "posture", "tests")
        _run(BIN / "mypy")
        _run(BIN / "python", "-m", "pytest", "-q")
    elif command == "fuzz":
        _install("test")
        env = {**os.environ, "POSTURE_FUZZ_CASES": "10000"}
        _run(BIN / "python", "-m", "pytest", "tests/fuzz", "-q", "-s", env=env)
    else:
        sys.exit("usage: python3 dev.py run | test | fuzz")


if __name__ == "__main__":
    main()
