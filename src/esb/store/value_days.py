"""The value report's daily rows: the rollup that keeps them, and a month read from them.

A background job (``esb.value_rollup``) adds what landed up to a few minutes ago to
``value_days`` and ``value_latency``, a chunk at a time (never more than one factory
day), and moves the mark (``value_rollup.rolled_to``) in the same transaction. A month's
report reads about 30 rows per interface, and counts from the deliveries only what
landed after the mark (``store.value.tally``), both in one snapshot.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from esb.store.engine import transaction, translated, utcnow
from esb.store.refusals import refused_between
from esb.store.tables import deliveries, value_days, value_latency, value_rollup
from esb.store.value import Figures, day_start, tally

#: The ``value_rollup`` row of the delivery figures.
ROLLUP = "deliveries"


@dataclass(frozen=True)
class Mark:
    """How far the rollup went, in which zone its days are."""

    rolled_to: datetime
    time_zone: str


async def read_mark(conn: AsyncConnection, *, lock: bool = False) -> Mark | None:
    query = select(value_rollup.c.rolled_to, value_rollup.c.time_zone).where(
        value_rollup.c.name == ROLLUP
    )
    row = (await conn.execute(query.with_for_update() if lock else query)).first()
    return None if row is None else Mark(row.rolled_to, row.time_zone)


def _upsert(conn: AsyncConnection, table: Any, keys: list[str], sums: list[str]) -> Any:
    """Insert rows, or add their figures to the rows already there."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table)
    return statement.on_conflict_do_update(
        index_elements=keys,
        set_={c: table.c[c] + statement.excluded[c] for c in sums},
    )


async def _add_day(conn: AsyncConnection, day: date, figures: dict[str, Figures]) -> None:
    counts = [
        {"interface": i, "day": day, "moved": f.moved, "retried": f.retried, "fixed": f.fixed}
        for i, f in sorted(figures.items())
    ]
    latency = [
        {"interface": i, "day": day, "bucket_ms": b, "messages": n}
        for i, f in sorted(figures.items())
        for b, n in sorted(f.latency.items())
    ]
    if counts:
        sums = ["moved", "retried", "fixed"]
        await conn.execute(_upsert(conn, value_days, ["interface", "day"], sums), counts)
    if latency:
        keys = ["interface", "day", "bucket_ms"]
        await conn.execute(_upsert(conn, value_latency, keys, ["messages"]), latency)


async def _start_over(conn: AsyncConnection, zone: ZoneInfo, now: datetime) -> None:
    """No rollup yet, or its days are in another zone: forget it and begin again at the
    first day anything was delivered (today if nothing was)."""
    await conn.execute(value_days.delete())
    await conn.execute(value_latency.delete())
    await conn.execute(value_rollup.delete().where(value_rollup.c.name == ROLLUP))
    first = await conn.scalar(select(func.min(deliveries.c.delivered_at)))
    begin = day_start((first or now).astimezone(zone).date(), zone)
    await conn.execute(
        value_rollup.insert().values(
            name=ROLLUP, rolled_to=begin, time_zone=zone.key, updated_at=now
        )
    )


async def roll_up_chunk(engine: AsyncEngine, zone: ZoneInfo, until: datetime) -> bool:
    """Add the next chunk before ``until`` (at most the rest of one factory day) to the
    daily rows and move the mark, in one transaction; False when there was nothing left."""
    now = utcnow()
    async with transaction(engine) as conn:
        mark = await read_mark(conn, lock=True)
        if mark is None or mark.time_zone != zone.key:
            await _start_over(conn, zone, now)
            mark = await read_mark(conn, lock=True)
            assert mark is not None
        if mark.rolled_to >= until:
            return False
        day = mark.rolled_to.astimezone(zone).date()
        end = min(until, day_start(day + timedelta(days=1), zone))
        await _add_day(conn, day, await tally(conn, mark.rolled_to, end))
        await conn.execute(
            value_rollup.update()
            .where(value_rollup.c.name == ROLLUP)
            .values(rolled_to=end, updated_at=now)
        )
    return True


async def roll_up(engine: AsyncEngine, zone: ZoneInfo, until: datetime, chunks: int = 62) -> int:
    """Roll up what landed before ``until``, at most ``chunks`` chunks (about a day each):
    how many were added. The job calls it every minute with ``until`` a margin ago."""
    done = 0
    while done < chunks and await roll_up_chunk(engine, zone, until):
        done += 1
    return done


@asynccontextmanager
async def snapshot(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A transaction whose statements all see the database as of its first: the mark and
    the rows it covers are read together even while the rollup moves on."""
    if engine.dialect.name != "postgresql":
        async with transaction(engine) as conn:  # SQLite: a transaction is a snapshot
            yield conn
        return
    with translated():
        async with engine.connect() as plain:
            conn = await plain.execution_options(isolation_level="REPEATABLE READ")
            async with conn.begin():
                yield conn


async def rolled_days(conn: AsyncConnection, first: date, last: date) -> dict[str, Figures]:
    """The rolled-up figures of days ``first`` to ``last`` (both included), by interface."""
    found: dict[str, Figures] = defaultdict(Figures)
    v, lat = value_days.c, value_latency.c
    counts = (
        select(v.interface, func.sum(v.moved), func.sum(v.retried), func.sum(v.fixed))
        .where(v.day >= first, v.day <= last)
        .group_by(v.interface)
    )
    for interface, moved, retried, fixed in await conn.execute(counts):
        found[interface].add(Figures(int(moved), int(retried), int(fixed)))
    buckets = (
        select(lat.interface, lat.bucket_ms, func.sum(lat.messages))
        .where(lat.day >= first, lat.day <= last)
        .group_by(lat.interface, lat.bucket_ms)
    )
    for interface, at, n in await conn.execute(buckets):
        found[interface].latency[int(at)] += int(n)
    return found


async def figures_between(
    engine: AsyncEngine, zone: ZoneInfo, first: date, last: date
) -> tuple[dict[str, Figures], dict[str, Counter[str]]]:
    """Per interface, the figures of the factory's days ``first`` to ``last``: the rolled-up
    days, and the deliveries since the rollup's mark; and the refusals by field."""
    since, until = day_start(first, zone), day_start(last + timedelta(days=1), zone)
    async with snapshot(engine) as conn:
        mark = await read_mark(conn)
        rolled_to = mark.rolled_to if mark is not None and mark.time_zone == zone.key else None
        found: dict[str, Figures] = defaultdict(Figures)
        if rolled_to is not None and rolled_to > since:
            found.update(await rolled_days(conn, first, last))
        live = await tally(conn, max(since, rolled_to or since), until)
        for interface, figures in live.items():
            found[interface].add(figures)
        return found, await refused_between(conn, first, last)
