"""Checks across files, and compiling what the files reference, each problem as file:line."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from esb.config.gateway import Route
from esb.config.models import InterfaceBase, SystemConfig
from esb.config.yamlfile import YamlDocument, format_loc
from esb.mapping import (
    Expression,
    ExpressionError,
    InputSchemaError,
    InputValidator,
    MappingSet,
    compile_expression,
    compile_input_schema,
)

Interfaces = Mapping[str, tuple[YamlDocument, InterfaceBase]]


def _at(doc: YamlDocument, loc: tuple[Any, ...], message: str) -> str:
    return f"{doc.where(loc)}: {format_loc(loc)}: {message}"


def check_systems(systems: Mapping[str, SystemConfig], interfaces: Interfaces) -> list[str]:
    """Every system named exists; a source sends each message type through one interface."""
    problems = []
    seen: dict[tuple[str, str], str] = {}
    for name, (doc, interface) in interfaces.items():
        loc = ("interfaces", name)
        if interface.source not in systems:
            problems.append(_at(doc, (*loc, "source"), f"unknown system {interface.source!r}"))
        pair = (interface.source, interface.message_type)
        if pair in seen:
            problems.append(
                _at(
                    doc,
                    loc,
                    f"{interface.source} already sends "
                    f"{interface.message_type!r} through interface {seen[pair]!r}",
                )
            )
        seen[pair] = name
        for target in interface.targets:
            if (system := interface.target_system(target)) not in systems:
                problems.append(_at(doc, (*loc, "targets", target), f"unknown system {system!r}"))
    return problems


def check_mappings(interfaces: Interfaces, mappings: MappingSet) -> list[str]:
    """A target's mapping exists and maps from the interface's source to the target system."""
    problems = []
    for name, (doc, interface) in interfaces.items():
        for target, spec in interface.targets.items():
            if spec.mapping is None:
                continue
            loc = ("interfaces", name, "targets", target, "mapping")
            if spec.mapping not in mappings:
                known = ", ".join(mappings.names()) or "none"
                problems.append(
                    _at(doc, loc, f"unknown mapping {spec.mapping!r} (in mappings/: {known})")
                )
                continue
            mapping = mappings.get(spec.mapping)
            wanted = (interface.source, interface.target_system(target))
            if (mapping.source_system, mapping.target_system) != wanted:
                problems.append(
                    _at(
                        doc,
                        loc,
                        f"mapping {spec.mapping!r} maps "
                        f"{mapping.source_system} -> {mapping.target_system}, this "
                        f"target needs {wanted[0]} -> {wanted[1]}",
                    )
                )
    return problems


def compile_expressions(
    interfaces: Interfaces, problems: list[str]
) -> tuple[dict[str, Expression], dict[Route, Expression]]:
    """Business keys and routing conditions, compiled once; bad ones become problems."""
    keys: dict[str, Expression] = {}
    conditions: dict[Route, Expression] = {}
    for name, (doc, interface) in interfaces.items():
        if interface.key is not None:
            try:
                keys[name] = compile_expression(interface.key)
            except ExpressionError as exc:
                problems.append(_at(doc, ("interfaces", name, "key"), str(exc)))
        for target, spec in interface.targets.items():
            if spec.when is None:
                continue
            try:
                conditions[(name, target)] = compile_expression(spec.when)
            except ExpressionError as exc:
                problems.append(_at(doc, ("interfaces", name, "targets", target, "when"), str(exc)))
    return keys, conditions


def compile_schemas(
    folder: Path, interfaces: Interfaces, problems: list[str]
) -> dict[str, InputValidator]:
    """Each interface's input JSON Schema file, read and compiled once."""
    validators = {}
    for name, (doc, interface) in interfaces.items():
        if interface.input_schema is None:
            continue
        loc = ("interfaces", name, "schema")
        path = folder / interface.input_schema
        try:
            validators[name] = compile_input_schema(orjson.loads(path.read_bytes()))
        except OSError as exc:
            problems.append(_at(doc, loc, f"cannot read {path}: {exc.strerror}"))
        except orjson.JSONDecodeError as exc:
            problems.append(_at(doc, loc, f"{path} is not JSON: {exc}"))
        except InputSchemaError as exc:
            problems.append(_at(doc, loc, f"{path}: {exc}"))
    return validators
