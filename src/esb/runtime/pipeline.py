"""The delivery pipeline of a process: relay and workers, embedded or through RabbitMQ.

Embedded: the relay claims due outbox rows into an in-process queue that local
workers drain. Broker: the relay publishes to RabbitMQ and workers consume from it;
each waits in the background for the broker link, so a process whose broker is away
still starts (and its API still accepts into the outbox).
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine
from typing import Any

import structlog

from esb.deliverer import Deliverer
from esb.link import BrokerLink
from esb.live import LiveConfig, routes
from esb.relay import BrokerRelay, LocalRelay, Relay
from esb.runtime.part import Background, Health
from esb.runtime.store import Store
from esb.settings import Settings
from esb.store import bell
from esb.store.outbox import release_claims
from esb.task import DeliveryTask
from esb.worker import BrokerWorker, LocalWorker

log = structlog.get_logger(__name__)

#: How long a stopping relay may take to finish its batch (publish + mark sent).
RELAY_GRACE_S = 5.0

Build = Callable[[], Deliverer]


class Pipeline(ABC):
    """Shared by both kinds: the relay task, stopped gracefully, then the workers."""

    name = "pipeline"

    def __init__(self) -> None:
        self.relay: Relay | None = None
        self.worker: BrokerWorker | LocalWorker | None = None
        self._running = Background()
        self._relay_task: asyncio.Task[None] | None = None

    @abstractmethod
    async def start(self) -> None:
        """Build the relay and the workers this process runs, and start them."""

    def notify(self) -> None:
        """A message was committed: wake an in-process relay instead of waiting for its tick."""
        if self.relay is not None:
            self.relay.wakeup.set()

    def _relay_can_finish(self) -> bool:
        return True

    async def stop(self) -> None:
        """Let the relay finish its batch (cancelled only if it hangs), then the workers
        finish the attempts in hand."""
        if self.relay is not None and self._relay_task is not None:
            self.relay.request_stop()
            if self._relay_can_finish():
                await asyncio.wait({self._relay_task}, timeout=RELAY_GRACE_S)
        await self._running.cancel()
        if self.worker is not None:
            await self.worker.stop()

    async def health(self) -> Health:
        return None


class EmbeddedPipeline(Pipeline):
    def __init__(self, settings: Settings, store: Store, deliverer: Build) -> None:
        super().__init__()
        self.settings = settings
        self.store = store
        self.deliverer = deliverer

    async def start(self) -> None:
        released = await release_claims(self.store.engine)
        if released:
            log.info("claims of a previous run put back", count=released)
        queue: asyncio.Queue[DeliveryTask] = asyncio.Queue()
        relay = LocalRelay(
            self.store.engine,
            queue,
            capacity=self.settings.local_concurrency * 2,
            batch=self.settings.relay_batch,
            poll_interval=self.settings.poll_interval,
        )
        self.relay = relay
        self.worker = LocalWorker(queue, self.deliverer(), relay, self.settings.local_concurrency)
        await self.worker.start()
        self._relay_task = self._running.spawn(relay.run(), "relay")
        self.store.workers = relay  # accepts hand new deliveries straight to the queue

    async def stop(self) -> None:
        self.store.workers = None  # from now on, accepts leave their deliveries pending
        await super().stop()


class BrokerPipeline(Pipeline):
    """``relay`` and ``worker`` say which of the two this process runs."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        link: BrokerLink,
        live: LiveConfig,
        deliverer: Build,
        *,
        relay: bool,
        worker: bool,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.store = store
        self.link = link
        self.live = live
        self.deliverer = deliverer
        self.runs_relay, self.runs_worker = relay, worker

    async def start(self) -> None:
        if self.runs_relay:
            relay = BrokerRelay(
                self.store.engine,
                self.link.broker,
                batch=self.settings.relay_batch,
                poll_interval=self.settings.poll_interval,
            )
            self.relay = relay
            self._relay_task = self._running.spawn(self._linked(relay.run()), "relay")
            # rows other processes commit (an API without a relay, a worker) ring it
            self._running.spawn(bell.listen(self.store.engine, relay.wakeup.set), "relay-bell")
        if self.runs_worker:
            worker = BrokerWorker(
                self.link.broker, self.deliverer(), routes(self.live.config), self.settings.prefetch
            )
            self.live.on_routes_added.append(worker.add_routes)
            self.worker = worker
            self._running.spawn(self._linked(worker.start()), "worker")

    async def _linked(self, then: Coroutine[Any, Any, None]) -> None:
        """Wait for RabbitMQ (the API keeps accepting into the outbox meanwhile), then run."""
        try:
            await self.link.up.wait()
        except BaseException:
            then.close()
            raise
        await then

    def _relay_can_finish(self) -> bool:
        """With the broker away a batch cannot finish: stop at once (the rows stay due)."""
        return self.link.broker.link_up
