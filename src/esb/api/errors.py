"""Every refusal leaves as ``{"error": {"code", "message", "field"?}}`` with its own status.

The edge between the error tree and HTTP: a door refusal carries its own status; the
domain's errors (the store's, the broker's) get theirs here.
"""

from __future__ import annotations

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from esb.api.responses import JsonResponse
from esb.errors import (
    BrokerUnavailable,
    Conflict,
    NotFound,
    QueryError,
    RequestError,
    StoreRefused,
    StoreUnavailable,
)

log = structlog.get_logger(__name__)


def error_response(status: int, code: str, message: str, **extra: object) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message, **extra}}, status_code=status)


async def _request_error(_: Request, exc: Exception) -> JsonResponse:
    assert isinstance(exc, RequestError)
    return JsonResponse(exc.body(), status_code=exc.http_status)


#: A domain error's HTTP answer: status and code (the message is the error's own).
DOMAIN: dict[type[Exception], tuple[int, str]] = {
    NotFound: (404, "not_found"),
    Conflict: (409, "conflict"),
}


async def _domain(_: Request, exc: Exception) -> JsonResponse:
    status, code = DOMAIN[type(exc)]
    return error_response(status, code, str(exc))


def _try_again(code: str, message: str) -> JsonResponse:
    response = error_response(503, code, message)
    response.headers["Retry-After"] = "1"
    return response


async def _store_unavailable(_: Request, exc: Exception) -> JsonResponse:
    log.warning("refused: database unavailable", error=str(exc))
    return _try_again(
        StoreUnavailable.code,
        "the gateway cannot reach its database; nothing was accepted, send again",
    )


async def _broker_unavailable(_: Request, exc: Exception) -> JsonResponse:
    """Only what needs RabbitMQ itself answers this; messages are still accepted."""
    log.warning("refused: RabbitMQ unavailable", error=str(exc))
    return _try_again("broker_unavailable", f"RabbitMQ cannot be reached; try again: {exc}")


async def _store_refused(_: Request, exc: Exception) -> JsonResponse:
    """Refused data is the caller's to fix: 422, never a 5xx that invites a retry."""
    log.warning("refused: the database cannot hold a value", error=str(exc))
    return error_response(StoreRefused.http_status, StoreRefused.code, str(exc))


async def _query_error(_: Request, exc: Exception) -> JsonResponse:
    """A named query that could not run: its database away (503, try again), stopped by
    its statement timeout (504) or refused by its database (502); never the caller's data."""
    assert isinstance(exc, QueryError)
    if exc.http_status == 503:
        return _try_again(exc.code, str(exc))
    return error_response(exc.http_status, exc.code, str(exc))


async def _validation(_: Request, exc: Exception) -> JsonResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [
        {"field": ".".join(str(p) for p in e["loc"][1:]) or str(e["loc"][0]), "message": e["msg"]}
        for e in exc.errors()
    ]
    first = problems[0] if problems else {"field": "", "message": "invalid request"}
    return error_response(
        422,
        "validation_failed",
        f"{first['field']}: {first['message']}",
        field=first["field"],
        errors=problems,
    )


async def _http(_: Request, exc: Exception) -> JsonResponse:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 400:  # FastAPI could not parse a body: as ingress answers it
        return error_response(422, "malformed_json", "body is not valid JSON (UTF-8)", field="body")
    codes = {404: "not_found", 405: "method_not_allowed"}
    return error_response(
        exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail)
    )


async def _client_gone(_: Request, exc: Exception) -> Response:
    """The caller hung up mid-body: nothing was accepted and nobody is listening."""
    log.debug("client disconnected before sending the whole body")
    return Response(status_code=400)


async def _unexpected(_: Request, exc: Exception) -> JsonResponse:
    log.exception("unexpected error", error=repr(exc))
    return error_response(500, "internal", "unexpected error; see the gateway log")


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestError, _request_error)
    for domain_error in DOMAIN:
        app.add_exception_handler(domain_error, _domain)
    app.add_exception_handler(StoreUnavailable, _store_unavailable)
    app.add_exception_handler(BrokerUnavailable, _broker_unavailable)
    app.add_exception_handler(StoreRefused, _store_refused)
    app.add_exception_handler(QueryError, _query_error)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(ClientDisconnect, _client_gone)
    app.add_exception_handler(Exception, _unexpected)
