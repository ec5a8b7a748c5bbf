"""Validate one YAML document against its model: each error as ``file:line: key: plain words``.

Validation runs even when a ``${VAR}`` of the file is unset, so one missing variable
does not hide the file's other problems; errors at the keys whose value is missing
are dropped (the unset variable is the problem there, already reported).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from esb.config.wording import closest, plain_message, quoted, unknown_tag
from esb.config.yamlfile import Loc, YamlDocument, format_loc
from esb.connectors.inbound import INBOUND_GROUP
from esb.connectors.registry import ENTRY_POINT_GROUP

M = TypeVar("M", bound=BaseModel)
Locate = Callable[[Any, Loc], Loc]

#: Where a plugin's kind is written -> (what it is, the entry-point group that provides it).
PLUGIN_KINDS = {"connector": ("connector", ENTRY_POINT_GROUP), "inbound": ("source", INBOUND_GROUP)}


def file_loc(data: Any, loc: tuple[Any, ...]) -> Loc:
    """Pydantic's error path as it reads in the file: steps it inserts (union tags such
    as ``rest``, validator names) are dropped; a missing key at the end is kept."""
    out: list[Any] = []
    for n, part in enumerate(loc):
        if (isinstance(data, dict) and part in data) or (
            isinstance(data, list) and isinstance(part, int) and part < len(data)
        ):
            data = data[part]
        elif n < len(loc) - 1:
            continue
        out.append(part)
    return tuple(out)


def _plugin(loc: Loc) -> tuple[str, str] | None:
    """(what, entry-point group) when ``loc`` is a connector's or inbound source's place."""
    if loc and loc[-1] == "connector":
        return PLUGIN_KINDS["connector"]
    if len(loc) >= 2 and loc[-2] == "inbound" and isinstance(loc[-1], int):
        return PLUGIN_KINDS["inbound"]
    return None


def kind_message(error: ErrorDetails, loc: Loc) -> str | None:
    """An unknown connector or source kind: the closest installed one, or how to install it."""
    plugin = _plugin(loc)
    if plugin is None or error["type"] != "union_tag_invalid":
        return None
    what, group = plugin
    _, tag, known = unknown_tag(error)
    installed = f"installed: {quoted(known)}"
    guess = closest(tag, known)
    if guess:
        return f"unknown {what} kind {tag!r}: did you mean {guess!r}? ({installed})"
    return (
        f"unknown {what} kind {tag!r} ({installed}): no installed package provides it; "
        f"install the package that registers {tag!r} in the entry-point group {group} "
        "into the environment esb runs in (pip install ...)"
    )


def problem(doc: YamlDocument, loc: Loc, message: str) -> str:
    return f"{doc.where(loc)}: {format_loc(loc) or '(file)'}: {message}"


def validate(doc: YamlDocument, model: type[M], locate: Locate = file_loc) -> M | None:
    """The model of ``doc``, or None with every problem added to ``doc.problems``."""
    if doc.data is None:
        if not doc.problems:
            doc.problems.append(f"{doc.path}:1: the file is empty")
        return None
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            loc = locate(doc.data, tuple(error["loc"]))
            if error["type"] == "union_tag_invalid":
                loc = (*loc, "kind")
                message = kind_message(error, loc[:-1]) or plain_message(error, model)
            else:
                message = plain_message(error, model)
            if not doc.is_unset(loc):
                doc.problems.append(problem(doc, loc, message))
        return None
