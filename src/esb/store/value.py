"""What the deliveries did for the factory over a span of time: the value report's counts.

A message is *moved* when every one of its deliveries is delivered; it counts at the
moment its last target got it, so a span's figures never change once the span is past
(a delivered delivery stays delivered). That lets ``store.value_days`` add each day to
daily rows once and the report count only the minutes since from the deliveries.

The median end-to-end time is kept as a histogram: each message's time, rounded down to
three significant figures of a millisecond (whole milliseconds below one second), and
the number of messages with it. Histograms add up over days and interfaces, so the
month's median is exact for the rounded times.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
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
from sqlalchemy.ext.asyncio import AsyncConnection

from esb.status import DeliveryStatus
from esb.store.tables import audit_log, deliveries

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
