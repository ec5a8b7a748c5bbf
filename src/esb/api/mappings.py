"""Mappings over HTTP: list them, and preview one on a sample body (with an expected one)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from esb.api.auth import AdminDep
from esb.api.deps import ConfigDep, MasterDataDep
from esb.api.responses import JsonResponse
from esb.errors import NotFound
from esb.mapping import MappingContext, run_mapping_test

router = APIRouter(prefix="/v1/mappings", tags=["mappings"])


class Preview(BaseModel):
    input: Any = Field(description="a source body, as the sender would post it")
    expected: Any = Field(default=None, description="optional: the body the target should get")


@router.get("", summary="The loaded mappings: name, source and target systems")
async def list_mappings(config: ConfigDep, _: AdminDep) -> JsonResponse:
    mappings = config.mappings
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
async def preview(
    name: str, body: Preview, config: ConfigDep, master_data: MasterDataDep, _: AdminDep
) -> JsonResponse:
    if name not in config.mappings:
        raise NotFound(f"no mapping {name!r}")
    mapping = config.mappings.get(name)
    context = MappingContext(xref=master_data.cache)
    result = run_mapping_test(mapping, body.input, body.expected, context)
    out: dict[str, Any] = {
        "mapping": name,
        "output": result.actual,
        "error": None if result.error is None else str(result.error),
    }
    if "expected" in body.model_fields_set:
        out["matches"] = result.ok
        out["differences"] = [d.describe() for d in result.differences]
    return JsonResponse(out)
