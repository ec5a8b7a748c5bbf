"""PostgreSQL: the gateway's statements are planned for the table as it is, not as it was.

The driver prepares each statement once per connection; by default PostgreSQL then caches
a generic plan after five executions, costed on the table of that moment. On a new
database that moment is an empty table, and the check before every call to a target went
on reading the whole ``deliveries`` table (the peer benchmark: 3,533 full scans, 51 million
rows read, in 40 s) until an automatic ANALYZE a minute or more later.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from esb.settings import Settings
from esb.store.accept import NewMessage, accept_messages
from esb.store.claims import Claim, ClaimState, check_claims
from esb.store.engine import create_engine
from esb.store.migrate import upgrade
from tests.support.fixtures import PG_ADMIN_URL

CHECK = "SELECT id, status, redeliveries FROM deliveries WHERE id = ANY($1)"


def order(n: int) -> NewMessage:
    return NewMessage(
        interface="sales-order",
        message_type="sales_order",
        source_system="erp",
        business_key=f"SO-{n}",
        idempotency_key=f"SO-{n}",
        content_type="application/json",
        body=f'{{"OrderNo": "SO-{n}"}}',
        targets=["mes"],
    )


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture
async def new_database() -> AsyncIterator[str]:
    """A database just made and migrated: every table empty and never analyzed."""
    name = f"esb_plans_{uuid.uuid4().hex[:10]}"
    await _admin(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        await upgrade(url.replace("postgresql://", "postgresql+asyncpg://"))
        yield url.replace("postgresql://", "postgresql+asyncpg://")
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _check_plan(engine: AsyncEngine, delivery_id: uuid.UUID) -> str:
    """The plan of the claim check as the worker's own connection would run it now."""
    async with engine.connect() as conn:
        name = (
            await conn.exec_driver_sql(
                "SELECT name FROM pg_prepared_statements WHERE statement = $1", (CHECK,)
            )
        ).scalar_one()
        rows = await conn.exec_driver_sql(
            f"EXPLAIN EXECUTE \"{name}\"(ARRAY['{delivery_id}']::uuid[])"
        )
        return "\n".join(str(r[0]) for r in rows)


async def test_the_check_before_a_call_reads_by_index_after_the_table_grew(
    new_database: str,
) -> None:
    engine = create_engine(Settings(database_url=new_database, db_pool_size=1))
    try:
        (first,) = await accept_messages(engine, [order(0)])
        claim = Claim(first.deliveries[0].id)
        for _ in range(8):  # past the five executions after which a generic plan may be cached
            assert await check_claims(engine, [claim]) == [ClaimState(True, 0)]

        for start in range(1, 4001, 500):
            await accept_messages(engine, [order(n) for n in range(start, start + 500)])
        assert await check_claims(engine, [claim]) == [ClaimState(True, 0)]

        plan = await _check_plan(engine, claim.delivery_id)
        assert "Seq Scan" not in plan, plan
        assert "pk_deliveries" in plan, plan
        async with engine.connect() as conn:
            generic = (
                await conn.exec_driver_sql(
                    "SELECT coalesce(sum(generic_plans), 0) FROM pg_prepared_statements "
                    "WHERE cardinality(parameter_types) > 0"  # without values there is one plan
                )
            ).scalar_one()
        assert generic == 0
    finally:
        await engine.dispose()
