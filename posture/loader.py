"""From YAML files to one resolved, validated study.

``load_study`` reads the study file and its overlay files, applies one scenario and
any ``--set`` overrides, validates the result strictly and checks references. Every
problem found is raised together as one :class:`InputError`.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from posture.errors import Diagnostic, InputError, KeyPath, Location, did_you_mean
from posture.overlay import (
    SourceIndex,
    apply_scenarios,
    apply_sets,
    check_scenario_keys,
    scenario_chain,
)
from posture.schema import STUDY_KEYS, Scenario, ScenarioFile, Study, StudyFile
from posture.semantics import check_references
from posture.validation import validate_model
from posture.yamlsafe import YamlDocument, parse_yaml_file

YAML_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class StudyFiles:
    """The parsed study file and its overlay files, before any scenario is chosen."""

    path: Path
    data: dict[str, Any]
    scenarios: dict[str, dict[str, Any]]
    index: SourceIndex
    files: tuple[Path, ...]
    warnings: tuple[Diagnostic, ...]


@dataclass(frozen=True)
class ResolvedStudy:
    """A validated study with one scenario applied, and where every value came from."""

    study: Study
    scenario: str | None
    description: str | None
    data: dict[str, Any]
    index: SourceIndex
    files: tuple[Path, ...]
    overrides: tuple[str, ...]
    input_hash: str
    warnings: tuple[Diagnostic, ...]

    def locate(self, path: KeyPath) -> Location | None:
        """Where the value at ``path`` was written (file, line, column)."""
        return self.index.value(path)


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _overlay_path(study_path: Path, text: str, where: Location | None, key: KeyPath) -> Path:
    """Resolve one ``scenario_files`` entry, refusing anything outside the study's folder."""
    root = study_path.parent.resolve()

    def refuse(why: str) -> InputError:
        return InputError([Diagnostic(f"scenario file {text!r} {why}", where, key)])

    if "\x00" in text or "\\" in text or text.startswith("~") or Path(text).is_absolute():
        raise refuse("must be a plain relative path (no '~', '\\', NUL or leading '/')")
    if not text.endswith(YAML_SUFFIXES):
        raise refuse("must end in .yaml or .yml")
    resolved = (root / text).resolve()
    if not resolved.is_relative_to(root):
        shown = _display(root)
        raise refuse(
            f"escapes the study folder {shown if shown != '.' else '(the current folder)'}"
        )
    if not resolved.is_file():
        raise refuse(f"not found (looked for {resolved})")
    return resolved


def read_study_files(path: Path) -> StudyFiles:
    """Parse the study file and every overlay file it lists; no scenario applied yet."""
    doc = parse_yaml_file(path, display_name=_display(path))
    index = SourceIndex(fallback=Location(doc.source.file, 1, 1))
    index.absorb(doc.source)
    data = doc.data
    warnings = list(doc.warnings)
    errors: list[Diagnostic] = []
    scenarios: dict[str, dict[str, Any]] = {}
    defined_at: dict[str, Location | None] = {}
    raw_scenarios = data.get("scenarios", {})
    if isinstance(raw_scenarios, dict):
        for name, body in raw_scenarios.items():
            scenarios[name] = body
            defined_at[name] = index.key(("scenarios", name))
    files = [path.resolve()]
    raw_files = data.get("scenario_files", [])
    for i, entry in enumerate(raw_files if isinstance(raw_files, list) else []):
        key: KeyPath = ("scenario_files", i)
        if not isinstance(entry, str):
            continue  # the schema reports the type
        try:
            overlay_path = _overlay_path(path, entry, index.value(key), key)
            if overlay_path in files:
                raise InputError(
                    [Diagnostic(f"scenario file {entry!r} is listed twice", index.value(key), key)]
                )
            files.append(overlay_path)
            overlay = _read_overlay(overlay_path)
        except InputError as exc:
            errors.extend(exc.diagnostics)
            continue
        warnings.extend(overlay.warnings)
        for name, body in overlay.data["scenarios"].items():
            where = overlay.source.key(("scenarios", name))
            if name in scenarios:
                errors.append(
                    Diagnostic(
                        f"scenario '{name}' is defined twice (first at {defined_at[name]})",
                        where,
                        ("scenarios", name),
                        hint="rename one of them, or use 'extends' to build on the other",
                    )
                )
                continue
            scenarios[name] = body
            defined_at[name] = where
            index.absorb(overlay.source, ("scenarios", name), ("scenarios", name))
    if errors:
        raise InputError(errors)
    return StudyFiles(path, data, scenarios, index, tuple(files), tuple(warnings))


def _read_overlay(path: Path) -> YamlDocument:
    doc = parse_yaml_file(path, display_name=_display(path))
    index = SourceIndex(fallback=Location(doc.source.file, 1, 1))
    index.absorb(doc.source)
    validate_model(ScenarioFile, _scenario_headers(doc.data), index)
    return doc


def _scenario_headers(data: dict[str, Any]) -> dict[str, Any]:
    """Only each scenario's own keys: its study keys are validated once merged."""
    scenarios = data.get("scenarios")
    if not isinstance(scenarios, dict):
        return data
    heads = {
        name: {k: v for k, v in body.items() if k not in STUDY_KEYS}
        if isinstance(body, dict)
        else body
        for name, body in scenarios.items()
    }
    return {**data, "scenarios": heads}


def resolve(
    files: StudyFiles, scenario: str | None = None, sets: Sequence[str] = ()
) -> ResolvedStudy:
    """Apply one scenario and the overrides, validate strictly, check references."""
    index = SourceIndex(dict(files.index.values), dict(files.index.keys), files.index.fallback)
    validate_model(StudyFile, _scenario_headers(files.data), index)
    errors = check_scenario_keys(files.scenarios, index)
    if errors:
        raise InputError(errors)
    merged = {k: copy.deepcopy(v) for k, v in files.data.items() if k in STUDY_KEYS}
    description = None
    if scenario is not None:
        if scenario not in files.scenarios:
            raise InputError(
                [
                    Diagnostic(
                        f"unknown scenario '{scenario}'",
                        Location("--scenario", 1, 1),  # the argument, not the study, is wrong
                        hint=did_you_mean(scenario, files.scenarios)
                        or "run 'posture scenarios STUDY' to list them",
                    )
                ]
            )
        chain = scenario_chain(scenario, files.scenarios, index)
        apply_scenarios(merged, chain, files.scenarios, index)
        description = Scenario.model_validate(
            {k: v for k, v in files.scenarios[scenario].items() if k not in STUDY_KEYS}
        ).description
    apply_sets(merged, sets, index)
    study = validate_model(Study, merged, index)
    found = check_references(study, index)
    errors = [d for d in found if d.severity == "error"]
    if errors:
        raise InputError(errors)
    digest = hashlib.sha256()
    for f in files.files:
        digest.update(f.read_bytes())
    digest.update(json.dumps([scenario, list(sets)]).encode())
    return ResolvedStudy(
        study=study,
        scenario=scenario,
        description=description,
        data=merged,
        index=index,
        files=files.files,
        overrides=tuple(sets),
        input_hash=digest.hexdigest(),
        warnings=files.warnings + tuple(d for d in found if d.severity == "warning"),
    )


def load_study(path: Path, scenario: str | None = None, sets: Sequence[str] = ()) -> ResolvedStudy:
    """Read, merge and validate a study in one call."""
    return resolve(read_study_files(path), scenario, sets)


def validate_all(path: Path) -> tuple[list[str], tuple[Diagnostic, ...]]:
    """Validate the base study and every scenario; raise all errors found together."""
    files = read_study_files(path)
    errors: list[Diagnostic] = []
    warnings: list[Diagnostic] = list(files.warnings)
    names: list[str | None] = [None, *files.scenarios]
    for name in names:
        try:
            resolved = resolve(files, name)
            warnings.extend(w for w in resolved.warnings if w not in warnings)
        except InputError as exc:
            errors.extend(d for d in exc.diagnostics if d not in errors)
    if errors:
        raise InputError(errors)
    return list(files.scenarios), tuple(warnings)
