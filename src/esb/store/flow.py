"""Flow control state shared by every process: in-flight leases, the rate, deferrals.

Every row is changed by one conditional ``UPDATE`` (a lease is taken only while free
or expired), so processes never need a lock of their own. A transaction that changes a
system's state row and slots it holds changes the state row first (no deadlock); the
gate locks only a *free* slot before the state row, which no such transaction holds.
Times are epoch seconds: the same arithmetic on both databases. The breaker's row:
``esb.store.breaker``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from esb.status import OutboxStatus
from esb.store.breaker import CLOSED, HALF_OPEN
from esb.store.tables import flow_deferrals, flow_slots, flow_state, outbox


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
    """Give back a slot; a probe that ends without an outcome lets the next one try at once
    (the state row before the slot: see the module's note on lock order)."""
    if probe:
        s = flow_state.c
        await conn.execute(
            update(flow_state)
            .where(s.system == system, s.breaker == HALF_OPEN, s.probe_owner == lease)
            .values(probe_until=0.0)
        )
    if slot is not None:
        c = flow_slots.c
        await conn.execute(
            update(flow_slots)
            .where(c.system == system, c.slot == slot, c.lease == lease)
            .values(lease=None, owner=None, expires_at=None)
        )


async def renew(conn: AsyncConnection, leases: Sequence[str], until: float) -> None:
    """Extend the leases this process still holds (its calls are still running).

    The system's state row first, then the slots: the order in which a call's end
    (``FlowGate.finish``) takes them, so that the two cannot deadlock on PostgreSQL."""
    if leases:
        await conn.execute(
            update(flow_state)
            .where(flow_state.c.probe_owner.in_(leases), flow_state.c.breaker == HALF_OPEN)
            .values(probe_until=until)
        )
        await conn.execute(
            update(flow_slots).where(flow_slots.c.lease.in_(leases)).values(expires_at=until)
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
    row = {"system": system, "reason": reason, "until": until, "deferred_at": now}
    insert = _insert(conn)(flow_deferrals).values(delivery_id=delivery_id, **row)
    # the same delivery twice at the gate (a broker message redelivered after its deferral
    # was committed): one row, the latest reason
    await conn.execute(insert.on_conflict_do_update(index_elements=["delivery_id"], set_=row))
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
