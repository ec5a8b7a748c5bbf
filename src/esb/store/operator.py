"""Operator actions on a delivery, each audited in the same transaction (who, when, why, diff)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any
from uuid import UUID

import orjson
from sqlalchemy import Row, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from esb.connectors import json_default
from esb.errors import Conflict, NotFound
from esb.mapping import compare
from esb.status import DeliveryStatus, OutboxStatus
from esb.store import ordering
from esb.store.audit import audit
from esb.store.engine import transaction, utcnow
from esb.store.tables import audit_log, deliveries, outbox

REPLAYABLE = frozenset({DeliveryStatus.PARKED, DeliveryStatus.DISCARDED})
DISCARDABLE = frozenset({DeliveryStatus.PARKED, DeliveryStatus.PENDING})
CORRECTABLE = frozenset({DeliveryStatus.PARKED})


def _state(row: Row[Any]) -> dict[str, Any]:
    return {"status": row.status, "attempts": row.attempts, "last_error": row.last_error}


async def _locked(
    conn: AsyncConnection, delivery_id: UUID, action: str, allowed: Collection[str]
) -> Row[Any]:
    row = (
        await conn.execute(
            select(deliveries).where(deliveries.c.id == delivery_id).with_for_update()
        )
    ).first()
    if row is None:
        raise NotFound(f"no delivery {delivery_id}")
    if row.status not in allowed:
        raise Conflict(
            f"delivery {delivery_id} is {row.status}; only "
            f"{' or '.join(sorted(allowed))} deliveries can be {action}"
        )
    return row


async def _requeue(
    conn: AsyncConnection, delivery_id: UUID, queued: bool = True, **values: Any
) -> None:
    """Pending again with a fresh retry budget, and (``queued``) an outbox row to carry it;
    without one it waits behind its key's head, which releases it."""
    now = utcnow()
    await conn.execute(
        update(deliveries)
        .where(deliveries.c.id == delivery_id)
        .values(
            status=DeliveryStatus.PENDING,
            round_attempts=0,
            redeliveries=0,
            next_attempt_at=now,
            updated_at=now,
            **values,
        )
    )
    if queued:
        await conn.execute(
            outbox.insert().values(
                delivery_id=delivery_id,
                status=OutboxStatus.PENDING,
                available_at=now,
                created_at=now,
            )
        )


async def replay(engine: AsyncEngine, delivery_id: UUID, actor: str, reason: str) -> dict[str, Any]:
    """A parked (or discarded) delivery gets a fresh retry budget and is queued again.

    Ordered by key: a parked one is its key's head and goes again at once; a discarded
    one takes the last place of its key, as if accepted now."""
    async with transaction(engine) as conn:
        head = await ordering.lock_key_of(conn, delivery_id, utcnow())  # heads before deliveries
        row = await _locked(conn, delivery_id, "replayed", REPLAYABLE)
        after = {**_state(row), "status": DeliveryStatus.PENDING.value}
        queued = True
        if head is not None and head.head_id != delivery_id:
            queued = await ordering.reenter(conn, head, delivery_id, utcnow())
        await _requeue(conn, delivery_id, queued)
        await audit(conn, "replay", actor, reason, _state(row), after, delivery_id)
    return {"id": str(delivery_id), **after, "previous_status": row.status}


async def correct(
    engine: AsyncEngine, delivery_id: UUID, body: Any, actor: str, reason: str
) -> dict[str, Any]:
    """Send an operator's fixed body instead of the mapping's (a parked delivery only).

    The source message is never changed; the audit entry keeps the mapping's output
    (``sent_body`` until now), the fixed body and the field-by-field difference.
    """
    async with transaction(engine) as conn:
        await ordering.lock_key_of(conn, delivery_id, utcnow())  # heads before deliveries
        row = await _locked(conn, delivery_id, "corrected", CORRECTABLE)
        original = orjson.loads(row.sent_body) if row.sent_body else None
        changes = [d.describe() for d in compare(original, body)] if original is not None else []
        after = {
            **_state(row),
            "status": DeliveryStatus.PENDING.value,
            "body": body,
            "changes": changes,
        }
        await _requeue(
            conn, delivery_id, corrected_body=orjson.dumps(body, default=json_default).decode()
        )
        await audit(
            conn, "correct", actor, reason, {**_state(row), "body": original}, after, delivery_id
        )
    return {"id": str(delivery_id), **after}


async def discard(
    engine: AsyncEngine, delivery_id: UUID, actor: str, reason: str
) -> dict[str, Any]:
    """The operator decides this delivery will not happen; pending retries are dropped.
    The head of an ordered key releases the next delivery of its key."""
    now = utcnow()
    async with transaction(engine) as conn:
        head = await ordering.lock_key_of(conn, delivery_id, utcnow())  # heads before deliveries
        row = await _locked(conn, delivery_id, "discarded", DISCARDABLE)
        after = {**_state(row), "status": DeliveryStatus.DISCARDED.value}
        await conn.execute(
            update(deliveries)
            .where(deliveries.c.id == delivery_id)
            .values(status=DeliveryStatus.DISCARDED, next_attempt_at=None, updated_at=now)
        )
        await conn.execute(
            update(outbox)
            .where(outbox.c.delivery_id == delivery_id, outbox.c.status == OutboxStatus.PENDING)
            .values(status=OutboxStatus.DROPPED)
        )
        if head is not None:
            await ordering.release(conn, [head], now)
        await audit(conn, "discard", actor, reason, _state(row), after, delivery_id)
    return {"id": str(delivery_id), **after}


async def parked(
    engine: AsyncEngine,
    *,
    interface: str | None = None,
    target: str | None = None,
    limit: int = 1000,
) -> list[UUID]:
    """Ids of parked deliveries, oldest first (for bulk replay)."""
    query = select(deliveries.c.id).where(deliveries.c.status == DeliveryStatus.PARKED)
    if interface is not None:
        query = query.where(deliveries.c.interface == interface)
    if target is not None:
        query = query.where(deliveries.c.target == target)
    async with transaction(engine) as conn:
        return list(
            (await conn.scalars(query.order_by(deliveries.c.updated_at).limit(limit))).all()
        )


async def audit_entries(engine: AsyncEngine, delivery_ids: list[UUID]) -> list[dict[str, Any]]:
    async with transaction(engine) as conn:
        rows = (
            await conn.execute(
                select(audit_log)
                .where(audit_log.c.delivery_id.in_(delivery_ids))
                .order_by(audit_log.c.id)
            )
        ).all()
    return [
        {
            "delivery_id": str(r.delivery_id),
            "at": r.at.isoformat(),
            "actor": r.actor,
            "action": r.action,
            "reason": r.reason,
            "before": orjson.loads(r.before) if r.before else None,
            "after": orjson.loads(r.after) if r.after else None,
        }
        for r in rows
    ]


class OperatorActions:
    """What the operations API may do to deliveries, and nothing else of the store; a
    delivery queued again wakes the relay of this process (``on_queued``)."""

    def __init__(self, engine: AsyncEngine, on_queued: Callable[[], None]) -> None:
        self._engine = engine
        self._on_queued = on_queued

    async def replay(self, delivery_id: UUID, actor: str, reason: str) -> dict[str, Any]:
        result = await replay(self._engine, delivery_id, actor, reason)
        self._on_queued()
        return result

    async def correct(
        self, delivery_id: UUID, body: Any, actor: str, reason: str
    ) -> dict[str, Any]:
        result = await correct(self._engine, delivery_id, body, actor, reason)
        self._on_queued()
        return result

    async def discard(self, delivery_id: UUID, actor: str, reason: str) -> dict[str, Any]:
        result = await discard(self._engine, delivery_id, actor, reason)
        self._on_queued()  # a discarded head of a business key released the next one
        return result
