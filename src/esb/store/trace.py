"""Everything about one business document (an order number) across interfaces: its
messages, their deliveries and attempts, and what operators did to them (the audit log)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from uuid import UUID

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from esb.store.engine import transaction
from esb.store.ordering import blockers, holding
from esb.store.read_model import attempt_logs, delivery_view, message_view
from esb.store.tables import audit_log, deliveries, messages

LIMIT = 200


def _action(row: Any) -> dict[str, Any]:
    """An operator's action on a delivery: who, when, why; a correction's changed fields."""
    after = orjson.loads(row.after) if row.after else {}
    return {
        "at": row.at,
        "action": row.action,
        "actor": row.actor,
        "reason": row.reason,
        "changes": after.get("changes", []) if isinstance(after, dict) else [],
    }


async def trace_rows(engine: AsyncEngine, key: str) -> list[dict[str, Any]]:
    """Messages with this business key, oldest first, each with its deliveries, their
    ``attempt_log`` and operator ``actions`` (in the shape of ``store.read_model``)."""
    async with transaction(engine) as conn:
        found = (
            await conn.execute(
                select(messages)
                .where(messages.c.business_key == key)
                .order_by(messages.c.received_at)
                .limit(LIMIT)
            )
        ).all()
        dels = (
            await conn.execute(
                select(deliveries)
                .where(deliveries.c.message_id.in_([m.id for m in found]))
                .order_by(deliveries.c.created_at, deliveries.c.target)
            )
        ).all()
        logs = await attempt_logs(conn, [d.id for d in dels])
        blocked, held = await blockers(conn, dels), await holding(conn, dels)
        acts = (
            await conn.execute(
                select(audit_log)
                .where(audit_log.c.delivery_id.in_([d.id for d in dels]))
                .order_by(audit_log.c.id)
            )
        ).all()
    actions: dict[UUID, list[dict[str, Any]]] = defaultdict(list)
    for act in acts:
        actions[act.delivery_id].append(_action(act))
    by_message: dict[UUID, list[dict[str, Any]]] = defaultdict(list)
    for d in dels:
        view = delivery_view(
            d, logs[d.id], blocked_by=blocked.get(d.id), blocking=held.get(d.id, 0)
        )
        by_message[d.message_id].append({**view, "actions": actions[d.id]})
    return [message_view(m, by_message[m.id]) for m in found]
