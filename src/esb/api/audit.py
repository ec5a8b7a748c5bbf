"""The audit trail: every operator action (replay, discard, correct, master-data edits,
imports and syncs), who, when, why, before and after; paged, or all of it as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import orjson
from fastapi import APIRouter, Query
from fastapi.responses import Response, StreamingResponse

from esb.api import inputs
from esb.api.auth import AdminDep
from esb.api.deps import ReadsDep, SettingsDep
from esb.api.responses import JsonResponse
from esb.api.xref import attachment
from esb.limits import MAX_CODE
from esb.reads import Reads
from esb.store.audit import AuditFilter
from esb.xref_csv import BOM, neutralise

router = APIRouter(prefix="/v1/audit", tags=["operations"])

#: Entries read per statement while a CSV export streams.
EXPORT_PAGE = 1000
#: The export's columns, each headed in Chinese and English (the entries' JSON names).
COLUMNS = {
    "at": "时间 at", "actor": "操作人 actor", "action": "操作 action",
    "interface": "接口 interface", "target": "目标 target", "delivery_id": "投递 delivery_id",
    "reason": "原因 reason", "before": "之前 before", "after": "之后 after",
}  # fmt: skip
Name = Annotated[str | None, Query(max_length=MAX_CODE)]


@router.get(
    "",
    summary="The audit trail, newest first: a page as JSON, or everything as CSV (?format=csv)",
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def read_audit(
    reads: ReadsDep,
    settings: SettingsDep,
    _: AdminDep,
    since: str | None = None,
    until: str | None = None,
    actor: Name = None,
    action: Name = None,
    interface: Name = None,
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
) -> Response:
    """``since``/``until``: an ISO time with its zone, or a duration back from now (``7d``).
    ``next_before`` is the ``before`` of the next page (null: this was the last)."""
    where = AuditFilter(
        since=inputs.since(since),
        until=inputs.since(until, "until"),
        actor=actor,
        action=action,
        interface=interface,
        before=before,
    )
    if format == "csv":
        zone = ZoneInfo(settings.time_zone)
        return StreamingResponse(
            _csv(reads, where, zone),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": attachment("audit.csv")},
        )
    entries = await reads.audit_trail(where, limit)
    more = len(entries) == limit
    return JsonResponse(
        {
            "entries": entries,
            "count": len(entries),
            "next_before": entries[-1]["id"] if more else None,
        }
    )


async def _csv(reads: Reads, where: AuditFilter, zone: ZoneInfo) -> AsyncIterator[bytes]:
    """Every entry the filter finds, a page at a time (memory stays flat), times in the
    factory's zone; UTF-8 with a byte-order mark so Excel shows Chinese text."""
    yield (BOM + _lines([list(COLUMNS.values())])).encode()
    while True:
        entries = await reads.audit_trail(where, EXPORT_PAGE)
        yield _lines([_cells(e, zone) for e in entries]).encode()
        if len(entries) < EXPORT_PAGE:
            return
        where = replace(where, before=entries[-1]["id"])


def _cells(entry: dict[str, Any], zone: ZoneInfo) -> list[str]:
    at = datetime.fromisoformat(entry["at"]).astimezone(zone).isoformat(timespec="seconds")
    cells = [at]
    for column in list(COLUMNS)[1:]:
        value = entry[column]
        if column in ("before", "after"):
            value = None if value is None else orjson.dumps(value).decode()
        cells.append("" if value is None else neutralise(str(value)))
    return cells


def _lines(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue()
