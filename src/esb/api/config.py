"""Reload the configuration without a restart (each process also watches its folder)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from esb.api.auth import AdminDep
from esb.api.deps import LiveDep
from esb.api.inputs import StoredText
from esb.api.responses import JsonResponse
from esb.config_trail import Trigger
from esb.limits import MAX_OPERATOR, MAX_REASON

router = APIRouter(prefix="/v1/config", tags=["configuration"])


class ReloadRequest(BaseModel):
    """Optional: why and by whom, for the audit log's ``config.reload`` entry."""

    reason: StoredText | None = Field(
        default=None, max_length=MAX_REASON, description="why; kept in the audit log"
    )
    operator: StoredText | None = Field(
        default=None, max_length=MAX_OPERATOR, description="who, for the audit"
    )


@router.post("/reload", summary="Re-read the configuration folder; a broken file changes nothing")
async def reload(live: LiveDep, _: AdminDep, request: ReloadRequest | None = None) -> JsonResponse:
    """A change, applied or refused, is written to the audit log once (whichever of the
    gateway's processes records it first), with the optional ``reason`` and ``operator``."""
    asked = request or ReloadRequest()
    actor = f"admin:{asked.operator}" if asked.operator else "admin"
    result = await live.reload(Trigger(actor, asked.reason or ""))
    body = {
        "reloaded": result.ok,
        "problems": result.problems,
        "new_routes": [{"interface": i, "target": t} for i, t in result.added],
        "at": result.at.isoformat(),
    }
    return JsonResponse(body, status_code=200 if result.ok else 422)
