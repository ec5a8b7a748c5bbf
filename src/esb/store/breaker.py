"""The circuit breaker's row per system, shared by every process (flow control).

``closed`` -> ``open`` after failures; after the cool-down the first delivery to flip it
to ``half_open`` is the probe, and only the probe's outcome closes or reopens it. Each
change is one conditional ``UPDATE``, so exactly one process makes it (and records the
event). Times are epoch seconds, as in ``esb.store.flow``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from esb.status import AttemptOutcome
from esb.store.tables import attempts, flow_events, flow_state

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


@dataclass(frozen=True)
class Breaker:
    state: str
    failures: int
    reopen_at: float | None
    probe_until: float | None


async def breaker(conn: AsyncConnection, system: str) -> Breaker:
    s = flow_state.c
    row = (
        await conn.execute(
            select(s.breaker, s.failures, s.reopen_at, s.probe_until).where(s.system == system)
        )
    ).first()
    if row is None:
        return Breaker(CLOSED, 0, None, None)
    return Breaker(row.breaker, row.failures, row.reopen_at, row.probe_until)


async def take_probe(
    conn: AsyncConnection, system: str, lease: str, now: float, until: float
) -> bool:
    """Become the one probe call: the cool-down is over, or the last prober's lease ran out."""
    s = flow_state.c
    ready = or_(
        and_(s.breaker == OPEN, s.reopen_at <= now),
        and_(s.breaker == HALF_OPEN, s.probe_until < now),
    )
    result = await conn.execute(
        update(flow_state)
        .where(s.system == system, ready)
        .values(breaker=HALF_OPEN, probe_owner=lease, probe_until=until)
    )
    return bool(result.rowcount)


async def record_success(conn: AsyncConnection, system: str, lease: str, now: datetime) -> bool:
    """The system answered: the count of failures restarts; the probe's success closes the
    breaker (True when it did)."""
    s = flow_state.c
    closed = await conn.execute(
        update(flow_state)
        .where(s.system == system, s.breaker == HALF_OPEN, s.probe_owner == lease)
        .values(breaker=CLOSED, failures=0, reopen_at=None, probe_owner=None, probe_until=None)
        .values(changed_at=now)
    )
    if closed.rowcount:
        return True
    await conn.execute(
        update(flow_state).where(s.system == system, s.failures > 0).values(failures=0)
    )
    return False


async def record_failure(conn: AsyncConnection, system: str, lease: str, reopen_at: float) -> int:
    """One more consecutive failure (returned); a failed probe opens the breaker again."""
    s = flow_state.c
    await conn.execute(
        update(flow_state)
        .where(s.system == system, s.breaker == HALF_OPEN, s.probe_owner == lease)
        .values(breaker=OPEN, reopen_at=reopen_at, probe_owner=None, probe_until=None)
    )
    failures = await conn.scalar(
        update(flow_state)
        .where(s.system == system)
        .values(failures=s.failures + 1)
        .returning(s.failures)
    )
    return int(failures or 0)


async def open_breaker(
    conn: AsyncConnection, system: str, reopen_at: float, now: datetime, why: str
) -> bool:
    """Closed -> open (True if this call did it: one event, whichever process sees it first)."""
    s = flow_state.c
    opened = await conn.execute(
        update(flow_state)
        .where(s.system == system, s.breaker == CLOSED)
        .values(breaker=OPEN, reopen_at=reopen_at, changed_at=now)
    )
    if opened.rowcount:
        await event(conn, system, "breaker_opened", now, why)
    return bool(opened.rowcount)


async def event(conn: AsyncConnection, system: str, kind: str, now: datetime, detail: str) -> None:
    """An alert event (``detail``: JSON with the reason in English and Chinese)."""
    row = {"system": system, "event": kind, "at": now, "detail": detail}
    await conn.execute(flow_events.insert().values(**row))


async def failure_ratio(
    conn: AsyncConnection, pairs: Sequence[tuple[str, str]], since: datetime
) -> tuple[int, int]:
    """(calls, transient failures) recorded for these interface/target pairs since ``since``."""
    a = attempts.c
    which = or_(*(and_(a.interface == i, a.target == t) for i, t in pairs))
    failed = func.sum(case((a.outcome == AttemptOutcome.RETRY, 1), else_=0))
    row = (
        await conn.execute(select(func.count(), failed).where(a.started_at >= since, which))
    ).one()
    return int(row[0]), int(row[1] or 0)
