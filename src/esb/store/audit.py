"""The audit log: who did what, when, why, and the state before and after."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from esb.connectors import json_default
from esb.store.engine import utcnow
from esb.store.tables import audit_log


async def audit(
    conn: AsyncConnection,
    action: str,
    actor: str,
    reason: str,
    before: Any,
    after: Any,
    delivery_id: UUID | None = None,
) -> None:
    """Written in the caller's transaction: the action and its record commit together."""
    await conn.execute(
        audit_log.insert().values(
            at=utcnow(),
            actor=actor,
            action=action,
            delivery_id=delivery_id,
            reason=reason or "-",
            before=orjson.dumps(before, default=json_default).decode(),
            after=orjson.dumps(after, default=json_default).decode(),
        )
    )
