"""The accept transaction itself, on SQLite and PostgreSQL: what one batch creates."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

from sqlalchemy import func, select

from esb.batching import GroupCommit
from esb.errors import StoreRefused
from esb.settings import Settings
from esb.store.accept import NewMessage, accept_messages
from esb.store.engine import create_engine
from esb.store.migrate import ensure_schema
from esb.store.tables import deliveries, messages, outbox


def order(key: str, targets: list[str], skipped: list[dict[str, str]] | None = None) -> NewMessage:
    return NewMessage(
        interface="sales-order",
        message_type="sales_order",
        source_system="erp",
        business_key=key,
        idempotency_key=f"key:{key}",
        content_type="application/json",
        body=f'{{"OrderNo": "{key}"}}',
        targets=targets,
        skipped=skipped or [],
    )


async def test_one_batch_stores_new_messages_once_and_answers_repeats_with_the_first(
    mode_settings: dict[str, Any],
) -> None:
    settings = Settings(**mode_settings)
    engine = create_engine(settings)
    await ensure_schema(engine, settings.effective_database_url, auto=True)
    try:
        skipped = [{"target": "wms", "reason": "when: OrderType == '02' is false"}]
        first = await accept_messages(
            engine,
            [
                order("A", ["mes", "wms"]),
                order("B", ["mes"], skipped),
                order("A", ["mes", "wms"]),  # the same key twice in one group commit
                order("C", []),  # routed nowhere: stored, no delivery
            ],
        )
        assert [a.created for a in first] == [True, True, False, True]
        assert first[2].message_id == first[0].message_id
        assert [d.target for d in first[2].deliveries] == ["mes", "wms"]
        assert [d.id for d in first[2].deliveries] == [d.id for d in first[0].deliveries]
        assert first[3].deliveries == []

        again = await accept_messages(engine, [order("B", ["mes"]), order("D", ["wms"])])
        assert [a.created for a in again] == [False, True]
        assert again[0].message_id == first[1].message_id
        assert again[0].deliveries == first[1].deliveries

        async with engine.connect() as conn:
            count = {
                t.name: await conn.scalar(select(func.count()).select_from(t))
                for t in (messages, deliveries, outbox)
            }
            stored_skip = await conn.scalar(
                select(messages.c.skipped).where(messages.c.id == first[1].message_id)
            )
            pairs = set(
                (await conn.execute(select(deliveries.c.message_id, deliveries.c.target))).all()
            )
        assert count == {"messages": 4, "deliveries": 4, "outbox": 4}
        assert stored_skip is not None
        assert "when: OrderType" in stored_skip
        assert pairs == {
            (first[0].message_id, "mes"),
            (first[0].message_id, "wms"),
            (first[1].message_id, "mes"),
            (again[1].message_id, "wms"),
        }
    finally:
        await engine.dispose()


async def test_a_value_postgresql_refuses_fails_only_its_own_accept(pg_clean: str) -> None:
    """Behind the door checks, the store's last line: a batch with one value PostgreSQL
    refuses (NUL, too long) commits everyone else; that caller alone gets StoreRefused
    (422), never StoreUnavailable (503, which would invite a retry that cannot succeed)."""
    engine = create_engine(Settings(database_url=pg_clean))
    accepts: GroupCommit[NewMessage, Any] = GroupCommit(lambda b: accept_messages(engine, b))
    try:
        good = [order(f"G{n}", ["mes"]) for n in range(40)]
        bad = [
            replace(order("NUL", ["mes"]), business_key="N\x00L"),
            replace(order("LONG", ["mes"]), idempotency_key="key:" + "k" * 300),
        ]
        results = await asyncio.gather(
            *(accepts.submit(n) for n in [*good[:20], bad[0], *good[20:], bad[1]]),
            return_exceptions=True,
        )
        refused = [r for r in results if isinstance(r, BaseException)]
        assert len(refused) == 2
        assert all(isinstance(r, StoreRefused) for r in refused), refused
        assert all(getattr(r, "created", False) for r in results if r not in refused)
        async with engine.connect() as conn:
            stored = await conn.scalar(select(func.count()).select_from(messages))
        assert stored == 40
    finally:
        await accepts.aclose()
        await engine.dispose()


class _Room:
    """Workers with room for ``free`` deliveries: those are written already claimed."""

    def __init__(self, free: int) -> None:
        self.free = free

    def reserve(self, wanted: int) -> int:
        return min(wanted, self.free)

    def hand(self, tasks: Any, reserved: int) -> None:
        self.free -= len(tasks)


async def _stored(engine: Any) -> list[tuple[Any, ...]]:
    """Every row the accepts wrote, without ids and times, each delivery with its message's
    idempotency key and its outbox row's status."""
    async with engine.connect() as conn:
        found = await conn.execute(
            select(
                messages.c.idempotency_key,
                messages.c.interface,
                messages.c.message_type,
                messages.c.source_system,
                messages.c.business_key,
                messages.c.fingerprint,
                messages.c.content_type,
                messages.c.body,
                messages.c.skipped,
                deliveries.c.interface,
                deliveries.c.target,
                deliveries.c.status,
                deliveries.c.attempts,
                deliveries.c.round_attempts,
                deliveries.c.redeliveries,
                deliveries.c.order_key,
                deliveries.c.order_seq,
                deliveries.c.next_attempt_at == deliveries.c.created_at,
                outbox.c.status,
                outbox.c.available_at == messages.c.received_at,
            )
            .select_from(
                messages.outerjoin(deliveries, deliveries.c.message_id == messages.c.id).outerjoin(
                    outbox, outbox.c.delivery_id == deliveries.c.id
                )
            )
            .order_by(messages.c.idempotency_key, deliveries.c.target)
        )
        return [tuple(row) for row in found]


async def test_a_page_of_new_messages_is_stored_as_the_general_path_stores_it(
    tmp_path: Any, monkeypatch: Any
) -> None:
    """SQLite writes a page of new messages in one call with the columns its rows share
    bound once; the rows must be those the general path writes, claimed ones included."""
    skipped = [{"target": "wms", "reason": "when: OrderType == '02' is false"}]
    page = [
        order("A", ["mes", "wms"]),
        order("B", ["mes"], skipped),
        order("C", []),
        replace(order("D", ["wms"]), business_key=None, interface="other", source_system="mes"),
        replace(order("E", ["mes"]), body='{"OrderNo": "E", "名": "张伟"}', fingerprint="sha256:e"),
        *[order(f"F{n:04d}", ["mes", "wms"]) for n in range(700)],  # beyond one statement
    ]
    written = []
    for general in (False, True):
        settings = Settings(data_dir=tmp_path / f"general-{general}")
        settings.data_dir.mkdir()
        engine = create_engine(settings)
        await ensure_schema(engine, settings.effective_database_url, auto=True)
        with monkeypatch.context() as patch:
            if general:  # the page call answers "a repeat": the general path writes instead
                patch.setattr("esb.store.accept._Page.write", lambda self, limit, conn: None)
            try:
                answers = await accept_messages(engine, page, _Room(3))
                assert all(a.created for a in answers)
                assert [a.handed for a in answers[:3]] == [True, True, False]  # room for 3
                written.append(await _stored(engine))
            finally:
                await engine.dispose()
    assert len(written[0]) == 2 + 1 + 1 + 1 + 1 + 1400
    assert written[0] == written[1]
    claimed = [row for row in written[0] if row[-2] == "claimed"]
    assert [(row[0], row[10]) for row in claimed] == [
        ("key:A", "mes"),
        ("key:A", "wms"),
        ("key:B", "mes"),
    ]
