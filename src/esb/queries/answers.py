"""A query's rows as people and programs read them: JSON, or CSV for a spreadsheet.

JSON: one object per row (column -> value); decimals as JSON numbers written exactly
(never through a float); times in ISO 8601 with the query zone's offset (a database
DATETIME without zone is read in that zone). CSV: UTF-8 with a byte-order mark (Excel
shows Chinese names only then), a header of column names, text cells neutralised
against spreadsheet formulas as the master-data export does.
"""

from __future__ import annotations

import base64
import csv
import io
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from esb.queries.runner import QueryResult
from esb.sdk._json import dumps
from esb.xref_csv import BOM, neutralise


def plain(value: Any, zone: ZoneInfo) -> Any:
    """One cell as a JSON value (Decimals stay Decimals: written exactly by ``dumps``)."""
    if value is None or isinstance(value, bool | int | float | str | Decimal):
        return value
    if isinstance(value, datetime):
        aware = value.replace(tzinfo=zone) if value.tzinfo is None else value.astimezone(zone)
        return aware.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    return str(value)


def to_json(name: str, result: QueryResult, row_limit: int, zone: ZoneInfo) -> bytes:
    rows = [
        {column: plain(cell, zone) for column, cell in zip(result.columns, row, strict=True)}
        for row in result.rows
    ]
    return dumps(
        {
            "query": name,
            "columns": result.columns,
            "rows": rows,
            "row_count": len(rows),
            "row_limit": row_limit,
            "truncated": result.truncated,
        }
    )


def _cell(value: Any, zone: ZoneInfo) -> str:
    value = plain(value, zone)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, str):
        return neutralise(value)
    return str(value)


def to_csv(result: QueryResult, zone: ZoneInfo) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralise(c) for c in result.columns])
    for row in result.rows:
        writer.writerow([_cell(cell, zone) for cell in row])
    return (BOM + out.getvalue()).encode("utf-8")
