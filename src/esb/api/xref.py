"""Master data (cross-reference) over HTTP: read, set, delete, import and export CSV.

Every text this router takes (domain, system and code in the path, codes and reason
in the body, CSV cells) is checked against what the store can hold (``esb.limits``)
and refused with 422 naming it, the same in both modes.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from typing import IO, Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request
from pydantic import AfterValidator, BaseModel, Field
from pydantic_core import PydanticCustomError
from starlette.responses import Response, StreamingResponse

from esb import xref_csv
from esb.api.auth import AdminDep
from esb.api.deps import ConfigDep, MasterDataDep, SettingsDep
from esb.api.responses import JsonResponse
from esb.config.gateway import GatewayConfig
from esb.config.masterdata import DomainCheck
from esb.config.models import NAME_PATTERN
from esb.errors import NotFound, PayloadTooLarge
from esb.limits import MAX_CODE, MAX_NAME, MAX_REASON, text_problem

router = APIRouter(prefix="/v1/xref", tags=["master data"])


def _storable(max_length: int) -> Callable[[str], str]:
    def check(value: str) -> str:
        problem = text_problem(value, max_length)
        if problem is not None:
            raise PydanticCustomError("unstorable_text", problem)
        return value

    return check


Storable = AfterValidator(_storable(MAX_CODE))
Name = Annotated[str, Field(pattern=NAME_PATTERN, max_length=MAX_NAME)]
Code = Annotated[str, Field(max_length=MAX_CODE), Storable]
DomainPath = Annotated[str, Path(max_length=MAX_NAME), AfterValidator(_storable(MAX_NAME))]
SystemPath = DomainPath
CodePath = Annotated[str, Path(max_length=MAX_CODE), Storable]
NewName = Annotated[str, Path(pattern=NAME_PATTERN, max_length=MAX_NAME)]


class EntityCodes(BaseModel):
    """The entity's codes in other systems; an empty string removes one."""

    codes: dict[Name, Code] = Field(
        description="system -> code, e.g. {'mes': '900999', 'wms': 'CUST-99'}"
    )
    reason: Annotated[str, AfterValidator(_storable(MAX_REASON))] = Field(
        default="", max_length=MAX_REASON, description="kept in the audit log"
    )


@router.get("", summary="Master-data domains with their entity counts and versions")
async def list_domains(master_data: MasterDataDep, _: AdminDep) -> JsonResponse:
    return JsonResponse({"domains": await master_data.domains()})


def attachment(filename: str) -> str:
    """Content-Disposition for any file name: an ASCII fallback, and RFC 5987's UTF-8 form."""
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\' else "_" for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


@router.get(
    "/{domain}",
    summary="Every entity of a domain (JSON, or CSV with ?format=csv)",
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def get_domain(
    domain: DomainPath,
    master_data: MasterDataDep,
    _: AdminDep,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
) -> Response:
    if format == "csv":
        return StreamingResponse(
            xref_csv.chunks(await master_data.systems(domain), master_data.pages(domain)),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": attachment(f"{domain}.csv")},
        )
    version = await master_data.version(domain)
    entities = [entity async for page in master_data.pages(domain) for entity in page]
    return JsonResponse({"domain": domain, "version": version, "entities": entities})


@router.get("/{domain}/{system}/{code}", summary="The entity that a system calls by a code")
async def get_entity(
    domain: DomainPath,
    system: SystemPath,
    code: CodePath,
    master_data: MasterDataDep,
    _: AdminDep,
) -> JsonResponse:
    entity = await master_data.find(domain, system, code)
    if entity is None:
        raise NotFound(f"no {domain} with {system} code {code!r}")
    return JsonResponse(entity)


@router.put("/{domain}/{system}/{code}", summary="Set the codes of an entity (creates it if new)")
async def put_entity(
    domain: NewName,
    system: NewName,
    code: CodePath,
    body: EntityCodes,
    master_data: MasterDataDep,
    caller: AdminDep,
) -> JsonResponse:
    entity = await master_data.put(
        domain, system, code, body.codes, actor=caller.name, reason=body.reason
    )
    return JsonResponse(entity)


@router.delete("/{domain}/{system}/{code}", status_code=204, summary="Delete an entity")
async def delete_entity(
    domain: DomainPath,
    system: SystemPath,
    code: CodePath,
    master_data: MasterDataDep,
    caller: AdminDep,
) -> Response:
    gone = await master_data.delete(domain, system, code, actor=caller.name)
    if gone is None:
        raise NotFound(f"no {domain} with {system} code {code!r}")
    return Response(status_code=204)


def _configured_check(config: GatewayConfig, domain: str) -> DomainCheck:
    check = config.xref_checks.get(domain)
    if check is None:
        known = ", ".join(sorted(config.xref_checks)) or "none"
        raise NotFound(f"no sync check for {domain!r} in masterdata.yaml (checks: {known})")
    return check


@router.post(
    "/{domain}/check",
    summary="Sync check: each system's own code list against the cross-reference, now",
)
async def run_check(
    domain: DomainPath,
    master_data: MasterDataDep,
    config: ConfigDep,
    settings: SettingsDep,
    _: AdminDep,
) -> JsonResponse:
    """Reads every list configured for the domain in masterdata.yaml (a system whose list
    cannot be read is reported with its error) and answers, per system, the codes only
    the cross-reference has and the codes only the system has."""
    check = _configured_check(config, domain)
    return JsonResponse(await master_data.check(domain, check, settings.time_zone))


@router.get("/{domain}/check", summary="The last sync check of a domain (on demand or scheduled)")
async def get_check(
    domain: DomainPath, master_data: MasterDataDep, config: ConfigDep, _: AdminDep
) -> JsonResponse:
    _configured_check(config, domain)
    found = await master_data.last_check(domain)
    if found is None:
        raise NotFound(f"{domain!r} has not been checked yet: POST /v1/xref/{domain}/check")
    return JsonResponse(found)


async def spool(request: Request, into: IO[bytes], limit: int) -> None:
    """The body to a temporary file as it arrives; 413 as soon as it passes ``limit``."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"body larger than {limit} bytes")
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"body larger than {limit} bytes")
        into.write(chunk)
        await asyncio.sleep(0)  # a body already received comes without a pause: take turns
    into.seek(0)


_CSV_BODY = {
    "requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}
}


@router.post(
    "/{domain}/import",
    summary="Upsert entities from CSV (first column: the key)",
    openapi_extra=_CSV_BODY,
)
async def import_csv(
    domain: NewName,
    request: Request,
    master_data: MasterDataDep,
    settings: SettingsDep,
    caller: AdminDep,
) -> JsonResponse:
    with tempfile.TemporaryFile() as body:
        await spool(request, body, settings.max_body_bytes * 50)
        result = await master_data.import_csv(
            domain, body, actor=caller.name, reason="import over HTTP"
        )
    assert result is not None
    return JsonResponse(result.__dict__)
