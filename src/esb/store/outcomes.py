"""Write a batch of attempt outcomes in one transaction (the worker's group commit)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, func, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from esb.status import AttemptOutcome, DeliveryStatus, OutboxStatus
from esb.store import ordering
from esb.store.engine import transaction, utcnow
from esb.store.tables import attempts, deliveries, outbox


@dataclass(frozen=True)
class AttemptRecord:
    delivery_id: UUID
    interface: str
    target: str
    number: int
    started_at: datetime
    duration_ms: float
    outcome: AttemptOutcome
    status_code: int | None = None
    error: str | None = None
    detail: str | None = None  # JSON text of what the target answered
    next_attempt_at: datetime | None = None  # for RETRY
    end_to_end_ms: float | None = None  # for DELIVERED
    outbox_id: int | None = None  # embedded: the claimed row to close
    sent_body: str | None = None  # the mapped body this attempt sent (JSON text)

    def parked(self, reason: str) -> AttemptRecord:
        """This attempt as a park that holds only the reason (nothing else to refuse)."""
        return replace(
            self,
            outcome=AttemptOutcome.PARKED,
            error=reason,
            status_code=None,
            detail=None,
            next_attempt_at=None,
            end_to_end_ms=None,
            sent_body=None,
        )


_b = bindparam
_STILL_PENDING = (deliveries.c.id == _b("b_id")) & (deliveries.c.status == DeliveryStatus.PENDING)
_COUNT = {
    "attempts": deliveries.c.attempts + 1,
    "round_attempts": deliveries.c.round_attempts + 1,
    "redeliveries": 0,  # an outcome was recorded: the count of those without one restarts
    "updated_at": _b("b_now"),
    "sent_body": func.coalesce(_b("b_body"), deliveries.c.sent_body),
}
_DELIVERED = (
    update(deliveries)
    .where(_STILL_PENDING)
    .values(
        status=DeliveryStatus.DELIVERED,
        last_error=None,
        delivered_at=_b("b_now"),
        end_to_end_ms=_b("b_e2e"),
        next_attempt_at=None,
        **_COUNT,
    )
)
_PARKED = (
    update(deliveries)
    .where(_STILL_PENDING)
    .values(status=DeliveryStatus.PARKED, last_error=_b("b_error"), next_attempt_at=None, **_COUNT)
)
_RETRY = (
    update(deliveries)
    .where(_STILL_PENDING)
    .values(last_error=_b("b_error"), next_attempt_at=_b("b_next"), **_COUNT)
)
_UPDATES = {
    AttemptOutcome.DELIVERED: _DELIVERED,
    AttemptOutcome.PARKED: _PARKED,
    AttemptOutcome.RETRY: _RETRY,
}
_CLOSE_CLAIM = (
    update(outbox)
    .where(outbox.c.id == _b("b_id"))
    .values(status=OutboxStatus.SENT, sent_at=_b("b_now"))
)


#: PostgreSQL: a batch's attempts, and its delivered outcomes (nearly every attempt), each
#: one execution from arrays; row by row (``executemany``) the driver bound and sent every
#: row apart, and the server ran the statement once a row: the worker's largest database
#: cost (docs/performance.md). Parked and retried outcomes keep the statements above.
#: The attempts' arrays are bound by column name, one per key of ``_attempt_row``.
_ATTEMPTS_PG = text(
    """
INSERT INTO attempts (delivery_id, interface, target, number, started_at, duration_ms,
                      outcome, status_code, error, detail)
SELECT * FROM unnest(CAST(:delivery_id AS uuid[]), CAST(:interface AS text[]),
                     CAST(:target AS text[]), CAST(:number AS integer[]),
                     CAST(:started_at AS timestamptz[]), CAST(:duration_ms AS float8[]),
                     CAST(:outcome AS text[]), CAST(:status_code AS integer[]),
                     CAST(:error AS text[]), CAST(:detail AS text[]))
"""
)
_DELIVERED_PG = text(
    """
UPDATE deliveries d
SET status = :delivered, last_error = NULL, delivered_at = CAST(:now AS timestamptz),
    end_to_end_ms = k.e2e, next_attempt_at = NULL, attempts = d.attempts + 1,
    round_attempts = d.round_attempts + 1, redeliveries = 0,
    updated_at = CAST(:now AS timestamptz), sent_body = coalesce(k.body, d.sent_body)
FROM unnest(CAST(:ids AS uuid[]), CAST(:e2e AS float8[]), CAST(:bodies AS text[]))
     AS k(id, e2e, body)
WHERE d.id = k.id AND d.status = :pending
"""
)


async def _write_pg(
    conn: AsyncConnection, records: Sequence[AttemptRecord], now: datetime
) -> list[AttemptRecord]:
    """The attempts and the delivered outcomes on PostgreSQL; returns the records left."""
    rows = [_attempt_row(r) for r in records]
    await conn.execute(_ATTEMPTS_PG, {column: [row[column] for row in rows] for column in rows[0]})
    delivered = [r for r in records if r.outcome == AttemptOutcome.DELIVERED]
    if delivered:
        await conn.execute(
            _DELIVERED_PG,
            {
                "ids": [r.delivery_id for r in delivered],
                "e2e": [r.end_to_end_ms for r in delivered],
                "bodies": [r.sent_body for r in delivered],
                "delivered": DeliveryStatus.DELIVERED.value,
                "pending": DeliveryStatus.PENDING.value,
                "now": now,
            },
        )
    return [r for r in records if r.outcome != AttemptOutcome.DELIVERED]


def _attempt_row(r: AttemptRecord) -> dict[str, Any]:
    return {
        "delivery_id": r.delivery_id,
        "interface": r.interface,
        "target": r.target,
        "number": r.number,
        "started_at": r.started_at,
        "duration_ms": r.duration_ms,
        "outcome": r.outcome,
        "status_code": r.status_code,
        "error": r.error,
        "detail": r.detail,
    }


async def write_outcomes(
    engine: AsyncEngine,
    records: Sequence[AttemptRecord],
    on_released: Callable[[], None] | None = None,
) -> list[None]:
    """Attempts, delivery state, retry timers and (embedded) claim closing: one commit.
    A delivered head of a business key queues the next one of its key in the same commit;
    ``on_released`` is called after that commit (to wake this process's relay)."""
    now = utcnow()
    delivered = [r.delivery_id for r in records if r.outcome == AttemptOutcome.DELIVERED]
    async with transaction(engine) as conn:
        # a delivered head releases the next of its key: its head row is locked first
        heads = await ordering.lock_heads(conn, delivered)
        if conn.dialect.name == "postgresql":
            others = await _write_pg(conn, records, now)
        else:
            await conn.execute(attempts.insert(), [_attempt_row(r) for r in records])
            others = list(records)
        for outcome, statement in _UPDATES.items():
            params = [
                {
                    "b_id": r.delivery_id,
                    "b_now": now,
                    "b_e2e": r.end_to_end_ms,
                    "b_error": r.error,
                    "b_next": r.next_attempt_at,
                    "b_body": r.sent_body,
                }
                for r in others
                if r.outcome == outcome
            ]
            if params:
                await conn.execute(statement, params)
        timers = [
            {
                "delivery_id": r.delivery_id,
                "status": OutboxStatus.PENDING,
                "available_at": r.next_attempt_at,
                "created_at": now,
            }
            for r in records
            if r.outcome == AttemptOutcome.RETRY
        ]
        if timers:
            await conn.execute(outbox.insert(), timers)
        claims = [{"b_id": r.outbox_id, "b_now": now} for r in records if r.outbox_id is not None]
        if claims:
            await conn.execute(_CLOSE_CLAIM, claims)
        released = await ordering.release(conn, heads, now)
    if released and on_released is not None:
        on_released()
    return [None] * len(records)
