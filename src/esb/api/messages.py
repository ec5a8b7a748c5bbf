"""Ingress and tracing: POST a message, GET one with every delivery and attempt, search."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from starlette.responses import Response

from esb.api import inputs
from esb.api.auth import CallerDep, authenticate
from esb.api.deps import ReadsDep
from esb.api.responses import JsonResponse
from esb.errors import Forbidden, NotFound, PayloadTooLarge
from esb.store.accept import Accepted

router = APIRouter(prefix="/v1/messages", tags=["messages"])
#: the ingress route (esb.api.shortcut reaches it without the router)
INGRESS_PATH = "/v1/messages/{message_type}"


class DeliveryOut(BaseModel):
    id: str
    target: str
    status: str


class AcceptedOut(BaseModel):
    id: str
    status: str
    duplicate: bool
    deliveries: list[DeliveryOut]


class ErrorOut(BaseModel):
    error: dict[str, Any]


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it passes ``limit`` bytes (declared or not)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"body larger than {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"body larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def accepted_body(accepted: Accepted) -> dict[str, Any]:
    return {
        "id": str(accepted.message_id),
        "status": "accepted",
        "duplicate": not accepted.created,
        "deliveries": [
            {"id": str(d.id), "target": d.target, "status": str(d.status)}
            for d in accepted.deliveries
        ],
    }


async def post_message(request: Request) -> Response:
    """``POST /v1/messages/{message_type}``: a plain Starlette endpoint on purpose — this is
    the hot path, and FastAPI's per-request dependency solving cost a sixth of its CPU.
    Its OpenAPI operation is described by ``ingress_operation``."""
    caller = await authenticate(request)
    if caller.system is None:
        raise Forbidden("operators do not send messages; use the sending system's key")
    raw = await read_body(request, request.app.state.settings.max_body_bytes)
    accepted = await request.app.state.ingress.accept(
        caller.system,
        request.path_params["message_type"],
        raw,
        request.headers.get("content-type"),
        request.headers.get("idempotency-key"),
    )
    return JsonResponse(
        accepted_body(accepted),
        status_code=202 if accepted.created else 200,
        headers={"Location": f"/v1/messages/{accepted.message_id}"},
    )


# APIRouter.add_route does not apply the router prefix: the full path is given here
router.add_route(INGRESS_PATH, post_message, methods=["POST"])


def ingress_operation() -> dict[str, Any]:
    """The OpenAPI operation of ``post_message`` (the route itself bypasses FastAPI)."""
    accepted = {
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AcceptedOut"}}}
    }
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}}
    return {
        "tags": ["messages"],
        "summary": "Send a message (202 once stored; 200 with the first id for a repeat)",
        "operationId": "post_message",
        "parameters": [
            {"name": "message_type", "in": "path", "required": True, "schema": {"type": "string"}},
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "maxLength": 200},
            },
        ],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        "responses": {
            "202": {"description": "accepted (committed)", **accepted},
            "200": {"description": "a repeat: the first message's id", **accepted},
            **{
                str(code): {"description": description, **error}
                for code, description in (
                    (401, "no or unknown key"),
                    (403, "another system's type"),
                    (404, "unknown message type"),
                    (413, "body too large"),
                    (415, "not JSON"),
                    (422, "invalid body, naming every field"),
                    (503, "database unavailable: nothing stored"),
                )
            },
        },
        "security": [{"bearer": []}],
    }


def document(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the ingress operation and the models it refers to into an OpenAPI document."""
    path = schema.setdefault("paths", {}).setdefault(INGRESS_PATH, {})
    path["post"] = ingress_operation()
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in (AcceptedOut, DeliveryOut, ErrorOut):
        components[model.__name__] = model.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
    schema["components"].setdefault("securitySchemes", {})["bearer"] = {
        "type": "http",
        "scheme": "bearer",
        "description": "a system's key (systems.yaml) or the admin key (ESB_ADMIN_KEY)",
    }
    return schema


def _parse_id(value: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise NotFound(f"no message {value}") from None


@router.get("/{message_id}", summary="A message with its deliveries, attempts and audit trail")
async def read_message(message_id: str, reads: ReadsDep, caller: CallerDep) -> JsonResponse:
    found = await reads.message(_parse_id(message_id))
    if found is None or not (caller.admin or found["source"] == caller.system):
        raise NotFound(f"no message {message_id}")
    found["audit"] = await reads.audit([UUID(d["id"]) for d in found["deliveries"]])
    return JsonResponse(found)


@router.get("", summary="Search messages (newest first), e.g. every message about one order")
async def list_messages(
    reads: ReadsDep,
    caller: CallerDep,
    key: str | None = None,
    interface: str | None = None,
    target: str | None = None,
    status: str | None = None,
    since: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> JsonResponse:
    found = await reads.search(
        key=key,
        interface=interface,
        target=target,
        status=status,
        since=inputs.since(since),
        source=None if caller.admin else caller.system,
        limit=limit,
    )
    return JsonResponse({"messages": found, "count": len(found)})
