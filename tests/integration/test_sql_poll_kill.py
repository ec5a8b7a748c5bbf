"""SIGKILL the gateway while it takes rows of a staging table in, start it again, count.

1,200 rows wait in ``mes_completion`` (MariaDB or PostgreSQL). The gateway (a real
process, embedded or production) polls them in batches of 40 and is killed several
times while rows go in; each kill is noted with how many messages the store held and
how many rows were flagged at that moment: a kill that finds more messages than flagged
rows hit between accepting and writing back (a trigger makes each write-back take
0.2 s, as on a busy MES database, so most kills land there). It is killed at least three
times, each further into the table, and again (up to ten) until a kill has hit there.
After the last
restart every row must end with flag 2, the store must hold exactly one message per
row, and the target must have every row, a row sent twice only ever under the same
Idempotency-Key (at-least-once delivery: a kill loses the outcome of calls in flight).
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import distinct, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from esb.settings import Settings
from esb.store.tables import messages
from tests.integration.test_faults import FAST_RETRY, env_for
from tests.support.drops import eventually
from tests.support.gateway import write_config
from tests.support.mes_db import MesDatabase, drop_mes_database, make_mes_database
from tests.support.process import GatewayProcess
from tests.support.serving import free_port
from tests.support.target import TargetServer

pytestmark = pytest.mark.fault
ROWS = 1_200
MAX_KILLS = 10

INTERFACE = """
interfaces:
  production-report:
    source: mes
    message_type: production_report
    key: work_order
    retry: {{schedule: {retry}, jitter: 0}}
    inbound:
      - {{kind: sql-poll, url: "{db}", table: mes_completion, batch: 40, interval: 100ms}}
    targets:
      erp:
        connector: {{kind: rest, url: "{url}/api/production-receipts",
                     timeout: {{connect: 1s, total: 3s}}}}
"""
SYSTEMS = """
systems:
  mes: {description: MES}
  erp: {description: ERP}
"""


@pytest.fixture(params=["mariadb", "postgresql"])
async def big_table(request: pytest.FixtureRequest) -> Any:
    db = await make_mes_database(str(request.param), with_rows=False)
    start = datetime(2026, 11, 25, 8, 0)
    await db.insert(
        [
            {
                "work_order": f"WO-K-{n:05d}",
                "material_code": "100-2001",
                "qty_good": n % 97 + 0.125,
                "qty_scrap": 0,
                "line_code": f"L{n % 3 + 1}",
                "finished_at": start + timedelta(minutes=n),
                "operator_name": "张伟",
            }
            for n in range(1, ROWS + 1)
        ]
    )
    await slow_write_back(db)
    yield db
    await drop_mes_database(db)


async def slow_write_back(db: MesDatabase) -> None:
    """A busy MES database: every write-back takes about 0.2 s (a trigger sleeps), so the
    gateway spends most of its time between accepting a batch and flagging it: where a
    kill must find nothing lost and nothing doubled."""
    if db.kind == "postgresql":
        await db.execute(
            "CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN PERFORM pg_sleep(0.2); RETURN NULL; END $$"
        )
        await db.execute(
            "CREATE TRIGGER slow AFTER UPDATE ON mes_completion "
            "FOR EACH STATEMENT EXECUTE FUNCTION slow()"
        )
    else:  # row triggers only: 5 ms a row, 0.2 s a batch of 40
        await db.execute(
            "CREATE TRIGGER slow BEFORE UPDATE ON mes_completion "
            "FOR EACH ROW SET @slept = SLEEP(0.005)"
        )


async def store_counts(engine: AsyncEngine) -> tuple[int, int]:
    async with engine.connect() as conn:
        ours = messages.c.interface == "production-report"
        total = await conn.scalar(select(func.count()).where(ours))
        keys = await conn.scalar(
            select(func.count(distinct(messages.c.idempotency_key))).where(ours)
        )
    return int(total or 0), int(keys or 0)


async def test_sigkill_while_taking_rows_in_loses_none_and_doubles_none(
    big_table: MesDatabase, mode_settings: dict[str, Any], mode: str, target: TargetServer,
    tmp_path: Path,
) -> None:  # fmt: skip
    db = big_table
    interface = INTERFACE.format(retry=FAST_RETRY, db=db.url, url=target.url)
    config = write_config(tmp_path / "cfg", interface, SYSTEMS)
    gateway = GatewayProcess(env_for(mode_settings, config), free_port(), tmp_path / "gw.log")
    engine = create_async_engine(Settings(config=config, **mode_settings).effective_database_url)
    kills: list[dict[str, int]] = []
    try:
        gateway.start()
        await gateway.wait_ready()
        for step in range(1, MAX_KILLS + 1):
            floor = step * ROWS // (MAX_KILLS + 2)

            async def going_in(floor: int = floor) -> bool:
                return (await store_counts(engine))[0] >= floor

            await eventually(going_in, timeout=90, what=f"{floor} rows going in")
            gateway.kill()
            stored, _ = await store_counts(engine)
            flagged = await db.count("sync_flag <> 0")
            kills.append({"messages": stored, "flagged": flagged, "gap": stored - flagged})
            gateway.start()
            await gateway.wait_ready()
            if stored >= ROWS or (len(kills) >= 3 and any(k["gap"] > 0 for k in kills)):
                break

        async def all_delivered() -> bool:
            return await db.count("sync_flag = 2") == ROWS

        await eventually(all_delivered, timeout=180, what="every row flagged 2")
        await asyncio.sleep(0.5)  # a late duplicate, if any, arrives before counting
        total, keys = await store_counts(engine)
    finally:
        gateway.stop()
        await engine.dispose()

    copies = Counter(body["id"] for body in target.bodies())
    keys_by_row: dict[int, set[str]] = defaultdict(set)
    for received in target.received:
        keys_by_row[received.json()["id"]].add(received.headers["idempotency-key"])
    summary = {
        "rows": ROWS,
        "kills": kills,
        "messages": total,
        "distinct_keys": keys,
        "delivered_unique": len(copies),
        "delivered_duplicates": sum(n - 1 for n in copies.values()),
    }
    print(f"\nFAULT sql-poll SIGKILL ({db.kind}, {mode}): {summary}")  # for the closing note
    assert total == keys == ROWS  # one message per row: none lost, none doubled
    assert len(copies) == ROWS
    assert all(len(k) == 1 for k in keys_by_row.values())  # a resend carries the same key
    assert 0 < kills[0]["messages"] < ROWS  # the first kill hit mid-table
    assert any(kill["gap"] > 0 for kill in kills)  # one hit between accepting and flagging
