"""What the report, the metrics, the dashboard and the alerts read of flow control."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from esb.status import DeliveryStatus
from esb.store.breaker import CLOSED, OPEN
from esb.store.tables import deliveries, flow_deferrals, flow_events, flow_slots, flow_state


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
