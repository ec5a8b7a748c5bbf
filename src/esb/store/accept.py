"""The accept transaction: message + one delivery per target + outbox rows, committed together."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

import orjson
from sqlalchemy import Insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from esb.ids import uuid7
from esb.status import DeliveryStatus, OutboxStatus
from esb.store.engine import transaction, utcnow
from esb.store.tables import deliveries, messages, outbox


@dataclass(frozen=True)
class NewMessage:
    interface: str
    message_type: str
    source_system: str
    business_key: str | None
    idempotency_key: str
    content_type: str
    body: str
    targets: list[str]
    skipped: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class AcceptedDelivery:
    id: UUID
    target: str
    status: str


@dataclass(frozen=True)
class Accepted:
    message_id: UUID
    created: bool  # False: a repeat; the first message's id is returned
    deliveries: list[AcceptedDelivery]


def _insert_message(conn: AsyncConnection, values: dict[str, object]) -> Insert:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return (
        dialect.insert(messages)
        .values(values)
        .on_conflict_do_nothing(index_elements=["source_system", "message_type", "idempotency_key"])
        .returning(messages.c.id)
    )


async def _existing(conn: AsyncConnection, new: NewMessage) -> Accepted:
    row = (
        await conn.execute(
            select(messages.c.id).where(
                messages.c.source_system == new.source_system,
                messages.c.message_type == new.message_type,
                messages.c.idempotency_key == new.idempotency_key,
            )
        )
    ).one()
    rows = await conn.execute(
        select(deliveries.c.id, deliveries.c.target, deliveries.c.status)
        .where(deliveries.c.message_id == row.id)
        .order_by(deliveries.c.target)
    )
    return Accepted(row.id, False, [AcceptedDelivery(*r) for r in rows])


async def accept_message(engine: AsyncEngine, new: NewMessage) -> Accepted:
    """Store the message, its deliveries and outbox rows in one transaction; idempotent."""
    now = utcnow()
    message_id = uuid7()
    async with transaction(engine) as conn:
        values = {
            "id": message_id,
            "interface": new.interface,
            "message_type": new.message_type,
            "source_system": new.source_system,
            "business_key": new.business_key,
            "idempotency_key": new.idempotency_key,
            "content_type": new.content_type,
            "body": new.body,
            "skipped": orjson.dumps(new.skipped).decode() if new.skipped else None,
            "received_at": now,
        }
        if (await conn.execute(_insert_message(conn, values))).first() is None:
            return await _existing(conn, new)
        created = [AcceptedDelivery(uuid7(), t, DeliveryStatus.PENDING) for t in new.targets]
        if created:
            await conn.execute(
                deliveries.insert(),
                [
                    {
                        "id": d.id,
                        "message_id": message_id,
                        "interface": new.interface,
                        "target": d.target,
                        "status": DeliveryStatus.PENDING,
                        "attempts": 0,
                        "round_attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for d in created
                ],
            )
            await conn.execute(
                outbox.insert(),
                [
                    {
                        "delivery_id": d.id,
                        "status": OutboxStatus.PENDING,
                        "available_at": now,
                        "created_at": now,
                    }
                    for d in created
                ],
            )
    return Accepted(message_id, True, created)
