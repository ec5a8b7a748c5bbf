"""PostgreSQL: the busiest tables of a new database analyzed as soon as they hold rows.

The driver prepares each statement once per connection, and after five executions
PostgreSQL may keep a generic plan costed on the table as its statistics describe it.
On a new database those statistics say "empty", so the plan chosen in the first seconds
reads the whole ``deliveries`` table, or walks its ``status`` index, to find one
delivery by its id, and keeps doing so while the table grows, until autovacuum's first
ANALYZE (a minute or more later, its ``autovacuum_naptime``). An ANALYZE invalidates the
cached plans of every connection, so one early ANALYZE is enough; after that autovacuum
keeps the statistics as usual. Nothing to do on SQLite, which has no plan cache of this kind.
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
#: Rows written since creation before a never-analyzed table is analyzed: enough for the
#: statistics to describe a table that is no longer empty, within a second at full load.
MIN_ROWS = 1000
#: How often a process looks, until every busy table has been analyzed once.
LOOK_EVERY_S = 2.0

_YOUNG = text(
    "SELECT relname, last_analyze IS NULL AND last_autoanalyze IS NULL AS never, "
    "n_mod_since_analyze FROM pg_stat_user_tables "
    "WHERE schemaname = current_schema() AND relname = ANY(:tables)"
)


async def analyze_young_tables(engine: AsyncEngine, min_rows: int = MIN_ROWS) -> bool:
    """ANALYZE each busy table never analyzed that has ``min_rows`` new rows; True once
    every busy table has been analyzed (by this or by autovacuum): nothing left to do."""
    async with statements(engine) as conn:
        rows = (await conn.execute(_YOUNG, {"tables": list(BUSY_TABLES)})).all()
        young = [r.relname for r in rows if r.never and r.n_mod_since_analyze >= min_rows]
        for name in young:
            await conn.execute(text(f'ANALYZE "{name}"'))  # a name of BUSY_TABLES
    if young:
        log.info("young tables analyzed", tables=young)
    return not [r.relname for r in rows if r.never and r.relname not in young]


async def analyze_young_tables_forever(engine: AsyncEngine) -> None:
    """Look every ``LOOK_EVERY_S`` until every busy table has been analyzed once."""
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
