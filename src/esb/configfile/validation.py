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

from esb.configfile.wording import plain_message
from esb.configfile.yamlfile import Loc, YamlDocument, format_loc

M = TypeVar("M", bound=BaseModel)
Locate = Callable[[Any, Loc], Loc]
#: A file kind's own words for an error at a place (None: the plain message).
Explain = Callable[[ErrorDetails, Loc], str | None]


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


def problem(doc: YamlDocument, loc: Loc, message: str) -> str:
    return f"{doc.where(loc)}: {format_loc(loc) or '(file)'}: {message}"


def _no_words(error: ErrorDetails, loc: Loc) -> str | None:
    return None


def validate(
    doc: YamlDocument, model: type[M], locate: Locate = file_loc, explain: Explain = _no_words
) -> M | None:
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
                message = explain(error, loc[:-1]) or plain_message(error, model)
            else:
                message = plain_message(error, model)
            if not doc.is_unset(loc):
                doc.problems.append(problem(doc, loc, message))
        return None
