"""The OpenAPI document, completed in one place with every answer an operation can give.

FastAPI documents a route's 200 and its 422 (in its own error shape, not ours); the
refusals come from our dependencies and handlers, so they are added here, per
operation, from its path and tags rather than in every decorator:

- every ``/v1/`` operation authenticates (``auth.authenticate``): bearer security and
  401; outside the ``messages`` and ``queries`` tags it needs the admin key
  (``auth.require_admin``): 403;
- it reads or writes the database (every ``/v1/`` operation outside the tags that only
  read the loaded configuration): 503 with ``Retry-After`` (the consistency check also
  when RabbitMQ is away);
- ``HANDLER_ANSWERS`` lists what a handler itself refuses (404, 409, 413, 422) by path;
- a ``format`` query parameter that allows ``csv``: the 200 answer in text/csv too;
- every refusal has the one error shape ``{"error": {"code", "message", "field"?}}``.

``tests/integration/test_openapi.py`` provokes each answer over HTTP and checks that
the document lists it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI

from esb.api import messages

#: Answers a handler (or the store it calls) gives by itself, by "METHOD path".
HANDLER_ANSWERS: dict[str, tuple[int, ...]] = {
    "GET /v1/messages/{message_id}": (404,),
    "POST /v1/deliveries/{delivery_id}/replay": (404, 409),
    "POST /v1/deliveries/{delivery_id}/correct": (404, 409),
    "POST /v1/deliveries/{delivery_id}/discard": (404, 409),
    "GET /v1/xref/{domain}/{system}/{code}": (404,),
    "PUT /v1/xref/{domain}/{system}/{code}": (409,),
    "DELETE /v1/xref/{domain}/{system}/{code}": (404,),
    "POST /v1/xref/{domain}/import": (413, 422),
    "POST /v1/xref/{domain}/check": (404,),
    "GET /v1/xref/{domain}/check": (404,),
    "POST /v1/mappings/{name}/preview": (404,),
    "POST /inbound/{interface}/{kind}": (404,),
    "GET /v1/queries/{name}": (403, 404, 422, 502, 504),
    "GET /v1/shadow/{interface}/{target}/comparisons": (404,),
    "POST /v1/shadow/{interface}/{target}/promote": (404, 409),
    "POST /v1/shadow/{interface}/{target}/rollback": (404, 409),
}
#: Tags whose operations only read the loaded configuration, never the database.
CONFIGURATION_ONLY = {"mappings", "configuration"}
#: Tags whose operations a system's key may call too (it sees its own messages only,
#: and runs the queries granted to it).
SYSTEM_OR_ADMIN = {"messages", "queries"}

DESCRIPTIONS = {
    401: "no key, not a bearer key, or an unknown key",
    403: "this endpoint needs the admin key (ESB_ADMIN_KEY)",
    404: "no such item (the message names it)",
    409: "its current state does not allow this (the message says why)",
    413: "body larger than the limit",
    422: "a parameter or the body is wrong; `field` names it",
    502: "the query's database refused it (the message has the database's words)",
    503: "the database cannot be reached: nothing was changed, send again",
    504: "the query was stopped by its statement timeout (code statement_timeout)",
}
ERROR_SCHEMA: dict[str, Any] = {
    "title": "ErrorOut",
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "examples": ["validation_failed"]},
                "message": {"type": "string"},
                "field": {"type": "string", "description": "the offending field's path"},
                "errors": {
                    "type": "array",
                    "description": "every offending field (422)",
                    "items": {
                        "type": "object",
                        "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                    },
                },
            },
        }
    },
}
ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
RETRY_AFTER = {"Retry-After": {"description": "seconds", "schema": {"type": "integer"}}}
CSV_CONTENT = {"text/csv": {"schema": {"type": "string", "description": "UTF-8 CSV"}}}
SOAP_CONTENT = {
    media: {"schema": {"type": "string"}} for media in ("text/xml", "application/soap+xml")
}


def install(app: FastAPI) -> None:
    """Make ``app.openapi()`` return the completed document (built once)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(messages.document(generate()))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def complete(document: dict[str, Any]) -> dict[str, Any]:
    for key, operation in _operations(document):
        _add_answers(operation, key)
        _add_media_types(operation)
    _inbound(document["paths"]["/inbound/{interface}/{kind}"]["post"])
    _readiness(document["paths"]["/readyz"]["get"])
    _needs_broker(document["paths"]["/v1/reconcile"]["post"])
    _reload(document["paths"]["/v1/config/reload"]["post"])
    _queries(document["paths"])
    schemas = document["components"]["schemas"]
    schemas["ErrorOut"] = ERROR_SCHEMA
    for unused in ("HTTPValidationError", "ValidationError"):  # FastAPI's 422 shape, not ours
        schemas.pop(unused, None)
    return document


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            yield f"{method.upper()} {path}", operation


def _add_answers(operation: dict[str, Any], key: str) -> None:
    statuses = set(HANDLER_ANSWERS.get(key, ()))
    tags = set(operation.get("tags", []))
    if key.split(" ", 1)[1].startswith("/v1/"):
        operation["security"] = [{"bearer": []}]
        statuses.add(401)
        if not tags & SYSTEM_OR_ADMIN:
            statuses.add(403)
        if not tags & CONFIGURATION_ONLY:
            statuses.add(503)
    responses = operation["responses"]
    if "422" in responses:
        statuses.add(422)
    for status in sorted(statuses):
        response = responses.setdefault(str(status), {"description": DESCRIPTIONS[status]})
        if response["description"] == "Validation Error":  # FastAPI's words for its shape
            response["description"] = DESCRIPTIONS[status]
        response["content"] = ERROR_CONTENT
    if "503" in responses:
        responses["503"]["headers"] = RETRY_AFTER


def _add_media_types(operation: dict[str, Any]) -> None:
    for parameter in operation.get("parameters", []):
        if parameter["name"] == "format" and "csv" in str(parameter["schema"]):
            operation["responses"]["200"]["content"].update(CSV_CONTENT)


def _inbound(operation: dict[str, Any]) -> None:
    """The interface's own source answers (the SOAP endpoint: a reply or a fault)."""
    responses = operation["responses"]
    responses.pop("422", None)  # the path parameters are plain strings
    responses["200"] = {"description": "the source's reply", "content": SOAP_CONTENT}
    responses["202"] = {"description": "accepted; the operation has no reply"}
    for status in (400, 401, 403, 413, 500):
        description = "a SOAP fault (Client: the request is refused; Server: send again)"
        responses[str(status)] = {"description": description, "content": SOAP_CONTENT}


def _readiness(operation: dict[str, Any]) -> None:
    body = {"ready": False, "checks": {"database": "unavailable"}}
    operation["responses"]["503"] = {
        "description": "not ready: a check failed",
        "content": {"application/json": {"schema": {"type": "object"}, "example": body}},
    }


def _needs_broker(operation: dict[str, Any]) -> None:
    """The consistency check looks into RabbitMQ's queues: without it, 503 too."""
    operation["responses"]["503"]["description"] = (
        "the database (store_unavailable) or RabbitMQ (broker_unavailable, after waiting "
        "a second for it) cannot be reached: nothing was changed, send again"
    )


def _reload(operation: dict[str, Any]) -> None:
    """A refused reload answers the reload's own report, with every problem."""
    schema = {
        "type": "object",
        "properties": {
            "reloaded": {"type": "boolean", "const": False},
            "problems": {"type": "array", "items": {"type": "string"}},
            "new_routes": {"type": "array", "items": {"type": "object"}},
            "at": {"type": "string", "format": "date-time"},
        },
    }
    operation["responses"]["422"] = {
        "description": "the folder has problems (file:line: key: message); nothing changed",
        "content": {"application/json": {"schema": schema}},
    }


def _queries(paths: dict[str, Any]) -> None:
    """The list only reads the loaded configuration; a query is refused (403) only when
    it is not granted; its 503 is about the query's own database, not the gateway's."""
    listing = paths["/v1/queries"]["get"]["responses"]
    listing.pop("503", None)
    run = paths["/v1/queries/{name}"]["get"]["responses"]
    run["403"]["description"] = "the calling system is not granted this query"
    run["503"]["description"] = (
        "the query's database cannot be reached (code query_database_unavailable); try again"
    )
    run["422"]["description"] = (
        "a parameter is missing, unknown or not of its type; `field` names it"
    )
