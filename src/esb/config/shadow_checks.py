"""Checks of ``shadow:`` blocks across the files, each problem as ``file:line: key: problem``.

A candidate mapping must exist and map what its target needs; a new target in shadow must
name a live target of the same interface; a test endpoint is a system's, never the
gateway's own master data (``kind: xref``). Read from the interfaces as written, like the
other cross-file checks (``esb.config.checks``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from esb.config.checks import GATEWAY_KINDS, direction_problem
from esb.config.refs import InterfaceRefs, TargetRefs
from esb.configfile.validation import problem
from esb.mapping import MappingSet

Loc = tuple[Any, ...]


def _at(problems: list[str], ref: InterfaceRefs, loc: Loc, message: str) -> None:
    if not ref.doc.is_unset(loc):
        problems.append(problem(ref.doc, loc, message))


def _replaces(target: TargetRefs) -> str | None:
    """The live target a new target in shadow names (``shadow.of``), if any."""
    block = target.shadow
    found = block.get("of") if isinstance(block, dict) else None
    return found if isinstance(found, str) else None


def _check_of(
    ref: InterfaceRefs, target: TargetRefs, of: str, targets: Mapping[str, TargetRefs]
) -> list[str]:
    problems: list[str] = []
    loc = ("interfaces", ref.name, "targets", target.name, "shadow", "of")
    if of == target.name:
        text = "a target cannot replace itself: for a candidate mapping of it write mapping:"
        _at(problems, ref, loc, text)
    elif of not in targets:
        known = ", ".join(sorted(t for t in targets if t != target.name)) or "none"
        _at(problems, ref, loc, f"unknown target {of!r} (targets of {ref.name}: {known})")
    elif (chained := _replaces(targets[of])) is not None:
        text = f"{of!r} is itself a new target in shadow (of: {chained}): name the live target"
        _at(problems, ref, loc, text)
    return problems


def _check_candidate(
    ref: InterfaceRefs, target: TargetRefs, name: str, mappings: MappingSet, broken: set[str]
) -> list[str]:
    problems: list[str] = []
    loc = ("interfaces", ref.name, "targets", target.name, "shadow", "mapping")
    if name in broken:
        return problems  # reported in its own file
    if name not in mappings:
        known = ", ".join(mappings.names()) or "none"
        _at(problems, ref, loc, f"unknown mapping {name!r} (in mappings/: {known})")
    elif name == target.mapping:
        _at(problems, ref, loc, f"{name!r} is this target's own mapping: nothing to compare")
    else:
        misfit = direction_problem(name, mappings.get(name), ref.source, target.system)
        if misfit:
            _at(problems, ref, loc, misfit)
    return problems


def check_shadows(
    interfaces: Iterable[InterfaceRefs], mappings: MappingSet, broken: set[str]
) -> list[str]:
    """Every ``shadow:`` names what exists and fits (see the module docstring)."""
    problems: list[str] = []
    for ref in interfaces:
        targets = {t.name: t for t in ref.targets}
        for target in ref.targets:
            block = target.shadow
            if not isinstance(block, dict):
                continue
            of, candidate = block.get("of"), block.get("mapping")
            if isinstance(of, str):
                problems.extend(_check_of(ref, target, of, targets))
            if isinstance(candidate, str):
                problems.extend(_check_candidate(ref, target, candidate, mappings, broken))
            send = block.get("send")
            if isinstance(send, dict) and send.get("kind") in GATEWAY_KINDS:
                loc = ("interfaces", ref.name, "targets", target.name, "shadow", "send", "kind")
                text = f"a test endpoint cannot be the gateway's own data ({send['kind']})"
                _at(problems, ref, loc, text)
    return problems
