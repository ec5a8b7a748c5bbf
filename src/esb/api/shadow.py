"""The parallel runs (``shadow:``): their match rates and differing fields, the latest
comparisons, and promote / roll back (admin key, audited), shared by the CLI and dashboard."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from esb.api.auth import AdminDep
from esb.api.deliveries import OperatorAction
from esb.api.deps import ShadowsDep
from esb.api.responses import JsonResponse
from esb.errors import FieldProblem, ValidationFailed
from esb.limits import MAX_NAME

router = APIRouter(prefix="/v1/shadow", tags=["operations"])

NamePart = Annotated[str, Path(max_length=MAX_NAME)]
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _actor(action: OperatorAction) -> str:
    return f"admin:{action.operator}" if action.operator else "admin"


@router.get("", summary="Every parallel run: match rate today and per day, differing fields")
async def shadows(
    desk: ShadowsDep,
    _: AdminDep,
    days: Annotated[int, Query(ge=1, le=366, description="factory days back, today included")] = 14,
) -> JsonResponse:
    return JsonResponse(await desk.status(days))


@router.get(
    "/{interface}/{target}/comparisons",
    summary="The latest comparisons of one outcome: which documents differed, and how",
)
async def comparisons(
    interface: NamePart,
    target: NamePart,
    desk: ShadowsDep,
    _: AdminDep,
    outcome: Literal["differ", "failed", "match"] = "differ",
    day: Annotated[str | None, Query(description="a factory date, YYYY-MM-DD")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 20,
) -> JsonResponse:
    if day is not None and not _DAY.match(day):
        raise ValidationFailed([FieldProblem("day", "a date written YYYY-MM-DD")])
    found = await desk.latest((interface, target), outcome, day, limit)
    return JsonResponse({"interface": interface, "target": target, "comparisons": found})


@router.post(
    "/{interface}/{target}/promote",
    summary="Make a shadow live in every process (the previous one is kept for rollback)",
)
async def promote(
    interface: NamePart, target: NamePart, action: OperatorAction, desk: ShadowsDep, _: AdminDep
) -> JsonResponse:
    return JsonResponse(await desk.promote((interface, target), _actor(action), action.reason))


@router.post(
    "/{interface}/{target}/rollback",
    summary="Bring back what delivered before the promotion, in every process",
)
async def rollback(
    interface: NamePart, target: NamePart, action: OperatorAction, desk: ShadowsDep, _: AdminDep
) -> JsonResponse:
    return JsonResponse(await desk.rollback((interface, target), _actor(action), action.reason))
