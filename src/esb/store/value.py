"""What the deliveries did for the factory over a span of time, and the daily rollup of it.

A message is *moved* when every one of its deliveries is delivered; it counts at the
moment its last target got it, so a span's figures never change once the span is past
(a delivered delivery stays delivered). That lets a background job add each day to
``value_days`` and ``value_latency`` once, a chunk at a time, and a month's report read
about 30 rows per interface instead of millions of deliveries: only the minutes since
the rollup's mark (``value_rollup.rolled_to``) are counted from the deliveries.

The median end-to-end time is kept as a histogram: each message's time, rounded down to
three significant figures of a millisecond (whole milliseconds below one second), and
the number of messages with it. Histograms add up over days and interfaces, so the
month's median is exact for the rounded times.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    and_,
    case,
    cast,
    exists,
    func,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from esb.status import DeliveryStatus
from esb.store.engine import transaction, translated, utcnow
from esb.store.refusals import refused_between
from esb.store.tables import audit_log, deliveries, value_days, value_latency, value_rollup

#: The ``value_rollup`` row of the delivery figures.
ROLLUP = "deliveries"
#: Operator actions after which a delivery counts as fixed by an operator.
FIXING_ACTIONS = ("replay", "correct")
#: The histogram's steps: 1 ms below 1 s, 10 ms below 10 s, ... (three figures).
_STEPS: list[int] = [10**n for n in range(10)]


@dataclass
class Figures:
    """One interface's figures over a span: counts and the end-to-end histogram."""

    moved: int = 0
    retried: int = 0
    fixed: int = 0
    latency: Counter[int] = field(default_factory=Counter)

    def add(self, other: Figures) -> None:
        self.moved += other.moved
        self.retried += other.retried
        self.fixed += other.fixed
        self.latency.update(other.latency)


def bucket(ms: float) -> int:
    """An end-to-end time rounded down to three significant figures (whole ms below 1 s):
    the same arithmetic as the SQL of ``_bucket``."""
    if ms < 0:
        return 0
    step = next((s for s in _STEPS if ms < 1000 * s), _STEPS[-1])
    return math.floor(ms / step) * step


def _floor(conn: AsyncConnection, value: Any) -> Any:
    if conn.dialect.name == "postgresql":
        return cast(func.floor(value), BigInteger)
    return cast(value, Integer)  # SQLite: truncates, the floor of a value >= 0


def _bucket(conn: AsyncConnection, ms: Any) -> ColumnElement[Any]:
    whens: list[tuple[Any, Any]] = [(ms < 0.0, 0)]
    whens += [(ms < 1000.0 * s, _floor(conn, ms / float(s)) * s) for s in _STEPS]
    last = _STEPS[-1]
    return case(*whens, else_=_floor(conn, ms / float(last)) * last)


async def _moved(
    conn: AsyncConnection, since: datetime, until: datetime, found: dict[str, Figures]
) -> None:
    """Messages whose last delivery landed in [since, until), by interface and bucket."""
    d = deliveries.c
    landed = select(d.message_id).where(d.delivered_at >= since, d.delivered_at < until)
    last = func.max(d.delivered_at)
    undelivered = func.sum(case((d.status == DeliveryStatus.DELIVERED, 0), else_=1))
    messages = (
        select(func.min(d.interface).label("interface"), func.max(d.end_to_end_ms).label("ms"))
        .where(d.message_id.in_(landed))
        .group_by(d.message_id)
        .having(and_(undelivered == 0, last >= since, last < until))
        .subquery()
    )
    ms = _bucket(conn, messages.c.ms).label("bucket")
    query = select(messages.c.interface, ms, func.count()).group_by(messages.c.interface, ms)
    for interface, at, n in await conn.execute(query):
        figures = found[interface]
        figures.moved += n
        if at is not None:
            figures.latency[int(at)] += n


async def _saved(
    conn: AsyncConnection, since: datetime, until: datetime, found: dict[str, Figures]
) -> None:
    """Deliveries that landed in [since, until) after more than one attempt: after an
    operator's replay or correction (fixed), or by the retries alone (retried)."""
    d, a = deliveries.c, audit_log.c
    by_operator = exists().where(a.delivery_id == d.id, a.action.in_(FIXING_ACTIONS))
    again = d.attempts > 1
    query = (
        select(
            d.interface,
            func.sum(case((again, case((by_operator, 1), else_=0)), else_=0)),
            func.sum(case((again, case((by_operator, 0), else_=1)), else_=0)),
        )
        .where(d.delivered_at >= since, d.delivered_at < until)
        .group_by(d.interface)
    )
    for interface, fixed, retried in await conn.execute(query):
        found[interface].fixed += int(fixed or 0)
        found[interface].retried += int(retried or 0)


async def _plans_for_these_values(conn: AsyncConnection) -> None:
    """PostgreSQL: plan each statement of this transaction for its own time range.

    The same statements count a day in the rollup and a few minutes in the report; after
    five runs on one connection PostgreSQL may keep a generic plan made for neither (a
    report took 300 ms instead of 12 on 10 million deliveries, right after a rollup)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


async def tally(conn: AsyncConnection, since: datetime, until: datetime) -> dict[str, Figures]:
    """Every interface's figures for what landed in [since, until), from the deliveries."""
    found: dict[str, Figures] = defaultdict(Figures)
    if since < until:
        await _plans_for_these_values(conn)
        await _moved(conn, since, until, found)
        await _saved(conn, since, until, found)
    return found


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """The instant the factory's ``day`` begins."""
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


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
