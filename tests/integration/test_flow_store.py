"""Flow control's statements on the real databases, with explicit clocks (no waiting):
leases expire and cannot be released by a former holder, the rate spaces its turns,
a deferral is one row per delivery however often it happens."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

import pytest
from sqlalchemy import func, select

from esb.store import flow as store
from esb.store.engine import transaction, utcnow
from esb.store.tables import flow_deferrals, flow_slots, outbox
from tests.support.flow import send_orders
from tests.support.gateway import GatewayUnderTest, rest_interface, write_config


@pytest.fixture
async def gut(make_gateway, tmp_path: Path) -> GatewayUnderTest:
    """A gateway that accepts but delivers nothing (no relay, no worker): its database."""
    made = await make_gateway(
        write_config(tmp_path / "cfg", rest_interface("http://127.0.0.1:9")), start=False
    )
    return await made.start(relay=False, worker=False)


async def test_a_slot_is_a_lease_that_expires(gut: GatewayUnderTest) -> None:
    async with transaction(gut.gateway.engine) as conn:
        await store.ensure_rows(conn, "erp", 2)
        first = await store.take_slot(conn, "erp", 2, "a", "p1", now=100.0, until=110.0)
        second = await store.take_slot(conn, "erp", 2, "b", "p1", now=100.0, until=110.0)
        none = await store.take_slot(conn, "erp", 2, "c", "p2", now=105.0, until=115.0)
        capped = await store.take_slot(conn, "erp", 1, "c", "p2", now=105.0, until=115.0)
        # a's process died at 100: its lease runs out at 110, and the slot is c's
        expired = await store.take_slot(conn, "erp", 2, "c", "p2", now=111.0, until=121.0)
        await store.release(conn, "erp", first, "a", False)  # a comes back late: no effect
        held = (
            await conn.execute(select(flow_slots.c.slot, flow_slots.c.lease).order_by("slot"))
        ).all()
    assert (first, second, none, capped, expired) == (0, 1, None, None, 0)
    assert [tuple(r) for r in held] == [(0, "c"), (1, "b")]


async def test_renewal_keeps_a_running_call_s_slot(gut: GatewayUnderTest) -> None:
    async with transaction(gut.gateway.engine) as conn:
        await store.ensure_rows(conn, "erp", 1)
        assert await store.take_slot(conn, "erp", 1, "a", "p1", now=100.0, until=110.0) == 0
        await store.renew(conn, ["a"], until=130.0)
        assert await store.take_slot(conn, "erp", 1, "b", "p1", now=120.0, until=130.0) is None


async def test_the_rate_gives_turns_an_interval_apart(gut: GatewayUnderTest) -> None:
    async with transaction(gut.gateway.engine) as conn:
        await store.ensure_rows(conn, "erp", 0)
        turns = [await store.spend_rate(conn, "erp", 100.0, 0.1, 0.25) for _ in range(6)]
    # three calls within 0.25 s of now (at 100.0, 100.1, 100.2), then turns to ask again
    assert [t.at for t in turns[:3]] == pytest.approx([100.0, 100.1, 100.2])
    assert all(t.retry is None for t in turns[:3])
    assert all(t.at is None for t in turns[3:])
    assert [t.retry for t in turns[3:]] == pytest.approx([100.05, 100.15, 100.25])


async def test_a_delivery_deferred_twice_is_one_row(gut: GatewayUnderTest) -> None:
    (message_id,) = await send_orders(gut.url, ["D-1"])
    delivery_id = UUID((await gut.message(message_id))["deliveries"][0]["id"])
    now = utcnow()
    async with transaction(gut.gateway.engine) as conn:
        for reason in ("rate", "breaker"):
            await store.defer(
                conn,
                delivery_id=delivery_id,
                system="mes",
                reason=reason,
                until=now,
                outbox_id=None,
                now=now,
            )
        rows = (await conn.execute(select(flow_deferrals.c.reason))).scalars().all()
        timers = await conn.scalar(select(func.count()).where(outbox.c.delivery_id == delivery_id))
        forgotten = await store.forget_deferral(conn, delivery_id)
        left = await conn.scalar(select(func.count()).select_from(flow_deferrals))
    assert rows == ["breaker"]
    assert timers == 3  # the accept's row and one per deferral
    assert (forgotten, left) == ("breaker", 0)
