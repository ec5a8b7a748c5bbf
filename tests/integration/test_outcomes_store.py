"""The worker's outcome write, on SQLite and PostgreSQL (where the attempts and the
delivered outcomes are one statement each, from arrays): the same rows either way."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from esb.status import AttemptOutcome, DeliveryStatus, OutboxStatus
from esb.store.accept import accept_messages
from esb.store.engine import utcnow
from esb.store.outcomes import AttemptRecord, write_outcomes
from esb.store.tables import attempts, deliveries, outbox
from tests.support.store import sales_order


def record(delivery_id: UUID, outcome: AttemptOutcome, **fields: Any) -> AttemptRecord:
    return AttemptRecord(
        delivery_id=delivery_id,
        interface="sales-order",
        target="mes",
        number=1,
        started_at=utcnow(),
        duration_ms=12.5,
        outcome=outcome,
        **fields,
    )


async def test_a_mixed_batch_writes_every_attempt_and_each_delivery_once(
    mode_engine: AsyncEngine,
) -> None:
    accepted = await accept_messages(mode_engine, [sales_order(n, "outcomes") for n in range(5)])
    ok, ok_no_body, parked, retried, gone = (a.deliveries[0].id for a in accepted)
    async with mode_engine.begin() as conn:  # an operator discarded this one meanwhile
        await conn.execute(
            deliveries.update()
            .where(deliveries.c.id == gone)
            .values(status=DeliveryStatus.DISCARDED)
        )
    later = utcnow() + timedelta(seconds=30)
    delivered = record(
        ok,
        AttemptOutcome.DELIVERED,
        status_code=201,
        detail='{"DocNo": "MO-1"}',
        end_to_end_ms=42.0,
        sent_body='{"order": "SO-0", "名称": "电机"}',
    )
    batch = [
        delivered,
        replace(delivered, number=2, end_to_end_ms=99.0),  # the same delivery twice: once
        record(ok_no_body, AttemptOutcome.DELIVERED, status_code=200, end_to_end_ms=7.0),
        record(parked, AttemptOutcome.PARKED, status_code=422, error="HTTP 422: 物料不存在"),
        record(retried, AttemptOutcome.RETRY, error="HTTP 503", next_attempt_at=later),
        record(gone, AttemptOutcome.DELIVERED, status_code=200, end_to_end_ms=1.0),
    ]
    await write_outcomes(mode_engine, batch)

    async with mode_engine.connect() as conn:
        rows = {r.id: r for r in await conn.execute(select(deliveries))}
        tried = (await conn.execute(select(attempts).order_by(attempts.c.id))).all()
        timers = (
            await conn.execute(
                select(outbox.c.delivery_id, outbox.c.available_at).where(
                    outbox.c.status == OutboxStatus.PENDING, outbox.c.available_at > utcnow()
                )
            )
        ).all()

    assert [
        (a.delivery_id, a.number, a.outcome, a.status_code, a.error, a.detail) for a in tried
    ] == [
        (ok, 1, "delivered", 201, None, '{"DocNo": "MO-1"}'),
        (ok, 2, "delivered", 201, None, '{"DocNo": "MO-1"}'),
        (ok_no_body, 1, "delivered", 200, None, None),
        (parked, 1, "parked", 422, "HTTP 422: 物料不存在", None),
        (retried, 1, "retry", None, "HTTP 503", None),
        (gone, 1, "delivered", 200, None, None),
    ]
    assert all(a.duration_ms == 12.5 and a.interface == "sales-order" for a in tried)
    assert tried[0].started_at == delivered.started_at

    first = rows[ok]
    assert (first.status, first.attempts, first.round_attempts, first.redeliveries) == (
        DeliveryStatus.DELIVERED,
        1,
        1,
        0,
    )
    assert first.end_to_end_ms in (42.0, 99.0)  # one of the two, applied once
    assert first.sent_body == '{"order": "SO-0", "名称": "电机"}'
    assert first.delivered_at is not None
    assert first.delivered_at == first.updated_at
    assert first.last_error is None
    assert first.next_attempt_at is None

    second = rows[ok_no_body]
    assert (second.status, second.attempts, second.end_to_end_ms, second.sent_body) == (
        DeliveryStatus.DELIVERED,
        1,
        7.0,
        None,
    )
    assert (rows[parked].status, rows[parked].last_error, rows[parked].attempts) == (
        DeliveryStatus.PARKED,
        "HTTP 422: 物料不存在",
        1,
    )
    assert (rows[retried].status, rows[retried].last_error, rows[retried].attempts) == (
        DeliveryStatus.PENDING,
        "HTTP 503",
        1,
    )
    assert rows[retried].next_attempt_at == later
    assert timers == [(retried, later)]
    # discarded before its outcome: the attempt is on record, the delivery untouched
    assert (rows[gone].status, rows[gone].attempts, rows[gone].delivered_at) == (
        DeliveryStatus.DISCARDED,
        0,
        None,
    )
