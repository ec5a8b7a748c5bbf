"""Reading one answer of a list API: its items, its next page, its cursor, and the
instants items were changed at. Everything here is pure; a wrong shape is a
``BadAnswer`` naming what was expected where."""

from __future__ import annotations

import hashlib
from datetime import datetime, tzinfo
from typing import Any

from esb.sdk import MAX_SHOWN, PluginError, dumps, shorten

__all__ = ["BadAnswer", "at_path", "content_digest", "instant", "items_of", "next_of"]

_MISSING = object()


class BadAnswer(PluginError):
    """The API answered something that is not what its configuration says it answers."""


def at_path(document: Any, path: str) -> Any:
    """The value at a dotted ``path`` (``data.list``); ``_MISSING`` when it is not there."""
    found = document
    for part in path.split("."):
        if not isinstance(found, dict) or part not in found:
            return _MISSING
        found = found[part]
    return found


def missing(value: Any) -> bool:
    return value is _MISSING


def items_of(answer: Any, path: str | None, page: str) -> list[dict[str, Any]]:
    """The items of one answer; every item must be a JSON object."""
    found = answer if path is None else at_path(answer, path)
    where = "the answer" if path is None else f"`{path}`"
    if missing(found) or not isinstance(found, list):
        kind = "nothing" if missing(found) else type(found).__name__
        raise BadAnswer(f"{page}: {where} should be a list of items, found {kind}")
    for number, item in enumerate(found):
        if not isinstance(item, dict):
            raise BadAnswer(
                f"{page}: item {number} of {where} should be an object, found {type(item).__name__}"
            )
    return found


def next_of(answer: Any, path: str, page: str) -> str | None:
    """The next page as text (a number, token or URL); None: this was the last page."""
    found = at_path(answer, path)
    if missing(found) or found is None or found == "" or found is False:
        return None
    if isinstance(found, bool) or not isinstance(found, str | int):
        raise BadAnswer(
            f"{page}: `{path}` should be a page number, token or URL, found {type(found).__name__}"
        )
    return str(found)


def instant(value: Any, zone: tzinfo) -> datetime | None:
    """An ISO 8601 time as an aware instant (read in ``zone`` when written without an
    offset); None when ``value`` is no such time."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def content_digest(item: Any) -> str:
    """A digest of an item's content (key order free): its identity when it names none."""
    return hashlib.sha256(dumps(_sorted(item))).hexdigest()


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def excerpt(body: bytes) -> str:
    """The start of an answer for a message (never the whole of a large one)."""
    return shorten(body[: MAX_SHOWN * 4].decode("utf-8", "replace"))
