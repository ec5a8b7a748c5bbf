"""HTTP for inbound sources that answer their callers themselves (e.g. a SOAP endpoint)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from esb.errors import NotFound

router = APIRouter(tags=["inbound"])


@router.post(
    "/inbound/{interface}/{kind}",
    summary="An interface's own inbound endpoint (SOAP...); it authenticates its callers",
)
async def inbound_call(interface: str, kind: str, request: Request) -> Response:
    source = request.app.state.inbound.http_source(interface, kind)
    if source is None:
        raise NotFound(f"interface {interface!r} has no {kind!r} inbound endpoint")
    response: Response = await source.handle(request)
    return response
