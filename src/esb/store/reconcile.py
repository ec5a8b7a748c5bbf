"""The consistency check's queries: what is stuck, and the re-drive (one transaction)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from esb.status import DeliveryStatus, OutboxStatus
from esb.store.engine import transaction, utcnow
from esb.store.ordering import restart_stalled, waiting_condition
from esb.store.outbox import put_back
from esb.store.tables import deliveries, outbox, reconcile_runs

Route = tuple[str, str]
#: How many messages wait in a route's queue (None: no broker, the database is the queue).
QueueDepth = Callable[[Route], Awaitable[int | None]]
BATCH = 10_000


@dataclass
class Findings:
    unpublished: int = 0  # outbox rows due for long, not published (is a relay running?)
    oldest_unpublished: datetime | None = None
    claims_released: int = 0  # embedded: rows held by workers of a process that died
    lost: int = 0  # pending deliveries with nothing queued for them: re-driven
    waiting_in_queue: int = 0  # like lost, but their queue still holds messages: left alone
    redriven: dict[str, int] = field(default_factory=dict)  # per "interface/target"
    keys_restarted: int = 0  # ordering: keys whose head had ended with others waiting

    def as_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        if self.oldest_unpublished is not None:
            out["oldest_unpublished"] = self.oldest_unpublished.isoformat()
        return out


async def _unpublished(conn: AsyncConnection, cutoff: datetime, found: Findings) -> None:
    o = outbox.c
    count, oldest = (
        await conn.execute(
            select(func.count(), func.min(o.available_at)).where(
                o.status == OutboxStatus.PENDING, o.available_at < cutoff
            )
        )
    ).one()
    found.unpublished, found.oldest_unpublished = int(count), oldest


async def _release_claims(conn: AsyncConnection, cutoff: datetime, found: Findings) -> None:
    found.claims_released = await put_back(conn, outbox.c.available_at < cutoff)


def _lost_query(cutoff: datetime) -> Any:
    """Pending, untouched since the cutoff, nothing queued or sent for it since then; a
    delivery waiting behind its key's head has nothing queued on purpose (not lost)."""
    d, o = deliveries.c, outbox.c
    queued = exists().where(
        o.delivery_id == d.id, o.status.in_([OutboxStatus.PENDING, OutboxStatus.CLAIMED])
    )
    recent = exists().where(o.delivery_id == d.id, o.sent_at >= cutoff)
    return (
        select(d.id, d.interface, d.target)
        .where(
            d.status == DeliveryStatus.PENDING,
            d.updated_at < cutoff,
            ~queued,
            ~recent,
            ~waiting_condition(),
        )
        .limit(BATCH)
        .with_for_update(of=deliveries, skip_locked=True)
    )


async def _redrive(
    conn: AsyncConnection, cutoff: datetime, depth: QueueDepth, found: Findings
) -> None:
    rows = (await conn.execute(_lost_query(cutoff))).all()
    depths = {r: await depth(r) for r in {(row.interface, row.target) for row in rows}}
    now = utcnow()
    redrive = [row for row in rows if not depths[(row.interface, row.target)]]
    found.waiting_in_queue = len(rows) - len(redrive)
    found.lost = len(redrive)
    found.redriven = dict(Counter(f"{r.interface}/{r.target}" for r in redrive))
    if redrive:
        await conn.execute(
            outbox.insert(),
            [
                {
                    "delivery_id": r.id,
                    "status": OutboxStatus.PENDING,
                    "available_at": now,
                    "created_at": now,
                }
                for r in redrive
            ],
        )


async def reconcile(
    engine: AsyncEngine, stuck_after_s: float, depth: QueueDepth, trigger: str
) -> dict[str, Any]:
    """Find what is stuck, re-drive what is provably lost, and record the run."""
    started = utcnow()
    cutoff = datetime.fromtimestamp(started.timestamp() - stuck_after_s, started.tzinfo)
    found = Findings()
    async with transaction(engine) as conn:
        await _unpublished(conn, cutoff, found)
        await _release_claims(conn, cutoff, found)
        await _redrive(conn, cutoff, depth, found)
        found.keys_restarted = await restart_stalled(conn, utcnow())
        finished = utcnow()
        actions = {
            "redriven": found.lost,
            "claims_released": found.claims_released,
            "keys_restarted": found.keys_restarted,
        }
        await conn.execute(
            reconcile_runs.insert().values(
                started_at=started,
                finished_at=finished,
                trigger=trigger,
                found=orjson.dumps(found.as_dict()).decode(),
                actions=orjson.dumps(actions).decode(),
            )
        )
    return {
        "started_at": started.isoformat(),
        "finished_at": finished.isoformat(),
        "trigger": trigger,
        "stuck_after_s": stuck_after_s,
        "found": found.as_dict(),
        "actions": actions,
    }


async def last_run(engine: AsyncEngine) -> dict[str, Any] | None:
    async with transaction(engine) as conn:
        row = (
            await conn.execute(select(reconcile_runs).order_by(reconcile_runs.c.id.desc()).limit(1))
        ).first()
    if row is None:
        return None
    return {
        "started_at": row.started_at.isoformat(),
        "finished_at": row.finished_at.isoformat(),
        "trigger": row.trigger,
        "found": orjson.loads(row.found),
        "actions": orjson.loads(row.actions),
    }
