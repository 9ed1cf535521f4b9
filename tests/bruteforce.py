"""An independent evaluator and exhaustive enumerator for the posture model.

Written from ``models/formulation.md`` alone (not from ``posture/model.py``), so that
tests can check the MIP against a second, deliberately naive reading of the written
model:

* :func:`random_study` draws a tiny but rich study (a plain dict, as a YAML file
  would hold it);
* :func:`evaluate` checks one integer posture against every constraint family and
  returns its objective (with the optimal shortfall), or ``None`` when it breaks a rule;
* :func:`brute_force` enumerates every integer posture and returns the best objective.

All numbers drawn by :func:`random_study` are small multiples of 1/4 (dyadic), so
products and sums of them are exact in binary floating point and a rule is either
met or broken by a clear margin; the solver's feasibility tolerance never decides
a comparison.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from posture.run import RunResult

Study = dict[str, Any]
PlaceKey = tuple[str, str, str]
HoldKey = tuple[str, str]
ActKey = tuple[str, str]

# Slack allowed on a constraint. Data are dyadic (see the module docstring), so any
# real violation is at least 1/1024 or so; this only absorbs float dust.
TOL = 1e-7

# Largest number of postures random_study lets brute_force enumerate.
MAX_COMBINATIONS = 20_000

SOURCE_NOTE = "Random test study (estimate)."


# --------------------------------------------------------------------------------------
# The written model, compiled from a study dict
# --------------------------------------------------------------------------------------


@dataclass
class Compiled:
    """The sets and parameters of ``models/formulation.md`` for one study dict."""

    theatres: list[str]
    home: dict[str, str | None]  # h(o)
    inventory: dict[HoldKey, int]  # inv_{a,o} for (a,o) in H
    lock: dict[HoldKey, int]  # lock_{a,o} for (a,o) in H
    placements: dict[HoldKey, list[str]]  # (a,o) -> theatres t with (a,o,t) in P
    activations: list[ActKey]  # Z
    capability: dict[tuple[str, str, str], float]  # e_{a,t} kappa_{a,c} by (a,t,c)
    personnel: dict[str, float]  # p_a
    footprint: dict[str, dict[str, float]]  # f_{a,k}
    move_cost: dict[PlaceKey, float]  # m_{a,o,t}
    turbulence: dict[str, float]  # tau_a
    src_available: dict[str, int]
    src_capability: dict[str, dict[str, float]]
    src_cost: dict[str, float]
    src_lead: dict[str, float]
    src_personnel: dict[str, float]
    src_footprint: dict[str, dict[str, float]]
    requirements: list[tuple[str, str]]  # Q
    floor: dict[tuple[str, str], float]
    target: dict[tuple[str, str], float]
    weight: dict[tuple[str, str], float]  # pi_t * w_{t,c}
    backfills: list[tuple[str, str, str, float, float]]  # (rule, theatre, c, ratio, max lead)
    baseline: dict[tuple[str, str], float]  # base_{t,c}
    personnel_floor: dict[str, int]
    personnel_cap: dict[str, int]
    basing_cap: dict[tuple[str, str], float]  # K
    budget: float | None
    weights: tuple[float, float, float]  # omega^S, omega^C, omega^T
    capabilities: list[str] = field(default_factory=list)


def compile_study(study: Mapping[str, Any]) -> Compiled:
    """Read the sets and parameters of the written model from a study dict (schema defaults applied)."""
    theatres = list(study["theatres"])
    capabilities = list(study["capabilities"])
    home: dict[str, str | None] = {o: spec.get("theatre") for o, spec in study["origins"].items()}

    inventory: dict[HoldKey, int] = {}
    lock: dict[HoldKey, int] = {}
    placements: dict[HoldKey, list[str]] = {}
    capability: dict[tuple[str, str, str], float] = {}
    personnel: dict[str, float] = {}
    footprint: dict[str, dict[str, float]] = {}
    move_cost: dict[PlaceKey, float] = {}
    turbulence: dict[str, float] = {}
    for a, spec in study["assets"].items():
        personnel[a] = float(spec["personnel_per_unit"])
        footprint[a] = {k: float(v) for k, v in spec.get("basing", {}).items()}
        turbulence[a] = float(spec.get("turbulence_weight", 1.0))
        eff = spec.get("effectiveness", {})
        for t in theatres:
            for c in capabilities:
                capability[a, t, c] = float(eff.get(t, 1.0)) * float(
                    spec.get("contributes", {}).get(c, 0.0)
                )
        dests = spec.get("destinations")
        allowed = list(theatres) if dests is None else list(dests)
        routes = spec.get("route_cost_musd", {})
        for o, units in spec["inventory"].items():
            if units <= 0:
                continue  # H holds only positive inventories
            inventory[a, o] = int(units)
            locked = (
                int(units)
                if spec.get("movable", True) is False
                else int(spec.get("locked", {}).get(o, 0))
            )
            lock[a, o] = locked
            h = home[o]
            ts = [t for t in theatres if t in allowed]
            if locked > 0 and h is not None and h not in ts:
                ts.append(h)  # a locked unit can stay where it is
            placements[a, o] = ts
            for t in ts:
                if t == h:
                    move_cost[a, o, t] = 0.0
                else:
                    move_cost[a, o, t] = float(
                        routes.get(o, {}).get(t, spec.get("move_cost_musd", 0.0))
                    )

    deadline = study.get("deadline_days")
    sources = study.get("replacement_sources", {})
    activations: list[ActKey] = []
    for s, spec in sources.items():
        if deadline is not None and float(spec["lead_time_days"]) > float(deadline):
            continue
        activations.extend((s, t) for t in spec["theatres"])

    requirements: list[tuple[str, str]] = []
    floor: dict[tuple[str, str], float] = {}
    target: dict[tuple[str, str], float] = {}
    weight: dict[tuple[str, str], float] = {}
    for t, reqs in study.get("requirements", {}).items():
        for c, req in reqs.items():
            requirements.append((t, c))
            floor[t, c] = float(req.get("floor", 0.0))
            target[t, c] = float(req.get("target", 0.0))
            weight[t, c] = float(study["theatres"][t]["priority"]) * float(req.get("weight", 1.0))

    backfills = [
        (r, rule["theatre"], c, float(rule["ratio"]), float(rule["max_lead_time_days"]))
        for r, rule in study.get("replacement_rules", {}).items()
        for c in rule["capabilities"]
    ]

    baseline: dict[tuple[str, str], float] = {}
    for (a, o), units in inventory.items():
        h = home[o]
        if h is None:
            continue
        for c in capabilities:
            baseline[h, c] = baseline.get((h, c), 0.0) + capability[a, h, c] * units

    personnel_floor: dict[str, int] = {}
    personnel_cap: dict[str, int] = {}
    for t, lim in study.get("personnel", {}).items():
        if lim.get("floor") is not None:
            personnel_floor[t] = int(lim["floor"])
        if lim.get("cap") is not None:
            personnel_cap[t] = int(lim["cap"])

    basing_cap = {
        (t, k): float(v)
        for t, spec in study.get("basing", {}).items()
        for k, v in spec["capacity"].items()
    }
    budget = study.get("budget")
    obj = study["objective"]
    return Compiled(
        theatres=theatres,
        home=home,
        inventory=inventory,
        lock=lock,
        placements=placements,
        activations=activations,
        capability=capability,
        personnel=personnel,
        footprint=footprint,
        move_cost=move_cost,
        turbulence=turbulence,
        src_available={s: int(v["available"]) for s, v in sources.items()},
        src_capability={
            s: {c: float(k) for c, k in v["contributes"].items()} for s, v in sources.items()
        },
        src_cost={s: float(v["activation_cost_musd"]) for s, v in sources.items()},
        src_lead={s: float(v["lead_time_days"]) for s, v in sources.items()},
        src_personnel={s: float(v["personnel_per_unit"]) for s, v in sources.items()},
        src_footprint={
            s: {k: float(f) for k, f in v.get("basing", {}).items()} for s, v in sources.items()
        },
        requirements=requirements,
        floor=floor,
        target=target,
        weight=weight,
        backfills=backfills,
        baseline=baseline,
        personnel_floor=personnel_floor,
        personnel_cap=personnel_cap,
        basing_cap=basing_cap,
        budget=None if budget is None else float(budget["limit_musd"]),
        weights=(float(obj["shortfall"]), float(obj["cost"]), float(obj["turbulence"])),
        capabilities=capabilities,
    )


def _is_count(value: Any) -> bool:
    """A non-negative whole number (an integer variable's value)."""
    return isinstance(value, int | float) and value >= 0 and float(value).is_integer()


@dataclass(frozen=True)
class Terms:
    """The objective's three unweighted terms for one feasible posture."""

    risk: float  # weighted_shortfall: sum of pi_t w_tc u_tc with the optimal u
    cost: float  # total_cost, MUSD
    turbulence: float  # turbulence: weighted units moved


def objective_terms(
    m: Compiled,
    place: Mapping[PlaceKey, float],
    reserve: Mapping[HoldKey, float],
    activated: Mapping[ActKey, float],
) -> Terms | None:
    """The unweighted objective terms of one posture, or ``None`` if it breaks a rule."""
    # Variables exist only on their sets (allowed destinations) and are whole numbers
    # within their bounds. Missing keys are 0.
    for (a, o, t), v in place.items():
        if v and ((a, o) not in m.placements or t not in m.placements[a, o]):
            return None  # allowed destinations: no variable outside P
        if not _is_count(v) or (v and v > m.inventory[a, o]):
            return None
    for key, v in reserve.items():
        if v and key not in m.inventory:
            return None
        if not _is_count(v) or (v and v > m.inventory[key]):
            return None
    z_set = set(m.activations)
    for key, v in activated.items():
        if v and key not in z_set:
            return None  # scenario deadline / source theatres: no variable outside Z
        if not _is_count(v) or (v and v > m.src_available[key[0]]):
            return None

    def x(a: str, o: str, t: str) -> float:
        return float(place.get((a, o, t), 0))

    def y(a: str, o: str) -> float:
        return float(reserve.get((a, o), 0))

    def z(s: str, t: str) -> float:
        return float(activated.get((s, t), 0))

    # inventory and locked_units
    for (a, o), inv in m.inventory.items():
        if sum(x(a, o, t) for t in m.placements[a, o]) + y(a, o) != inv:
            return None
        lk = m.lock[a, o]
        if lk > 0:
            h = m.home[o]
            held = x(a, o, h) if h is not None else y(a, o)
            if held < lk:
                return None

    # provided (assets only, and with replacements)
    from_assets: dict[tuple[str, str], float] = {}
    for t in m.theatres:
        for c in m.capabilities:
            from_assets[t, c] = sum(
                m.capability[a, t, c] * x(a, o, t) for (a, o), ts in m.placements.items() if t in ts
            )
    provided = dict(from_assets)
    for s, t in m.activations:
        for c, k in m.src_capability[s].items():
            provided[t, c] += k * z(s, t)

    # coverage_floor, and the optimal shortfall of coverage_target
    risk = 0.0
    for q in m.requirements:
        if m.floor[q] > 0 and provided[q] < m.floor[q] - TOL:
            return None
        if m.target[q] > 0:
            risk += m.weight[q] * max(0.0, m.target[q] - provided[q])

    # replacement_backfill
    for _r, t, c, ratio, max_lead in m.backfills:
        lhs = sum(
            m.src_capability[s].get(c, 0.0) * z(s, tt)
            for s, tt in m.activations
            if tt == t and m.src_lead[s] <= max_lead
        )
        rhs = ratio * (m.baseline.get((t, c), 0.0) - from_assets[t, c])
        if lhs < rhs - TOL:
            return None

    # source_availability
    for s, avail in m.src_available.items():
        if sum(z(ss, t) for ss, t in m.activations if ss == s) > avail:
            return None

    # personnel_floor and personnel_cap
    for t in m.theatres:
        people = sum(
            m.personnel[a] * x(a, o, t) for (a, o), ts in m.placements.items() if t in ts
        ) + sum(m.src_personnel[s] * z(s, tt) for s, tt in m.activations if tt == t)
        if t in m.personnel_floor and people < m.personnel_floor[t] - TOL:
            return None
        if t in m.personnel_cap and people > m.personnel_cap[t] + TOL:
            return None

    # basing_capacity
    for (t, kind), cap in m.basing_cap.items():
        used = sum(
            m.footprint[a].get(kind, 0.0) * x(a, o, t)
            for (a, o), ts in m.placements.items()
            if t in ts
        ) + sum(m.src_footprint[s].get(kind, 0.0) * z(s, tt) for s, tt in m.activations if tt == t)
        if used > cap + TOL:
            return None

    # total_cost and budget
    cost = sum(
        m.move_cost[a, o, t] * x(a, o, t) for (a, o), ts in m.placements.items() for t in ts
    ) + sum(m.src_cost[s] * z(s, t) for s, t in m.activations)
    if m.budget is not None and cost > m.budget + TOL:
        return None

    # turbulence: units that leave today's posture
    turb = 0.0
    for (a, o), inv in m.inventory.items():
        h = m.home[o]
        if h is None:
            moved = sum(x(a, o, t) for t in m.placements[a, o])
        elif h in m.placements[a, o]:
            moved = inv - x(a, o, h)
        else:
            moved = float(inv)
        turb += m.turbulence[a] * moved

    return Terms(risk, cost, turb)


def evaluate_compiled(
    m: Compiled,
    place: Mapping[PlaceKey, float],
    reserve: Mapping[HoldKey, float],
    activated: Mapping[ActKey, float],
) -> float | None:
    """:func:`evaluate` on an already compiled study (for enumeration speed)."""
    terms = objective_terms(m, place, reserve, activated)
    if terms is None:
        return None
    ws, wc, wt = m.weights
    return ws * terms.risk + wc * terms.cost + wt * terms.turbulence


def evaluate(
    study: Mapping[str, Any],
    place: Mapping[PlaceKey, float],
    reserve: Mapping[HoldKey, float],
    activated: Mapping[ActKey, float],
) -> float | None:
    """Objective of one posture under the written model, or ``None`` if it breaks a rule.

    ``place`` maps (asset, origin, theatre) to units, ``reserve`` maps (asset, origin)
    to units and ``activated`` maps (source, theatre) to units; missing keys are 0.
    A positive value on a key outside its set (an unallowed destination, a source
    beyond the deadline or outside its theatres) is infeasible. The shortfall is set
    to its optimal value, max(0, target - provided), for every requirement with a
    positive target.
    """
    return evaluate_compiled(compile_study(study), place, reserve, activated)


# --------------------------------------------------------------------------------------
# Enumeration
# --------------------------------------------------------------------------------------


def _compositions(total: int, parts: int) -> Iterator[tuple[int, ...]]:
    """Every tuple of ``parts`` non-negative integers summing to ``total``."""
    if parts == 1:
        yield (total,)
        return
    for first in range(total + 1):
        for rest in _compositions(total - first, parts - 1):
            yield (first, *rest)


def _bounded_vectors(limit: int, parts: int) -> Iterator[tuple[int, ...]]:
    """Every tuple of ``parts`` non-negative integers summing to at most ``limit``."""
    for total in range(limit + 1):
        yield from _compositions(total, parts)


def count_combinations(study: Mapping[str, Any]) -> int:
    """How many integer postures :func:`brute_force` enumerates for ``study``."""
    m = compile_study(study)
    n = 1
    for key, inv in m.inventory.items():
        n *= math.comb(inv + len(m.placements[key]), len(m.placements[key]))
    for s, avail in m.src_available.items():
        k = sum(1 for ss, _ in m.activations if ss == s)
        n *= math.comb(avail + k, k)
    return n


def postures(
    study: Mapping[str, Any],
) -> Iterator[tuple[dict[PlaceKey, int], dict[HoldKey, int], dict[ActKey, int]]]:
    """Every (place, reserve, activated) with each holding fully placed or reserved
    and each source's activations within its availability."""
    m = compile_study(study)
    hold_options: list[list[tuple[dict[PlaceKey, int], dict[HoldKey, int]]]] = []
    for (a, o), inv in m.inventory.items():
        ts = m.placements[a, o]
        opts = []
        for vec in _compositions(inv, len(ts) + 1):
            opts.append(
                ({(a, o, t): v for t, v in zip(ts, vec, strict=False) if v}, {(a, o): vec[-1]})
            )
        hold_options.append(opts)
    act_options: list[list[dict[ActKey, int]]] = []
    for s, avail in m.src_available.items():
        keys = [(ss, t) for ss, t in m.activations if ss == s]
        if not keys:
            continue
        act_options.append(
            [
                {k: v for k, v in zip(keys, vec, strict=True) if v}
                for vec in _bounded_vectors(avail, len(keys))
            ]
        )
    for holds in itertools.product(*hold_options):
        place: dict[PlaceKey, int] = {}
        reserve: dict[HoldKey, int] = {}
        for p, r in holds:
            place.update(p)
            reserve.update(r)
        for acts in itertools.product(*act_options):
            activated: dict[ActKey, int] = {}
            for act in acts:
                activated.update(act)
            yield place, reserve, activated


Posture = tuple[dict[PlaceKey, int], dict[HoldKey, int], dict[ActKey, int]]


def brute_force_solution(study: Mapping[str, Any]) -> tuple[float, Posture] | None:
    """The best objective and a posture attaining it, or ``None`` if none is feasible."""
    m = compile_study(study)
    best: tuple[float, Posture] | None = None
    for posture in postures(study):
        value = evaluate_compiled(m, *posture)
        if value is not None and (best is None or value < best[0]):
            best = (value, posture)
    return best


def brute_force(study: Mapping[str, Any]) -> float | None:
    """The best objective over every integer posture, or ``None`` if none is feasible."""
    found = brute_force_solution(study)
    return None if found is None else found[0]


def baseline_posture(study: Mapping[str, Any]) -> Posture:
    """Today's posture: units at a home origin stay in its theatre (in reserve when that
    placement is not allowed), units at a reserve origin stay in reserve, no activations."""
    m = compile_study(study)
    place: dict[PlaceKey, int] = {}
    reserve: dict[HoldKey, int] = {}
    for (a, o), inv in m.inventory.items():
        h = m.home[o]
        if h is not None and h in m.placements[a, o]:
            place[a, o, h] = inv
        else:
            reserve[a, o] = inv
    return place, reserve, {}


def moves_something(study: Mapping[str, Any], tol: float = 1e-6) -> bool:
    """True when no optimal posture is today's: the optimum must move a unit or
    activate a source (False for infeasible studies)."""
    best = brute_force(study)
    if best is None:
        return False
    today = evaluate(study, *baseline_posture(study))
    return today is None or today > best + tol * max(1.0, abs(best))


# --------------------------------------------------------------------------------------
# Solving with posture and reading its answer back
# --------------------------------------------------------------------------------------


def write_yaml(study: Mapping[str, Any], path: Path) -> Path:
    """Write ``study`` as a YAML study file at ``path``."""
    path.write_text(yaml.safe_dump(dict(study), sort_keys=False), encoding="utf-8")
    return path


def solve_dict(study: Mapping[str, Any], folder: Path) -> RunResult:
    """Write ``study`` to a YAML file in ``folder`` and solve it the normal way."""
    import posture

    return posture.solve(posture.load(write_yaml(study, folder / "study.yaml")))


def posture_from_tables(result: RunResult) -> Posture:
    """The (place, reserve, activated) posture the solver reported, read back from the
    ``assignments`` and ``replacements`` tables."""
    place: dict[PlaceKey, int] = {}
    reserve: dict[HoldKey, int] = {}
    activated: dict[ActKey, int] = {}
    for row in result.tables["assignments"].to_dict("records"):
        a, o, where, units = (
            str(row["asset"]),
            str(row["origin"]),
            str(row["location"]),
            int(row["units"]),
        )
        if where == "reserve":
            assert (a, o) not in reserve, f"two reserve rows for {a} at {o}"
            reserve[a, o] = units
        else:
            assert (a, o, where) not in place, f"two rows for {a} from {o} in {where}"
            place[a, o, where] = units
    for row in result.tables["replacements"].to_dict("records"):
        s, t = str(row["source"]), str(row["theatre"])
        assert (s, t) not in activated, f"two rows for {s} in {t}"
        activated[s, t] = int(row["units"])
    return place, reserve, activated


# --------------------------------------------------------------------------------------
# Random studies
# --------------------------------------------------------------------------------------


def _quarter(rng: random.Random, hi: float, *, zero: float = 0.0) -> float:
    """A random multiple of 0.25 in [0.25, hi], or 0 with probability ``zero``."""
    if rng.random() < zero:
        return 0.0
    return rng.randint(1, int(hi * 4)) / 4


def _subset(rng: random.Random, items: list[str], *, min_size: int = 0) -> list[str]:
    """A random subset of ``items`` (order kept) with at least ``min_size`` elements."""
    while True:
        chosen = [i for i in items if rng.random() < 0.5]
        if len(chosen) >= min_size:
            return chosen


def _draw_study(rng: random.Random) -> Study:
    theatres = [f"t{i}" for i in range(rng.choice([1, 2, 2]))]
    origins = [f"o{i}" for i in range(rng.choice([1, 2, 2, 3, 3]))]
    caps = [f"c{i}" for i in range(rng.randint(1, 2))]
    kinds = ["k0", "k1"]
    study: Study = {
        "study": {"name": "random study"},
        "theatres": {
            t: {
                "name": t.upper(),
                "priority": rng.choice([0.0, 0.5, 1.0, 1.0, 2.0, 3.0]),
                "source": SOURCE_NOTE,
            }
            for t in theatres
        },
        "origins": {},
        "capabilities": {c: {"name": c.upper(), "unit": "unit-equivalent"} for c in caps},
        "assets": {},
    }
    for o in origins:
        spec: dict[str, Any] = {"name": o.upper()}
        if rng.random() < 0.45:
            spec["theatre"] = rng.choice(theatres)
        study["origins"][o] = spec

    for i in range(rng.choice([1, 2, 2, 3])):
        a = f"a{i}"
        inventory = {o: rng.choice([0, 1, 2, 2]) for o in origins if rng.random() < 0.85}
        if not inventory:
            inventory = {rng.choice(origins): 1}
        asset: dict[str, Any] = {
            "name": a.upper(),
            "category": "air_defence_battery",
            "unit": "battery",
            "inventory": inventory,
            "contributes": {c: _quarter(rng, 2.0, zero=0.2) for c in caps if rng.random() < 0.85},
            "personnel_per_unit": rng.choice([0.0, 10.0, 25.0, 50.0]),
            "source": SOURCE_NOTE,
        }
        if rng.random() < 0.4:
            asset["effectiveness"] = {
                t: rng.choice([0.0, 0.5, 0.75, 1.25, 2.0])
                for t in _subset(rng, theatres, min_size=1)
            }
        if rng.random() < 0.4:
            asset["destinations"] = _subset(rng, theatres)
        if rng.random() < 0.1:
            asset["movable"] = False
        elif rng.random() < 0.3:
            held = [o for o, u in inventory.items() if u > 0]
            if held:
                o = rng.choice(held)
                asset["locked"] = {o: rng.randint(1, inventory[o])}
        if rng.random() < 0.5:
            asset["basing"] = {k: _quarter(rng, 2.0) for k in _subset(rng, kinds, min_size=1)}
        if rng.random() < 0.8:
            asset["move_cost_musd"] = _quarter(rng, 4.0, zero=0.2)
        if rng.random() < 0.3:
            routes: dict[str, dict[str, float]] = {}
            for o in _subset(rng, list(inventory), min_size=1):
                routes[o] = {
                    t: _quarter(rng, 8.0, zero=0.1) for t in _subset(rng, theatres, min_size=1)
                }
            asset["route_cost_musd"] = routes
        if rng.random() < 0.6:
            asset["turbulence_weight"] = rng.choice([0.0, 0.25, 0.5, 1.0, 2.0])
        study["assets"][a] = asset

    requirements: dict[str, dict[str, Any]] = {}
    for t in theatres:
        for c in caps:
            if rng.random() < 0.8:
                floor = 0.0 if rng.random() < 0.65 else _quarter(rng, 2.0)
                target = 0.0 if rng.random() < 0.1 else floor + _quarter(rng, 6.0, zero=0.15)
                req: dict[str, Any] = {"floor": floor, "target": target, "source": SOURCE_NOTE}
                if rng.random() < 0.5:
                    req["weight"] = rng.choice([0.0, 0.5, 1.0, 2.0, 4.0])
                requirements.setdefault(t, {})[c] = req
    if requirements:
        study["requirements"] = requirements

    sources: dict[str, Any] = {}
    for i in range(rng.choice([0, 1, 1, 2])):
        src: dict[str, Any] = {
            "name": f"S{i}",
            "provider": rng.choice(["rok", "us_followon", "us_rotational", "allied"]),
            "available": rng.choice([0, 1, 1, 2, 2]),
            "theatres": _subset(rng, theatres, min_size=1),
            "contributes": {c: _quarter(rng, 2.0, zero=0.15) for c in caps if rng.random() < 0.8},
            "activation_cost_musd": _quarter(rng, 8.0, zero=0.1),
            "lead_time_days": rng.choice([0.0, 10.0, 30.0, 45.0, 60.0, 90.0]),
            "personnel_per_unit": rng.choice([0.0, 0.0, 10.0, 40.0]),
            "source": SOURCE_NOTE,
        }
        if rng.random() < 0.3:
            src["basing"] = {k: _quarter(rng, 2.0) for k in _subset(rng, kinds, min_size=1)}
        sources[f"s{i}"] = src
    if sources:
        study["replacement_sources"] = sources

    if rng.random() < 0.45:
        rules: dict[str, Any] = {}
        for i in range(rng.choice([1, 1, 2])):
            rules[f"r{i}"] = {
                "theatre": rng.choice(theatres),
                "capabilities": _subset(rng, caps, min_size=1),
                "ratio": rng.choice([0.0, 0.5, 1.0, 1.0, 1.5]),
                "max_lead_time_days": rng.choice([0.0, 30.0, 60.0, 120.0]),
                "source": SOURCE_NOTE,
            }
        study["replacement_rules"] = rules

    if rng.random() < 0.35:
        personnel: dict[str, Any] = {}
        for t in _subset(rng, theatres, min_size=1):
            lim: dict[str, Any] = {"source": SOURCE_NOTE}
            floor_n = rng.choice([None, 0, 10, 25, 50])
            cap_n = rng.choice([None, 25, 50, 75, 120])
            if floor_n is not None and cap_n is not None and floor_n > cap_n:
                floor_n, cap_n = cap_n, floor_n
            if floor_n is not None:
                lim["floor"] = floor_n
            if cap_n is not None:
                lim["cap"] = cap_n
            personnel[t] = lim
        study["personnel"] = personnel

    if rng.random() < 0.35:
        study["basing"] = {
            t: {
                "capacity": {
                    k: _quarter(rng, 4.0, zero=0.2) for k in _subset(rng, kinds, min_size=1)
                },
                "source": SOURCE_NOTE,
            }
            for t in _subset(rng, theatres, min_size=1)
        }
    if rng.random() < 0.3:
        study["budget"] = {"limit_musd": _quarter(rng, 12.0, zero=0.05), "source": SOURCE_NOTE}
    if rng.random() < 0.3:
        study["deadline_days"] = rng.choice([0.0, 20.0, 45.0, 60.0])

    weights = {
        "shortfall": rng.choice([0.0, 1.0, 4.0, 10.0, 10.0, 50.0, 100.0, 100.0, 100.0, 100.0]),
        "cost": rng.choice([0.0, 0.25, 0.5, 1.0]),
        "turbulence": rng.choice([0.0, 0.25, 1.0, 2.0]),
    }
    if weights["shortfall"] == weights["cost"] == weights["turbulence"] == 0:
        weights["shortfall"] = 1.0
    study["objective"] = weights
    study["solver"] = {"mip_rel_gap": 0.0, "threads": 1}
    return study


def random_study(rng: random.Random) -> Study:
    """A random tiny but rich study dict, valid for the schema and its cross-checks.

    One or two theatres, one to three origins (some with a home theatre, some reserve),
    one or two capabilities, one to three asset types with 0-2 units per origin, and,
    at random, effectiveness, destinations, locks, route costs, basing footprints,
    requirements (floors sometimes 0), replacement sources and rules, personnel
    limits, basing capacities, a budget and a deadline. Redraws until
    :func:`brute_force` has at most ``MAX_COMBINATIONS`` postures to enumerate.
    Some studies are infeasible (random floors, locks and caps can clash).
    """
    while True:
        study = _draw_study(rng)
        if count_combinations(study) <= MAX_COMBINATIONS:
            return study
