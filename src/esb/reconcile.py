"""The built-in consistency check, run on a schedule, from the CLI or the admin API.

It finds what is stuck — outbox rows nobody publishes, claims of embedded workers
that died, pending deliveries whose queue message is gone (a purge, a lost
broker) — and re-drives the lost ones with a new outbox row. A delivery whose
queue still holds messages is left alone (its message may be waiting there), so a
re-drive never doubles what is merely slow. Concurrent runs lock disjoint rows.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from esb.broker import Broker
from esb.errors import BrokerUnavailable, StoreUnavailable
from esb.store.reconcile import Route, reconcile

log = structlog.get_logger(__name__)


def queue_depth(broker: Broker | None) -> Any:
    async def depth(route: Route) -> int | None:
        if broker is None:
            return None  # embedded: the database is the queue, nothing can wait elsewhere
        return await broker.queue_depth(route)

    return depth


async def run_once(
    engine: AsyncEngine, broker: Broker | None, stuck_after_s: float, trigger: str
) -> dict[str, Any]:
    result = await reconcile(engine, stuck_after_s, queue_depth(broker), trigger)
    found = result["found"]
    if found["lost"] or found["claims_released"] or found["unpublished"]:
        log.warning("consistency check found problems", **found)
    return result


async def run_forever(
    engine: AsyncEngine, broker: Broker | None, every_s: float, stuck_after_s: float
) -> None:
    while True:
        await asyncio.sleep(every_s)
        try:
            await run_once(engine, broker, stuck_after_s, "schedule")
        except (StoreUnavailable, BrokerUnavailable) as exc:
            log.warning("consistency check skipped", error=str(exc))
