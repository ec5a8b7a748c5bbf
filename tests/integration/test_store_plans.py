"""PostgreSQL: a new database's busiest tables are analyzed as soon as they hold rows.

The driver prepares each statement once per connection; PostgreSQL then keeps a generic
plan after five executions, costed on the statistics of that moment. On a new database
those say "empty", and the check before every call to a target went on reading the whole
``deliveries`` table (the peer benchmark: 3,533 full scans, 51 million rows read in 40 s)
until autovacuum's first ANALYZE, a minute or more later.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from esb.settings import Settings
from esb.store.accept import accept_messages
from esb.store.claims import Claim, ClaimState, check_claims
from esb.store.engine import create_engine
from esb.store.migrate import upgrade_sync
from esb.store.young_tables import BUSY_TABLES, analyze_young_tables, analyze_young_tables_forever
from tests.support.cli import scratch_database
from tests.support.store import sales_order

CHECK = "SELECT id, status, redeliveries FROM deliveries WHERE id = ANY($1)"


@pytest.fixture
def new_database() -> Iterator[str]:
    """A database just made and migrated: every table empty and never analyzed."""
    with scratch_database() as url:
        asyncpg_url = url.replace("postgresql://", "postgresql+asyncpg://")
        upgrade_sync(asyncpg_url)
        yield asyncpg_url


async def _check_plan(engine: AsyncEngine, delivery_id: uuid.UUID) -> str:
    """The plan the claim check would run with now, on the worker's own connection."""
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


@pytest.mark.parametrize("analyzed_empty", [False, True], ids=["never-analyzed", "analyzed-empty"])
async def test_the_check_before_a_call_reads_by_index_once_the_table_grew(
    new_database: str, analyzed_empty: bool
) -> None:
    engine = create_engine(Settings(database_url=new_database, db_pool_size=1))
    try:
        if analyzed_empty:  # statistics that say "empty" are a new table's too
            async with engine.connect() as conn:
                await conn.exec_driver_sql("ANALYZE")
        (first,) = await accept_messages(engine, [sales_order(0)])
        claim = Claim(first.deliveries[0].id)
        for _ in range(8):  # past the five executions after which the plan is cached
            assert await check_claims(engine, [claim]) == [ClaimState(True, 0)]
        assert not await analyze_young_tables(engine)  # one row: nothing to learn yet
        assert "Seq Scan on deliveries" in await _check_plan(engine, claim.delivery_id)

        for start in range(1, 4001, 500):
            await accept_messages(engine, [sales_order(n) for n in range(start, start + 500)])
        # the writers' counts reach pg_stat within a second or so: the loop looks until then
        await asyncio.wait_for(analyze_young_tables_forever(engine), timeout=30)

        assert await check_claims(engine, [claim]) == [ClaimState(True, 0)]
        plan = await _check_plan(engine, claim.delivery_id)
        assert "Seq Scan" not in plan, plan
        assert "pk_deliveries" in plan, plan
        async with engine.connect() as conn:
            grown = (
                await conn.exec_driver_sql(
                    "SELECT count(*) FROM pg_class WHERE relname = ANY($1) AND reltuples >= 4000",
                    (list(BUSY_TABLES),),
                )
            ).scalar_one()
        assert grown == len(BUSY_TABLES)
        assert await analyze_young_tables(engine)  # done: the loop stops looking
    finally:
        await engine.dispose()


async def test_nothing_is_done_on_sqlite(tmp_path: Path) -> None:
    engine = create_engine(Settings(data_dir=tmp_path / "var"))
    try:
        await asyncio.wait_for(analyze_young_tables_forever(engine), timeout=1)
    finally:
        await engine.dispose()
