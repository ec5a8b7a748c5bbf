"""The built-in consistency check, run on a schedule, from the CLI or the admin API.

It finds what is stuck — outbox rows nobody publishes, claims of embedded workers
that died, pending deliveries whose queue message is gone (a purge, a lost
broker) — and re-drives the lost ones with a new outbox row. A delivery whose
queue still holds messages is left alone (its message may be waiting there), so a
re-drive never doubles what is merely slow. Concurrent runs lock disjoint rows.

The schedule is a singleton: of all the processes that relay, the one holding the
``reconcile`` lease (``source_leases``, interface ``""``) runs it; the others stand by
and take the lease over when the holder stops (it releases it), dies on this host (seen
at once) or misses two runs (the lease expires). A run asked for (API, CLI) runs
wherever it is asked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from esb.broker import Broker
from esb.errors import BrokerUnavailable, StoreUnavailable
from esb.link import BrokerLink
from esb.sdk import StateStore
from esb.store.reconcile import Route, reconcile

log = structlog.get_logger(__name__)

#: How long a run asked for waits for RabbitMQ before it answers that it is away.
BROKER_WAIT_S = 1.0
#: The lease of the scheduled check: no interface is named "", so none can collide.
LEASE_SCOPE = ("", "reconcile")
#: Scheduled runs a holder may miss before its lease expires and another process runs.
MISSED_RUNS = 2


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


class Reconciler:
    """The consistency check as the API, the CLI and the schedule run it. With a broker it
    needs RabbitMQ (to see what waits in the queues): it waits for the link at most
    ``within`` seconds, then ``BrokerUnavailable`` (503) rather than an answer never sent."""

    def __init__(
        self,
        engine: AsyncEngine,
        link: BrokerLink | None,
        stuck_after_s: float,
        notify: Callable[[], None] = lambda: None,
    ) -> None:
        self.engine = engine
        self.link = link
        self.stuck_after_s = stuck_after_s
        self.notify = notify

    async def run(self, trigger: str, *, within: float = BROKER_WAIT_S) -> dict[str, Any]:
        broker = None if self.link is None else await self.link.ready(within)
        result = await run_once(self.engine, broker, self.stuck_after_s, trigger)
        self.notify()  # re-driven rows are due now: wake an in-process relay
        return result

    async def run_forever(self, every_s: float, lease: StateStore | None = None) -> None:
        """Every ``every_s`` seconds, in the one process that holds ``lease`` (None: here)."""
        try:
            while True:
                await asyncio.sleep(every_s)
                try:
                    if lease is None or await lease.acquire():
                        await self.run("schedule")
                except (StoreUnavailable, BrokerUnavailable) as exc:
                    log.warning("consistency check skipped", error=str(exc))
        finally:
            if lease is not None:
                await release(lease)


async def release(lease: StateStore) -> None:
    """Hand the schedule over at once (a process that stops); a database that is away
    cannot be told: the lease then expires."""
    try:
        await lease.release()
    except StoreUnavailable as exc:
        log.warning("reconcile lease not released; it expires", error=str(exc))
