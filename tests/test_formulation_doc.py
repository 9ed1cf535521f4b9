"""The written formulation and the built model name the same components."""

from __future__ import annotations

import re

import pyomo.environ as pyo
from helpers import FIXTURES, ROOT

import posture
from posture.data import build_model_data
from posture.model import build_model

DOC = ROOT / "models" / "formulation.md"
KINDS = {
    "Set": pyo.Set,
    "Param": pyo.Param,
    "Variable": pyo.Var,
    "Expression": pyo.Expression,
    "Constraint": pyo.Constraint,
    "Objective": pyo.Objective,
}


def documented() -> dict[str, set[str]]:
    """Component names by kind, from the document's '### Kind `name`' headings."""
    found: dict[str, set[str]] = {kind: set() for kind in KINDS}
    for kind, name in re.findall(r"^### (\w+) `(\w+)`", DOC.read_text(), flags=re.M):
        assert kind in KINDS, f"unknown heading kind {kind!r} in formulation.md"
        found[kind].add(name)
    return found


def built(elastic: bool, supply: bool = False) -> dict[str, set[str]]:
    study = posture.load(
        FIXTURES / "tiny.yaml",
        sets=[
            "budget={limit_musd: 100.0, source: test}",
            "persistence={max_turbulence: 50.0, source: test}",
        ],
    )
    model = build_model(build_model_data(study.study), elastic=elastic, supply=supply)
    names: dict[str, set[str]] = {kind: set() for kind in KINDS}
    for kind, ctype in KINDS.items():
        for component in model.component_objects(ctype, descend_into=True):
            if ctype is pyo.Set and component.parent_component() is not component:
                continue
            names[kind].add(component.name)
    # Pyomo adds helper sets for multi-dimensional indexes; they are not formulation sets.
    names["Set"] = {n for n in names["Set"] if n.isupper()}
    return names


def test_every_documented_component_is_built_and_every_built_one_documented() -> None:
    doc = documented()
    assert "coverage_floor" in doc["Constraint"] and "place" in doc["Variable"]
    plain, elastic, supply = built(False), built(True), built(False, supply=True)
    for kind in KINDS:
        both = plain[kind] | elastic[kind] | supply[kind]
        assert doc[kind] == both, (
            f"{kind}: only in doc {doc[kind] - both}, only in code {both - doc[kind]}"
        )


def test_elastic_components_only_in_elastic_model() -> None:
    plain = built(False)
    assert not any(n.endswith("_violation") for n in plain["Variable"])
    assert "total_violation" not in plain["Objective"]
    assert "total" not in built(True)["Objective"]


TRADEOFFS = ROOT / "models" / "tradeoffs.md"
# A row or column name given to HiGHS by the trade-off code: "family[" + index + "]".
NAMED = re.compile(r'"([a-z_]+)\["')


def test_tradeoff_families_documented_and_built_once() -> None:
    """Every row/column family in models/tradeoffs.md is named in exactly one place in
    the code, and every family the code names is documented there."""
    documented = {
        name
        for kind, name in re.findall(r"^### (\w+) `(\w+)`", TRADEOFFS.read_text(), flags=re.M)
        if kind in ("Constraint", "Variable")
    }
    built: dict[str, int] = {}
    for path in (ROOT / "posture").glob("*.py"):
        for name in NAMED.findall(path.read_text()):
            built[name] = built.get(name, 0) + 1
    assert "epsilon_constraint" in documented
    assert documented == set(built), (documented - set(built), set(built) - documented)
    assert all(count == 1 for count in built.values()), built
