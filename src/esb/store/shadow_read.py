"""Reading a parallel run back: the counts per day, the fields that differed most, and the
latest comparisons of one outcome (which documents differed, and how)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from esb.store.engine import transaction
from esb.store.tables import (
    deliveries,
    messages,
    shadow_comparisons,
    shadow_days,
    shadow_field_days,
)

Route = tuple[str, str]


@dataclass(frozen=True)
class DayCounts:
    day: str
    compared: int = 0
    matched: int = 0
    differed: int = 0
    failed: int = 0
    sent: int = 0
    send_failed: int = 0

    @property
    def match_rate(self) -> float | None:
        """matched / compared (None before the first comparison)."""
        return round(self.matched / self.compared, 6) if self.compared else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "day": self.day,
            "compared": self.compared,
            "matched": self.matched,
            "differed": self.differed,
            "failed": self.failed,
            "match_rate": self.match_rate,
            "sent": self.sent,
            "send_failed": self.send_failed,
        }


async def day_counts(
    engine: AsyncEngine, routes: Collection[Route], since_day: str
) -> dict[Route, list[DayCounts]]:
    """Each shadow's days from ``since_day`` on (factory dates), oldest first."""
    found: dict[Route, list[DayCounts]] = {route: [] for route in routes}
    if not routes:
        return found
    query = select(shadow_days).where(shadow_days.c.day >= since_day).order_by(shadow_days.c.day)
    async with transaction(engine) as conn:
        rows = (await conn.execute(query)).all()
    for row in rows:
        days = found.get((row.interface, row.target))
        if days is not None:
            values = row._mapping
            days.append(DayCounts(**{k: values[k] for k in DayCounts.__dataclass_fields__}))
    return found


async def top_fields(
    engine: AsyncEngine, routes: Collection[Route], since_day: str, limit: int
) -> dict[Route, list[dict[str, Any]]]:
    """Per shadow, the fields that differed in the most comparisons from ``since_day`` on."""
    found: dict[Route, list[dict[str, Any]]] = {route: [] for route in routes}
    if not routes:
        return found
    t = shadow_field_days.c
    total = func.sum(t.messages).label("messages")
    query = (
        select(t.interface, t.target, t.field, total)
        .where(t.day >= since_day)
        .group_by(t.interface, t.target, t.field)
        .order_by(total.desc(), t.field)
    )
    async with transaction(engine) as conn:
        rows = (await conn.execute(query)).all()
    for row in rows:
        fields = found.get((row.interface, row.target))
        if fields is not None and len(fields) < limit:
            fields.append({"field": row.field, "messages": int(row.messages)})
    return found


async def latest(
    engine: AsyncEngine, route: Route, outcome: str, day: str | None, limit: int
) -> list[dict[str, Any]]:
    """The newest comparisons of ``outcome`` (on ``day``), each with its message."""
    c = shadow_comparisons.c
    query = (
        select(c.delivery_id, c.day, c.compared_at, c.outcome, c.detail, c.sent,
               deliveries.c.message_id, messages.c.business_key)
        .select_from(
            shadow_comparisons.join(deliveries, deliveries.c.id == c.delivery_id).join(
                messages, messages.c.id == deliveries.c.message_id
            )
        )
        .where(c.interface == route[0], c.target == route[1], c.outcome == outcome)
        .order_by(c.compared_at.desc())
        .limit(limit)
    )  # fmt: skip
    if day is not None:
        query = query.where(c.day == day)
    async with transaction(engine) as conn:
        rows = (await conn.execute(query)).all()
    return [
        {
            "message_id": str(r.message_id),
            "delivery_id": str(r.delivery_id),
            "key": r.business_key,
            "day": r.day,
            "compared_at": r.compared_at.isoformat(),
            "outcome": r.outcome,
            **(orjson.loads(r.detail) if r.detail else {}),
            "sent": r.sent,
        }
        for r in rows
    ]
