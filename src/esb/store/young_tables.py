"""PostgreSQL: the busiest tables of a new database analyzed as soon as they hold rows.

The driver prepares each statement once per connection, and after five executions
PostgreSQL may keep a generic plan costed on the table as its statistics describe it.
On a new database those statistics say "empty", so the plan chosen in the first seconds
reads the whole ``deliveries`` table, or walks its ``status`` index, to find one
delivery by its id, and keeps doing so while the table grows, until autovacuum's first
ANALYZE (a minute or more later, its ``autovacuum_naptime``). An ANALYZE invalidates the
cached plans of every connection, so one ANALYZE of the grown table is enough; after
that autovacuum keeps the statistics as usual. A table analyzed while empty (by hand, or
a restored schema) is treated the same way. Nothing to do on SQLite, which has no plan
cache of this kind.
"""

from __future__ import annotations

import asyncio

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from esb.errors import StoreUnavailable
from esb.store.engine import statements

log = structlog.get_logger(__name__)

#: The tables read and updated by id for every message (accept, relay, worker); the
#: attempts are only inserted on that path, and ordering's heads stay small.
BUSY_TABLES = ("messages", "deliveries", "outbox")
#: Statistics describing fewer rows than this are a new table's: once that many rows
#: changed since, the table is analyzed (within a second at full load).
MIN_ROWS = 1000
#: How often a process looks, until every busy table's statistics describe this many rows.
LOOK_EVERY_S = 2.0

_YOUNG = text(
    "SELECT s.relname, c.reltuples, s.n_mod_since_analyze "
    "FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid "
    "WHERE s.schemaname = current_schema() AND s.relname = ANY(:tables)"
)


async def analyze_young_tables(engine: AsyncEngine, min_rows: int = MIN_ROWS) -> bool:
    """ANALYZE each busy table whose statistics describe fewer than ``min_rows`` rows
    (never analyzed: -1; analyzed empty: 0) and that has ``min_rows`` changed rows since;
    True once every busy table's statistics describe a grown table: nothing left to do."""
    async with statements(engine) as conn:
        rows = (await conn.execute(_YOUNG, {"tables": list(BUSY_TABLES)})).all()
        young = [
            r.relname for r in rows if r.reltuples < min_rows and r.n_mod_since_analyze >= min_rows
        ]
        for name in young:
            await conn.execute(text(f'ANALYZE "{name}"'))  # a name of BUSY_TABLES
    if young:
        log.info("young tables analyzed", tables=young)
    return all(r.reltuples >= min_rows or r.relname in young for r in rows)


async def analyze_young_tables_forever(engine: AsyncEngine) -> None:
    """Look every ``LOOK_EVERY_S`` until every busy table has grown statistics."""
    if engine.dialect.name != "postgresql":
        return
    while True:
        try:
            if await analyze_young_tables(engine):
                return
        except StoreUnavailable:  # the database is away: look again
            pass
        except Exception:  # only an early start for autovacuum: never worth a failing process
            log.exception("young tables not analyzed; autovacuum will")
            return
        await asyncio.sleep(LOOK_EVERY_S)
