"""The study schema: the one definition of what an input file may contain.

Strict pydantic models (unknown keys rejected, no type coercion: ``"1200"`` is not a
number and ``yes`` is not ``true``). Units are stated in each field's description;
the JSON Schema exported by ``posture schema`` carries them to editors.

Named things (theatres, assets, ...) are mappings keyed by id, so an overlay can
change one entry by naming it and a repeated id is a duplicate-key error.
Cross-references between sections are checked in :mod:`posture.semantics`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Id = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_\-]{0,63}$"),
    Field(description="Identifier: a letter, then letters, digits, '_' or '-' (64 at most)."),
]
Text = Annotated[str, StringConstraints(min_length=1, max_length=2000)]
SourceNote = Annotated[
    str,
    StringConstraints(min_length=3, max_length=4000),
    Field(
        description="Where the figures in this entry come from; say 'estimate' where they "
        "are estimates. Required on every entry that carries numbers."
    ),
]

# Upper limits keep implausible magnitudes (RELIABILITY #29) out of the matrix.
MAX_UNITS = 1_000_000
MAX_MUSD = 1_000_000.0
MAX_COEFFICIENT = 10_000.0


def _number(*, le: float, description: str, default: Any = ..., gt: float | None = None) -> Any:
    """A finite, non-negative float field with its range stated in its description."""
    if gt is not None:
        return Field(default, gt=gt, le=le, allow_inf_nan=False, description=description)
    return Field(default, ge=0.0, le=le, allow_inf_nan=False, description=description)


Units = Annotated[int, Field(ge=0, le=MAX_UNITS, description="Whole units (0 to 1,000,000).")]
Coefficient = Annotated[
    float, _number(le=MAX_COEFFICIENT, description="Capability per unit (0 to 10,000).")
]
Multiplier = Annotated[float, _number(le=10.0, description="Effectiveness multiplier (0 to 10).")]
Musd = Annotated[float, _number(le=MAX_MUSD, description="Millions of US dollars (0 to 1e6).")]
Days = Annotated[float, _number(le=3650.0, description="Days (0 to 3650).")]


class Strict(BaseModel):
    """Base for every schema model: unknown keys rejected, no coercion, immutable."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


# Literal, not Enum: strict mode accepts only Enum instances, never the YAML text.
Category = Literal[
    "air_defence_battery",
    "interceptor_stock",
    "strike_launcher",
    "ground_force",
    "aircraft_squadron",
    "naval",
    "isr",
    "enabler",
]
UnitOfCount = Literal[
    "battery",
    "battalion",
    "brigade",
    "squadron",
    "launcher",
    "missile",
    "ship",
    "aircraft",
    "person",
]
Provider = Literal["rok", "us_followon", "us_rotational", "allied"]


class StudyInfo(Strict):
    name: Text = Field(description="Title used in reports.")
    description: Text | None = None


class Theatre(Strict):
    name: Text
    priority: float = _number(
        le=1000.0, description="Weight of this theatre's shortfalls in the objective (0 to 1000)."
    )
    source: SourceNote


class Origin(Strict):
    name: Text
    theatre: Id | None = Field(
        default=None,
        description="Theatre that units based here defend today (their baseline); "
        "null for a reserve location such as CONUS.",
    )
    source: SourceNote | None = None


class Capability(Strict):
    name: Text
    unit: Text = Field(
        description="What one unit of this capability means, e.g. 'battery-equivalent'."
    )
    description: Text | None = None


class Asset(Strict):
    name: Text
    category: Category
    unit: UnitOfCount = Field(description="Unit of count for inventory and decisions.")
    inventory: dict[Id, Units] = Field(description="Units at each origin today (the baseline).")
    contributes: dict[Id, Coefficient] = Field(
        default_factory=dict, description="Capability provided per unit, by capability id."
    )
    effectiveness: dict[Id, Multiplier] = Field(
        default_factory=dict,
        description="Multiplier on contributions by theatre id; theatres not listed use 1.",
    )
    destinations: list[Id] | None = Field(
        default=None, description="Theatres this asset may be placed in; null means all."
    )
    movable: bool = Field(default=True, description="false locks every unit at its origin.")
    locked: dict[Id, Units] = Field(
        default_factory=dict, description="Units at an origin that may not move, by origin id."
    )
    personnel_per_unit: float = _number(le=100_000.0, description="People per unit (0 to 100,000).")
    basing: dict[Id, Coefficient] = Field(
        default_factory=dict, description="Basing footprint per unit, by basing kind."
    )
    move_cost_musd: Musd = Field(default=0.0, description="Cost of moving one unit, MUSD.")
    route_cost_musd: dict[Id, dict[Id, Musd]] = Field(
        default_factory=dict,
        description="Cost of moving one unit from an origin (outer key) to a theatre "
        "(inner key), MUSD; overrides move_cost_musd.",
    )
    turbulence_weight: float = _number(
        le=1000.0, default=1.0, description="Turbulence counted per unit moved (0 to 1000)."
    )
    source: SourceNote


class Requirement(Strict):
    floor: float = _number(
        le=MAX_UNITS, default=0.0, description="Hard minimum of the capability (capability units)."
    )
    target: float = _number(
        le=MAX_UNITS,
        default=0.0,
        description="Soft target, at least the floor; shortfall below it is priced.",
    )
    weight: float = _number(
        le=1000.0, default=1.0, description="Weight per unit of shortfall (0 to 1000)."
    )
    source: SourceNote


class ReplacementSource(Strict):
    name: Text
    provider: Provider
    available: Units = Field(description="Units that can be activated in all.")
    theatres: list[Id] = Field(min_length=1, description="Theatres where this source may serve.")
    contributes: dict[Id, Coefficient] = Field(description="Capability per unit, by capability id.")
    activation_cost_musd: Musd = Field(description="Cost to activate one unit, MUSD.")
    lead_time_days: Days = Field(description="Days from decision until the unit is in place.")
    personnel_per_unit: float = _number(
        le=100_000.0,
        description="US personnel per unit counted in theatre personnel (0 for allied forces).",
    )
    basing: dict[Id, Coefficient] = Field(
        default_factory=dict, description="Basing footprint per unit, by basing kind."
    )
    source: SourceNote


class ReplacementRule(Strict):
    theatre: Id
    capabilities: list[Id] = Field(min_length=1)
    ratio: float = _number(
        le=10.0, description="Replacement capability required per unit of capability removed."
    )
    max_lead_time_days: Days = Field(
        description="Only sources in place within this many days count as replacements."
    )
    source: SourceNote


class PersonnelLimit(Strict):
    floor: Units | None = Field(default=None, description="Minimum personnel in the theatre.")
    cap: Units | None = Field(default=None, description="Maximum personnel in the theatre.")
    source: SourceNote


class Basing(Strict):
    capacity: dict[Id, Coefficient] = Field(description="Capacity by basing kind.")
    source: SourceNote


class Budget(Strict):
    limit_musd: Musd = Field(description="Total of move and activation costs may not exceed this.")
    source: SourceNote


class Persistence(Strict):
    max_turbulence: float = _number(
        le=1e9,
        description="Cap on turbulence (weighted units moved away from today's posture), so "
        "small input changes cannot reshuffle the whole posture.",
    )
    source: SourceNote


class ObjectiveWeights(Strict):
    shortfall: float = _number(le=1e6, description="Weight of priced shortfall.")
    cost: float = _number(le=1e6, description="Weight per MUSD of cost.")
    turbulence: float = _number(le=1e6, description="Weight per weighted unit moved.")
    source: SourceNote | None = None


class SolverOptions(Strict):
    time_limit_s: float = _number(
        gt=0.0, le=86_400.0, default=600.0, description="Wall-clock limit for one solve, seconds."
    )
    mip_rel_gap: float = _number(
        le=1.0, default=1e-6, description="Relative gap accepted as optimal (0 to 1)."
    )
    threads: int = Field(default=1, ge=1, le=256, description="HiGHS threads.")
    seed: int = Field(default=0, ge=0, le=2_147_483_647, description="HiGHS random seed.")
    node_limit: int | None = Field(
        default=None,
        ge=0,
        le=2_000_000_000,
        description="Branch-and-bound node limit; unlike a time limit, reproducible.",
    )
    neighbourhood_search: Literal["auto", "on", "off"] = Field(
        default="auto",
        description=(
            "LP-guided neighbourhood search before the MIP (large studies): up to half the "
            "time limit is spent finding a good plan in small sub-MIPs around the LP "
            "relaxation, which then starts the full solve. 'auto': on for models with at "
            "least 20,000 integer columns and no node limit (sub-MIPs are time-limited, so "
            "not reproducible)."
        ),
    )
    source: SourceNote | None = None


class Study(Strict):
    """A fully resolved study: the base file with one scenario's overlay applied."""

    study: StudyInfo
    theatres: dict[Id, Theatre] = Field(min_length=1)
    origins: dict[Id, Origin] = Field(min_length=1)
    capabilities: dict[Id, Capability] = Field(min_length=1)
    assets: dict[Id, Asset] = Field(min_length=1)
    requirements: dict[Id, dict[Id, Requirement]] = Field(
        default_factory=dict, description="Theatre id -> capability id -> requirement."
    )
    replacement_sources: dict[Id, ReplacementSource] = Field(default_factory=dict)
    replacement_rules: dict[Id, ReplacementRule] = Field(default_factory=dict)
    personnel: dict[Id, PersonnelLimit] = Field(
        default_factory=dict, description="Personnel floor and cap by theatre id."
    )
    basing: dict[Id, Basing] = Field(default_factory=dict, description="Basing by theatre id.")
    budget: Budget | None = None
    persistence: Persistence | None = None
    deadline_days: Days | None = Field(
        default=None, description="Scenario deadline: sources with longer lead times are unusable."
    )
    objective: ObjectiveWeights
    solver: SolverOptions = Field(default_factory=SolverOptions)


class Scenario(Strict):
    """A named overlay: any study keys (merged onto the base) plus a description."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)

    description: Text
    extends: list[Id] = Field(
        default_factory=list, description="Scenarios applied first, in order."
    )
    source: SourceNote | None = None


class StudyFile(Study):
    """What a study file may hold: a study plus its scenarios."""

    scenarios: dict[Id, Scenario] = Field(default_factory=dict)
    scenario_files: list[Text] = Field(
        default_factory=list,
        description="Overlay files, relative to this file, each holding a 'scenarios' mapping.",
    )


class ScenarioFile(Strict):
    """A separate overlay file: only scenarios."""

    scenarios: dict[Id, Scenario] = Field(min_length=1)


STUDY_KEYS = frozenset(Study.model_fields)


def schema_json() -> str:
    """The JSON Schema of study files, as ``posture schema`` writes it."""
    import json

    return json.dumps(StudyFile.model_json_schema(), indent=2, sort_keys=True) + "\n"
