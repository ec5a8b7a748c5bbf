"""Reading messages back: one message with every delivery and attempt, and search
(in the shape of ``store.read_model``)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncEngine

from esb.store.engine import transaction
from esb.store.ordering import blockers, holding
from esb.store.read_model import attempt_logs, delivery_view, message_view
from esb.store.tables import deliveries, messages


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


async def get_message(engine: AsyncEngine, message_id: UUID) -> dict[str, Any] | None:
    """One message with its body, every delivery, what was sent and every attempt."""
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
        logs = await attempt_logs(conn, [d.id for d in drows])
        blocked, held = await blockers(conn, drows), await holding(conn, drows)
    views = [
        delivery_view(
            d, logs[d.id], bodies=True, blocked_by=blocked.get(d.id), blocking=held.get(d.id, 0)
        )
        for d in drows
    ]
    return message_view(row, views, body=True)


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
        blocked, held = await blockers(conn, drows), await holding(conn, drows)
    by_message: dict[UUID, list[dict[str, Any]]] = defaultdict(list)
    for d in drows:
        view = delivery_view(d, blocked_by=blocked.get(d.id), blocking=held.get(d.id, 0))
        by_message[d.message_id].append(view)
    return [message_view(r, by_message[r.id]) for r in rows]


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
