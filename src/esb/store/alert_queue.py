"""Chat alerts waiting for their robot, the robot's send budget, and each robot's last send.

A robot takes 20 messages a minute, whichever gateway process sends them: the budget is
``limit`` rows of ``alert_state`` per channel (``robot/<name>/<slot>``), each taken at
most once per window, so all processes together stay under it. Messages are also spaced
by at least window / limit (3 s for 20 a minute, ``robot/<name>/spacing``): a burst does
not spend the minute's budget in its first second, it folds into the next message.
Alerts are queued per channel and only leave the queue once the robot accepted the
message carrying them; a send that fails or is refused puts them back (never lost). A
queued alert taken by a process that died is taken again after ``STALE_S``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from esb.store.engine import transaction, utcnow
from esb.store.tables import alert_channels, alert_queue, alert_state

#: a taken alert whose send never finished (the process died) is free again after this
STALE_S = 120.0
#: a slot is taken again only this long after the window: the robot counts arrivals, and
#: a message may arrive a little after its slot was taken
MARGIN_S = 2.0


def _insert(conn: AsyncConnection) -> Any:
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert


async def enqueue(engine: AsyncEngine, channels: list[str], body: dict[str, Any]) -> None:
    """Queue one alert for each channel."""
    if not channels:
        return
    now, raw = utcnow(), orjson.dumps(body).decode()
    async with transaction(engine) as conn:
        await conn.execute(
            alert_queue.insert(), [{"channel": c, "body": raw, "created_at": now} for c in channels]
        )


async def take(engine: AsyncEngine, channel: str) -> tuple[str, list[tuple[int, dict[str, Any]]]]:
    """Everything queued for ``channel`` that no other process is sending: (token, alerts)."""
    token, now = uuid.uuid4().hex, utcnow()
    q = alert_queue.c
    async with transaction(engine) as conn:
        await conn.execute(
            update(alert_queue)
            .where(
                q.channel == channel,
                (q.taken_at.is_(None)) | (q.taken_at < now - timedelta(seconds=STALE_S)),
            )
            .values(taken_by=token, taken_at=now)
        )
        rows = (
            await conn.execute(select(q.id, q.body).where(q.taken_by == token).order_by(q.id))
        ).all()
    return token, [(row.id, orjson.loads(row.body)) for row in rows]


async def release(engine: AsyncEngine, token: str, ids: list[int] | None = None) -> None:
    """Put taken alerts back in the queue (all of this token's, or ``ids``)."""
    q = alert_queue.c
    where = [q.taken_by == token] + ([q.id.in_(ids)] if ids is not None else [])
    async with transaction(engine) as conn:
        await conn.execute(update(alert_queue).where(*where).values(taken_by=None, taken_at=None))


async def done(engine: AsyncEngine, ids: list[int]) -> None:
    """The robot showed these alerts: they leave the queue."""
    async with transaction(engine) as conn:
        await conn.execute(delete(alert_queue).where(alert_queue.c.id.in_(ids)))


async def waiting(engine: AsyncEngine) -> dict[str, int]:
    """Queued alerts per channel."""
    q = alert_queue.c
    async with transaction(engine) as conn:
        rows = (await conn.execute(select(q.channel, func.count()).group_by(q.channel))).all()
    return {channel: count for channel, count in rows}


async def take_slot(engine: AsyncEngine, channel: str, limit: int, per_s: float) -> bool:
    """True if one more message may go to this robot now (and counts it), in any process."""
    now = utcnow()
    free_before = now - timedelta(seconds=per_s + MARGIN_S)
    async with transaction(engine) as conn:
        state = await conn.execute(
            select(alert_channels.c.limited_until).where(alert_channels.c.name == channel)
        )
        until = state.scalar()
        if until is not None and until > now:
            return False
        spacing = await conn.execute(
            update(alert_state)
            .where(
                alert_state.c.key == f"robot/{channel}/spacing",
                alert_state.c.last_sent_at <= now - timedelta(seconds=(per_s + MARGIN_S) / limit),
            )
            .values(last_sent_at=now)
        )
        if not spacing.rowcount:
            first = await conn.execute(
                _insert(conn)(alert_state)
                .values(key=f"robot/{channel}/spacing", last_sent_at=now)
                .on_conflict_do_nothing()
            )
            if not first.rowcount:
                return False
        for slot in range(limit):
            key = f"robot/{channel}/{slot}"
            moved = await conn.execute(
                update(alert_state)
                .where(alert_state.c.key == key, alert_state.c.last_sent_at <= free_before)
                .values(last_sent_at=now)
            )
            if moved.rowcount:
                return True
            first = await conn.execute(
                _insert(conn)(alert_state)
                .values(key=key, last_sent_at=now)
                .on_conflict_do_nothing()
            )
            if first.rowcount:
                return True
    return False


@dataclass(frozen=True)
class ChannelState:
    name: str
    kind: str
    ok: bool
    last_error: str | None
    last_error_at: datetime | None
    last_sent_at: datetime | None
    sent: int
    limited_until: datetime | None


async def record(
    engine: AsyncEngine,
    name: str,
    kind: str,
    *,
    error: str | None = None,
    limited_for_s: float | None = None,
) -> None:
    """A send's outcome: accepted (``error`` None) or refused/failed; ``limited_for_s``: the
    robot said it takes no more now, so no process sends to it for that long."""
    now = utcnow()
    c = alert_channels.c
    values: dict[str, Any] = {"kind": kind, "ok": error is None}
    if error is None:
        values |= {"last_sent_at": now, "sent": c.sent + 1, "limited_until": None}
    else:
        values |= {"last_error": error, "last_error_at": now}
    if limited_for_s is not None:
        values["limited_until"] = now + timedelta(seconds=limited_for_s)
    async with transaction(engine) as conn:
        moved = await conn.execute(update(alert_channels).where(c.name == name).values(**values))
        if not moved.rowcount:
            first = {k: v for k, v in values.items() if k != "sent"}
            await conn.execute(
                _insert(conn)(alert_channels)
                .values(name=name, sent=0 if error else 1, **first)
                .on_conflict_do_nothing()
            )


async def channel_states(engine: AsyncEngine) -> dict[str, ChannelState]:
    async with transaction(engine) as conn:
        rows = (await conn.execute(select(alert_channels))).all()
    return {row.name: ChannelState(**row._mapping) for row in rows}
