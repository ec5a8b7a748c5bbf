"""The ordering store itself, on SQLite and PostgreSQL: heads, sequence numbers, release,
and the race between an accept that sees a head and the outcome that ends it."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from esb.runtime.store import Store
from esb.settings import Settings
from esb.status import AttemptOutcome, DeliveryStatus, OutboxStatus
from esb.store.accept import NewMessage, accept_messages
from esb.store.engine import utcnow
from esb.store.outcomes import AttemptRecord, write_outcomes
from esb.store.reconcile import reconcile
from esb.store.tables import deliveries, ordering_heads, outbox

OPEN = (DeliveryStatus.PENDING, DeliveryStatus.PARKED)


def update(key: str, step: int, *, supersede: bool = False) -> NewMessage:
    return NewMessage(
        interface="status-update",
        message_type="status_update",
        source_system="erp",
        business_key=key,
        idempotency_key=f"key:{key}:{step}",
        content_type="application/json",
        body=f'{{"OrderNo": "{key}", "Step": {step}}}',
        targets=["mes"],
        ordered={"mes": supersede},
    )


@pytest.fixture
def engine(mode_engine: AsyncEngine) -> AsyncEngine:
    return mode_engine


def delivered(delivery_id: UUID) -> AttemptRecord:
    return AttemptRecord(
        delivery_id=delivery_id,
        interface="status-update",
        target="mes",
        number=1,
        started_at=utcnow(),
        duration_ms=1.0,
        outcome=AttemptOutcome.DELIVERED,
        status_code=200,
    )


async def state(engine: AsyncEngine, key: str) -> dict[str, Any]:
    """The key's head, its deliveries by sequence number, and which of those not ended yet
    have a queued row (these tests play the relay's part by hand: an ended delivery's row
    stays pending here, where a relay would have sent it; a worker drops such a row)."""
    async with engine.connect() as conn:
        head = await conn.scalar(
            select(ordering_heads.c.head_id).where(ordering_heads.c.business_key == key)
        )
        rows = (
            await conn.execute(
                select(deliveries.c.id, deliveries.c.status, deliveries.c.order_seq)
                .where(deliveries.c.order_key == key)
                .order_by(deliveries.c.order_seq)
            )
        ).all()
        queued = set(
            (
                await conn.scalars(
                    select(outbox.c.delivery_id).where(outbox.c.status == OutboxStatus.PENDING)
                )
            ).all()
        )
    return {
        "head": head,
        "rows": [(r.id, r.status, r.order_seq) for r in rows],
        "queued": {r.id for r in rows if r.status in OPEN} & queued,
    }


def check_invariant(found: dict[str, Any]) -> None:
    """One head at most: the earliest delivery not ended, the only one with a queued row."""
    open_ = [r for r in found["rows"] if r[1] in OPEN]
    if not open_:
        assert found["head"] is None
        assert found["queued"] == set()
        return
    assert found["head"] == open_[0][0]
    assert found["queued"] <= {found["head"]}


async def test_one_batch_keeps_submit_order_and_queues_only_the_first_of_a_key(
    engine: AsyncEngine,
) -> None:
    batch = [update("K1", 0), update("K2", 0), update("K1", 1), update("K1", 1), update("K1", 2)]
    accepted = await accept_messages(engine, batch)
    assert [a.created for a in accepted] == [True, True, True, False, True]
    k1 = await state(engine, "K1")
    ids = [accepted[i].deliveries[0].id for i in (0, 2, 4)]
    assert [r[0] for r in k1["rows"]] == ids  # sequence numbers follow the submit order
    assert [r[2] for r in k1["rows"]] == sorted(r[2] for r in k1["rows"])
    assert k1["head"] == ids[0]
    assert k1["queued"] == {ids[0]}
    k2 = await state(engine, "K2")
    assert k2["queued"] == {accepted[1].deliveries[0].id}  # another key goes at once


async def test_each_delivered_head_releases_the_next_until_the_key_is_idle(
    engine: AsyncEngine,
) -> None:
    accepted = await accept_messages(engine, [update("K1", n) for n in range(3)])
    ids = [a.deliveries[0].id for a in accepted]
    for n, delivery_id in enumerate(ids):
        found = await state(engine, "K1")
        assert found["queued"] == {delivery_id}
        await write_outcomes(engine, [delivered(delivery_id)])
        check_invariant(await state(engine, "K1"))
        assert (await state(engine, "K1"))["head"] == (ids[n + 1] if n + 1 < len(ids) else None)
    # a late repeat of an outcome changes nothing (the delivery is no longer pending)
    await write_outcomes(engine, [delivered(ids[0])])
    idle = await state(engine, "K1")
    assert idle["head"] is None
    assert idle["queued"] == set()
    [later] = await accept_messages(engine, [update("K1", 9)])
    assert (await state(engine, "K1"))["queued"] == {later.deliveries[0].id}  # goes at once


async def test_a_parked_head_keeps_the_key(engine: AsyncEngine) -> None:
    accepted = await accept_messages(engine, [update("K1", n) for n in range(2)])
    head = accepted[0].deliveries[0].id
    parked = replace(delivered(head), outcome=AttemptOutcome.PARKED, error="HTTP 400")
    await write_outcomes(engine, [parked])
    await write_outcomes(engine, [delivered(head)])  # a stale success: the head stays parked
    found = await state(engine, "K1")
    assert found["head"] == head
    assert accepted[1].deliveries[0].id not in found["queued"]  # it waits, nothing queued
    assert [r[1] for r in found["rows"]] == ["parked", "pending"]


async def test_supersede_leaves_the_head_and_the_newest(engine: AsyncEngine) -> None:
    first = await accept_messages(engine, [update("K1", 0, supersede=True)])
    later = await accept_messages(engine, [update("K1", n, supersede=True) for n in (1, 2, 3)])
    assert [d.status for a in later for d in a.deliveries] == [
        "superseded",
        "superseded",
        "pending",
    ]
    more = await accept_messages(engine, [update("K1", 4, supersede=True)])
    found = await state(engine, "K1")
    assert [r[1] for r in found["rows"]] == ["pending", *["superseded"] * 3, "pending"]
    assert found["head"] == first[0].deliveries[0].id
    async with engine.connect() as conn:
        by = await conn.scalar(
            select(deliveries.c.superseded_by).where(deliveries.c.id == later[2].deliveries[0].id)
        )
    assert by == more[0].message_id


async def test_accepts_racing_outcomes_never_lose_or_double_a_head(engine: AsyncEngine) -> None:
    """An accept that finds the head pending, while an outcome ends that head: whichever
    commits first, the key has exactly one queued delivery, the earliest open one."""
    accepted = await accept_messages(engine, [update("K1", 0)])
    head: UUID | None = accepted[0].deliveries[0].id
    for step in range(1, 40):
        assert head is not None
        await asyncio.gather(
            accept_messages(engine, [update("K1", step)]),
            write_outcomes(engine, [delivered(head)]),
        )
        found = await state(engine, "K1")
        check_invariant(found)
        head = found["head"]
    while head is not None:  # drain: every one of them is released in its turn
        await write_outcomes(engine, [delivered(head)])
        found = await state(engine, "K1")
        check_invariant(found)
        head = found["head"]
    assert [r[1] for r in found["rows"]] == ["delivered"] * 40


async def test_an_idle_key_keeps_no_row_and_a_stalled_key_is_restarted_by_the_check(
    engine: AsyncEngine,
) -> None:
    accepted = await accept_messages(engine, [update("K1", n) for n in range(3)])
    ids = [a.deliveries[0].id for a in accepted]
    async with engine.begin() as conn:  # a hand-edited database: the head row is gone
        await conn.execute(delete(ordering_heads))
    run = await reconcile(engine, 3600.0, no_queue, "test")
    assert run["actions"]["keys_restarted"] == 1  # the earliest open one is the head again
    assert (await state(engine, "K1"))["head"] == ids[0]
    async with engine.begin() as conn:  # and again, once the head has been delivered
        await conn.execute(delete(ordering_heads))
    await write_outcomes(engine, [delivered(ids[0])])  # ends a head no row knows of
    assert (await state(engine, "K1"))["queued"] == set()  # nothing released: stalled
    run = await reconcile(engine, 3600.0, no_queue, "test")
    assert run["actions"]["keys_restarted"] == 1
    found = await state(engine, "K1")
    assert found["head"] == ids[1]
    assert found["queued"] == {ids[1]}
    check_invariant(found)
    for delivery_id in ids[1:]:
        await write_outcomes(engine, [delivered(delivery_id)])
    async with engine.connect() as conn:
        assert (await conn.execute(select(ordering_heads))).all() == []  # idle: no row
    again = await reconcile(engine, 3600.0, no_queue, "test")
    assert again["actions"]["keys_restarted"] == 0


async def no_queue(route: tuple[str, str]) -> int | None:
    return None


async def test_documents_submitted_together_keep_their_order_whatever_the_writers(
    mode_settings: dict[str, Any], tmp_path: Path
) -> None:
    """A file drop hands a file's rows over together; with several accept writers (and
    more rows than one group commit takes) the rows of a key still get sequence numbers
    in row order: ordered documents have a writer of their own."""
    store = Store(Settings(**mode_settings, accept_writers=4), tmp_path)
    await store.start()
    try:
        rows = [update(f"K{n % 3}", n) for n in range(1500)]
        others = [replace(update(f"U{n}", n), ordered={}) for n in range(300)]
        accepted = await asyncio.gather(*(store.accept(d) for d in [*others[:150], *rows]),
                                        *(store.accept(d) for d in others[150:]))  # fmt: skip
        step_of = {a.deliveries[0].id: n for n, a in enumerate(accepted[150:1650])}
        for key in ("K0", "K1", "K2"):
            found = await state(store.engine, key)
            steps = [step_of[r[0]] for r in found["rows"]]
            assert steps == sorted(steps)
            assert len(steps) == 500
    finally:
        await store.stop()
