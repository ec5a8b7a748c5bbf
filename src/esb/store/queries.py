"""Reading messages back: one message with every delivery and attempt, and search."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from sqlalchemy import Row, exists, select
from sqlalchemy.ext.asyncio import AsyncEngine

from esb.store.engine import transaction
from esb.store.tables import attempts, deliveries, messages


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def message_status(statuses: Sequence[str]) -> str:
    """One word for a message: the least finished of its deliveries."""
    for status in ("parked", "pending"):
        if status in statuses:
            return status
    if statuses and all(s == "discarded" for s in statuses):
        return "discarded"
    return "delivered"


def _attempt(row: Row[Any]) -> dict[str, Any]:
    return {
        "number": row.number,
        "started_at": _iso(row.started_at),
        "duration_ms": row.duration_ms,
        "outcome": row.outcome,
        "status_code": row.status_code,
        "error": row.error,
        "detail": orjson.loads(row.detail) if row.detail else None,
    }


def _delivery(row: Row[Any], tries: list[dict[str, Any]] | None) -> dict[str, Any]:
    out = {
        "id": str(row.id),
        "target": row.target,
        "status": row.status,
        "attempts": row.attempts,
        "next_attempt_at": _iso(row.next_attempt_at) if row.status == "pending" else None,
        "last_error": row.last_error,
        "created_at": _iso(row.created_at),
        "delivered_at": _iso(row.delivered_at),
        "end_to_end_ms": row.end_to_end_ms,
    }
    if tries is not None:
        out["attempt_log"] = tries
        out["sent_body"] = orjson.loads(row.sent_body) if row.sent_body else None
        out["corrected_body"] = orjson.loads(row.corrected_body) if row.corrected_body else None
    return out


def _message(row: Row[Any], dels: list[dict[str, Any]], *, with_body: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": str(row.id),
        "interface": row.interface,
        "message_type": row.message_type,
        "source": row.source_system,
        "key": row.business_key,
        "received_at": _iso(row.received_at),
        "status": message_status([d["status"] for d in dels]),
        "deliveries": dels,
        "skipped": orjson.loads(row.skipped) if row.skipped else [],
    }
    if with_body:
        out["idempotency_key"] = row.idempotency_key
        out["content_type"] = row.content_type
        # embedded as received: no parse and re-encode (which has its own depth limit)
        out["body"] = orjson.Fragment(row.body) if "json" in row.content_type else row.body
    return out


async def get_message(engine: AsyncEngine, message_id: UUID) -> dict[str, Any] | None:
    async with transaction(engine) as conn:
        row = (await conn.execute(select(messages).where(messages.c.id == message_id))).first()
        if row is None:
            return None
        drows = (
            await conn.execute(
                select(deliveries)
                .where(deliveries.c.message_id == message_id)
                .order_by(deliveries.c.target)
            )
        ).all()
        arows = (
            await conn.execute(
                select(attempts)
                .where(attempts.c.delivery_id.in_([d.id for d in drows]))
                .order_by(attempts.c.id)
            )
        ).all()
    by_delivery: dict[UUID, list[dict[str, Any]]] = defaultdict(list)
    for a in arows:
        by_delivery[a.delivery_id].append(_attempt(a))
    return _message(row, [_delivery(d, by_delivery[d.id]) for d in drows], with_body=True)


async def search_messages(
    engine: AsyncEngine,
    *,
    key: str | None = None,
    interface: str | None = None,
    target: str | None = None,
    status: str | None = None,
    since: datetime | None = None,
    source: str | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Newest first. ``target``/``status`` match messages having such a delivery."""
    query = select(messages).order_by(messages.c.received_at.desc(), messages.c.id.desc())
    if key is not None:
        query = query.where(messages.c.business_key == key)
    if interface is not None:
        query = query.where(messages.c.interface == interface)
    if since is not None:
        query = query.where(messages.c.received_at >= since)
    if source is not None:
        query = query.where(messages.c.source_system == source)
    if target is not None or status is not None:
        match = deliveries.c.message_id == messages.c.id
        if target is not None:
            match &= deliveries.c.target == target
        if status is not None:
            match &= deliveries.c.status == status
        query = query.where(exists().where(match))
    async with transaction(engine) as conn:
        rows = (await conn.execute(query.limit(limit))).all()
        drows = (
            await conn.execute(
                select(deliveries)
                .where(deliveries.c.message_id.in_([r.id for r in rows]))
                .order_by(deliveries.c.target)
            )
        ).all()
    by_message: dict[UUID, list[dict[str, Any]]] = defaultdict(list)
    for d in drows:
        by_message[d.message_id].append(_delivery(d, None))
    return [_message(r, by_message[r.id], with_body=False) for r in rows]


async def recent_sent(
    engine: AsyncEngine, interface: str, target: str, limit: int
) -> list[dict[str, Any]]:
    """The last ``limit`` messages routed to a target: their body, what was sent, and
    whether an operator corrected the body (then what was sent is the operator's)."""
    query = (
        select(
            messages.c.id,
            messages.c.business_key,
            messages.c.received_at,
            messages.c.content_type,
            messages.c.body,
            deliveries.c.id.label("delivery_id"),
            deliveries.c.sent_body,
            deliveries.c.corrected_body,
            deliveries.c.status,
        )
        .join(deliveries, deliveries.c.message_id == messages.c.id)
        .where(deliveries.c.interface == interface, deliveries.c.target == target)
        .order_by(messages.c.received_at.desc(), messages.c.id.desc())
        .limit(limit)
    )
    async with transaction(engine) as conn:
        rows = (await conn.execute(query)).all()
    return [
        {
            "id": str(r.id),
            "key": r.business_key,
            "received_at": _iso(r.received_at),
            "body": orjson.loads(r.body) if "json" in r.content_type else r.body,
            "sent": orjson.loads(r.sent_body) if r.sent_body else None,
            "status": r.status,
            "delivery_id": r.delivery_id,
            "corrected": r.corrected_body is not None,
        }
        for r in rows
    ]
