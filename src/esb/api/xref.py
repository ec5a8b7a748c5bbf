"""Master data (cross-reference) over HTTP: read, set, delete, import and export CSV."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from esb.api.auth import AdminDep
from esb.api.messages import read_body
from esb.api.responses import JsonResponse
from esb.config.models import NAME_PATTERN
from esb.errors import FieldProblem, NotFound, ValidationFailed
from esb.store import xref as store
from esb.xref import format_csv, parse_csv

router = APIRouter(prefix="/v1/xref", tags=["master data"])
Name = Annotated[str, Field(pattern=NAME_PATTERN, max_length=100)]


class EntityCodes(BaseModel):
    """The entity's codes in other systems; an empty string removes one."""

    codes: dict[Name, Annotated[str, Field(max_length=200)]] = Field(
        description="system -> code, e.g. {'mes': '900999', 'wms': 'CUST-99'}"
    )
    reason: str = Field(default="", max_length=2000, description="kept in the audit log")


async def _changed(request: Request) -> None:
    """Make the change visible in this process at once (others follow within seconds)."""
    await request.app.state.gateway.xref.refresh()


@router.get("", summary="Master-data domains with their entity counts and versions")
async def list_domains(request: Request, _: AdminDep) -> JsonResponse:
    return JsonResponse({"domains": await store.domains(request.app.state.gateway.engine)})


@router.get("/{domain}", summary="Every entity of a domain (JSON, or CSV with ?format=csv)")
async def get_domain(
    domain: str,
    request: Request,
    _: AdminDep,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
) -> Response:
    data, version = await store.load_domain(request.app.state.gateway.engine, domain)
    entities = store.entities_sorted(data)
    if format == "csv":
        return Response(
            format_csv(entities),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{domain}.csv"'},
        )
    return JsonResponse({"domain": domain, "version": version, "entities": entities})


@router.get("/{domain}/{system}/{code}", summary="The entity that a system calls by a code")
async def get_entity(
    domain: str, system: str, code: str, request: Request, _: AdminDep
) -> JsonResponse:
    data, _version = await store.load_domain(request.app.state.gateway.engine, domain)
    entity = data.index.get((system, code))
    if entity is None:
        raise NotFound(f"no {domain} with {system} code {code!r}")
    return JsonResponse(data.entities[entity])


@router.put("/{domain}/{system}/{code}", summary="Set the codes of an entity (creates it if new)")
async def put_entity(
    domain: Name, system: Name, code: str, body: EntityCodes, request: Request, caller: AdminDep
) -> JsonResponse:
    entity = await store.put_entity(
        request.app.state.gateway.engine,
        domain,
        system,
        code,
        body.codes,
        actor=caller.name,
        reason=body.reason,
    )
    await _changed(request)
    return JsonResponse(entity)


@router.delete("/{domain}/{system}/{code}", status_code=204, summary="Delete an entity")
async def delete_entity(
    domain: str, system: str, code: str, request: Request, caller: AdminDep
) -> Response:
    gone = await store.delete_entity(
        request.app.state.gateway.engine, domain, system, code, actor=caller.name
    )
    if gone is None:
        raise NotFound(f"no {domain} with {system} code {code!r}")
    await _changed(request)
    return Response(status_code=204)


_CSV_BODY = {
    "requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}
}


@router.post(
    "/{domain}/import",
    summary="Upsert entities from CSV (first column: the key)",
    openapi_extra=_CSV_BODY,
)
async def import_csv(domain: Name, request: Request, caller: AdminDep) -> JsonResponse:
    raw = await read_body(request, request.app.state.settings.max_body_bytes * 50)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed([FieldProblem("body", "CSV must be UTF-8")]) from None
    rows = parse_csv(text, source=f"{domain}.csv")
    result = await store.import_entities(
        request.app.state.gateway.engine, domain, rows, actor=caller.name, reason="import over HTTP"
    )
    assert result is not None
    await _changed(request)
    return JsonResponse(result.__dict__)
