"""Cross-reference and cross-field checks on a schema-valid study.

The schema checks each value alone; this module checks that names point at things
that exist (with a 'did you mean' for typos) and that related numbers agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from posture.errors import Diagnostic, KeyPath, did_you_mean, format_path
from posture.overlay import SourceIndex
from posture.schema import Study


class _Checker:
    def __init__(self, study: Study, index: SourceIndex) -> None:
        self.study = study
        self.index = index
        self.found: list[Diagnostic] = []

    def error(
        self, message: str, path: KeyPath, *, key: bool = False, hint: str | None = None
    ) -> None:
        where = self.index.key(path) if key else self.index.value(path)
        self.found.append(Diagnostic(message, where, path, hint=hint))

    def warn(self, message: str, path: KeyPath, hint: str | None = None) -> None:
        self.found.append(
            Diagnostic(message, self.index.value(path), path, severity="warning", hint=hint)
        )

    def keys_in(
        self, mapping: Mapping[str, object], known: Iterable[str], what: str, path: KeyPath
    ) -> None:
        """Each key of ``mapping`` must name a known ``what``."""
        names = list(known)
        for name in mapping:
            if name not in names:
                self.error(
                    f"unknown {what} '{name}'",
                    (*path, name),
                    key=True,
                    hint=did_you_mean(name, names),
                )

    def items_in(self, items: list[str], known: Iterable[str], what: str, path: KeyPath) -> None:
        """Each list item must name a known ``what``, once."""
        names = list(known)
        seen: dict[str, int] = {}
        for i, name in enumerate(items):
            if name not in names:
                self.error(f"unknown {what} '{name}'", (*path, i), hint=did_you_mean(name, names))
            elif name in seen:
                self.error(f"{what} '{name}' listed twice (first at item {seen[name]})", (*path, i))
            seen.setdefault(name, i)


COEFFICIENT_RANGE_LIMIT = 1e6


def _check_coefficient_ranges(c: _Checker, study: Study) -> None:
    """Warn where one row's coefficients span more than 1e6 (RELIABILITY #29).

    Each capability is one coverage row per theatre, so its contributions (from
    assets and replacement sources) share a row; so do personnel per unit.
    """
    rows: dict[str, list[tuple[float, KeyPath]]] = {}
    for a, asset in study.assets.items():
        for cap, k in asset.contributes.items():
            rows.setdefault(f"capability '{cap}'", []).append(
                (k, ("assets", a, "contributes", cap))
            )
        rows.setdefault("personnel", []).append(
            (asset.personnel_per_unit, ("assets", a, "personnel_per_unit"))
        )
    for s, src in study.replacement_sources.items():
        for cap, k in src.contributes.items():
            rows.setdefault(f"capability '{cap}'", []).append(
                (k, ("replacement_sources", s, "contributes", cap))
            )
    for row, entries in rows.items():
        nonzero = [(abs(k), path) for k, path in entries if k]
        if len(nonzero) < 2:
            continue
        (low, low_path), (high, high_path) = min(nonzero), max(nonzero)
        if high / low > COEFFICIENT_RANGE_LIMIT:
            c.warn(
                f"{row} coefficients span {high / low:.1e} ({low:g} here, {high:g} at "
                f"{format_path(high_path)}); ranges over 1e6 in one constraint make solver "
                "tolerances unreliable",
                low_path,
                hint="rescale the capability unit, or drop negligible contributions",
            )


def check_references(study: Study, index: SourceIndex) -> list[Diagnostic]:
    """Every dangling reference and cross-field mistake in ``study``, located."""
    c = _Checker(study, index)
    theatres, origins, capabilities = study.theatres, study.origins, study.capabilities
    basing_kinds = {k for b in study.basing.values() for k in b.capacity}

    for name, origin in study.origins.items():
        if origin.theatre is not None and origin.theatre not in theatres:
            c.error(
                f"unknown theatre '{origin.theatre}'",
                ("origins", name, "theatre"),
                hint=did_you_mean(origin.theatre, theatres),
            )

    for name, asset in study.assets.items():
        path: KeyPath = ("assets", name)
        c.keys_in(asset.inventory, origins, "origin", (*path, "inventory"))
        c.keys_in(asset.contributes, capabilities, "capability", (*path, "contributes"))
        c.keys_in(asset.effectiveness, theatres, "theatre", (*path, "effectiveness"))
        c.keys_in(asset.locked, origins, "origin", (*path, "locked"))
        c.keys_in(asset.route_cost_musd, origins, "origin", (*path, "route_cost_musd"))
        for origin_name, routes in asset.route_cost_musd.items():
            c.keys_in(routes, theatres, "theatre", (*path, "route_cost_musd", origin_name))
        if asset.destinations is not None:
            c.items_in(asset.destinations, theatres, "theatre", (*path, "destinations"))
        for origin_name, units in asset.locked.items():
            held = asset.inventory.get(origin_name, 0)
            if units > held:
                c.error(
                    f"{units} units locked but only {held} held at '{origin_name}'",
                    (*path, "locked", origin_name),
                )
        for kind in asset.basing:
            if kind not in basing_kinds:
                c.warn(
                    f"basing kind '{kind}' has no capacity in any theatre, so it is never limited",
                    (*path, "basing", kind),
                    hint=did_you_mean(kind, basing_kinds),
                )

    for theatre, reqs in study.requirements.items():
        if theatre not in theatres:
            c.error(
                f"unknown theatre '{theatre}'",
                ("requirements", theatre),
                key=True,
                hint=did_you_mean(theatre, theatres),
            )
        c.keys_in(reqs, capabilities, "capability", ("requirements", theatre))
        for cap, req in reqs.items():
            if 0 < req.target < req.floor:
                c.error(
                    f"target {req.target:g} is below the floor {req.floor:g}",
                    ("requirements", theatre, cap, "target"),
                    hint="raise the target to at least the floor, or set it to 0 for none",
                )

    for name, source in study.replacement_sources.items():
        path = ("replacement_sources", name)
        c.items_in(source.theatres, theatres, "theatre", (*path, "theatres"))
        c.keys_in(source.contributes, capabilities, "capability", (*path, "contributes"))

    for name, rule in study.replacement_rules.items():
        path = ("replacement_rules", name)
        if rule.theatre not in theatres:
            c.error(
                f"unknown theatre '{rule.theatre}'",
                (*path, "theatre"),
                hint=did_you_mean(rule.theatre, theatres),
            )
        c.items_in(rule.capabilities, capabilities, "capability", (*path, "capabilities"))

    c.keys_in(study.personnel, theatres, "theatre", ("personnel",))
    for theatre, limit in study.personnel.items():
        if limit.floor is not None and limit.cap is not None and limit.floor > limit.cap:
            c.error(
                f"floor {limit.floor} is above the cap {limit.cap}", ("personnel", theatre, "floor")
            )
    c.keys_in(study.basing, theatres, "theatre", ("basing",))

    _check_coefficient_ranges(c, study)

    weights = study.objective
    if weights.shortfall == weights.cost == weights.turbulence == 0:
        c.error(
            "all objective weights are 0, so every feasible posture ties",
            ("objective",),
            hint="give shortfall a positive weight",
        )
    return c.found
