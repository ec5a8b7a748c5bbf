"""Operator actions on a delivery, each audited in the same transaction (who, when, why, diff)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import orjson
from sqlalchemy import Row, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from esb.connectors import json_default
from esb.errors import Conflict, NotFound
from esb.mapping.testing import compare
from esb.status import DeliveryStatus, OutboxStatus
from esb.store.engine import transaction, utcnow
from esb.store.tables import audit_log, deliveries, outbox

REPLAYABLE = frozenset({DeliveryStatus.PARKED, DeliveryStatus.DISCARDED})
DISCARDABLE = frozenset({DeliveryStatus.PARKED, DeliveryStatus.PENDING})


def _state(row: Row[Any] | dict[str, Any]) -> dict[str, Any]:
    get = row.get if isinstance(row, dict) else row._mapping.get
    return {
        "status": get("status"),
        "attempts": get("attempts"),
        "last_error": get("last_error"),
    }


async def _locked(conn: AsyncConnection, delivery_id: UUID) -> Row[Any]:
    row = (
        await conn.execute(
            select(deliveries).where(deliveries.c.id == delivery_id).with_for_update()
        )
    ).first()
    if row is None:
        raise NotFound(f"no delivery {delivery_id}")
    return row


async def _audit(
    conn: AsyncConnection,
    action: str,
    delivery_id: UUID,
    actor: str,
    reason: str,
    before: dict[str, Any],
    after: dict[str, Any],
) -> None:
    await conn.execute(
        audit_log.insert().values(
            at=utcnow(),
            actor=actor,
            action=action,
            delivery_id=delivery_id,
            reason=reason,
            before=orjson.dumps(before).decode(),
            after=orjson.dumps(after).decode(),
        )
    )


async def replay(engine: AsyncEngine, delivery_id: UUID, actor: str, reason: str) -> dict[str, Any]:
    """A parked (or discarded) delivery gets a fresh retry budget and is queued again."""
    now = utcnow()
    async with transaction(engine) as conn:
        row = await _locked(conn, delivery_id)
        if row.status not in REPLAYABLE:
            raise Conflict(
                f"delivery {delivery_id} is {row.status}; only parked or discarded "
                "deliveries can be replayed"
            )
        after = {**_state(row), "status": DeliveryStatus.PENDING.value}
        await conn.execute(
            update(deliveries)
            .where(deliveries.c.id == delivery_id)
            .values(
                status=DeliveryStatus.PENDING, round_attempts=0, next_attempt_at=now, updated_at=now
            )
        )
        await conn.execute(
            outbox.insert().values(
                delivery_id=delivery_id,
                status=OutboxStatus.PENDING,
                available_at=now,
                created_at=now,
            )
        )
        await _audit(conn, "replay", delivery_id, actor, reason, _state(row), after)
    return {"id": str(delivery_id), **after}


async def correct(
    engine: AsyncEngine, delivery_id: UUID, body: Any, actor: str, reason: str
) -> dict[str, Any]:
    """Send an operator's fixed body instead of the mapping's (a parked delivery only).

    The original stays on the delivery (``sent_body``); the audit entry keeps both
    bodies and the field-by-field difference.
    """
    now = utcnow()
    async with transaction(engine) as conn:
        row = await _locked(conn, delivery_id)
        if row.status != DeliveryStatus.PARKED:
            raise Conflict(
                f"delivery {delivery_id} is {row.status}; only a parked delivery can be corrected"
            )
        original = orjson.loads(row.sent_body) if row.sent_body else None
        changes = [d.describe() for d in compare(original, body)] if original is not None else []
        after = {
            **_state(row),
            "status": DeliveryStatus.PENDING.value,
            "body": body,
            "changes": changes,
        }
        await conn.execute(
            update(deliveries)
            .where(deliveries.c.id == delivery_id)
            .values(
                status=DeliveryStatus.PENDING,
                round_attempts=0,
                next_attempt_at=now,
                updated_at=now,
                corrected_body=orjson.dumps(body, default=json_default).decode(),
            )
        )
        await conn.execute(
            outbox.insert().values(
                delivery_id=delivery_id,
                status=OutboxStatus.PENDING,
                available_at=now,
                created_at=now,
            )
        )
        await _audit(
            conn, "correct", delivery_id, actor, reason, {**_state(row), "body": original}, after
        )
    return {"id": str(delivery_id), **after}


async def discard(
    engine: AsyncEngine, delivery_id: UUID, actor: str, reason: str
) -> dict[str, Any]:
    """The operator decides this delivery will not happen; pending retries are dropped."""
    now = utcnow()
    async with transaction(engine) as conn:
        row = await _locked(conn, delivery_id)
        if row.status not in DISCARDABLE:
            raise Conflict(
                f"delivery {delivery_id} is {row.status}; only parked or pending "
                "deliveries can be discarded"
            )
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
        await _audit(conn, "discard", delivery_id, actor, reason, _state(row), after)
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
