"""Validate the gateway's own files: as ``esb.configfile.validation``, and an unknown
connector or source kind names the closest installed one, or how to install it."""

from __future__ import annotations

from pydantic_core import ErrorDetails

from esb.configfile.validation import M, file_loc
from esb.configfile.validation import validate as validate_file
from esb.configfile.wording import closest, quoted, unknown_tag
from esb.configfile.yamlfile import Loc, YamlDocument
from esb.connectors.inbound import INBOUND_GROUP
from esb.connectors.registry import ENTRY_POINT_GROUP

#: Where a plugin's kind is written -> (what it is, the entry-point group that provides it).
PLUGIN_KINDS = {"connector": ("connector", ENTRY_POINT_GROUP), "inbound": ("source", INBOUND_GROUP)}


def _plugin(loc: Loc) -> tuple[str, str] | None:
    """(what, entry-point group) when ``loc`` is a connector's or inbound source's place."""
    if loc and (loc[-1] == "connector" or loc[-2:] == ("shadow", "send")):
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


def validate(doc: YamlDocument, model: type[M]) -> M | None:
    """The model of ``doc``, or None with every problem added to ``doc.problems``."""
    return validate_file(doc, model, file_loc, kind_message)
