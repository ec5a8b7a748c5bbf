"""The route map over HTTP: the loaded flows as a graph with each edge's live health."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from esb.api import inputs
from esb.api.auth import AdminDep
from esb.api.deps import ConfigDep, ReadsDep
from esb.api.responses import JsonResponse

router = APIRouter(tags=["routes"])


@router.get(
    "/v1/routes",
    summary="The loaded flows as a graph: systems, interfaces, targets, conditions, live health",
)
async def read_routes(
    reads: ReadsDep,
    config: ConfigDep,
    _: AdminDep,
    window: Annotated[str, Query(description="the health report's window, e.g. 15m, 1h")] = "15m",
) -> JsonResponse:
    inputs.window("window", window)
    return JsonResponse(await reads.routes(config, window))
