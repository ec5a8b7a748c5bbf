"""Embedded mode: an accept hands its new deliveries straight to the process's workers
(outbox rows written already claimed), as far as their queue has room; the rest, and
every delivery ordered by key, stay pending for the relay. The task handed over is the
one the relay would have built from the same row."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from esb.errors import StoreUnavailable
from esb.relay import LocalRelay
from esb.settings import Settings
from esb.status import OutboxStatus
from esb.store import accept
from esb.store.accept import NewMessage, accept_messages
from esb.store.engine import create_engine, transaction, utcnow
from esb.store.migrate import ensure_schema
from esb.store.outbox import claim_due, to_task
from esb.store.tables import outbox
from esb.task import DeliveryTask
from tests.support.gateway import rest_interface, write_config
from tests.support.target import TargetServer


@dataclass
class Workers:
    """``accept.Workers`` with a fixed room; records what it was handed."""

    room: int
    reserved: int = 0
    handed: list[DeliveryTask] = field(default_factory=list)

    def reserve(self, wanted: int) -> int:
        taken = min(wanted, self.room)
        self.reserved += taken
        return taken

    def hand(self, tasks: Sequence[DeliveryTask], reserved: int) -> None:
        self.reserved -= reserved
        self.handed.extend(tasks)


def order(key: str, targets: list[str], ordered: dict[str, bool] | None = None) -> NewMessage:
    return NewMessage(
        interface="sales-order",
        message_type="sales_order",
        source_system="erp",
        business_key=key,
        idempotency_key=f"key:{key}",
        content_type="application/json",
        body=f'{{"OrderNo": "{key}", "Customer": "上海精密"}}',
        targets=targets,
        ordered=ordered or {},
    )


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "var", admin_key="k" * 32)


async def test_what_fits_is_handed_claimed_and_the_rest_waits_for_the_relay(
    sqlite_settings: Settings,
) -> None:
    engine = create_engine(sqlite_settings)
    await ensure_schema(engine, sqlite_settings.effective_database_url, auto=True)
    workers = Workers(room=2)
    try:
        batch = [
            order("A", ["mes", "wms"]),
            order("B", ["mes"]),
            order("C", ["mes"], ordered={"mes": False}),  # in key order: the relay's
        ]
        accepted = await accept_messages(engine, batch, workers)
        async with transaction(engine) as conn:
            rows = (await conn.execute(select(outbox.c.id, outbox.c.status))).all()
            status = {row.id: row.status for row in rows}
            handed = {t.outbox_id: t for t in workers.handed}
            # the relay's own task for each handed row, built from the row as stored
            await conn.execute(
                update(outbox).where(outbox.c.id.in_(list(handed))).values(status="pending")
            )
            relayed = {
                row.outbox_id: to_task(row, verbatim=False)
                for row in await claim_due(conn, 10, utcnow())
            }
    finally:
        await engine.dispose()
    assert workers.reserved == 0
    assert [t.message_id for t in workers.handed] == [accepted[0].message_id] * 2
    assert [t.target for t in workers.handed] == ["mes", "wms"]
    assert all(status[i] == OutboxStatus.CLAIMED for i in handed)
    pending = [i for i, s in status.items() if s == OutboxStatus.PENDING]
    assert len(pending) == 2  # B's delivery and C's head of its key
    for outbox_id, task in handed.items():
        assert task == relayed[outbox_id]
    assert task.body == {"OrderNo": "A", "Customer": "上海精密"}
    assert [a.handed for a in accepted] == [True, False, False]


async def test_a_repeat_hands_nothing_and_gives_its_room_back(
    sqlite_settings: Settings,
) -> None:
    engine = create_engine(sqlite_settings)
    await ensure_schema(engine, sqlite_settings.effective_database_url, auto=True)
    try:
        await accept_messages(engine, [order("A", ["mes"])])
        workers = Workers(room=8)
        again = await accept_messages(engine, [order("A", ["mes"]), order("B", ["mes"])], workers)
    finally:
        await engine.dispose()
    assert [a.created for a in again] == [False, True]
    assert [t.message_id for t in workers.handed] == [again[1].message_id]
    assert workers.reserved == 0


@pytest.mark.parametrize("path", ["page", "general"])
async def test_a_failed_accept_gives_the_room_back_and_hands_nothing(
    sqlite_settings: Settings, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    engine = create_engine(sqlite_settings)
    await ensure_schema(engine, sqlite_settings.effective_database_url, auto=True)

    # the claimed outbox rows, written last, fail: what was written before is rolled back
    if path == "page":  # new messages only: the page written in one call
        head, tail = accept._CLAIMED_RETURNING
        broken = (head.replace("INTO outbox", "INTO no_such_table"), tail)
        monkeypatch.setattr(accept, "_CLAIMED_RETURNING", broken)
        batch = [order("A", ["mes"])]
    else:  # a repeat in the batch: the general path, statement by statement
        broken_sql = accept._SQLITE_CLAIMED.replace("INTO outbox", "INTO no_such_table")
        monkeypatch.setattr(accept, "_SQLITE_CLAIMED", broken_sql)
        batch = [order("A", ["mes"]), order("A", ["mes"])]
    workers = Workers(room=8)
    try:
        with pytest.raises(StoreUnavailable):
            await accept_messages(engine, batch, workers)
        async with transaction(engine) as conn:
            left = (await conn.execute(select(outbox.c.id))).all()
    finally:
        await engine.dispose()
    assert (workers.reserved, workers.handed, left) == (0, [], [])


async def test_orders_reach_the_target_with_the_relay_stopped(
    make_gateway: Any, target: TargetServer, tmp_path: Path, mode: str
) -> None:
    """Embedded: new orders are delivered by the workers the accept handed them to; the
    relay (stopped here) is not needed for them, and is not woken."""
    if mode != "embedded":
        pytest.skip("production hands deliveries to RabbitMQ through the relay")
    gut = await make_gateway(write_config(tmp_path / "cfg", rest_interface(target.url)))
    pipeline = gut.gateway.pipeline
    relay = pipeline.relay
    relay.request_stop()
    await asyncio.wait_for(pipeline._relay_task, timeout=5)
    relay.wakeup.clear()
    ids = []
    for n in range(5):
        response = await gut.send("sales_order", {"OrderNo": f"H-{n}", "Lines": []})
        assert response.status_code == 202, response.text
        ids.append(response.json()["id"])
    for message_id in ids:
        await gut.wait_status(message_id, "delivered")
    assert sorted(b["OrderNo"] for b in target.bodies("/api/work-orders")) == [
        f"H-{n}" for n in range(5)
    ]
    assert not relay.wakeup.is_set()  # nothing was left for it
    assert relay.reserved == 0


async def test_the_relay_and_an_accept_filling_the_queue_at_once_lose_nothing(
    sqlite_settings: Settings,
) -> None:
    """The relay counts room for two, then waits for SQLite's one writer connection; an
    accept counts the same room meanwhile. Both hand their tasks: the queue holds one more
    than its capacity for a moment, and no task is refused (a bounded queue raised
    ``QueueFull`` here in a CI run: the refused tasks' rows stayed claimed, never
    delivered). The relay does not hold the room while it waits: that sent every accept
    meanwhile back to the relay, one claim per message."""
    engine = create_engine(sqlite_settings)
    await ensure_schema(engine, sqlite_settings.effective_database_url, auto=True)
    queue: asyncio.Queue[DeliveryTask] = asyncio.Queue()
    relay = LocalRelay(engine, queue, capacity=2, batch=10, poll_interval=1.0)
    try:
        await accept_messages(engine, [order("A", ["mes"]), order("B", ["mes"])])  # pending
        async with engine.connect() as holder:  # the writer is busy (an outcome, say)
            relaying = asyncio.create_task(relay.relay_once())
            accepting = asyncio.create_task(accept_messages(engine, [order("C", ["mes"])], relay))
            await asyncio.sleep(0.2)  # both have counted the room and wait for the writer
            assert not relaying.done()
            assert not accepting.done()
            await holder.rollback()
        await asyncio.wait_for(relaying, timeout=10)
        during = await asyncio.wait_for(accepting, timeout=10)
        async with transaction(engine) as conn:
            status = dict((await conn.execute(select(outbox.c.delivery_id, outbox.c.status))).all())
    finally:
        await engine.dispose()
    assert during[0].handed
    assert sorted(queue.get_nowait().business_key or "" for _ in range(3)) == ["A", "B", "C"]
    assert relay.reserved == 0
    assert set(status.values()) == {OutboxStatus.CLAIMED}
