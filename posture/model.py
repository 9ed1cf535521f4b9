"""The Pyomo model: one function per set group, variable group and constraint family.

Each component is named exactly as in ``models/formulation.md``; ``build_model``
calls the ``define_*``/``add_*`` functions in the document's order. With
``elastic=True`` the hard policy rules get violation variables and the objective
becomes ``total_violation`` (used to explain infeasible studies).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression

from posture.data import Activation, ModelData, Pair, Placement
from posture.parameters import define_parameters

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


def _linear_sum(terms: Iterable[tuple[Any, Any]]) -> Any:
    """``sum(coef * var)`` built as one linear expression (about twice as fast as
    ``sum``, which re-wraps the growing expression at every term); 0 when empty.

    Terms with a numeric zero coefficient are dropped, as ``0 * var`` would be.
    """
    args = [
        MonomialTermExpression((c, v)) for c, v in terms if not (c.__class__ in _NUMBERS and c == 0)
    ]
    return LinearExpression(args) if args else 0


_NUMBERS = (int, float)


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


def _headroom(units: float) -> int:
    """Most units the supply re-solve may add to one holding or source."""
    return max(1000, 10 * int(units))


def define_variables(m: pyo.ConcreteModel, data: ModelData, supply: bool) -> None:
    extra = {h: _headroom(v) if supply else 0 for h, v in data.inventory.items()}
    more = {s: _headroom(v) if supply else 0 for s, v in data.available.items()}
    m.place = pyo.Var(
        m.PLACEMENTS,
        domain=pyo.NonNegativeIntegers,
        bounds=lambda _, a, o, t: (0, m.units_held[a, o] + extra[a, o]),
    )
    m.reserve = pyo.Var(
        m.HOLDINGS,
        domain=pyo.NonNegativeIntegers,
        bounds=lambda _, a, o: (0, m.units_held[a, o] + extra[a, o]),
    )
    m.activated = pyo.Var(
        m.ACTIVATIONS,
        domain=pyo.NonNegativeIntegers,
        bounds=lambda _, s, t: (0, m.units_available[s] + more[s]),
    )
    if supply:
        m.units_added = pyo.Var(
            m.HOLDINGS, domain=pyo.NonNegativeIntegers, bounds=lambda _, a, o: (0, extra[a, o])
        )
        sources = sorted({s for s, _ in data.activations})
        m.sources_added = pyo.Var(
            sources, domain=pyo.NonNegativeIntegers, bounds=lambda _, s: (0, more[s])
        )
    m.shortfall = pyo.Var(m.REQUIREMENTS, domain=pyo.NonNegativeReals)


def define_expressions(m: pyo.ConcreteModel, data: ModelData, ix: _Index) -> None:
    def provided(_: pyo.ConcreteModel, t: str, c: str) -> object:
        assets = ix.asset_terms.get((t, c), [])
        sources = ix.source_terms.get((t, c), [])
        return _linear_sum(
            [*((k, m.place[p]) for k, p in assets), *((k, m.activated[z]) for k, z in sources)]
        )

    m.provided = pyo.Expression(m.THEATRES, m.CAPABILITIES, rule=provided)

    def moved(_: pyo.ConcreteModel, a: str, o: str) -> object:
        h = data.home[o]
        if h is None:
            return sum(m.place[a, o, t] for t in data.theatres if (a, o, t) in m.PLACEMENTS)
        if (a, o, h) in m.PLACEMENTS:
            return m.units_held[a, o] - m.place[a, o, h]
        return m.units_held[a, o]

    m.moved = pyo.Expression(m.HOLDINGS, rule=moved)
    m.total_cost = pyo.Expression(
        expr=_linear_sum(
            [
                *((m.move_cost[p], m.place[p]) for p in data.placements if data.move_cost[p]),
                *((m.activation_cost[s], m.activated[s, t]) for s, t in data.activations),
            ]
        )
    )
    m.weighted_shortfall = pyo.Expression(
        expr=_linear_sum((m.shortfall_weight[q], m.shortfall[q]) for q in data.requirements)
    )
    m.turbulence = pyo.Expression(
        expr=sum(m.turbulence_weight[a] * m.moved[a, o] for a, o in data.holdings)
    )


def _added(m: pyo.ConcreteModel, a: str, o: str) -> Any:
    """Units the supply re-solve adds to holding (a, o); 0 in every other model."""
    return m.units_added[a, o] if hasattr(m, "units_added") else 0


def add_inventory(m: pyo.ConcreteModel, data: ModelData, ix: _Index) -> None:
    by_holding: dict[tuple[str, str], list[Placement]] = defaultdict(list)
    for p in data.placements:
        by_holding[p[0], p[1]].append(p)
    m.inventory = pyo.Constraint(
        m.HOLDINGS,
        rule=lambda _, a, o: (
            _linear_sum([*((1, m.place[p]) for p in by_holding[a, o]), (1, m.reserve[a, o])])
            == m.units_held[a, o] + _added(m, a, o)
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
        # A holding locked whole (movable: false) stays locked whole when units are added.
        added = _added(m, a, o) if lock >= data.inventory[a, o] else 0
        return held + slack >= m.units_locked[a, o] + added

    m.locked_units = pyo.Constraint(m.HOLDINGS, rule=rule)


def add_coverage_floor(m: pyo.ConcreteModel, data: ModelData, elastic: bool) -> None:
    if elastic:
        m.coverage_floor_violation = pyo.Var(m.REQUIREMENTS, domain=pyo.NonNegativeReals)

    def rule(_: pyo.ConcreteModel, t: str, c: str) -> object:
        floor = data.floor[t, c]
        if floor <= 0:
            return pyo.Constraint.Skip
        slack = m.coverage_floor_violation[t, c] if elastic else 0
        return m.provided[t, c] + slack >= m.floor_level[t, c]

    m.coverage_floor = pyo.Constraint(m.REQUIREMENTS, rule=rule)


def add_coverage_target(m: pyo.ConcreteModel, data: ModelData) -> None:
    def rule(_: pyo.ConcreteModel, t: str, c: str) -> object:
        target = data.target[t, c]
        if target <= 0:
            return pyo.Constraint.Skip
        return m.provided[t, c] + m.shortfall[t, c] >= m.target_level[t, c]

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
        if _constant(body):
            return pyo.Constraint.Skip
        # Units added at home raise the baseline the rule protects, as more inventory would.
        grown = sum(
            k * _added(m, a, o)
            for k, (a, o, _) in ix.asset_terms.get((t, c), [])
            if data.home[o] == t
        )
        return body >= ratio * (m.backfill_baseline[r, c] + grown)

    m.replacement_backfill = pyo.Constraint(m.BACKFILLS, rule=rule)


def add_source_availability(m: pyo.ConcreteModel, data: ModelData) -> None:
    by_source: dict[str, list[Activation]] = defaultdict(list)
    for z in data.activations:
        by_source[z[0]].append(z)
    m.source_availability = pyo.Constraint(
        sorted(by_source),
        rule=lambda _, s: (
            sum(m.activated[z] for z in by_source[s])
            <= m.units_available[s] + (m.sources_added[s] if hasattr(m, "sources_added") else 0)
        ),
    )


def _personnel(m: pyo.ConcreteModel, data: ModelData, ix: _Index, t: str) -> Any:
    return _linear_sum(
        [
            *((data.personnel[p[0]], m.place[p]) for p in ix.into.get(t, [])),
            *((data.source_personnel[z[0]], m.activated[z]) for z in ix.sources_into.get(t, [])),
        ]
    )


def add_personnel_floor(m: pyo.ConcreteModel, data: ModelData, ix: _Index, elastic: bool) -> None:
    theatres = [t for t in data.theatres if t in data.personnel_floor]
    if elastic:
        m.personnel_floor_violation = pyo.Var(theatres, domain=pyo.NonNegativeReals)

    def rule(_: pyo.ConcreteModel, t: str) -> object:
        body = _personnel(m, data, ix, t) + (m.personnel_floor_violation[t] if elastic else 0)
        return pyo.Constraint.Skip if _constant(body) else body >= m.personnel_floor_level[t]

    m.personnel_floor = pyo.Constraint(theatres, rule=rule)


def add_personnel_cap(m: pyo.ConcreteModel, data: ModelData, ix: _Index, elastic: bool) -> None:
    theatres = [t for t in data.theatres if t in data.personnel_cap]
    if elastic:
        m.personnel_cap_violation = pyo.Var(theatres, domain=pyo.NonNegativeReals)

    def rule(_: pyo.ConcreteModel, t: str) -> object:
        body = _personnel(m, data, ix, t) - (m.personnel_cap_violation[t] if elastic else 0)
        return pyo.Constraint.Skip if _constant(body) else body <= m.personnel_cap_level[t]

    m.personnel_cap = pyo.Constraint(theatres, rule=rule)


def add_basing_capacity(m: pyo.ConcreteModel, data: ModelData, ix: _Index, elastic: bool) -> None:
    if elastic:
        m.basing_capacity_violation = pyo.Var(m.BASING_LIMITS, domain=pyo.NonNegativeReals)

    # One pass over what can be placed in each limited theatre, by basing kind.
    footprints: dict[Pair, list[tuple[float, Any]]] = defaultdict(list)
    for t in {t for t, _ in data.basing_limits}:
        for p in ix.into.get(t, []):
            for k, f in data.footprint[p[0]].items():
                if f:
                    footprints[t, k].append((f, m.place[p]))
        for z in ix.sources_into.get(t, []):
            for k, f in data.source_footprint[z[0]].items():
                if f:
                    footprints[t, k].append((f, m.activated[z]))

    def rule(_: pyo.ConcreteModel, t: str, k: str) -> object:
        used = footprints.get((t, k), [])
        if not used:
            return pyo.Constraint.Skip
        slack = m.basing_capacity_violation[t, k] if elastic else 0
        return _linear_sum(used) - slack <= m.basing_limit[t, k]

    m.basing_capacity = pyo.Constraint(m.BASING_LIMITS, rule=rule)


def add_budget(m: pyo.ConcreteModel, data: ModelData, elastic: bool) -> None:
    if data.budget is None:
        return
    if elastic:
        m.budget_violation = pyo.Var(domain=pyo.NonNegativeReals)
    slack = m.budget_violation if elastic else 0
    m.budget = pyo.Constraint(expr=m.total_cost - slack <= m.budget_limit)


def add_turbulence_cap(m: pyo.ConcreteModel, data: ModelData, elastic: bool) -> None:
    if data.max_turbulence is None:
        return
    if elastic:
        m.turbulence_cap_violation = pyo.Var(domain=pyo.NonNegativeReals)
    slack = m.turbulence_cap_violation if elastic else 0
    m.turbulence_cap = pyo.Constraint(expr=m.turbulence - slack <= m.turbulence_limit)


def define_objective(m: pyo.ConcreteModel, data: ModelData, elastic: bool) -> None:
    if hasattr(m, "units_added"):
        m.total_added = pyo.Objective(
            expr=sum(m.units_added[h] for h in m.units_added)
            + sum(m.sources_added[s] for s in m.sources_added),
            sense=pyo.minimize,
        )
        return
    if not elastic:
        w = m.objective_weight
        m.total = pyo.Objective(
            expr=w["shortfall"] * m.weighted_shortfall
            + w["cost"] * m.total_cost
            + w["turbulence"] * m.turbulence,
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
        if data.max_turbulence is not None:
            scales["turbulence_cap_violation"] = {None: _scale(data.max_turbulence)}
    return scales


def theatre_criterion(theatre: str) -> str:
    """The criterion name of one theatre's weighted shortfall, e.g. ``shortfall.korea``."""
    return "shortfall." + theatre


def criterion_names(data: ModelData) -> list[str]:
    """The criteria a trade-off can use, in order: whole-study ones, then per theatre."""
    return ["shortfall", "cost", "turbulence", *map(theatre_criterion, data.theatres)]


def define_criteria(m: pyo.ConcreteModel, data: ModelData) -> None:
    """Each quantity a trade-off can be drawn between, as an inactive objective.

    ``shortfall`` is the weighted shortfall (risk), ``cost`` and ``turbulence`` the
    objective's other terms, ``shortfall.<theatre>`` one theatre's weighted shortfall.
    """
    m.CRITERIA = pyo.Set(initialize=criterion_names(data), ordered=True)
    by_theatre: dict[str, list[Pair]] = defaultdict(list)
    for q in data.requirements:
        by_theatre[q[0]].append(q)
    whole = {"shortfall": m.weighted_shortfall, "cost": m.total_cost, "turbulence": m.turbulence}

    def rule(_: pyo.ConcreteModel, name: str) -> object:
        if name in whole:
            return whole[name]
        theatre = name.removeprefix(theatre_criterion(""))
        return sum(m.shortfall_weight[q] * m.shortfall[q] for q in by_theatre[theatre])

    m.criterion = pyo.Objective(m.CRITERIA, rule=rule, sense=pyo.minimize)
    m.criterion.deactivate()


def build_model(
    data: ModelData, *, elastic: bool = False, supply: bool = False
) -> pyo.ConcreteModel:
    """The whole model, families added in the formulation's order.

    ``elastic``: policy rules get violation variables (explaining infeasibility).
    ``supply``: every rule stays hard but units may be added to holdings and sources,
    fewest first (the "add one battery" answer for an infeasible study).
    """
    m = pyo.ConcreteModel(
        name="posture_supply" if supply else "posture_elastic" if elastic else "posture"
    )
    ix = _index(data)
    define_sets(m, data)
    define_parameters(m, data)
    define_variables(m, data, supply)
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
    add_turbulence_cap(m, data, elastic)
    define_objective(m, data, elastic)
    define_criteria(m, data)
    return m
