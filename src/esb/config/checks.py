"""Checks across files, and compiling what the files reference, each problem as file:line.

They read every interface as written (``InterfaceRefs``), valid or not, and say nothing
about a reference to a file that has problems of its own (those are reported there):
one run of ``esb check`` shows every problem once.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Any

import orjson

from esb.config.gateway import Route
from esb.config.refs import InterfaceRefs
from esb.configfile.validation import problem
from esb.mapping import (
    CompiledMapping,
    Expression,
    ExpressionError,
    InputSchemaError,
    InputValidator,
    MappingSet,
    compile_expression,
    compile_input_schema,
)

Interfaces = Iterable[InterfaceRefs]
#: Connectors that write the gateway's own data (no system of systems.yaml is called).
GATEWAY_KINDS = frozenset({"xref"})


def _at(problems: list[str], ref: InterfaceRefs, loc: tuple[Any, ...], message: str) -> None:
    """Add a problem, unless the value there names an unset ${VAR} (reported already)."""
    if not ref.doc.is_unset(loc):
        problems.append(problem(ref.doc, loc, message))


def check_systems(systems: Collection[str] | None, interfaces: Interfaces) -> list[str]:
    """Every system named exists; a source sends each message type through one interface.
    ``systems`` is None when systems.yaml could not be read: nothing is called unknown."""
    problems: list[str] = []
    seen: dict[tuple[str, str], str] = {}
    known = ", ".join(sorted(systems or ())) or "none"
    for ref in interfaces:
        loc = ("interfaces", ref.name)
        if systems is not None and ref.source is not None and ref.source not in systems:
            _at(problems, ref, (*loc, "source"), f"unknown system {ref.source!r} (known: {known})")
        if ref.source is not None and ref.message_type is not None:
            pair = (ref.source, ref.message_type)
            if pair in seen:
                text = f"{pair[0]} already sends {pair[1]!r} through interface {seen[pair]!r}"
                _at(problems, ref, loc, text)
            seen[pair] = ref.name
        for target in ref.targets:
            if target.kind in GATEWAY_KINDS and target.system == target.name:
                continue  # the gateway's own data: no system is called
            if systems is not None and target.system not in systems:
                where = (*loc, "targets", target.name)
                _at(problems, ref, where, f"unknown system {target.system!r} (known: {known})")
    return problems


def check_ordering(interfaces: Interfaces) -> list[str]:
    """``ordering: key`` needs the interface's business key; ``supersede`` needs ordering."""
    problems: list[str] = []
    for ref in interfaces:
        for target in ref.targets:
            loc = ("interfaces", ref.name, "targets", target.name)
            if target.ordering == "key" and ref.key is None:
                text = (
                    "ordering: key needs the interface's key: (the business key whose "
                    f"documents {target.name} must receive in order); add e.g. key: OrderNo"
                )
                _at(problems, ref, (*loc, "ordering"), text)
            if target.supersede is True and target.ordering in (None, "none"):
                text = (
                    "supersede: true only applies with ordering: key (a later document can "
                    "only replace one that waits behind its key); add ordering: key"
                )
                _at(problems, ref, (*loc, "supersede"), text)
    return problems


def check_mappings(interfaces: Interfaces, mappings: MappingSet, broken: set[str]) -> list[str]:
    """A target's mapping exists and maps from the interface's source to the target system.
    A mapping in ``broken`` exists but has problems of its own: not reported here again."""
    problems: list[str] = []
    for ref in interfaces:
        for target in ref.targets:
            name = target.mapping
            if name is None or name in broken:
                continue
            loc = ("interfaces", ref.name, "targets", target.name, "mapping")
            if name not in mappings:
                known = ", ".join(mappings.names()) or "none"
                _at(problems, ref, loc, f"unknown mapping {name!r} (in mappings/: {known})")
                continue
            misfit = direction_problem(name, mappings.get(name), ref.source, target.system)
            if misfit:
                _at(problems, ref, loc, misfit)
    return problems


def direction_problem(
    name: str, mapping: CompiledMapping, source: str | None, system: str
) -> str | None:
    """Why mapping ``name`` does not fit a target of ``system`` fed by ``source``; None when
    it fits (or the interface has no source to compare)."""
    if source is None or (mapping.source_system, mapping.target_system) == (source, system):
        return None
    return (
        f"mapping {name!r} maps {mapping.source_system} -> {mapping.target_system}, "
        f"this target needs {source} -> {system}"
    )


def compile_expressions(
    interfaces: Interfaces, problems: list[str]
) -> tuple[dict[str, Expression], dict[Route, Expression]]:
    """Business keys and routing conditions, compiled once; bad ones become problems."""
    keys: dict[str, Expression] = {}
    conditions: dict[Route, Expression] = {}
    for ref in interfaces:
        if ref.key is not None:
            try:
                keys[ref.name] = compile_expression(ref.key)
            except ExpressionError as exc:
                _at(problems, ref, ("interfaces", ref.name, "key"), str(exc))
        for target in ref.targets:
            if target.when is None:
                continue
            try:
                conditions[(ref.name, target.name)] = compile_expression(target.when)
            except ExpressionError as exc:
                where = ("interfaces", ref.name, "targets", target.name, "when")
                _at(problems, ref, where, str(exc))
    return keys, conditions


def compile_schemas(
    folder: Path, interfaces: Interfaces, problems: list[str]
) -> dict[str, InputValidator]:
    """Each interface's input JSON Schema file, read and compiled once."""
    validators = {}
    for ref in interfaces:
        if ref.schema is None:
            continue
        loc = ("interfaces", ref.name, "schema")
        path = folder / ref.schema
        try:
            validators[ref.name] = compile_input_schema(orjson.loads(path.read_bytes()))
        except OSError as exc:
            _at(problems, ref, loc, f"cannot read {path}: {exc.strerror}")
        except orjson.JSONDecodeError as exc:
            _at(problems, ref, loc, f"{path} is not JSON: {exc}")
        except InputSchemaError as exc:
            _at(problems, ref, loc, f"{path}: {exc}")
    return validators
