"""Operator actions on one delivery: replay or discard, with a reason, audited."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, field_validator

from esb.api.auth import AdminDep
from esb.api.deps import OperatorDep, SettingsDep
from esb.api.inputs import StoredText, operator_document
from esb.api.messages import read_body
from esb.api.responses import JsonResponse
from esb.errors import NotFound
from esb.limits import MAX_OPERATOR, MAX_REASON

router = APIRouter(prefix="/v1/deliveries", tags=["operations"])


class OperatorAction(BaseModel):
    reason: StoredText = Field(
        min_length=1, max_length=MAX_REASON, description="why; kept in the audit log"
    )
    operator: StoredText | None = Field(
        default=None, max_length=MAX_OPERATOR, description="who, for the audit"
    )


def _id(value: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise NotFound(f"no delivery {value}") from None


def _actor(action: OperatorAction) -> str:
    return f"admin:{action.operator}" if action.operator else "admin"


@router.post("/{delivery_id}/replay", summary="Queue a parked delivery again (fresh retry budget)")
async def replay_delivery(
    delivery_id: str, action: OperatorAction, operator: OperatorDep, _: AdminDep
) -> JsonResponse:
    return JsonResponse(await operator.replay(_id(delivery_id), _actor(action), action.reason))


class Correction(OperatorAction):
    body: Any = Field(description="the target body to send instead of the mapping's output")

    @field_validator("body")
    @classmethod
    def _a_body(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("the target body to send is required (null is not a body)")
        return value


@router.post(
    "/{delivery_id}/correct",
    summary="Fix a parked delivery's target body and send it (original kept, diff audited)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": Correction.model_json_schema()}},
        }
    },
)
async def correct_delivery(
    delivery_id: str,
    request: Request,
    operator: OperatorDep,
    settings: SettingsDep,
    _: AdminDep,
) -> JsonResponse:
    """Read like a message body (strict JSON, door limits): the body is sent to a target."""
    raw = await read_body(request, settings.max_body_bytes)
    action = operator_document(raw, Correction)
    result = await operator.correct(_id(delivery_id), action.body, _actor(action), action.reason)
    return JsonResponse(result)


@router.post("/{delivery_id}/discard", summary="Give up on a parked or pending delivery")
async def discard_delivery(
    delivery_id: str, action: OperatorAction, operator: OperatorDep, _: AdminDep
) -> JsonResponse:
    return JsonResponse(await operator.discard(_id(delivery_id), _actor(action), action.reason))
