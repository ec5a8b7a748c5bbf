"""Reload the configuration without a restart (each process also watches its folder)."""

from __future__ import annotations

from fastapi import APIRouter

from esb.api.auth import AdminDep
from esb.api.deps import LiveDep
from esb.api.responses import JsonResponse

router = APIRouter(prefix="/v1/config", tags=["configuration"])


@router.post("/reload", summary="Re-read the configuration folder; a broken file changes nothing")
async def reload(live: LiveDep, _: AdminDep) -> JsonResponse:
    result = await live.reload()
    body = {
        "reloaded": result.ok,
        "problems": result.problems,
        "new_routes": [{"interface": i, "target": t} for i, t in result.added],
        "at": result.at.isoformat(),
    }
    return JsonResponse(body, status_code=200 if result.ok else 422)
