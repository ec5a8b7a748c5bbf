"""The accept transaction: message + one delivery per target + outbox rows, committed together."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

import orjson
from sqlalchemy import Insert, select, tuple_
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


def _insert_messages(conn: AsyncConnection) -> Insert:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement: Insert = (
        dialect.insert(messages)
        .on_conflict_do_nothing(index_elements=["source_system", "message_type", "idempotency_key"])
        .returning(messages.c.id)
    )
    return statement


def _identity(new: NewMessage) -> tuple[str, str, str]:
    return (new.source_system, new.message_type, new.idempotency_key)


async def _existing(
    conn: AsyncConnection, repeats: list[NewMessage]
) -> dict[tuple[str, str, str], Accepted]:
    """The first message of each repeat, with its deliveries as they are now."""
    key = tuple_(messages.c.source_system, messages.c.message_type, messages.c.idempotency_key)
    rows = (
        await conn.execute(
            select(
                messages.c.id,
                messages.c.source_system,
                messages.c.message_type,
                messages.c.idempotency_key,
            ).where(key.in_([_identity(n) for n in repeats]))
        )
    ).all()
    found = {(r[1], r[2], r[3]): r.id for r in rows}
    dels: dict[UUID, list[AcceptedDelivery]] = {mid: [] for mid in found.values()}
    for d in await conn.execute(
        select(deliveries.c.message_id, deliveries.c.id, deliveries.c.target, deliveries.c.status)
        .where(deliveries.c.message_id.in_(list(found.values())))
        .order_by(deliveries.c.target)
    ):
        dels[d.message_id].append(AcceptedDelivery(d.id, d.target, d.status))
    return {k: Accepted(mid, False, dels[mid]) for k, mid in found.items()}


def _message_row(new: NewMessage, message_id: UUID, now: datetime) -> dict[str, object]:
    return {
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


def _delivery_row(
    new: NewMessage, message_id: UUID, d: AcceptedDelivery, now: datetime
) -> dict[str, object]:
    return {
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


async def accept_messages(engine: AsyncEngine, batch: Sequence[NewMessage]) -> list[Accepted]:
    """Store messages, their deliveries and outbox rows in ONE transaction (group commit).

    Repeats (same source, type and idempotency key; also two in one batch) get the
    first message's id and create nothing.
    """
    now = utcnow()
    ids = [uuid7() for _ in batch]
    async with transaction(engine) as conn:
        inserted = set(
            (
                await conn.execute(
                    _insert_messages(conn),
                    [_message_row(n, i, now) for n, i in zip(batch, ids, strict=True)],
                )
            ).scalars()
        )
        repeats = [n for n, i in zip(batch, ids, strict=True) if i not in inserted]
        existing = await _existing(conn, repeats) if repeats else {}
        results, new_deliveries, rows = [], [], []
        for new, message_id in zip(batch, ids, strict=True):
            if message_id not in inserted:
                results.append(existing[_identity(new)])
                continue
            created = [AcceptedDelivery(uuid7(), t, DeliveryStatus.PENDING) for t in new.targets]
            results.append(Accepted(message_id, True, created))
            new_deliveries += created
            rows += [_delivery_row(new, message_id, d, now) for d in created]
        if rows:
            await conn.execute(deliveries.insert(), rows)
            await conn.execute(
                outbox.insert(),
                [
                    {
                        "delivery_id": d.id,
                        "status": OutboxStatus.PENDING,
                        "available_at": now,
                        "created_at": now,
                    }
                    for d in new_deliveries
                ],
            )
    return results
