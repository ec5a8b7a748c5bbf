"""The accept transaction itself, on SQLite and PostgreSQL: what one batch creates."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

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
