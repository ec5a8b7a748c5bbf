"""The value report: ``GET /v1/report/value?period=2026-11`` as JSON, or as CSV for Excel
(``Accept: text/csv`` or ``?format=csv``) with a row per interface and the total."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from esb.api.auth import AdminDep
from esb.api.deps import ConfigDep, ReadsDep, SettingsDep
from esb.api.responses import JsonResponse, wants_csv
from esb.api.xref import attachment
from esb.errors import FieldProblem, ValidationFailed
from esb.store.engine import utcnow
from esb.value_report import Month, parse_period
from esb.xref_csv import BOM, neutralise

router = APIRouter(tags=["health"])

#: The export's columns, each headed in Chinese and English (the report's JSON names).
COLUMNS = {
    "period": "月份 period",
    "interface": "接口 interface",
    "moved": "免重复录入的单据 documents moved",
    "refused": "入口拦截的错误 refused at the door",
    "refused_fields": "拦截最多的字段 most refused fields",
    "fixed": "运维修复后送达 fixed by an operator",
    "retried": "重试挽回的投递 saved by a retry",
    "median_end_to_end_ms": "中位耗时(毫秒) median end-to-end (ms)",
    "minutes_per_document": "每单人工分钟 minutes per document",
    "hours_saved": "节省工时(估算) hours saved (estimate)",
}
TOTAL = "合计 total"
#: What a cell without a figure shows (an interface without minutes_per_document).
NO_FIGURE = "—"


def _month(period: str | None, time_zone: str) -> Month:
    today = utcnow().astimezone(ZoneInfo(time_zone)).date()
    try:
        return parse_period(period, today)
    except ValueError as exc:
        raise ValidationFailed([FieldProblem("period", str(exc))]) from None


@router.get(
    "/v1/report/value",
    summary="What the integration did for the factory in one month, per interface",
    description="Documents moved without re-keying, errors refused at the door, "
    "deliveries fixed by an operator or saved by a retry, the median end-to-end time and "
    "the hours of keying saved (see docs/api.md for each figure's definition). CSV (UTF-8 "
    "with BOM) for Accept: text/csv or ?format=csv.",
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def value_report(
    request: Request,
    reads: ReadsDep,
    config: ConfigDep,
    settings: SettingsDep,
    _: AdminDep,
    period: Annotated[
        str | None,
        Query(max_length=20, description="YYYY-MM in the factory's time zone; default: now"),
    ] = None,
    format: Annotated[str | None, Query(pattern="^(json|csv)$")] = None,
) -> Response:
    month = _month(period, settings.time_zone)
    report = await reads.value(config, settings.time_zone, month)
    if format == "csv" or (format is None and wants_csv(request)):
        return Response(
            to_csv(report),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": attachment(f"value-{month.label}.csv")},
        )
    return JsonResponse(report)


def _cell(value: Any) -> str:
    if value is None:
        return NO_FIGURE
    if isinstance(value, list):  # the refused fields
        return neutralise("; ".join(f"{f['field'] or '(body)'}: {f['documents']}" for f in value))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return neutralise(str(value))


def to_csv(report: dict[str, Any]) -> bytes:
    """A row per interface and the total; UTF-8 with a byte-order mark so Excel shows
    the Chinese headings, text cells guarded against spreadsheet formulas."""
    rows = [list(COLUMNS.values())]
    total: dict[str, Any] = {"interface": TOTAL, "refused_fields": [], "minutes_per_document": None}
    for row in [*report["interfaces"], {**report["total"], **total}]:
        rows.append([report["period"], *(_cell(row[c]) for c in list(COLUMNS)[1:])])
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return (BOM + out.getvalue()).encode()
