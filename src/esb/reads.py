"""What the API may read from the store: messages, traces, series, the health and value
reports.

Bound to the engine here so that a handler gets these queries and nothing else of the
store (no engine, no writes); every answer is in the shape of ``store.read_model``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncEngine

from esb.config.gateway import GatewayConfig
from esb.report import build_report
from esb.routes import route_map
from esb.store.audit import AuditFilter, audit_page
from esb.store.engine import utcnow
from esb.store.operator import audit_entries
from esb.store.queries import get_message, search_messages
from esb.store.reconcile import last_run
from esb.store.series import attempt_series
from esb.store.trace import trace_rows
from esb.value_report import Month, build_value_report


class Reads:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def message(self, message_id: UUID) -> dict[str, Any] | None:
        return await get_message(self._engine, message_id)

    async def audit(self, delivery_ids: list[UUID]) -> list[dict[str, Any]]:
        return await audit_entries(self._engine, delivery_ids)

    async def audit_trail(self, where: AuditFilter, limit: int) -> list[dict[str, Any]]:
        """A page of the audit trail, newest first (see ``store.audit.audit_page``)."""
        return await audit_page(self._engine, where, limit)

    async def search(self, **criteria: Any) -> list[dict[str, Any]]:
        """See ``store.queries.search_messages`` for the criteria."""
        return await search_messages(self._engine, **criteria)

    async def trace(self, key: str) -> list[dict[str, Any]]:
        return await trace_rows(self._engine, key)

    async def series(
        self, since: datetime, step_s: float, buckets: int
    ) -> dict[tuple[str, str], list[dict[str, Any]]]:
        return await attempt_series(self._engine, since, step_s, buckets)

    async def report(self, config: GatewayConfig, window: str) -> dict[str, Any]:
        """The health report over ``window``, with the last consistency check's findings."""
        report = await build_report(self._engine, config, window)
        report["consistency_check"] = await last_run(self._engine)
        return report

    async def routes(self, config: GatewayConfig, window: str) -> dict[str, Any]:
        """The route map, its live state read from the health report over ``window``."""
        return route_map(config, await build_report(self._engine, config, window))

    async def value(self, config: GatewayConfig, time_zone: str, month: Month) -> dict[str, Any]:
        """The value report of ``month`` (see ``esb.value_report``)."""
        return await build_value_report(self._engine, config, time_zone, month, utcnow())
