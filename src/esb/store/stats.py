"""The health report's numbers, computed in the database over one time window.

Every figure is an aggregate query (indexes on the window's time column); on
PostgreSQL the percentiles are ``percentile_cont`` in SQL, so the gateway never
pulls a window's rows. SQLite (embedded, small) sends the values and Python
computes the same percentile_cont.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, select
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from esb.status import AttemptOutcome, DeliveryStatus
from esb.store.engine import transaction
from esb.store.ordering import blocked_counts, parked_blockers
from esb.store.tables import attempts, deliveries

Pair = tuple[str, str]
QUANTILES = (0.5, 0.95, 0.99)


def percentile(sorted_values: Sequence[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (PostgreSQL's percentile_cont)."""
    if not sorted_values:
        return None
    rank = (len(sorted_values) - 1) * q
    low, high = math.floor(rank), math.ceil(rank)
    if low == high:
        return float(sorted_values[low])
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (rank - low)


@dataclass
class Latency:
    p50: float | None = None
    p95: float | None = None
    p99: float | None = None
    max: float | None = None

    def as_dict(self) -> dict[str, float | None]:
        return {
            "p50": _ms(self.p50),
            "p95": _ms(self.p95),
            "p99": _ms(self.p99),
            "max": _ms(self.max),
        }


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


#: Parked heads listed in the report (those holding back the most first).
BLOCKERS_LISTED = 1000
BLOCKERS_PER_PAIR = 20


@dataclass
class PairStats:
    received: int = 0
    delivered: int = 0
    on_time: int = 0
    attempts: int = 0
    successes: int = 0
    trailing_failures: int = 0
    parked: int = 0
    pending: int = 0
    overdue: int = 0
    oldest_pending: datetime | None = None
    attempt_latency: Latency = field(default_factory=Latency)
    end_to_end: Latency = field(default_factory=Latency)
    last_error: dict[str, Any] | None = None
    blocked: int = 0  # pending behind the head of their key (ordering: key)
    blocked_by_parked: list[dict[str, Any]] = field(default_factory=list)


def _quantiles(conn: AsyncConnection, column: Any) -> Sequence[Any]:
    if conn.dialect.name == "postgresql":
        return [func.percentile_cont(array(list(QUANTILES))).within_group(column), func.max(column)]
    return []


def _latency(row: Any, offset: int, values: list[float] | None) -> Latency:
    if values is not None:
        values.sort()
        qs = [percentile(values, q) for q in QUANTILES]
        return Latency(qs[0], qs[1], qs[2], max=values[-1] if values else None)
    qs = row[offset] or [None, None, None]
    return Latency(qs[0], qs[1], qs[2], max=row[offset + 1])


async def _values(conn: AsyncConnection, column: Any, where: Any, pair: Pair) -> list[float]:
    table = column.table
    query = select(column).where(where, table.c.interface == pair[0], table.c.target == pair[1])
    return [v for (v,) in await conn.execute(query) if v is not None]


def _deadline_case(deadlines: Mapping[Pair, float]) -> ColumnElement[Any]:
    """1 for a delivery that made its target's deadline (ms), else 0."""
    d = deliveries.c
    whens = [
        (and_(d.interface == i, d.target == t, d.end_to_end_ms <= seconds * 1000.0), 1)
        for (i, t), seconds in deadlines.items()
    ]
    return case(*whens, else_=0) if whens else literal(0)


async def _deliveries(
    conn: AsyncConnection,
    since: datetime,
    deadlines: Mapping[Pair, float],
    stats: dict[Pair, PairStats],
) -> None:
    d = deliveries.c
    for i, t, n in await conn.execute(
        select(d.interface, d.target, func.count())
        .where(d.created_at >= since)
        .group_by(d.interface, d.target)
    ):
        stats[(i, t)].received = n
    window = d.delivered_at >= since
    query = select(
        d.interface,
        d.target,
        func.count(),
        func.sum(_deadline_case(deadlines)),
        *_quantiles(conn, d.end_to_end_ms),
    ).where(window)
    for row in await conn.execute(query.group_by(d.interface, d.target)):
        s = stats[(row[0], row[1])]
        s.delivered, s.on_time = row[2], int(row[3] or 0)
        pg = conn.dialect.name == "postgresql"
        values = None if pg else await _values(conn, d.end_to_end_ms, window, (row[0], row[1]))
        s.end_to_end = _latency(row, 4, values)


async def _attempts(conn: AsyncConnection, since: datetime, stats: dict[Pair, PairStats]) -> None:
    a = attempts.c
    window = a.started_at >= since
    ok = a.outcome == AttemptOutcome.DELIVERED
    query = select(
        a.interface,
        a.target,
        func.count(),
        func.count().filter(ok),
        *_quantiles(conn, a.duration_ms),
    ).where(window)
    for row in await conn.execute(query.group_by(a.interface, a.target)):
        s = stats[(row[0], row[1])]
        s.attempts, s.successes = row[2], row[3]
        pg = conn.dialect.name == "postgresql"
        values = None if pg else await _values(conn, a.duration_ms, window, (row[0], row[1]))
        s.attempt_latency = _latency(row, 4, values)
    await _failures(conn, window, stats)


async def _failures(conn: AsyncConnection, window: Any, stats: dict[Pair, PairStats]) -> None:
    """The last error, and how many attempts failed since the last success."""
    a = attempts.c
    last_ok = (
        select(a.interface, a.target, func.max(a.id).label("id"))
        .where(window, a.outcome == AttemptOutcome.DELIVERED)
        .group_by(a.interface, a.target)
        .subquery()
    )
    failed = and_(window, a.outcome != AttemptOutcome.DELIVERED)
    query = (
        select(a.interface, a.target, func.count(), func.max(a.id))
        .outerjoin(last_ok, and_(last_ok.c.interface == a.interface, last_ok.c.target == a.target))
        .where(failed, a.id > func.coalesce(last_ok.c.id, 0))
        .group_by(a.interface, a.target)
    )
    for i, t, n, _ in await conn.execute(query):
        stats[(i, t)].trailing_failures = n
    newest = select(func.max(a.id)).where(failed).group_by(a.interface, a.target)
    for i, t, at, error in await conn.execute(
        select(a.interface, a.target, a.started_at, a.error).where(a.id.in_(newest))
    ):
        stats[(i, t)].last_error = {"at": at.isoformat(), "error": error}


async def _backlog(
    conn: AsyncConnection,
    now: datetime,
    deadlines: Mapping[Pair, float],
    stats: dict[Pair, PairStats],
) -> None:
    d = deliveries.c
    for i, t, status, n, oldest in await conn.execute(
        select(d.interface, d.target, d.status, func.count(), func.min(d.created_at))
        .where(d.status.in_([DeliveryStatus.PENDING, DeliveryStatus.PARKED]))
        .group_by(d.interface, d.target, d.status)
    ):
        if status == DeliveryStatus.PENDING:
            stats[(i, t)].pending, stats[(i, t)].oldest_pending = n, oldest
        else:
            stats[(i, t)].parked = n
    waiting = d.status.in_([DeliveryStatus.PENDING, DeliveryStatus.PARKED])
    for (i, t), seconds in deadlines.items():
        late = select(func.count()).where(
            d.interface == i,
            d.target == t,
            waiting,
            d.created_at < now - timedelta(seconds=seconds),
        )
        stats[(i, t)].overdue = int(await conn.scalar(late) or 0)
    for pair, n in (await blocked_counts(conn)).items():
        stats[pair].blocked = n
    for head in await parked_blockers(conn, limit=BLOCKERS_LISTED):
        listed = stats[(head.pop("interface"), head.pop("target"))].blocked_by_parked
        if len(listed) < BLOCKERS_PER_PAIR:
            listed.append(head)


async def collect(
    engine: AsyncEngine, since: datetime, now: datetime, deadlines: Mapping[Pair, float]
) -> dict[Pair, PairStats]:
    """Every pair's figures for the window [since, now] (backlog: as of now)."""
    stats: dict[Pair, PairStats] = defaultdict(PairStats)
    async with transaction(engine) as conn:
        await _deliveries(conn, since, deadlines, stats)
        await _attempts(conn, since, stats)
        await _backlog(conn, now, deadlines, stats)
    return stats
