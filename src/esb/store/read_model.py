"""The one read model of messages, deliveries and attempts, as every reader shows them.

``GET /v1/messages/{id}``, the search and ``GET /v1/trace`` build their answers here,
so a delivery reads the same wherever it appears: ``attempts`` is how many there were,
``attempt_log`` the attempts themselves. Times stay ``datetime`` (the JSON response
writes them as ISO 8601); the trace computes deadlines with them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import orjson
from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection

from esb.store.tables import attempts

View = dict[str, Any]


def message_status(statuses: Sequence[str]) -> str:
    """One word for a message: the least finished of its deliveries."""
    for status in ("parked", "pending"):
        if status in statuses:
            return status
    if statuses and all(s in ("discarded", "superseded") for s in statuses):
        return "superseded" if "superseded" in statuses else "discarded"
    return "delivered"


def attempt_view(row: Row[Any]) -> View:
    return {
        "number": row.number,
        "started_at": row.started_at,
        "duration_ms": row.duration_ms,
        "outcome": row.outcome,
        "status_code": row.status_code,
        "error": row.error,
        "detail": orjson.loads(row.detail) if row.detail else None,
    }


def _json(text: str | None) -> Any:
    """A stored JSON text embedded as it is (no parse and re-encode)."""
    return orjson.Fragment(text) if text else None


def delivery_view(
    row: Row[Any],
    log: list[View] | None = None,
    *,
    bodies: bool = False,
    blocked_by: View | None = None,
    blocking: int = 0,
) -> View:
    """A delivery; with its ``attempt_log`` when ``log`` is given, and with what was sent
    (and an operator's corrected body) when ``bodies``. ``blocked_by``: the head of its
    key it waits behind (``store.ordering.blockers``); ``blocking``: how many wait
    behind it (``store.ordering.holding``); ``superseded_by``: the message that
    replaced it."""
    out: View = {
        "id": str(row.id),
        "target": row.target,
        "status": row.status,
        "attempts": row.attempts,
        "next_attempt_at": row.next_attempt_at if row.status == "pending" else None,
        "last_error": row.last_error,
        "created_at": row.created_at,
        "delivered_at": row.delivered_at,
        "end_to_end_ms": row.end_to_end_ms,
        "blocked_by": blocked_by,
        "blocking": blocking,
        "superseded_by": None if row.superseded_by is None else str(row.superseded_by),
    }
    if log is not None:
        out["attempt_log"] = log
    if bodies:
        out["sent_body"] = _json(row.sent_body)
        out["corrected_body"] = _json(row.corrected_body)
    return out


def message_view(row: Row[Any], deliveries: list[View], *, body: bool = False) -> View:
    """A message with its deliveries; with its idempotency key and body when ``body``."""
    out: View = {
        "id": str(row.id),
        "interface": row.interface,
        "message_type": row.message_type,
        "source": row.source_system,
        "key": row.business_key,
        "received_at": row.received_at,
        "status": message_status([d["status"] for d in deliveries]),
        "deliveries": deliveries,
        "skipped": orjson.loads(row.skipped) if row.skipped else [],
    }
    if body:
        out["idempotency_key"] = row.idempotency_key
        out["content_type"] = row.content_type
        # embedded as received: no parse and re-encode (which has its own depth limit)
        out["body"] = orjson.Fragment(row.body) if "json" in row.content_type else row.body
    return out


async def attempt_logs(conn: AsyncConnection, delivery_ids: list[UUID]) -> dict[UUID, list[View]]:
    """Every attempt of these deliveries, oldest first, by delivery."""
    rows = (
        await conn.execute(
            select(attempts).where(attempts.c.delivery_id.in_(delivery_ids)).order_by(attempts.c.id)
        )
    ).all()
    logs: dict[UUID, list[View]] = defaultdict(list)
    for row in rows:
        logs[row.delivery_id].append(attempt_view(row))
    return logs
