"""Model data: the study's sets and parameters, indexed the way the formulation is.

Plain Python only (no Pyomo), so the sets of ``models/formulation.md`` are computed
once here and shared by the model builder, the pre-solve checks and the tables.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from posture.schema import Study

if TYPE_CHECKING:
    from posture.loader import ResolvedStudy

Holding = tuple[str, str]  # (asset, origin)
Placement = tuple[str, str, str]  # (asset, origin, theatre)
Activation = tuple[str, str]  # (source, theatre)
Pair = tuple[str, str]


@dataclass(frozen=True)
class ModelData:
    """Sets and parameters of the formulation, named as in ``models/formulation.md``."""

    theatres: tuple[str, ...]
    origins: tuple[str, ...]
    capabilities: tuple[str, ...]
    home: dict[str, str | None]
    holdings: tuple[Holding, ...]
    placements: tuple[Placement, ...]
    activations: tuple[Activation, ...]
    requirements: tuple[Pair, ...]
    backfills: tuple[Pair, ...]  # (rule, capability)
    basing_limits: tuple[Pair, ...]  # (theatre, basing kind)
    inventory: dict[Holding, int]
    locked: dict[Holding, int]
    capability_of: dict[Placement, dict[str, float]]  # e * kappa per placement, nonzero only
    source_capability: dict[str, dict[str, float]]
    move_cost: dict[Placement, float]
    personnel: dict[str, float]
    source_personnel: dict[str, float]
    footprint: dict[str, dict[str, float]]
    source_footprint: dict[str, dict[str, float]]
    turbulence_weight: dict[str, float]
    available: dict[str, int]
    activation_cost: dict[str, float]
    lead_time: dict[str, float]
    floor: dict[Pair, float]
    target: dict[Pair, float]
    shortfall_weight: dict[Pair, float]  # pi_t * w_tc
    rule_theatre: dict[str, str]
    rule_ratio: dict[str, float]
    rule_lead_time: dict[str, float]
    baseline: dict[Pair, float]  # base_{t,c}
    personnel_floor: dict[str, int]
    personnel_cap: dict[str, int]
    basing_capacity: dict[Pair, float]
    budget: float | None
    max_turbulence: float | None
    weights: tuple[float, float, float]  # shortfall, cost, turbulence


def build_model_data(study: Study) -> ModelData:
    """Compute the formulation's sets and parameters from a resolved study."""
    theatres = tuple(study.theatres)
    home = {o: spec.theatre for o, spec in study.origins.items()}
    inventory: dict[Holding, int] = {}
    locked: dict[Holding, int] = {}
    placements: list[Placement] = []
    capability_of: dict[Placement, dict[str, float]] = {}
    move_cost: dict[Placement, float] = {}
    baseline: dict[Pair, float] = {}
    for a, asset in study.assets.items():
        allowed = set(asset.destinations) if asset.destinations is not None else set(theatres)
        for o, units in asset.inventory.items():
            if units <= 0:
                continue
            inventory[a, o] = units
            lock = units if not asset.movable else asset.locked.get(o, 0)
            if lock > 0:
                locked[a, o] = lock
            h = home[o]
            for t in theatres:
                if t not in allowed and not (lock > 0 and t == h):
                    continue
                placements.append((a, o, t))
                e = asset.effectiveness.get(t, 1.0)
                capability_of[a, o, t] = {
                    c: e * k for c, k in asset.contributes.items() if e * k != 0
                }
                route = asset.route_cost_musd.get(o, {}).get(t)
                move_cost[a, o, t] = (
                    0.0 if t == h else (route if route is not None else asset.move_cost_musd)
                )
            if h is not None:
                e = asset.effectiveness.get(h, 1.0)
                for c, k in asset.contributes.items():
                    baseline[h, c] = baseline.get((h, c), 0.0) + e * k * units
    deadline = study.deadline_days
    activations = tuple(
        (s, t)
        for s, src in study.replacement_sources.items()
        for t in src.theatres
        if src.available > 0 and (deadline is None or src.lead_time_days <= deadline)
    )
    requirements = tuple((t, c) for t, reqs in study.requirements.items() for c in reqs)
    reqs = {(t, c): study.requirements[t][c] for t, c in requirements}
    personnel_floor = {t: p.floor for t, p in study.personnel.items() if p.floor is not None}
    personnel_cap = {t: p.cap for t, p in study.personnel.items() if p.cap is not None}
    basing_capacity = {(t, k): v for t, b in study.basing.items() for k, v in b.capacity.items()}
    w = study.objective
    return ModelData(
        theatres=theatres,
        origins=tuple(study.origins),
        capabilities=tuple(study.capabilities),
        home=home,
        holdings=tuple(inventory),
        placements=tuple(placements),
        activations=activations,
        requirements=requirements,
        backfills=tuple(
            (r, c) for r, rule in study.replacement_rules.items() for c in rule.capabilities
        ),
        basing_limits=tuple(basing_capacity),
        inventory=inventory,
        locked=locked,
        capability_of=capability_of,
        source_capability={
            s: dict(src.contributes) for s, src in study.replacement_sources.items()
        },
        move_cost=move_cost,
        personnel={a: x.personnel_per_unit for a, x in study.assets.items()},
        source_personnel={s: x.personnel_per_unit for s, x in study.replacement_sources.items()},
        footprint={a: dict(x.basing) for a, x in study.assets.items()},
        source_footprint={s: dict(x.basing) for s, x in study.replacement_sources.items()},
        turbulence_weight={a: x.turbulence_weight for a, x in study.assets.items()},
        available={s: x.available for s, x in study.replacement_sources.items()},
        activation_cost={s: x.activation_cost_musd for s, x in study.replacement_sources.items()},
        lead_time={s: x.lead_time_days for s, x in study.replacement_sources.items()},
        floor={q: r.floor for q, r in reqs.items()},
        target={q: r.target for q, r in reqs.items()},
        shortfall_weight={
            (t, c): study.theatres[t].priority * r.weight for (t, c), r in reqs.items()
        },
        rule_theatre={r: x.theatre for r, x in study.replacement_rules.items()},
        rule_ratio={r: x.ratio for r, x in study.replacement_rules.items()},
        rule_lead_time={r: x.max_lead_time_days for r, x in study.replacement_rules.items()},
        baseline=baseline,
        personnel_floor=personnel_floor,
        personnel_cap=personnel_cap,
        basing_capacity=basing_capacity,
        budget=study.budget.limit_musd if study.budget is not None else None,
        max_turbulence=(
            study.persistence.max_turbulence if study.persistence is not None else None
        ),
        weights=(w.shortfall, w.cost, w.turbulence),
    )


def edited_model_data(resolved: ResolvedStudy, edit: Callable[[dict[str, Any]], None]) -> ModelData:
    """Model data of a what-if: ``edit`` changes a copy of the merged inputs, which are
    validated again, so derived numbers (baselines, locks) follow the change."""
    doc = copy.deepcopy(resolved.data)
    edit(doc)
    return build_model_data(Study.model_validate(doc))
