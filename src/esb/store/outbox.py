"""Claiming outbox rows for the relay, by status (never by an id cursor)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, select, true, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from esb.status import DeliveryStatus, OutboxStatus
from esb.store.engine import transaction, utcnow
from esb.store.tables import deliveries, messages, outbox
from esb.task import DeliveryTask, stored_body, stored_json

_DUE = (
    select(
        outbox.c.id.label("outbox_id"),
        deliveries.c.id.label("delivery_id"),
        deliveries.c.status,
        deliveries.c.attempts,
        deliveries.c.round_attempts,
        deliveries.c.interface,
        deliveries.c.target,
        deliveries.c.corrected_body,
        messages.c.id.label("message_id"),
        messages.c.message_type,
        messages.c.business_key,
        messages.c.received_at,
        messages.c.content_type,
        messages.c.body,
    )
    .select_from(outbox.join(deliveries, deliveries.c.id == outbox.c.delivery_id))
    .join(messages, messages.c.id == deliveries.c.message_id)
)


async def claim_due(conn: AsyncConnection, limit: int, now: datetime) -> Sequence[Row[Any]]:
    """Pending rows whose time has come, locked so concurrent relays skip them."""
    query = (
        _DUE.where(outbox.c.status == OutboxStatus.PENDING, outbox.c.available_at <= now)
        .order_by(outbox.c.available_at, outbox.c.id)
        .limit(limit)
        .with_for_update(of=outbox, skip_locked=True)
    )
    rows: Sequence[Any] = (await conn.execute(query)).all()
    return rows


def is_live(row: Row[Any]) -> bool:
    """An outbox row is worth sending only while its delivery still waits."""
    return bool(row.status == DeliveryStatus.PENDING)


def to_task(row: Row[Any], *, verbatim: bool) -> DeliveryTask:
    """The task of a claimed row: the one builder for both relays. ``verbatim`` for a
    broker envelope (stored JSON embedded as it is); in process, parsed for the mapping."""
    return DeliveryTask(
        outbox_id=row.outbox_id,
        delivery_id=row.delivery_id,
        message_id=row.message_id,
        interface=row.interface,
        target=row.target,
        message_type=row.message_type,
        business_key=row.business_key,
        attempt=row.attempts + 1,
        round_attempt=row.round_attempts + 1,
        received_at=row.received_at,
        content_type=row.content_type,
        body=stored_body(row.content_type, row.body, verbatim=verbatim),
        corrected=stored_json(row.corrected_body, verbatim=verbatim),
    )


async def mark(
    conn: AsyncConnection, ids: Sequence[int], status: OutboxStatus, now: datetime
) -> None:
    if ids:
        await conn.execute(
            update(outbox)
            .where(outbox.c.id.in_(ids))
            .values(status=status, sent_at=now if status == OutboxStatus.SENT else None)
        )


async def put_back(
    conn: AsyncConnection, claimed: ColumnElement[bool], available_at: datetime | None = None
) -> int:
    """Claimed rows matching ``claimed`` go back to pending (embedded), and each delivery
    counts one more hand-out without an outcome: past a bound it is parked, not looped."""
    condition = (outbox.c.status == OutboxStatus.CLAIMED) & claimed
    await conn.execute(
        update(deliveries)
        .where(deliveries.c.id.in_(select(outbox.c.delivery_id).where(condition)))
        .values(redeliveries=deliveries.c.redeliveries + 1)
    )
    values: dict[str, Any] = {"status": OutboxStatus.PENDING}
    if available_at is not None:
        values["available_at"] = available_at
    result = await conn.execute(update(outbox).where(condition).values(**values))
    return int(result.rowcount)


async def release_claims(engine: AsyncEngine) -> int:
    """Embedded start-up: rows handed to workers of a process that died go back to pending."""
    async with transaction(engine) as conn:
        return await put_back(conn, true())


async def return_claim(engine: AsyncEngine, outbox_id: int, delay_s: float) -> None:
    """A worker could not record its outcome: the row is offered again after ``delay_s``."""
    async with transaction(engine) as conn:
        await put_back(conn, outbox.c.id == outbox_id, utcnow() + timedelta(seconds=delay_s))


async def earliest_pending(engine: AsyncEngine) -> datetime | None:
    async with transaction(engine) as conn:
        return await conn.scalar(
            select(outbox.c.available_at)
            .where(outbox.c.status == OutboxStatus.PENDING)
            .order_by(outbox.c.available_at)
            .limit(1)
        )


__all__ = [
    "claim_due",
    "earliest_pending",
    "is_live",
    "mark",
    "put_back",
    "release_claims",
    "return_claim",
    "to_task",
    "utcnow",
]
