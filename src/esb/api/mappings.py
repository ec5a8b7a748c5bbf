"""Mappings over HTTP: list them, and preview one on a sample body (with an expected one)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from esb.api.auth import AdminDep
from esb.api.responses import JsonResponse
from esb.errors import NotFound
from esb.mapping import MappingContext, run_mapping_test

router = APIRouter(prefix="/v1/mappings", tags=["mappings"])


class Preview(BaseModel):
    input: Any = Field(description="a source body, as the sender would post it")
    expected: Any = Field(default=None, description="optional: the body the target should get")


@router.get("", summary="The loaded mappings: name, source and target systems")
async def list_mappings(request: Request, _: AdminDep) -> JsonResponse:
    mappings = request.app.state.gateway.config.mappings
    return JsonResponse(
        {
            "mappings": [
                {
                    "name": m.name,
                    "source": m.source_system,
                    "target": m.target_system,
                    "description": m.description,
                }
                for m in mappings
            ]
        }
    )


@router.post("/{name}/preview", summary="Run a mapping on a sample with live master data")
async def preview(name: str, body: Preview, request: Request, _: AdminDep) -> JsonResponse:
    gateway = request.app.state.gateway
    if name not in gateway.config.mappings:
        raise NotFound(f"no mapping {name!r}")
    mapping = gateway.config.mappings.get(name)
    result = run_mapping_test(mapping, body.input, body.expected, MappingContext(xref=gateway.xref))
    out: dict[str, Any] = {
        "mapping": name,
        "output": result.actual,
        "error": None if result.error is None else str(result.error),
    }
    if "expected" in body.model_fields_set:
        out["matches"] = result.ok
        out["differences"] = [d.describe() for d in result.differences]
    return JsonResponse(out)
