"""The audit log: who did what, when, why, and the state before and after; written in the
acting transaction, read back as the audit trail (``GET /v1/audit``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from esb.connectors import json_default
from esb.store.engine import transaction, utcnow
from esb.store.tables import audit_log, deliveries


async def audit(
    conn: AsyncConnection,
    action: str,
    actor: str,
    reason: str,
    before: Any,
    after: Any,
    delivery_id: UUID | None = None,
    route: tuple[str, str] | None = None,
) -> None:
    """Written in the caller's transaction: the action and its record commit together.
    ``route`` names the interface and target of an action on no one delivery."""
    await conn.execute(
        audit_log.insert().values(
            at=utcnow(),
            actor=actor,
            action=action,
            delivery_id=delivery_id,
            interface=None if route is None else route[0],
            target=None if route is None else route[1],
            reason=reason or "-",
            before=orjson.dumps(before, default=json_default).decode(),
            after=orjson.dumps(after, default=json_default).decode(),
        )
    )


@dataclass(frozen=True)
class AuditFilter:
    """Which entries of the audit trail: a time range, who (``admin`` also finds
    ``admin:zhang``), what (``xref`` also finds ``xref.put``), the interface of the
    delivery acted on, and the page (entries older than the id ``before``)."""

    since: datetime | None = None
    until: datetime | None = None
    actor: str | None = None
    action: str | None = None
    interface: str | None = None
    before: int | None = None


def _family(column: Any, value: str) -> Any:
    """``value`` itself, or any name under it (``value:...``, ``value....``)."""
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return or_(
        column == value,
        column.like(f"{escaped}:%", escape="\\"),
        column.like(f"{escaped}.%", escape="\\"),
    )


async def audit_page(engine: AsyncEngine, where: AuditFilter, limit: int) -> list[dict[str, Any]]:
    """Newest first, at most ``limit``; each with the interface and target acted on (the
    delivery's, or the entry's own for an action on no delivery)."""
    interface = func.coalesce(deliveries.c.interface, audit_log.c.interface)
    query = (
        select(
            audit_log.c.id,
            audit_log.c.at,
            audit_log.c.actor,
            audit_log.c.action,
            audit_log.c.delivery_id,
            audit_log.c.reason,
            audit_log.c.before,
            audit_log.c.after,
            interface.label("interface"),
            func.coalesce(deliveries.c.target, audit_log.c.target).label("target"),
        )
        .select_from(audit_log.outerjoin(deliveries, deliveries.c.id == audit_log.c.delivery_id))
        .order_by(audit_log.c.id.desc())
        .limit(limit)
    )
    if where.since is not None:
        query = query.where(audit_log.c.at >= where.since)
    if where.until is not None:
        query = query.where(audit_log.c.at < where.until)
    if where.actor:
        query = query.where(_family(audit_log.c.actor, where.actor))
    if where.action:
        query = query.where(_family(audit_log.c.action, where.action))
    if where.interface:
        query = query.where(interface == where.interface)
    if where.before is not None:
        query = query.where(audit_log.c.id < where.before)
    async with transaction(engine) as conn:
        rows = (await conn.execute(query)).all()
    return [
        {
            "id": r.id,
            "at": r.at.isoformat(),
            "actor": r.actor,
            "action": r.action,
            "interface": r.interface,
            "target": r.target,
            "delivery_id": None if r.delivery_id is None else str(r.delivery_id),
            "reason": r.reason,
            "before": orjson.loads(r.before) if r.before else None,
            "after": orjson.loads(r.after) if r.after else None,
        }
        for r in rows
    ]
