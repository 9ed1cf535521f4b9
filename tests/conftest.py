"""Shared fixtures."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import tiny_study


@pytest.fixture
def study_dict() -> dict[str, Any]:
    return tiny_study()
