"""Flow control state shared by every process: in-flight leases, the rate, the breaker.

Every row is changed by one conditional ``UPDATE`` (a lease is taken only while free
or expired, a probe only while the breaker waits for one), so processes never need a
lock of their own. Times are epoch seconds: the same arithmetic on both databases.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import and_, case, delete, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from esb.status import AttemptOutcome, DeliveryStatus, OutboxStatus
from esb.store.tables import (
    attempts,
    deliveries,
    flow_deferrals,
    flow_events,
    flow_slots,
    flow_state,
    outbox,
)

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


def _insert(conn: AsyncConnection) -> Any:
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert


async def ensure_rows(conn: AsyncConnection, system: str, slots: int) -> None:
    """The system's state row and its ``slots`` lease rows, created once by whoever is first."""
    insert = _insert(conn)
    await conn.execute(
        insert(flow_state)
        .values(system=system, breaker=CLOSED, failures=0)
        .on_conflict_do_nothing()
    )
    if slots:
        rows = [{"system": system, "slot": n} for n in range(slots)]
        await conn.execute(insert(flow_slots).on_conflict_do_nothing(), rows)


async def forget_deferral(conn: AsyncConnection, delivery_id: UUID) -> str | None:
    """The delivery is back at the gate: drop its deferral; the reason it waited, if it did."""
    reason = await conn.scalar(
        delete(flow_deferrals)
        .where(flow_deferrals.c.delivery_id == delivery_id)
        .returning(flow_deferrals.c.reason)
    )
    return None if reason is None else str(reason)


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


_FREE_SLOT = """
UPDATE flow_slots SET lease = :lease, owner = :owner, expires_at = :until
WHERE system = :system AND (lease IS NULL OR expires_at < :now) AND slot = (
    SELECT slot FROM flow_slots
    WHERE system = :system AND slot < :cap AND (lease IS NULL OR expires_at < :now)
    ORDER BY slot LIMIT 1 {lock}
) RETURNING slot
"""
_SLOT_PG = text(_FREE_SLOT.format(lock="FOR UPDATE SKIP LOCKED"))
_SLOT_SQLITE = text(_FREE_SLOT.format(lock=""))


async def take_slot(
    conn: AsyncConnection,
    system: str,
    cap: int,
    lease: str,
    owner: str,
    now: float,
    until: float,
) -> int | None:
    """A free (or expired) in-flight slot below ``cap``, leased until ``until``; None: all busy."""
    statement = _SLOT_PG if conn.dialect.name == "postgresql" else _SLOT_SQLITE
    params = {"lease": lease, "owner": owner, "until": until, "system": system}
    row = (await conn.execute(statement, {**params, "now": now, "cap": cap})).first()
    return None if row is None else int(row.slot)


_RESERVE = """
UPDATE flow_state SET rate_tat = {max}(COALESCE(rate_tat, 0), :now) + :step
WHERE system = :system AND COALESCE(rate_tat, 0) <= :now + :ahead RETURNING rate_tat
"""
_QUEUE = """
UPDATE flow_state
SET rate_queue = {max}(COALESCE(rate_queue, 0), COALESCE(rate_tat, 0) - :ahead, :now) + :step
WHERE system = :system RETURNING rate_queue
"""


def _typed(sql: str) -> str:
    """Numbers bound as double precision: PostgreSQL cannot guess the type of ``$1 + $2``."""
    for name in ("now", "step", "ahead"):
        sql = sql.replace(f":{name}", f"CAST(:{name} AS DOUBLE PRECISION)")
    return sql


_RATE = {
    dialect: (text(_typed(_RESERVE.format(max=name))), text(_typed(_QUEUE.format(max=name))))
    for dialect, name in (("postgresql", "GREATEST"), ("sqlite", "MAX"))
}


@dataclass(frozen=True)
class Turn:
    """The rate's answer: call at ``at`` (soon: within ``ahead``), or ask again at ``retry``."""

    at: float | None
    retry: float | None


async def spend_rate(
    conn: AsyncConnection, system: str, now: float, step: float, ahead: float
) -> Turn:
    """GCRA without burst, one ``step`` between calls: a call is given the next free time
    if it is at most ``ahead`` away (one UPDATE); otherwise a turn to ask again, one step
    behind the others already waiting, so that they do not all come back at once."""
    reserve, line_up = _RATE[conn.dialect.name]
    params = {"system": system, "now": now, "step": step, "ahead": ahead}
    tat = await conn.scalar(reserve, params)
    if tat is not None:
        return Turn(at=float(tat) - step, retry=None)
    return Turn(at=None, retry=float(await conn.scalar(line_up, params)) - step)


async def release(
    conn: AsyncConnection, system: str, slot: int | None, lease: str, probe: bool
) -> None:
    """Give back a slot; a probe that ends without an outcome lets the next one try at once."""
    if slot is not None:
        c = flow_slots.c
        await conn.execute(
            update(flow_slots)
            .where(c.system == system, c.slot == slot, c.lease == lease)
            .values(lease=None, owner=None, expires_at=None)
        )
    if probe:
        s = flow_state.c
        await conn.execute(
            update(flow_state)
            .where(s.system == system, s.breaker == HALF_OPEN, s.probe_owner == lease)
            .values(probe_until=0.0)
        )


async def renew(conn: AsyncConnection, leases: Sequence[str], until: float) -> None:
    """Extend the leases this process still holds (its calls are still running)."""
    if leases:
        await conn.execute(
            update(flow_slots).where(flow_slots.c.lease.in_(leases)).values(expires_at=until)
        )
        await conn.execute(
            update(flow_state)
            .where(flow_state.c.probe_owner.in_(leases), flow_state.c.breaker == HALF_OPEN)
            .values(probe_until=until)
        )


async def defer(
    conn: AsyncConnection,
    *,
    delivery_id: UUID,
    system: str,
    reason: str,
    until: datetime,
    outbox_id: int | None,
    now: datetime,
) -> None:
    """Put the delivery back until ``until``, with no attempt: the claimed outbox row itself
    (embedded) or a new one (the broker message is acknowledged after this commits)."""
    await conn.execute(
        flow_deferrals.insert().values(
            delivery_id=delivery_id,
            system=system,
            reason=reason,
            until=until,
            deferred_at=now,
        )
    )
    if outbox_id is not None:
        await conn.execute(
            update(outbox)
            .where(outbox.c.id == outbox_id)
            .values(status=OutboxStatus.PENDING, available_at=until)
        )
    else:
        await conn.execute(
            outbox.insert().values(
                delivery_id=delivery_id,
                status=OutboxStatus.PENDING,
                available_at=until,
                created_at=now,
            )
        )


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


@dataclass(frozen=True)
class SystemFlow:
    """What the report, the metrics and the dashboard show of one system."""

    system: str
    breaker: str
    failures: int
    reopen_at: datetime | None
    changed_at: datetime | None
    in_flight: int
    deferred: dict[str, int]


def _when(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


async def read_flow(conn: AsyncConnection, systems: Sequence[str], now: float) -> list[SystemFlow]:
    """Breaker, leases held now and deliveries waiting, per system (three small queries)."""
    if not systems:
        return []
    s, c, d = flow_state.c, flow_slots.c, flow_deferrals.c
    states = {
        r.system: r for r in await conn.execute(select(flow_state).where(s.system.in_(systems)))
    }
    held: dict[str, int] = dict(
        (
            await conn.execute(
                select(c.system, func.count())
                .where(c.system.in_(systems), c.lease.is_not(None), c.expires_at >= now)
                .group_by(c.system)
            )
        ).all()
    )
    waiting: dict[str, dict[str, int]] = {}
    query = (
        select(d.system, d.reason, func.count())
        .join(deliveries, deliveries.c.id == d.delivery_id)
        .where(d.system.in_(systems), deliveries.c.status == DeliveryStatus.PENDING)
        .group_by(d.system, d.reason)
    )
    for system, reason, count in await conn.execute(query):
        waiting.setdefault(system, {})[reason] = int(count)
    out = []
    for system in systems:
        row = states.get(system)
        out.append(
            SystemFlow(
                system=system,
                breaker=row.breaker if row else CLOSED,
                failures=row.failures if row else 0,
                reopen_at=_when(row.reopen_at) if row and row.breaker == OPEN else None,
                changed_at=row.changed_at if row else None,
                in_flight=int(held.get(system, 0)),
                deferred=waiting.get(system, {}),
            )
        )
    return out


async def known_systems(conn: AsyncConnection) -> list[str]:
    """Every system flow control has seen (its state row is made on the first call)."""
    return list((await conn.scalars(select(flow_state.c.system))).all())


async def recent_events(conn: AsyncConnection, since: datetime) -> list[Any]:
    e = flow_events.c
    rows = await conn.execute(select(flow_events).where(e.at >= since).order_by(e.id))
    return list(rows.all())
