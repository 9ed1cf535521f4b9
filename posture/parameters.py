"""The model's mutable parameters, and when a built model can take another study's.

Every number that enters the model as a bound, a right-hand side or an objective
coefficient is a mutable Pyomo ``Param`` (``models/formulation.md``, "Parameters that
may change in place"); costs and turbulence weights are also coefficients of the
budget and turbulence-cap rows, which the kept model updates too.
:func:`structure_key` says when two studies build the same matrix, and
:func:`set_parameters` turns a built model into the other study's;
:mod:`posture.resolve` then pushes the numbers to HiGHS.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import pyomo.environ as pyo

from posture.data import ModelData

# ModelData fields that enter the model as bounds, right-hand sides or coefficients of
# the objective (and of the budget and turbulence-cap rows): they become mutable Params,
# so a what-if that changes only these is re-solved in place (posture.resolve). Every
# other field shapes the matrix itself.
PARAMETER_FIELDS = frozenset(
    {
        "inventory",
        "locked",
        "floor",
        "target",
        "baseline",
        "available",
        "personnel_floor",
        "personnel_cap",
        "basing_capacity",
        "budget",
        "max_turbulence",
        "move_cost",
        "activation_cost",
        "shortfall_weight",
        "turbulence_weight",
        "weights",
    }
)


def _pattern(value: object) -> object:
    """Which entries of a parameter are present and which are positive.

    Rows are skipped and terms dropped only where a parameter is absent or not positive,
    so two studies with equal patterns (and equal other fields) build the same matrix.
    """
    if isinstance(value, dict):
        return tuple((k, v > 0) for k, v in value.items())
    if isinstance(value, tuple):
        return tuple(v > 0 for v in value)
    return None if value is None else value > 0  # type: ignore[operator]


def structure_key(data: ModelData) -> tuple[object, ...]:
    """Everything that decides the model's rows, columns and coefficients.

    Equal keys mean the same rows, columns and nonzero pattern: only parameter values
    differ (bounds, costs, and the coefficients of the budget and turbulence-cap rows),
    and :func:`set_parameters` plus ``KeptModel.refresh`` turns one model into the other.
    """
    return tuple(
        _pattern(getattr(data, f.name)) if f.name in PARAMETER_FIELDS else getattr(data, f.name)
        for f in fields(data)
    )


def _parameter_values(data: ModelData) -> dict[str, dict[Any, float]]:
    """Value of every mutable Param, by component name and index."""
    values: dict[str, dict[Any, float]] = {
        "units_held": dict(data.inventory),
        "units_locked": {h: float(data.locked.get(h, 0)) for h in data.holdings},
        "floor_level": dict(data.floor),
        "target_level": dict(data.target),
        "backfill_baseline": {
            (r, c): data.baseline.get((data.rule_theatre[r], c), 0.0) for r, c in data.backfills
        },
        "units_available": {s: float(v) for s, v in data.available.items()},
        "personnel_floor_level": {t: float(v) for t, v in data.personnel_floor.items()},
        "personnel_cap_level": {t: float(v) for t, v in data.personnel_cap.items()},
        "basing_limit": dict(data.basing_capacity),
        "move_cost": dict(data.move_cost),
        "activation_cost": dict(data.activation_cost),
        "shortfall_weight": dict(data.shortfall_weight),
        "turbulence_weight": dict(data.turbulence_weight),
        "objective_weight": dict(
            zip(("shortfall", "cost", "turbulence"), data.weights, strict=True)
        ),
    }
    if data.budget is not None:
        values["budget_limit"] = {None: data.budget}
    if data.max_turbulence is not None:
        values["turbulence_limit"] = {None: data.max_turbulence}
    return values


def define_parameters(m: pyo.ConcreteModel, data: ModelData) -> None:
    values = _parameter_values(data)

    # Values arrive validated (schema); an explicit Any skips Pyomo's per-entry check
    # against Reals that its implicit Any does (0.6 s of the benchmark L build).
    def param(name: str, index: Any = None) -> Any:
        if index is None:
            return pyo.Param(mutable=True, initialize=values[name][None], within=pyo.Any)
        return pyo.Param(index, mutable=True, initialize=values[name], within=pyo.Any)

    m.units_held = param("units_held", m.HOLDINGS)
    m.units_locked = param("units_locked", m.HOLDINGS)
    m.floor_level = param("floor_level", m.REQUIREMENTS)
    m.target_level = param("target_level", m.REQUIREMENTS)
    m.backfill_baseline = param("backfill_baseline", m.BACKFILLS)
    m.units_available = param("units_available", list(data.available))
    m.personnel_floor_level = param("personnel_floor_level", list(data.personnel_floor))
    m.personnel_cap_level = param("personnel_cap_level", list(data.personnel_cap))
    m.basing_limit = param("basing_limit", m.BASING_LIMITS)
    m.move_cost = param("move_cost", m.PLACEMENTS)
    m.activation_cost = param("activation_cost", list(data.activation_cost))
    m.shortfall_weight = param("shortfall_weight", m.REQUIREMENTS)
    m.turbulence_weight = param("turbulence_weight", list(data.turbulence_weight))
    m.objective_weight = param("objective_weight", ["shortfall", "cost", "turbulence"])
    if data.budget is not None:
        m.budget_limit = param("budget_limit")
    if data.max_turbulence is not None:
        m.turbulence_limit = param("turbulence_limit")


def set_parameters(m: pyo.ConcreteModel, data: ModelData) -> None:
    """Give a built model another study's parameter values (same :func:`structure_key`)."""
    for name, entries in _parameter_values(data).items():
        component = m.find_component(name)
        for index, value in entries.items():
            component[index] = value
