"""Pydantic validation errors, translated into located analyst-facing messages."""

from __future__ import annotations

import types
import typing
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from posture.errors import Diagnostic, InputError, KeyPath, did_you_mean, format_path
from posture.overlay import SourceIndex

M = TypeVar("M", bound=BaseModel)

_EXPECTED = {
    "float_type": "a number",
    "int_type": "a whole number",
    "bool_type": "true or false",
    "string_type": "text",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a list",
}


def describe(value: Any) -> str:
    """How a YAML value reads to the analyst, for 'expected X, got Y' messages."""
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the string {shown!r}"
    if isinstance(value, int):
        return f"the whole number {value}"
    if isinstance(value, float):
        return f"the number {value!r}"
    if value is None:
        return "nothing (null)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _unwrap(annotation: Any) -> Any:
    """Strip Annotated and Optional so the container or model type shows."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = args[0] if len(args) == 1 else annotation
            if len(args) != 1:
                return annotation
        else:
            return annotation


def model_at(root: type[BaseModel], path: KeyPath) -> type[BaseModel] | None:
    """The schema model that owns the mapping at ``path``, if the path leads to one."""
    current: Any = root
    for part in path:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return None
            current = field.annotation
        elif typing.get_origin(current) in (dict, list):
            current = typing.get_args(current)[-1]
        else:
            return None
    current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _constraints_at(root: type[BaseModel], path: KeyPath) -> list[Any]:
    """The annotated-types constraints (Ge, Le, ...) declared for the value at ``path``."""
    current: Any = root
    metadata: list[Any] = []
    for part in path:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return []
            current, metadata = field.annotation, list(field.metadata)
        elif typing.get_origin(current) in (dict, list):
            current = typing.get_args(current)[-1]
            metadata = []
            if typing.get_origin(current) is typing.Annotated:
                for extra in typing.get_args(current)[1:]:
                    metadata.extend(getattr(extra, "metadata", [extra]))
        else:
            return []
    return metadata


def _allowed_range(root: type[BaseModel], path: KeyPath) -> str | None:
    """'allowed: 0 to 1000000' from the schema's declared bounds, if any."""
    low = high = None
    for item in _constraints_at(root, path):
        low = getattr(item, "ge", getattr(item, "gt", low))
        high = getattr(item, "le", getattr(item, "lt", high))
    if low is None and high is None:
        return None
    return f"allowed: {_num(low) if low is not None else ''} to {_num(high) if high is not None else ''}"


def _num(x: Any) -> str:
    """1000000.0 -> '1,000,000'; 0.5 -> '0.5'; 1e15 -> '1e+15'."""
    return f"{x:,.10g}" if isinstance(x, int | float) and not isinstance(x, bool) else str(x)


def _message(error: Any, root: type[BaseModel]) -> tuple[str, str | None]:
    kind, value, ctx = error["type"], error.get("input"), error.get("ctx") or {}
    path = tuple(p for p in error["loc"] if p != "[key]")
    if kind == "missing":
        return "required key is missing", None
    if kind == "extra_forbidden":
        owner = model_at(root, path[:-1])
        names = owner.model_fields if owner else {}
        return "unknown key", did_you_mean(str(path[-1]), names) or (
            f"allowed keys: {', '.join(sorted(names))}" if names else None
        )
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, got {describe(value)}", None
    if kind == "finite_number":
        return f"must be a finite number (got {value})", None
    bounds = {
        "greater_than_equal": ("at least", "ge"),
        "greater_than": ("greater than", "gt"),
        "less_than_equal": ("at most", "le"),
        "less_than": ("less than", "lt"),
    }
    if kind in bounds:
        words, key = bounds[kind]
        return (
            f"must be {words} {_num(ctx.get(key))} (got {_num(value)})",
            _allowed_range(root, path),
        )
    if kind == "literal_error":
        expected = str(ctx.get("expected", ""))
        choices = [c.strip(" '") for c in expected.replace(" or ", ",").split(",")]
        return f"expected one of {expected}, got {describe(value)}", did_you_mean(
            str(value), choices
        )
    if kind == "string_pattern_mismatch":
        return (
            f"{value!r} is not a valid id",
            "start with a letter; use letters, digits, '_' or '-' (64 at most)",
        )
    if kind in ("too_short", "string_too_short"):
        return "must not be empty" if kind == "too_short" else "text is too short", None
    if kind == "string_too_long":
        return "text is too long", None
    return str(error["msg"]), None


def _order(d: Diagnostic) -> tuple[str, int, int, str]:
    loc = d.location
    return (loc.file, loc.line, loc.column, format_path(d.path)) if loc else ("", 0, 0, "")


def validate_model(model: type[M], data: Any, index: SourceIndex) -> M:
    """Validate ``data`` against ``model``; on failure raise every problem, located."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        diagnostics = []
        for error in exc.errors():
            loc = error["loc"]
            path: KeyPath = tuple(p for p in loc if p != "[key]")
            message, hint = _message(error, model)
            if error["type"] == "missing":
                where = index.value(path[:-1])
            elif error["type"] == "extra_forbidden" or "[key]" in loc:
                where = index.key(path)
            else:
                where = index.value(path)
            diagnostics.append(Diagnostic(message, where, path, hint=hint))
        diagnostics.sort(key=_order)
        raise InputError(diagnostics) from None
