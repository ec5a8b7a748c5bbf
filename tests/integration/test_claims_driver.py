"""PostgreSQL: the check before a call goes to the driver itself (no SQLAlchemy layers);
its answers and its failures are the store's as before."""

from __future__ import annotations

from uuid import uuid4

import asyncpg
import pytest
from sqlalchemy import update

from esb.errors import StoreRefused, StoreUnavailable
from esb.settings import Settings
from esb.status import DeliveryStatus
from esb.store.accept import accept_messages
from esb.store.claims import Claim, ClaimState, check_claims
from esb.store.engine import create_engine, driver_connection, translate
from esb.store.tables import deliveries
from tests.support.store import sales_order
from tests.support.tcpproxy import TcpProxy


async def test_pending_discarded_unknown_and_counted_deliveries_are_told_apart(
    pg_clean: str,
) -> None:
    engine = create_engine(Settings(database_url=pg_clean))
    try:
        accepted = await accept_messages(engine, [sales_order(n, "DRV") for n in (1, 2, 3)])
        first, second, third = (a.deliveries[0].id for a in accepted)
        async with engine.begin() as conn:
            await conn.execute(
                update(deliveries)
                .where(deliveries.c.id == second)
                .values(status=DeliveryStatus.DISCARDED)
            )

        states = await check_claims(engine, [Claim(first), Claim(second), Claim(uuid4())])
        assert states == [ClaimState(True, 0), ClaimState(False, 0), ClaimState(False, 0)]

        # a redelivery is counted (a write: through SQLAlchemy), then read by the driver
        counted = await check_claims(engine, [Claim(first, redelivered=True), Claim(third)])
        assert counted == [ClaimState(True, 1), ClaimState(True, 0)]
        assert await check_claims(engine, [Claim(first)]) == [ClaimState(True, 1)]
    finally:
        await engine.dispose()


async def test_a_check_on_a_dropped_connection_is_unavailable_and_the_next_reconnects(
    pg_clean: str,
) -> None:
    """The pool cannot see a failure on the driver's own connection: the check takes the
    dead one out, or every later check would get it back and fail too."""
    proxy = await TcpProxy("127.0.0.1", 5432).start()
    via_proxy = pg_clean.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    engine = create_engine(Settings(database_url=via_proxy, db_timeout=1.0))
    try:
        accepted = await accept_messages(engine, [sales_order(1, "CUT")])
        claims = [Claim(accepted[0].deliveries[0].id)]
        assert await check_claims(engine, claims) == [ClaimState(True, 0)]

        await proxy.cut()
        with pytest.raises(StoreUnavailable):
            await check_claims(engine, claims)
        await proxy.restore()

        assert await check_claims(engine, claims) == [ClaimState(True, 0)]
        assert engine.pool.checkedout() == 0
    finally:
        await engine.dispose()
        await proxy.cut()


async def test_the_drivers_own_errors_are_translated_like_sqlalchemys(pg_clean: str) -> None:
    engine = create_engine(Settings(database_url=pg_clean))
    try:
        with pytest.raises(StoreRefused, match="invalid input syntax for type uuid"):
            async with driver_connection(engine) as driver:
                await driver.fetch("SELECT id FROM deliveries WHERE id = $1::text::uuid", "x")
        with pytest.raises(StoreUnavailable):
            async with driver_connection(engine) as driver:
                await driver.fetch("SELECT pg_sleep(1)", timeout=0.05)
        # a bug (a statement that cannot be right) stays itself, not a store failure
        with pytest.raises(asyncpg.UndefinedColumnError):
            async with driver_connection(engine) as driver:
                await driver.fetch("SELECT no_such_column FROM deliveries")
        # the connections stayed usable: none was closed by these
        async with driver_connection(engine) as driver:
            assert await driver.fetchval("SELECT 1") == 1
    finally:
        await engine.dispose()
    assert isinstance(translate(asyncpg.QueryCanceledError("timeout")), StoreUnavailable)
