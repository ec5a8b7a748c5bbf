"""Render a plugin's options as a Markdown table, straight from its config model.

The README of each connector or source embeds this table and a test checks it is current, so the
documented options cannot drift from the ones the gateway accepts.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from esb.config.types import parse_duration

__all__ = ["options_table"]

Row = tuple[str, str, str]


def _is_duration(field: FieldInfo) -> bool:
    return any(getattr(m, "func", None) is parse_duration for m in field.metadata)


def _show_seconds(seconds: float) -> str:
    if seconds and seconds < 1:
        return f"{seconds * 1000:g}ms"
    return f"{seconds:g}s"


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    value = field.get_default(call_default_factory=True)
    if value is None or value == {} or value == []:
        return "none"
    if isinstance(value, BaseModel):
        return "see below"
    if _is_duration(field):
        return f"`{_show_seconds(value)}`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value}`"


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The config models a field holds (``X``, ``X | None``, a union of ``X``s)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if get_origin(annotation) in (Union, types.UnionType):
        return [m for arg in get_args(annotation) for m in _models_in(arg)]
    return []


def _choices(annotation: Any) -> str:
    literals = [a for a in get_args(annotation) if isinstance(a, str)]
    return " (" + " \\| ".join(f"`{a}`" for a in literals) + ")" if literals else ""


def _rows(model: type[BaseModel], prefix: str = "") -> Iterator[Row]:
    for name, field in model.model_fields.items():
        if name == "kind":
            continue
        key = f"{prefix}{name}"
        nested = _models_in(field.annotation)
        meaning = (field.description or "") + _choices(field.annotation)
        if len(nested) == 1:
            yield f"`{key}`", _default(field), meaning
            yield from _rows(nested[0], f"{key}.")
        else:
            yield f"`{key}`", _default(field), meaning


def options_table(model: type[BaseModel]) -> str:
    """``| option | default | meaning |`` for every field of ``model`` (nested ones dotted)."""
    lines = ["| option | default | meaning |", "|---|---|---|"]
    lines += [f"| {key} | {default} | {meaning} |" for key, default, meaning in _rows(model)]
    return "\n".join(lines) + "\n"
