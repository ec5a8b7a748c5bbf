"""The check a worker makes before it calls a target: may this delivery still be sent?

An operator's discard (or a duplicate that already delivered) wins over a message
already on its way through RabbitMQ or the in-process queue; and a delivery handed
out again and again without a recorded outcome (a crash, an error while recording)
is counted, so the deliverer can park it instead of letting it loop.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import Row, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from esb.status import DeliveryStatus, OutboxStatus
from esb.store.engine import driver_connection, statements
from esb.store.tables import deliveries, outbox


@dataclass(frozen=True)
class Claim:
    delivery_id: UUID
    redelivered: bool = False  # handed out again without an outcome: counted here
    outbox_id: int | None = None  # embedded: the claimed row, closed if nothing is to be sent


@dataclass(frozen=True)
class ClaimState:
    pending: bool  # False: discarded, delivered or parked meanwhile; do not send
    redeliveries: int  # times handed out again without a recorded outcome


_GONE = ClaimState(pending=False, redeliveries=0)


#: PostgreSQL: one statement text whatever the batch size, prepared once (``IN (...)``
#: is a new statement, and a new server-side prepare, for every size). It runs before
#: every call to a target, so the usual case goes to the driver itself (driver_connection).
_STATES_PG = "SELECT id, status, redeliveries FROM deliveries WHERE id = ANY($1)"


async def _states(conn: AsyncConnection, ids: list[UUID]) -> Sequence[Row[Any]]:
    if conn.dialect.name == "postgresql":
        result = await conn.exec_driver_sql(_STATES_PG, (ids,))
    else:
        columns = (deliveries.c.id, deliveries.c.status, deliveries.c.redeliveries)
        result = await conn.execute(select(*columns).where(deliveries.c.id.in_(ids)))
    rows: Sequence[Row[Any]] = result.all()
    return rows


def _by_id(rows: Iterable[Sequence[Any]]) -> dict[UUID, ClaimState]:
    """Each delivery's state from its (id, status, redeliveries) row."""
    return {
        delivery_id: ClaimState(status == DeliveryStatus.PENDING, redeliveries)
        for delivery_id, status, redeliveries in rows
    }


async def check_claims(
    engine: AsyncEngine, claims: Sequence[Claim], reader: AsyncEngine | None = None
) -> list[ClaimState]:
    """One transaction for a batch of workers about to call their targets. With a
    ``reader`` (embedded SQLite's read-only connections) the usual case, nothing to count
    and every delivery still pending, is one read that leaves the writer free."""
    ids = [c.delivery_id for c in claims]
    counted = [c.delivery_id for c in claims if c.redelivered]
    if not counted and engine.dialect.name == "postgresql":  # nothing to write: one read
        async with driver_connection(engine) as driver:
            found = _by_id(await driver.fetch(_STATES_PG, ids))
        return [found.get(c.delivery_id, _GONE) for c in claims]
    if reader is not None and reader is not engine and not counted:
        async with statements(reader) as conn:
            found = _by_id(await _states(conn, ids))
        if all(found.get(c.delivery_id, _GONE).pending for c in claims):
            return [found[c.delivery_id] for c in claims]
    async with statements(engine) as conn:  # each statement stands alone
        if counted:
            await conn.execute(
                update(deliveries)
                .where(deliveries.c.id.in_(counted), deliveries.c.status == DeliveryStatus.PENDING)
                .values(redeliveries=deliveries.c.redeliveries + 1)
            )
        states = _by_id(await _states(conn, ids))
        closed = [
            c.outbox_id
            for c in claims
            if c.outbox_id is not None and not states.get(c.delivery_id, _GONE).pending
        ]
        if closed:
            await conn.execute(
                update(outbox).where(outbox.c.id.in_(closed)).values(status=OutboxStatus.DROPPED)
            )
    return [states.get(c.delivery_id, _GONE) for c in claims]
