"""What became of the messages a source accepted, asked by their idempotency keys.

A staging-table source writes each row's fate back into the row (delivered, parked,
discarded), so it asks for hundreds of keys at a time: one indexed lookup per chunk
(messages by their unique (source, type, key), deliveries by message id), never a scan.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from esb.sdk import MessageOutcome
from esb.status import DeliveryStatus
from esb.store.engine import statements
from esb.store.tables import deliveries, messages

__all__ = ["CHUNK", "message_outcomes", "summarise"]

#: Keys per statement: well under every database's bound-parameter limit.
CHUNK = 500
SUPERSEDED = "replaced by a later document for its business key before it was sent"
DISCARDED = "discarded by an operator"


def summarise(rows: Sequence[tuple[str | None, str | None]]) -> MessageOutcome:
    """One message's outcome from its deliveries' (status, last error): parked if any is
    parked, waiting if any is still to go, discarded if any was given up, else delivered
    (a message routed to no target is delivered: every target it has, has it)."""
    statuses = [status for status, _ in rows if status is not None]
    for status, error in rows:
        if status == DeliveryStatus.PARKED:
            return MessageOutcome("parked", error or "parked")
    if DeliveryStatus.PENDING in statuses:
        return MessageOutcome("waiting")
    for status, error in rows:
        if status == DeliveryStatus.DISCARDED:
            return MessageOutcome("discarded", error or DISCARDED)
    if DeliveryStatus.SUPERSEDED in statuses:
        return MessageOutcome("discarded", SUPERSEDED)
    return MessageOutcome("delivered")


async def message_outcomes(
    engine: AsyncEngine, source_system: str, message_type: str, keys: Sequence[str]
) -> dict[str, MessageOutcome]:
    """``{idempotency key: outcome}`` for the keys the store knows (others left out)."""
    wanted = list(dict.fromkeys(keys))
    found: dict[str, list[tuple[str | None, str | None]]] = {}
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        query = (
            select(messages.c.idempotency_key, deliveries.c.status, deliveries.c.last_error)
            .select_from(messages.outerjoin(deliveries, deliveries.c.message_id == messages.c.id))
            .where(
                messages.c.source_system == source_system,
                messages.c.message_type == message_type,
                messages.c.idempotency_key.in_(chunk),
            )
        )
        async with statements(engine) as conn:
            rows: Sequence[Any] = (await conn.execute(query)).all()
        for key, status, error in rows:
            found.setdefault(key, []).append((status, error))
    return {key: summarise(rows) for key, rows in found.items()}
