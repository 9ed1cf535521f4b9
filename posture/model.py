"""The Pyomo model: one function per set group, variable group and constraint family.

Each component is named exactly as in ``models/formulation.md``; ``build_model``
calls the ``define_*``/``add_*`` functions in the document's order. With
``elastic=True`` the hard policy rules get violation variables and the objective
becomes ``total_violation`` (used to explain infeasible studies).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import pyomo.environ as pyo

from posture.data import Activation, ModelData, Pair, Placement

Terms = list[tuple[float, object]]


@dataclass
class _Index:
    """Groupings of the sparse sets, computed once per build."""

    asset_terms: dict[Pair, list[tuple[float, Placement]]] = field(default_factory=dict)
    source_terms: dict[Pair, list[tuple[float, Activation]]] = field(default_factory=dict)
    into: dict[str, list[Placement]] = field(default_factory=dict)
    sources_into: dict[str, list[Activation]] = field(default_factory=dict)


def _index(data: ModelData) -> _Index:
    asset_terms: dict[Pair, list[tuple[float, Placement]]] = defaultdict(list)
    source_terms: dict[Pair, list[tuple[float, Activation]]] = defaultdict(list)
    into: dict[str, list[Placement]] = defaultdict(list)
    sources_into: dict[str, list[Activation]] = defaultdict(list)
    for p in data.placements:
        into[p[2]].append(p)
        for c, coef in data.capability_of[p].items():
            asset_terms[p[2], c].append((coef, p))
    for s, t in data.activations:
        sources_into[t].append((s, t))
        for c, coef in data.source_capability[s].items():
            if coef:
                source_terms[t, c].append((coef, (s, t)))
    return _Index(dict(asset_terms), dict(source_terms), dict(into), dict(sources_into))


def _constant(body: Any) -> bool:
    """True for a row body with no variables (an empty sum): Pyomo rejects such rows.

    Skipping them is safe: a constant row that could be violated is reported before
    the model is built by :func:`posture.diagnose.impossible_rules`.
    """
    return isinstance(body, int | float)


def _scale(rhs: float) -> float:
    return 1.0 / max(1.0, abs(rhs))


def define_sets(m: pyo.ConcreteModel, data: ModelData) -> None:
    m.THEATRES = pyo.Set(initialize=data.theatres, ordered=True)
    m.ORIGINS = pyo.Set(initialize=data.origins, ordered=True)
    m.CAPABILITIES = pyo.Set(initialize=data.capabilities, ordered=True)
    m.HOLDINGS = pyo.Set(initialize=data.holdings, dimen=2, ordered=True)
    m.PLACEMENTS = pyo.Set(initialize=data.placements, dimen=3, ordered=True)
    m.ACTIVATIONS = pyo.Set(initialize=data.activations, dimen=2, ordered=True)
    m.REQUIREMENTS = pyo.Set(initialize=data.requirements, dimen=2, ordered=True)
    m.BACKFILLS = pyo.Set(initialize=data.backfills, dimen=2, ordered=True)
    m.BASING_LIMITS = pyo.Set(initialize=data.basing_limits, dimen=2, ordered=True)


def define_variables(m: pyo.ConcreteModel, data: ModelData) -> None:
    inv = data.inventory
    m.place = pyo.Var(
        m.PLACEMENTS, domain=pyo.NonNegativeIntegers, bounds=lambda _, a, o, t: (0, inv[a, o])
    )
    m.reserve = pyo.Var(
        m.HOLDINGS, domain=pyo.NonNegativeIntegers, bounds=lambda _, a, o: (0, inv[a, o])
    )
    m.activated = pyo.Var(
        m.ACTIVATIONS,
        domain=pyo.NonNegativeIntegers,
        bounds=lambda _, s, t: (0, data.available[s]),
    )
    m.shortfall = pyo.Var(m.REQUIREMENTS, domain=pyo.NonNegativeReals)


def define_expressions(m: pyo.ConcreteModel, data: ModelData, ix: _Index) -> None:
    def provided(_: pyo.ConcreteModel, t: str, c: str) -> object:
        assets = ix.asset_terms.get((t, c), [])
        sources = ix.source_terms.get((t, c), [])
        return sum(k * m.place[p] for k, p in assets) + sum(k * m.activated[z] for k, z in sources)

    m.provided = pyo.Expression(m.THEATRES, m.CAPABILITIES, rule=provided)

    def moved(_: pyo.ConcreteModel, a: str, o: str) -> object:
        h = data.home[o]
        if h is None:
            return sum(m.place[a, o, t] for t in data.theatres if (a, o, t) in m.PLACEMENTS)
        if (a, o, h) in m.PLACEMENTS:
            return data.inventory[a, o] - m.place[a, o, h]
        return data.inventory[a, o]

    m.moved = pyo.Expression(m.HOLDINGS, rule=moved)
    m.total_cost = pyo.Expression(
        expr=sum(data.move_cost[p] * m.place[p] for p in data.placements if data.move_cost[p])
        + sum(data.activation_cost[s] * m.activated[s, t] for s, t in data.activations)
    )
    m.weighted_shortfall = pyo.Expression(
        expr=sum(data.shortfall_weight[q] * m.shortfall[q] for q in data.requirements)
    )
    m.turbulence = pyo.Expression(
        expr=sum(data.turbulence_weight[a] * m.moved[a, o] for a, o in data.holdings)
    )


def add_inventory(m: pyo.ConcreteModel, data: ModelData, ix: _Index) -> None:
    by_holding: dict[tuple[str, str], list[Placement]] = defaultdict(list)
    for p in data.placements:
        by_holding[p[0], p[1]].append(p)
    m.inventory = pyo.Constraint(
        m.HOLDINGS,
        rule=lambda _, a, o: (
            sum(m.place[p] for p in by_holding[a, o]) + m.reserve[a, o] == data.inventory[a, o]
        ),
    )


def add_locked_units(m: pyo.ConcreteModel, data: ModelData, elastic: bool) -> None:
    if elastic:
        m.locked_units_violation = pyo.Var(m.HOLDINGS, domain=pyo.NonNegativeReals)

    def rule(_: pyo.ConcreteModel, a: str, o: str) -> object:
        lock = data.locked.get((a, o), 0)
        if lock <= 0:
            return pyo.Constraint.Skip
        h = data.home[o]
        held = m.place[a, o, h] if h is not None else m.reserve[a, o]
        slack = m.locked_units_violation[a, o] if elastic else 0
        return held + slack >= lock

    m.locked_units = pyo.Constraint(m.HOLDINGS, rule=rule)


def add_coverage_floor(m: pyo.ConcreteModel, data: ModelData, elastic: bool) -> None:
    if elastic:
        m.coverage_floor_violation = pyo.Var(m.REQUIREMENTS, domain=pyo.NonNegativeReals)

    def rule(_: pyo.ConcreteModel, t: str, c: str) -> object:
        floor = data.floor[t, c]
        if floor <= 0:
            return pyo.Constraint.Skip
        slack = m.coverage_floor_violation[t, c] if elastic else 0
        return m.provided[t, c] + slack >= floor

    m.coverage_floor = pyo.Constraint(m.REQUIREMENTS, rule=rule)


def add_coverage_target(m: pyo.ConcreteModel, data: ModelData) -> None:
    def rule(_: pyo.ConcreteModel, t: str, c: str) -> object:
        target = data.target[t, c]
        if target <= 0:
            return pyo.Constraint.Skip
        return m.provided[t, c] + m.shortfall[t, c] >= target

    m.coverage_target = pyo.Constraint(m.REQUIREMENTS, rule=rule)


def add_replacement_backfill(
    m: pyo.ConcreteModel, data: ModelData, ix: _Index, elastic: bool
) -> None:
    if elastic:
        m.replacement_backfill_violation = pyo.Var(m.BACKFILLS, domain=pyo.NonNegativeReals)

    def rule(_: pyo.ConcreteModel, r: str, c: str) -> object:
        t, ratio = data.rule_theatre[r], data.rule_ratio[r]
        base = data.baseline.get((t, c), 0.0)
        if ratio * base <= 0:
            return pyo.Constraint.Skip
        replaced = sum(
            k * m.activated[z]
            for k, z in ix.source_terms.get((t, c), [])
            if data.lead_time[z[0]] <= data.rule_lead_time[r]
        )
        kept = sum(k * m.place[p] for k, p in ix.asset_terms.get((t, c), []))
        slack = m.replacement_backfill_violation[r, c] if elastic else 0
        body = replaced + ratio * kept + slack
        return pyo.Constraint.Skip if _constant(body) else body >= ratio * base

    m.replacement_backfill = pyo.Constraint(m.BACKFILLS, rule=rule)


def add_source_availability(m: pyo.ConcreteModel, data: ModelData) -> None:
    by_source: dict[str, list[Activation]] = defaultdict(list)
    for z in data.activations:
        by_source[z[0]].append(z)
    m.source_availability = pyo.Constraint(
        sorted(by_source),
        rule=lambda _, s: sum(m.activated[z] for z in by_source[s]) <= data.available[s],
    )


def _personnel(m: pyo.ConcreteModel, data: ModelData, ix: _Index, t: str) -> Any:
    return sum(data.personnel[p[0]] * m.place[p] for p in ix.into.get(t, [])) + sum(
        data.source_personnel[z[0]] * m.activated[z] for z in ix.sources_into.get(t, [])
    )


def add_personnel_floor(m: pyo.ConcreteModel, data: ModelData, ix: _Index, elastic: bool) -> None:
    theatres = [t for t in data.theatres if t in data.personnel_floor]
    if elastic:
        m.personnel_floor_violation = pyo.Var(theatres, domain=pyo.NonNegativeReals)

    def rule(_: pyo.ConcreteModel, t: str) -> object:
        body = _personnel(m, data, ix, t) + (m.personnel_floor_violation[t] if elastic else 0)
        return pyo.Constraint.Skip if _constant(body) else body >= data.personnel_floor[t]

    m.personnel_floor = pyo.Constraint(theatres, rule=rule)


def add_personnel_cap(m: pyo.ConcreteModel, data: ModelData, ix: _Index, elastic: bool) -> None:
    theatres = [t for t in data.theatres if t in data.personnel_cap]
    if elastic:
        m.personnel_cap_violation = pyo.Var(theatres, domain=pyo.NonNegativeReals)

    def rule(_: pyo.ConcreteModel, t: str) -> object:
        body = _personnel(m, data, ix, t) - (m.personnel_cap_violation[t] if elastic else 0)
        return pyo.Constraint.Skip if _constant(body) else body <= data.personnel_cap[t]

    m.personnel_cap = pyo.Constraint(theatres, rule=rule)


def add_basing_capacity(m: pyo.ConcreteModel, data: ModelData, ix: _Index, elastic: bool) -> None:
    if elastic:
        m.basing_capacity_violation = pyo.Var(m.BASING_LIMITS, domain=pyo.NonNegativeReals)

    def rule(_: pyo.ConcreteModel, t: str, k: str) -> object:
        used = [(data.footprint[p[0]].get(k, 0.0), m.place[p]) for p in ix.into.get(t, [])]
        used += [
            (data.source_footprint[z[0]].get(k, 0.0), m.activated[z])
            for z in ix.sources_into.get(t, [])
        ]
        used = [(f, v) for f, v in used if f]
        if not used:
            return pyo.Constraint.Skip
        slack = m.basing_capacity_violation[t, k] if elastic else 0
        return sum(f * v for f, v in used) - slack <= data.basing_capacity[t, k]

    m.basing_capacity = pyo.Constraint(m.BASING_LIMITS, rule=rule)


def add_budget(m: pyo.ConcreteModel, data: ModelData, elastic: bool) -> None:
    if data.budget is None:
        return
    if elastic:
        m.budget_violation = pyo.Var(domain=pyo.NonNegativeReals)
    slack = m.budget_violation if elastic else 0
    m.budget = pyo.Constraint(expr=m.total_cost - slack <= data.budget)


def define_objective(m: pyo.ConcreteModel, data: ModelData, elastic: bool) -> None:
    if not elastic:
        ws, wc, wt = data.weights
        m.total = pyo.Objective(
            expr=ws * m.weighted_shortfall + wc * m.total_cost + wt * m.turbulence,
            sense=pyo.minimize,
        )
        return
    terms: list[Any] = []
    for name, rhs in violation_scales(m, data).items():
        var = m.find_component(name)
        terms.extend(rhs[i] * var[i] for i in rhs)
    m.total_violation = pyo.Objective(expr=sum(terms), sense=pyo.minimize)


def violation_scales(m: pyo.ConcreteModel, data: ModelData) -> dict[str, dict[object, float]]:
    """Objective weight of each violation variable: 1 / max(1, |rhs|) of its rule."""
    scales: dict[str, dict[object, float]] = {}
    if hasattr(m, "locked_units_violation"):
        scales["locked_units_violation"] = {
            i: _scale(data.locked[i]) for i in m.locked_units if i in data.locked
        }
        scales["coverage_floor_violation"] = {i: _scale(data.floor[i]) for i in m.coverage_floor}
        scales["replacement_backfill_violation"] = {
            (r, c): _scale(data.rule_ratio[r] * data.baseline.get((data.rule_theatre[r], c), 0.0))
            for r, c in m.replacement_backfill
        }
        scales["personnel_floor_violation"] = {
            t: _scale(data.personnel_floor[t]) for t in m.personnel_floor
        }
        scales["personnel_cap_violation"] = {
            t: _scale(data.personnel_cap[t]) for t in m.personnel_cap
        }
        scales["basing_capacity_violation"] = {
            i: _scale(data.basing_capacity[i]) for i in m.basing_capacity
        }
        if data.budget is not None:
            scales["budget_violation"] = {None: _scale(data.budget)}
    return scales


def build_model(data: ModelData, *, elastic: bool = False) -> pyo.ConcreteModel:
    """The whole model, families added in the formulation's order."""
    m = pyo.ConcreteModel(name="posture_elastic" if elastic else "posture")
    ix = _index(data)
    define_sets(m, data)
    define_variables(m, data)
    define_expressions(m, data, ix)
    add_inventory(m, data, ix)
    add_locked_units(m, data, elastic)
    add_coverage_floor(m, data, elastic)
    add_coverage_target(m, data)
    add_replacement_backfill(m, data, ix, elastic)
    add_source_availability(m, data)
    add_personnel_floor(m, data, ix, elastic)
    add_personnel_cap(m, data, ix, elastic)
    add_basing_capacity(m, data, ix, elastic)
    add_budget(m, data, elastic)
    define_objective(m, data, elastic)
    return m
