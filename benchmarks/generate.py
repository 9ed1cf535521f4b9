"""Realistic synthetic posture studies for the benchmark harness, at sizes S, M, L, XL.

    python benchmarks/generate.py --size L [--seed 0] [--out L.yaml]

A study is built around a hidden *reference posture*: a random, whole-unit assignment
of every unit to a theatre or to reserve (locked units kept where they are) plus
some replacement activations. Every hard rule is derived from that posture with a
margin (coverage floors below what it provides, personnel floor and cap around its
head count, basing capacities and the budget above its use, replacement sources
enlarged until the backfill rules hold), so every generated study is feasible;
targets above it keep the shortfall terms alive, so the MIP is not trivial.

The file is written through ``yaml.safe_dump`` (leaf mappings in flow style, to stay
under the loader's 2,000,000-byte file limit), valid against ``posture/schema.py``,
with the note ``Synthetic benchmark data (generated).`` on every record that has a
source field (capabilities, which have none, carry it as their description). The same
size and seed give the same bytes.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

SOURCE = "Synthetic benchmark data (generated)."
MAX_FILE_BYTES = 2_000_000  # posture.yamlsafe.parse_yaml_file's default limit
DEADLINE_DAYS = 120.0


@dataclass(frozen=True)
class Size:
    theatres: int
    origins: int
    capabilities: int
    assets: int
    sources: int
    holdings: tuple[int, int]  # origins holding each asset type (min, max)
    rules: int  # replacement rules (one protected theatre each)


SIZES: dict[str, Size] = {
    # S mirrors the shape of inputs/study.yaml: 3 theatres, 5 origins, 8 capabilities,
    # 14 asset types, 13 replacement sources, one replacement rule.
    "S": Size(3, 5, 8, 14, 13, (2, 4), 1),
    "M": Size(6, 12, 12, 200, 40, (3, 8), 2),
    "L": Size(8, 20, 16, 1000, 120, (9, 17), 3),
    "XL": Size(12, 30, 20, 2000, 300, (18, 28), 4),
}

# (id, unit text, shortfall weight per unit): the first 8 are the default study's.
CAPABILITIES: list[tuple[str, str, float]] = [
    ("air_missile_defence", "battery-equivalent", 1.0),
    ("interceptor_magazine", "interceptor", 0.01),
    ("ground_deterrence", "brigade-equivalent", 2.0),
    ("strike", "launcher-equivalent", 0.2),
    ("strike_magazine", "missile", 0.01),
    ("air_superiority", "squadron-equivalent", 1.5),
    ("isr", "orbit-equivalent", 0.5),
    ("maritime", "ship-equivalent", 1.0),
    ("anti_submarine", "ASW-group-equivalent", 1.0),
    ("logistics", "thousand support personnel", 1.0),
    ("electronic_warfare", "EW-company-equivalent", 0.5),
    ("airlift", "airlift-squadron-equivalent", 0.8),
    ("engineering", "engineer-battalion-equivalent", 0.5),
    ("medical", "field-hospital-equivalent", 0.5),
    ("special_operations", "SOF-battalion-equivalent", 1.0),
    ("mine_countermeasures", "MCM-ship-equivalent", 0.5),
    ("space_awareness", "sensor-equivalent", 0.5),
    ("command_control", "C2-node-equivalent", 1.0),
    ("sealift", "sealift-ship-equivalent", 0.5),
    ("cyber", "cyber-team-equivalent", 0.5),
]
BASING_KINDS = ("ad_site", "airfield_ramp", "brigade_garrison", "berth")


@dataclass(frozen=True)
class AssetTemplate:
    code: str
    label: str
    category: str
    unit: str
    inventory: tuple[int, int]  # units per holding origin
    contributes: dict[str, float]
    personnel: float
    basing: dict[str, float]
    move_cost: float
    turbulence: float
    weight: float = 1.0  # relative frequency in the larger sizes


ASSET_TEMPLATES: list[AssetTemplate] = [
    AssetTemplate(
        "adb",
        "Patriot-class air-defence battery",
        "air_defence_battery",
        "battery",
        (1, 12),
        {"air_missile_defence": 1.0},
        120,
        {"ad_site": 1.0},
        10.0,
        1.0,
        1.5,
    ),
    AssetTemplate(
        "utb",
        "upper-tier air-defence battery",
        "air_defence_battery",
        "battery",
        (1, 2),
        {"air_missile_defence": 2.0},
        95,
        {"ad_site": 1.0},
        20.0,
        2.0,
        0.5,
    ),
    AssetTemplate(
        "ist",
        "interceptor stock",
        "interceptor_stock",
        "missile",
        (16, 600),
        {"interceptor_magazine": 1.0},
        0,
        {},
        0.02,
        0.005,
        1.5,
    ),
    AssetTemplate(
        "uis",
        "upper-tier interceptor stock",
        "interceptor_stock",
        "missile",
        (16, 96),
        {"interceptor_magazine": 1.0},
        0,
        {},
        0.03,
        0.01,
        0.5,
    ),
    AssetTemplate(
        "rkl",
        "deep-strike rocket launcher",
        "strike_launcher",
        "launcher",
        (4, 36),
        {"strike": 1.0},
        25,
        {},
        1.0,
        0.2,
    ),
    AssetTemplate(
        "smk",
        "strike missile stock",
        "strike_launcher",
        "missile",
        (20, 150),
        {"strike_magazine": 1.0},
        0,
        {},
        0.02,
        0.005,
    ),
    AssetTemplate(
        "abc",
        "armored brigade",
        "ground_force",
        "brigade",
        (1, 2),
        {"ground_deterrence": 1.0},
        4200,
        {"brigade_garrison": 1.0},
        80.0,
        5.0,
        0.5,
    ),
    AssetTemplate(
        "cab",
        "aviation brigade",
        "ground_force",
        "brigade",
        (1, 2),
        {"ground_deterrence": 0.5, "isr": 0.5},
        2600,
        {"brigade_garrison": 1.0},
        40.0,
        3.0,
        0.5,
    ),
    AssetTemplate(
        "spt",
        "support personnel pool",
        "enabler",
        "person",
        (200, 5000),
        {"logistics": 0.001},
        1.0,
        {},
        0.01,
        0.001,
        0.5,
    ),
    AssetTemplate(
        "ftr",
        "fighter squadron",
        "aircraft_squadron",
        "squadron",
        (1, 6),
        {"air_superiority": 1.0, "strike": 2.0},
        600,
        {"airfield_ramp": 1.0},
        3.0,
        1.0,
    ),
    AssetTemplate(
        "f5g",
        "fifth-generation fighter squadron",
        "aircraft_squadron",
        "squadron",
        (1, 4),
        {"air_superiority": 1.5, "strike": 3.0},
        600,
        {"airfield_ramp": 1.0},
        3.0,
        1.0,
    ),
    AssetTemplate(
        "isr",
        "ISR drone squadron",
        "isr",
        "squadron",
        (1, 3),
        {"isr": 1.0},
        150,
        {"airfield_ramp": 0.5},
        2.0,
        0.5,
    ),
    AssetTemplate(
        "hai",
        "high-altitude ISR detachment",
        "isr",
        "squadron",
        (1, 2),
        {"isr": 1.5},
        200,
        {"airfield_ramp": 0.5},
        2.0,
        0.5,
        0.5,
    ),
    AssetTemplate(
        "ddg",
        "guided-missile destroyer",
        "naval",
        "ship",
        (1, 8),
        {"maritime": 1.0, "air_missile_defence": 0.5, "interceptor_magazine": 24.0, "strike": 2.0},
        300,
        {"berth": 1.0},
        2.0,
        0.5,
    ),
    AssetTemplate(
        "ssn",
        "attack submarine",
        "naval",
        "ship",
        (1, 4),
        {"anti_submarine": 1.0, "strike": 1.5, "maritime": 0.5},
        140,
        {"berth": 1.0},
        3.0,
        0.5,
    ),
    AssetTemplate(
        "ewc",
        "electronic-warfare company",
        "enabler",
        "battalion",
        (1, 4),
        {"electronic_warfare": 1.0, "isr": 0.2},
        180,
        {},
        1.0,
        0.3,
    ),
    AssetTemplate(
        "alf",
        "airlift squadron",
        "aircraft_squadron",
        "squadron",
        (1, 4),
        {"airlift": 1.0},
        400,
        {"airfield_ramp": 1.0},
        2.0,
        0.5,
    ),
    AssetTemplate(
        "eng",
        "engineer battalion",
        "enabler",
        "battalion",
        (1, 3),
        {"engineering": 1.0},
        550,
        {"brigade_garrison": 0.2},
        6.0,
        1.0,
    ),
    AssetTemplate(
        "med",
        "field hospital",
        "enabler",
        "battalion",
        (1, 2),
        {"medical": 1.0},
        300,
        {"brigade_garrison": 0.1},
        4.0,
        0.5,
    ),
    AssetTemplate(
        "sof",
        "special operations battalion",
        "ground_force",
        "battalion",
        (1, 3),
        {"special_operations": 1.0, "isr": 0.2},
        400,
        {},
        2.0,
        1.0,
    ),
    AssetTemplate(
        "mcm",
        "mine-countermeasures ship",
        "naval",
        "ship",
        (1, 4),
        {"mine_countermeasures": 1.0, "maritime": 0.2},
        80,
        {"berth": 0.5},
        1.0,
        0.3,
    ),
    AssetTemplate(
        "spc",
        "space surveillance detachment",
        "isr",
        "battalion",
        (1, 2),
        {"space_awareness": 1.0},
        80,
        {},
        1.5,
        0.3,
    ),
    AssetTemplate(
        "c2n",
        "command-and-control node",
        "enabler",
        "battalion",
        (1, 2),
        {"command_control": 1.0},
        250,
        {},
        2.0,
        0.5,
    ),
    AssetTemplate(
        "slf",
        "sealift ship",
        "naval",
        "ship",
        (1, 6),
        {"sealift": 1.0},
        40,
        {"berth": 1.0},
        1.5,
        0.3,
    ),
    AssetTemplate(
        "cyb",
        "cyber protection team",
        "enabler",
        "battalion",
        (1, 4),
        {"cyber": 1.0},
        40,
        {},
        0.5,
        0.2,
    ),
]


@dataclass(frozen=True)
class SourceTemplate:
    code: str
    label: str
    provider: str
    available: tuple[int, int]
    contributes: dict[str, float]
    cost: float
    lead_times: tuple[float, ...]
    personnel: float
    basing: dict[str, float]


SOURCE_TEMPLATES: list[SourceTemplate] = [
    SourceTemplate(
        "afs",
        "allied fighter squadron",
        "rok",
        (1, 4),
        {"air_superiority": 1.5, "strike": 3.0},
        2.0,
        (7.0, 14.0),
        0,
        {"airfield_ramp": 1.0},
    ),
    SourceTemplate(
        "asb",
        "allied strike battalion",
        "rok",
        (1, 3),
        {"strike": 6.0, "strike_magazine": 36.0},
        5.0,
        (14.0,),
        0,
        {},
    ),
    SourceTemplate(
        "aab",
        "allied armored brigade",
        "rok",
        (1, 2),
        {"ground_deterrence": 0.7},
        10.0,
        (14.0, 30.0),
        0,
        {},
    ),
    SourceTemplate(
        "rab",
        "rotational armored brigade",
        "us_rotational",
        (1, 1),
        {"ground_deterrence": 1.0},
        150.0,
        (60.0,),
        4200,
        {"brigade_garrison": 1.0},
    ),
    SourceTemplate(
        "fad",
        "follow-on air-defence battery",
        "us_followon",
        (1, 3),
        {"air_missile_defence": 1.0, "interceptor_magazine": 48.0},
        30.0,
        (45.0,),
        120,
        {"ad_site": 1.0},
    ),
    SourceTemplate(
        "ffs",
        "follow-on fighter squadron",
        "us_followon",
        (1, 3),
        {"air_superiority": 1.0, "strike": 2.0},
        25.0,
        (30.0,),
        600,
        {"airfield_ramp": 1.0},
    ),
    SourceTemplate(
        "rst",
        "rotational support task force",
        "us_rotational",
        (2, 6),
        {"logistics": 0.5},
        8.0,
        (30.0,),
        500,
        {},
    ),
    SourceTemplate(
        "isp",
        "interceptor surge production",
        "us_followon",
        (8, 120),
        {"interceptor_magazine": 1.0},
        4.0,
        (90.0, 120.0),
        0,
        {},
    ),
    SourceTemplate(
        "ade",
        "allied destroyer",
        "allied",
        (1, 3),
        {"maritime": 1.0, "air_missile_defence": 0.5, "interceptor_magazine": 16.0},
        1.0,
        (7.0, 14.0),
        0,
        {},
    ),
    SourceTemplate(
        "pad",
        "partner air-defence battery",
        "allied",
        (1, 3),
        {"air_missile_defence": 1.0, "interceptor_magazine": 32.0},
        2.0,
        (14.0,),
        0,
        {},
    ),
    SourceTemplate(
        "rid",
        "reserve ISR detachment",
        "us_followon",
        (1, 3),
        {"isr": 1.0},
        6.0,
        (30.0, 45.0),
        150,
        {"airfield_ramp": 0.5},
    ),
    SourceTemplate(
        "asw",
        "allied ASW group",
        "allied",
        (1, 2),
        {"anti_submarine": 1.0, "maritime": 0.5},
        3.0,
        (14.0, 30.0),
        0,
        {"berth": 1.0},
    ),
    SourceTemplate(
        "meb",
        "mobilised engineer battalion",
        "us_followon",
        (1, 3),
        {"engineering": 1.0},
        8.0,
        (45.0, 60.0),
        550,
        {},
    ),
    SourceTemplate(
        "mmu",
        "mobilised medical unit",
        "us_followon",
        (1, 3),
        {"medical": 1.0},
        5.0,
        (30.0, 45.0),
        300,
        {},
    ),
    SourceTemplate(
        "asf",
        "allied special forces",
        "allied",
        (1, 3),
        {"special_operations": 1.0},
        2.0,
        (7.0, 14.0),
        0,
        {},
    ),
    SourceTemplate(
        "ewr",
        "reserve EW company",
        "us_followon",
        (1, 3),
        {"electronic_warfare": 1.0},
        3.0,
        (30.0,),
        180,
        {},
    ),
    SourceTemplate(
        "csl",
        "commercial sealift charter",
        "us_followon",
        (2, 10),
        {"sealift": 1.0},
        6.0,
        (30.0, 60.0),
        0,
        {},
    ),
    SourceTemplate(
        "ssp",
        "strike missile surge production",
        "us_followon",
        (20, 120),
        {"strike_magazine": 1.0},
        2.0,
        (120.0, 180.0),
        0,
        {},
    ),
    SourceTemplate(
        "alr",
        "allied airlift",
        "allied",
        (1, 3),
        {"airlift": 1.0},
        4.0,
        (14.0, 30.0),
        0,
        {"airfield_ramp": 1.0},
    ),
]


def _r(x: float, digits: int = 3) -> float:
    return float(round(x, digits))


def _down(x: float, digits: int = 3) -> float:
    """Round down: a floor derived from the reference posture stays below it."""
    q = 10**digits
    return float(math.floor(x * q) / q)


def _up(x: float, digits: int = 1) -> float:
    q = 10**digits
    return float(math.ceil(x * q) / q)


def _contrib(template_contrib: dict[str, float], caps: set[str], jitter: float) -> dict[str, float]:
    return {c: _r(k * jitter) for c, k in template_contrib.items() if c in caps}


def generate(size: str, seed: int = 0) -> dict[str, Any]:
    """The study for ``size`` (S, M, L, XL) and ``seed``, as plain data."""
    return generate_with_reference(size, seed)[0]


def generate_with_reference(size: str, seed: int = 0) -> tuple[dict[str, Any], float]:
    """The study and the objective value of its hidden reference posture.

    The reference posture is feasible, so its objective bounds the optimum from above.
    """
    spec = SIZES[size]
    rng = random.Random(f"posture-benchmark-{size}-{seed}")
    theatres = [f"t{i + 1:02d}" for i in range(spec.theatres)]
    origins = [f"o{i + 1:02d}" for i in range(spec.origins)]
    caps = [c for c, _, _ in CAPABILITIES[: spec.capabilities]]
    cap_set = set(caps)
    weight_of = {c: w for c, _, w in CAPABILITIES}
    unit_of = {c: u for c, u, _ in CAPABILITIES}

    # Origins: the first one per theatre is that theatre's home base; the rest are
    # split between more home bases and reserve locations (like CONUS or Guam).
    home: dict[str, str | None] = {}
    for i, o in enumerate(origins):
        if i < len(theatres):
            home[o] = theatres[i]
        elif i == len(origins) - 1 or rng.random() < 0.4:
            home[o] = None
        else:
            home[o] = rng.choice(theatres)
    priority = {t: _r(rng.choice([1.0, 1.5, 2.0, 2.5, 3.0]), 1) for t in theatres}
    rule_theatres = theatres[: spec.rules]

    # --- asset types ----------------------------------------------------------------
    eligible = [
        tp
        for tp in ASSET_TEMPLATES
        if any(c in cap_set for c in tp.contributes) or tp.code == "spt"
    ]
    if size == "S":  # the default study's mix, in order
        chosen = [eligible[i % len(eligible)] for i in range(spec.assets)]
    else:
        chosen = rng.choices(eligible, weights=[tp.weight for tp in eligible], k=spec.assets)

    assets: dict[str, dict[str, Any]] = {}
    # Reference posture: x[a, o, t] units placed, y[a, o] in reserve.
    x: dict[tuple[str, str, str], int] = {}
    contrib_of: dict[str, dict[str, float]] = {}
    eff_of: dict[str, dict[str, float]] = {}
    cost_of: dict[tuple[str, str, str], float] = {}
    pers_of: dict[str, float] = {}
    foot_of: dict[str, dict[str, float]] = {}
    baseline: dict[tuple[str, str], float] = {}
    lo_k, hi_k = spec.holdings
    for i, tp in enumerate(chosen):
        a = f"{tp.code}{i + 1:04d}"
        jitter = rng.choice([0.8, 0.9, 1.0, 1.0, 1.1, 1.25])
        held = rng.sample(origins, rng.randint(min(lo_k, len(origins)), min(hi_k, len(origins))))
        held.sort()
        lo, hi = tp.inventory
        inventory = {o: rng.randint(lo, hi) for o in held}
        contributes = _contrib(tp.contributes, cap_set, jitter)
        personnel = (
            float(round(tp.personnel * rng.uniform(0.9, 1.1)))
            if tp.personnel > 1
            else float(tp.personnel)
        )
        move = _r(tp.move_cost * rng.uniform(0.7, 1.5), 3)
        record: dict[str, Any] = {
            "name": f"Synthetic {tp.label} {i + 1}",
            "category": tp.category,
            "unit": tp.unit,
            "inventory": inventory,
            "contributes": contributes,
        }
        effectiveness: dict[str, float] = {}
        if rng.random() < 0.3:
            for t in rng.sample(theatres, min(len(theatres), rng.randint(1, 2))):
                effectiveness[t] = rng.choice([0.3, 0.5, 0.7, 0.8, 1.2])
            record["effectiveness"] = dict(sorted(effectiveness.items()))
        homes = {home[o] for o in held if home[o] is not None}
        destinations: list[str] | None = None
        if rng.random() < 0.55:  # restricted: today's theatres plus some others
            extra = rng.sample(theatres, rng.randint(1, max(1, len(theatres) // 2)))
            destinations = sorted(homes | set(extra))
            if len(destinations) == len(theatres):
                destinations = None
        if destinations is not None:
            record["destinations"] = destinations
        movable = rng.random() >= 0.02
        locked: dict[str, int] = {}
        if movable and rng.random() < 0.15:
            o = rng.choice(held)
            locked[o] = max(1, int(inventory[o] * rng.uniform(0.25, 0.75)))
        if not movable:
            record["movable"] = False
        if locked:
            record["locked"] = locked
        record["personnel_per_unit"] = personnel
        if tp.basing:
            record["basing"] = dict(tp.basing)
        record["move_cost_musd"] = move
        routes: dict[str, dict[str, float]] = {}
        if rng.random() < 0.2:
            o = rng.choice(held)
            t = rng.choice(theatres)
            if t != home[o]:
                routes[o] = {t: _r(move * rng.uniform(0.3, 0.7), 3)}
        if routes:
            record["route_cost_musd"] = routes
        record["turbulence_weight"] = tp.turbulence
        record["source"] = SOURCE
        assets[a] = record

        contrib_of[a] = contributes
        eff_of[a] = effectiveness
        pers_of[a] = personnel
        foot_of[a] = dict(tp.basing)
        allowed = set(destinations) if destinations is not None else set(theatres)
        for o in held:
            n = inventory[o]
            h = home[o]
            lock = n if not movable else locked.get(o, 0)
            places = [t for t in theatres if t in allowed or (lock > 0 and t == h)]
            for t in places:
                cost_of[a, o, t] = 0.0 if t == h else routes.get(o, {}).get(t, move)
            if h is not None:
                e = effectiveness.get(h, 1.0)
                for c, k in contributes.items():
                    baseline[h, c] = baseline.get((h, c), 0.0) + e * k * n
            # The reference posture for this holding.
            free = n - lock
            stay = lock  # locked units stay at home (or in reserve)
            away = [t for t in places if t != h]
            if h is not None and h in places:
                p_move = 0.15 if h in rule_theatres else 0.35
                moving = rng.randint(1, free) if free and away and rng.random() < p_move else 0
                stay += free - moving
                if stay:
                    x[a, o, h] = x.get((a, o, h), 0) + stay
                free = moving
            elif h is None:
                deploying = rng.randint(1, free) if free and away and rng.random() < 0.5 else 0
                free = deploying  # the rest (with the locked units) stays in reserve
            else:  # home theatre not allowed: the units go elsewhere or to reserve
                pass
            if free and away:
                targets = rng.sample(away, min(len(away), rng.randint(1, 2)))
                for j, t in enumerate(targets):
                    share = free if j == len(targets) - 1 else rng.randint(0, free)
                    if share:
                        x[a, o, t] = x.get((a, o, t), 0) + share
                    free -= share

    # --- replacement sources ---------------------------------------------------------
    src_eligible = [st for st in SOURCE_TEMPLATES if any(c in cap_set for c in st.contributes)]
    if size == "S":
        src_chosen = [src_eligible[i % len(src_eligible)] for i in range(spec.sources)]
    else:
        src_chosen = rng.choices(src_eligible, k=spec.sources)
    sources: dict[str, dict[str, Any]] = {}
    for i, st in enumerate(src_chosen):
        s = f"{st.code}{i + 1:04d}"
        k_theatres = min(len(theatres), rng.choice([1, 1, 2, 3, len(theatres)]))
        record = {
            "name": f"Synthetic {st.label} {i + 1}",
            "provider": st.provider,
            "available": rng.randint(*st.available),
            "theatres": sorted(rng.sample(theatres, k_theatres)),
            "contributes": _contrib(st.contributes, cap_set, rng.choice([0.8, 1.0, 1.0, 1.2])),
            "activation_cost_musd": _r(st.cost * rng.uniform(0.7, 1.4), 3),
            "lead_time_days": rng.choice(st.lead_times),
            "personnel_per_unit": float(st.personnel),
        }
        if st.basing:
            record["basing"] = dict(st.basing)
        record["source"] = SOURCE
        sources[s] = record
    z: dict[tuple[str, str], int] = {}
    for s, src in sources.items():  # some activations in the reference posture
        if src["lead_time_days"] <= DEADLINE_DAYS and rng.random() < 0.3:
            t = rng.choice(src["theatres"])
            z[s, t] = rng.randint(1, src["available"])

    def provided_by_assets(t: str, c: str) -> float:
        return sum(
            eff_of[a].get(t, 1.0) * contrib_of[a].get(c, 0.0) * units
            for (a, _, tt), units in x.items()
            if tt == t
        )

    # --- replacement rules: backfill what the reference posture removes -----------------
    asset_prov: dict[tuple[str, str], float] = {}
    for (a, _, t), units in x.items():
        e = eff_of[a].get(t, 1.0)
        for c, k in contrib_of[a].items():
            asset_prov[t, c] = asset_prov.get((t, c), 0.0) + e * k * units
    rules: dict[str, dict[str, Any]] = {}
    n_new = 0
    for j, t in enumerate(rule_theatres):
        lead = rng.choice([60.0, 90.0])
        fast = {c for st in SOURCE_TEMPLATES if min(st.lead_times) <= lead for c in st.contributes}
        protectable = [c for c in caps if baseline.get((t, c), 0.0) > 0 and c in fast]
        if not protectable:
            continue
        protected = sorted(
            rng.sample(protectable, max(1, int(len(protectable) * rng.uniform(0.5, 0.9)))),
            key=caps.index,
        )
        ratio = rng.choice([0.5, 0.75, 1.0])
        rules[f"r{j + 1:02d}_backfill"] = {
            "theatre": t,
            "capabilities": protected,
            "ratio": ratio,
            "max_lead_time_days": lead,
            "source": SOURCE,
        }
        for c in protected:
            need = ratio * (baseline[t, c] - asset_prov.get((t, c), 0.0))
            if need <= 0:
                continue
            eligible_src = [
                s
                for s, src in sources.items()
                if t in src["theatres"]
                and src["lead_time_days"] <= lead
                and src["contributes"].get(c, 0) > 0
            ]
            have = sum(sources[s]["contributes"][c] * z.get((s, t), 0) for s in eligible_src)
            if have >= need * 1.02:
                continue
            if not eligible_src:  # add a fast source for this capability and theatre
                st = next(
                    st
                    for st in SOURCE_TEMPLATES
                    if c in st.contributes and min(st.lead_times) <= lead
                )
                n_new += 1
                s = f"{st.code}r{n_new:03d}"
                sources[s] = {
                    "name": f"Synthetic {st.label} (backfill {n_new})",
                    "provider": st.provider,
                    "available": 1,
                    "theatres": [t],
                    "contributes": _contrib(st.contributes, cap_set, 1.0),
                    "activation_cost_musd": st.cost,
                    "lead_time_days": min(st.lead_times),
                    "personnel_per_unit": float(st.personnel),
                    **({"basing": dict(st.basing)} if st.basing else {}),
                    "source": SOURCE,
                }
                eligible_src = [s]
            s = eligible_src[0]
            k = sources[s]["contributes"][c]
            extra = math.ceil((need * 1.02 - have) / k)
            z[s, t] = z.get((s, t), 0) + extra
            used = sum(v for (ss, _), v in z.items() if ss == s)
            sources[s]["available"] = max(sources[s]["available"], used)

    # --- what the reference posture provides, uses and costs --------------------------------
    prov = dict(asset_prov)
    people: dict[str, float] = {t: 0.0 for t in theatres}
    foot: dict[tuple[str, str], float] = {}
    cost = 0.0
    for (a, o, t), units in x.items():
        people[t] += pers_of[a] * units
        for kind, f in foot_of[a].items():
            foot[t, kind] = foot.get((t, kind), 0.0) + f * units
        cost += cost_of[a, o, t] * units
    for (s, t), units in z.items():
        src = sources[s]
        for c, k in src["contributes"].items():
            prov[t, c] = prov.get((t, c), 0.0) + k * units
        people[t] += src["personnel_per_unit"] * units
        for kind, f in src.get("basing", {}).items():
            foot[t, kind] = foot.get((t, kind), 0.0) + f * units
        cost += src["activation_cost_musd"] * units

    requirements: dict[str, dict[str, Any]] = {}
    for t in theatres:
        reqs: dict[str, Any] = {}
        for c in caps:
            p = prov.get((t, c), 0.0)
            if p > 0 and rng.random() < 0.85:
                floor = _down(p * rng.uniform(0.6, 0.95)) if rng.random() < 0.85 else 0.0
                target = max(floor, _r(p * rng.uniform(1.0, 1.35)))
            elif rng.random() < 0.1:  # a soft target only
                floor, target = 0.0, _r(rng.uniform(1.0, 4.0) / max(weight_of[c], 0.01) / 10)
            else:
                continue
            if target > 1_000_000:
                continue
            reqs[c] = {"floor": floor, "target": target, "weight": weight_of[c], "source": SOURCE}
        if reqs:
            requirements[t] = reqs

    personnel: dict[str, dict[str, Any]] = {}
    for t in theatres:
        n = people[t]
        if n <= 0 or (t not in rule_theatres and rng.random() > 0.7):
            continue
        cap = math.ceil(n * rng.uniform(1.03, 1.25))
        if cap > 1_000_000:
            continue
        personnel[t] = {"floor": int(n * rng.uniform(0.85, 0.97)), "cap": cap, "source": SOURCE}

    basing: dict[str, dict[str, Any]] = {}
    for t in theatres:
        capacity: dict[str, float] = {}
        for kind in BASING_KINDS:
            used = foot.get((t, kind), 0.0)
            value = _up(used * rng.uniform(1.05, 1.4) + rng.randint(0, 2))
            if 0 < value <= 10_000:
                capacity[kind] = value
        if capacity:
            basing[t] = {"capacity": capacity, "source": SOURCE}

    study: dict[str, Any] = {
        "study": {
            "name": f"Synthetic benchmark study, size {size}, seed {seed}",
            "description": f"{SOURCE} Generated by benchmarks/generate.py for timing the pipeline; "
            "feasible by construction (every hard rule is met by a hidden reference posture).",
        },
        "theatres": {
            t: {"name": f"Synthetic theatre {i + 1}", "priority": priority[t], "source": SOURCE}
            for i, t in enumerate(theatres)
        },
        "origins": {
            o: {"name": f"Synthetic origin {i + 1}", "theatre": home[o], "source": SOURCE}
            for i, o in enumerate(origins)
        },
        "capabilities": {
            c: {"name": c.replace("_", " ").capitalize(), "unit": unit_of[c], "description": SOURCE}
            for c in caps
        },
        "assets": assets,
        "requirements": requirements,
        "replacement_sources": sources,
        "replacement_rules": rules,
        "personnel": personnel,
        "basing": basing,
    }
    if cost * 1.3 + 50 <= 1_000_000:
        study["budget"] = {
            "limit_musd": _up(cost * rng.uniform(1.05, 1.3) + 50, 0),
            "source": SOURCE,
        }
    study["deadline_days"] = DEADLINE_DAYS
    study["objective"] = {"shortfall": 1000.0, "cost": 1.0, "turbulence": 2.0, "source": SOURCE}
    study["solver"] = {
        "time_limit_s": 60.0,
        "mip_rel_gap": 1.0e-4,
        "threads": 1,
        "seed": 0,
        "source": SOURCE,
    }
    # Objective of the reference posture (weights as written above).
    shortfall = sum(
        priority[t] * req["weight"] * max(0.0, req["target"] - prov.get((t, c), 0.0))
        for t, reqs in requirements.items()
        for c, req in reqs.items()
    )
    placed: dict[tuple[str, str], int] = {}
    for (a, o, _), units in x.items():
        placed[a, o] = placed.get((a, o), 0) + units
    turbulence = 0.0
    for a, rec in assets.items():
        for o, n in rec["inventory"].items():
            h = home[o]
            moved = placed.get((a, o), 0) if h is None else n - x.get((a, o, h), 0)
            turbulence += rec["turbulence_weight"] * moved
    reference = 1000.0 * shortfall + 1.0 * cost + 2.0 * turbulence
    return study, reference


def expected_size(study: dict[str, Any]) -> dict[str, int]:
    """Columns of the model, counted from the study as posture/data.py builds its sets."""
    theatres = list(study["theatres"])
    home = {o: r["theatre"] for o, r in study["origins"].items()}
    placements = holdings = 0
    for asset in study["assets"].values():
        allowed = set(asset.get("destinations") or theatres)
        for o, n in asset["inventory"].items():
            if n <= 0:
                continue
            holdings += 1
            lock = n if asset.get("movable", True) is False else asset.get("locked", {}).get(o, 0)
            placements += sum(1 for t in theatres if t in allowed or (lock > 0 and t == home[o]))
    deadline = study.get("deadline_days")
    activations = sum(
        len(src["theatres"])
        for src in study["replacement_sources"].values()
        if src["available"] > 0 and (deadline is None or src["lead_time_days"] <= deadline)
    )
    requirements = sum(len(r) for r in study["requirements"].values())
    return {
        "place": placements,
        "reserve": holdings,
        "activated": activations,
        "shortfall": requirements,
        "columns": placements + holdings + activations + requirements,
    }


def render(study: dict[str, Any], size: str, seed: int) -> str:
    header = (
        "# yaml-language-server: $schema=../../inputs/study.schema.json\n"
        f"# Synthetic benchmark study (size {size}, seed {seed}), generated by "
        "benchmarks/generate.py.\n# Every figure is synthetic; do not edit, regenerate.\n"
    )
    body = yaml.safe_dump(
        study, sort_keys=False, default_flow_style=None, width=100, allow_unicode=True
    )
    return header + body


def write_study(path: Path, size: str, seed: int = 0) -> dict[str, Any]:
    """Generate and write one study; its expected model size and file size."""
    study, reference = generate_with_reference(size, seed)
    text = render(study, size, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    info: dict[str, Any] = expected_size(study)
    info["bytes"] = len(text.encode("utf-8"))
    info["reference_objective"] = reference
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="YAML file to write (default: stdout)")
    parser.add_argument(
        "--info", type=Path, help="also write sizes and the reference objective as JSON"
    )
    args = parser.parse_args(argv)
    if args.out is None:
        sys.stdout.write(render(generate(args.size, args.seed), args.size, args.seed))
        return 0
    info = write_study(args.out, args.size, args.seed)
    print(
        f"{args.out}: {info['bytes']:,} bytes; expected columns {info['columns']:,} "
        f"(place {info['place']:,}, reserve {info['reserve']:,}, activated {info['activated']:,}, "
        f"shortfall {info['shortfall']:,}); reference posture objective "
        f"{info['reference_objective']:.6g}"
    )
    if args.info is not None:
        args.info.write_text(json.dumps(info, indent=1), encoding="utf-8")
    if info["bytes"] > MAX_FILE_BYTES:
        print(f"warning: above the loader's {MAX_FILE_BYTES:,}-byte limit", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
