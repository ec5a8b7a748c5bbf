"""The API's other inputs - query parameters, operator text, operator documents - checked
against what the store and the pipeline can hold, refused with 422 naming the field.

Message bodies go through ``esb.ingress``; everything else a caller can type comes here,
so that no value reaches the database only to fail there (a 503 that invites retries).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, TypeVar
from urllib.parse import parse_qsl

import pydantic
from pydantic import AfterValidator
from starlette.types import ASGIApp, Receive, Scope, Send

from esb.api.responses import JsonResponse
from esb.config.types import parse_duration
from esb.errors import FieldProblem, ValidationFailed
from esb.ingress import parse_json
from esb.limits import MAX_WINDOW_DAYS, NUL_PROBLEM, check_document, text_problem
from esb.store.engine import utcnow


def _storable(value: str) -> str:
    problem = text_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


#: A text field of a request body that is kept in the database (reasons, names, codes).
StoredText = Annotated[str, AfterValidator(_storable)]


def _capped(name: str, seconds: float) -> float:
    if seconds > MAX_WINDOW_DAYS * 86400:
        raise ValidationFailed([FieldProblem(name, f"at most {MAX_WINDOW_DAYS}d")])
    return seconds


def window(name: str, value: str) -> float:
    """A duration such as ``15m`` or ``7d`` given as query parameter ``name``, in seconds."""
    try:
        return _capped(name, parse_duration(value))
    except ValueError as exc:
        raise ValidationFailed([FieldProblem(name, str(exc))]) from None


def since(value: str | None, name: str = "since") -> datetime | None:
    """An ISO time with its zone, or a duration back from now (``15m``, ``2h``, ``1d``)."""
    if value is None:
        return None
    try:
        seconds = parse_duration(value)
    except ValueError:
        return _iso_time(name, value)
    return utcnow() - timedelta(seconds=_capped(name, seconds))


def _iso_time(name: str, value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValidationFailed([FieldProblem(name, "give a time zone, e.g. 2026-11-24T08:00Z")])
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValidationFailed(
            [FieldProblem(name, "an ISO 8601 time with its zone, or e.g. 15m, 2h, 7d")]
        ) from None


def problems(exc: pydantic.ValidationError) -> list[FieldProblem]:
    """pydantic's errors as field problems, in our words (no "Value error, ...")."""
    found = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(part) for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        found.append(FieldProblem(where, message))
    return found


M = TypeVar("M", bound=pydantic.BaseModel)


def operator_document(raw: bytes, model: type[M]) -> M:
    """A JSON request body read as strictly as a message body (no NaN, no lone surrogates,
    numbers within 64 bits, bounded nesting, no NUL), then validated by ``model``."""
    document: Any = parse_json(raw)
    check_document(document)
    try:
        return model.model_validate(document)
    except pydantic.ValidationError as exc:
        raise ValidationFailed(problems(exc)) from None


def _nul_parameter(scope: Scope) -> str | None:
    """The name of the first query parameter holding a NUL, if any (path parameters are
    each checked by their route, which knows their names)."""
    query: bytes = scope.get("query_string", b"")
    if b"%00" not in query and b"\x00" not in query:
        return None
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            return name.replace("\x00", "\\u0000")
    return "query"


class RefuseNulInUrl:
    """A NUL in a query parameter can never be stored or matched: 422 before any route
    runs (a database would refuse it later and look unavailable)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (name := _nul_parameter(scope)) is not None:
            error = {"code": "validation_failed", "message": f"{name}: {NUL_PROBLEM}"}
            response = JsonResponse({"error": {**error, "field": name}}, status_code=422)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
