"""Assemble one gateway process from settings and configuration, and take it apart again.

Embedded (no broker): relay and workers share an in-process queue fed from the
outbox. Production: the relay publishes to RabbitMQ and workers consume from it;
``esb serve`` runs API + relay + workers, ``esb relay`` / ``esb worker`` run parts.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from esb import reconcile
from esb.alerts import Alerter
from esb.batching import GroupCommit
from esb.broker import Broker
from esb.config.loader import GatewayConfig
from esb.connectors import ConnectorRegistry
from esb.deliverer import Deliverer
from esb.errors import BrokerUnavailable
from esb.inbound import InboundRunner
from esb.ingress import Ingress
from esb.live import LiveConfig, routes
from esb.metrics import Metrics
from esb.relay import BrokerRelay, LocalRelay, Relay
from esb.settings import Settings
from esb.store.accept import Accepted, NewMessage, accept_messages
from esb.store.checkpoint import checkpoint_forever
from esb.store.claims import Claim, ClaimState, check_claims
from esb.store.engine import create_engine
from esb.store.migrate import ensure_schema
from esb.store.outbox import release_claims
from esb.store.outcomes import AttemptRecord, write_outcomes
from esb.task import DeliveryTask
from esb.worker import BrokerWorker, LocalWorker
from esb.xref import XrefCache, seed

log = structlog.get_logger(__name__)


class Gateway:
    """The parts of one process; ``start`` what this process runs, ``stop`` in reverse."""

    def __init__(
        self, settings: Settings, config: GatewayConfig, registry: ConnectorRegistry
    ) -> None:
        self.settings = settings
        self.live = LiveConfig(settings.config, registry, config, settings.config_env())
        self.engine: AsyncEngine = create_engine(settings)
        self.broker = (
            None
            if settings.embedded
            else Broker(
                settings.broker_url or "",
                prefix=settings.broker_prefix,
                queue_type=settings.queue_type,
                publish_timeout=settings.publish_timeout,
            )
        )
        self.recorder: GroupCommit[AttemptRecord, None] = GroupCommit(
            lambda batch: write_outcomes(self.engine, batch),
            retry_unavailable=True,
            name="outcomes",
        )
        sqlite = self.engine.dialect.name == "sqlite"
        self.claims: GroupCommit[Claim, ClaimState] = GroupCommit(
            lambda batch: check_claims(self.engine, batch),
            writers=1 if sqlite else 2,
            retry_unavailable=True,
            name="claims",
        )
        self.accepts: GroupCommit[NewMessage, Accepted] = GroupCommit(
            lambda batch: accept_messages(self.engine, batch),
            writers=1 if sqlite else settings.accept_writers,
            name="accepts",
        )
        self.ingress = Ingress(
            self.accepts.submit,
            lambda: self.config,
            self.notify,
            lambda interface: self.metrics.accepted.labels(interface).inc(),
        )
        self.inbound = InboundRunner(registry, self.ingress, self.engine, settings.data_dir)
        self.xref = XrefCache(self.engine)
        self.metrics = Metrics()
        self.relay: Relay | None = None
        self.worker: BrokerWorker | LocalWorker | None = None
        self._background: list[asyncio.Task[None]] = []
        self._broker_lock = asyncio.Lock()

    @property
    def config(self) -> GatewayConfig:
        return self.live.config

    def notify(self) -> None:
        """A message was committed: wake an in-process relay instead of waiting for its tick."""
        if self.relay is not None:
            self.relay.wakeup.set()

    async def prepare_database(self) -> None:
        """Schema (embedded: migrated; production: checked), master-data seed, cache."""
        await ensure_schema(
            self.engine, self.settings.effective_database_url, auto=self.settings.embedded
        )
        await seed(self.engine, self.config.folder)
        await self.xref.refresh()
        self._spawn(self.metrics.refresh_forever(self.engine), "metrics")
        if self.engine.dialect.name == "sqlite" and self.engine.url.database:
            self._spawn(checkpoint_forever(Path(self.engine.url.database)), "wal-checkpoint")
        self._spawn(self.xref.watch(self.settings.xref_refresh), "xref-watch")
        if self.settings.config_watch:
            self._spawn(self.live.watch(), "config-watch")

    async def start(self, *, relay: bool = True, worker: bool = True, inbound: bool = True) -> None:
        if inbound:
            self.inbound.start(self.config)
            self.live.on_reloaded.append(self.inbound.restart)
        if relay:
            self._spawn(self._reconcile_forever(), "reconcile")
            self._spawn(Alerter(self.engine, lambda: self.config).run_forever(), "alerts")
        if self.settings.embedded and (relay or worker):
            await self._start_embedded()
        else:
            if relay:
                self._start_broker_relay()
            if worker:
                self._start_broker_worker()

    async def _start_embedded(self) -> None:
        released = await release_claims(self.engine)
        if released:
            log.info("claims of a previous run put back", count=released)
        queue: asyncio.Queue[DeliveryTask] = asyncio.Queue(self.settings.local_concurrency * 2)
        self.relay = LocalRelay(
            self.engine,
            queue,
            batch=self.settings.relay_batch,
            poll_interval=self.settings.poll_interval,
        )
        self.worker = LocalWorker(
            queue, self._deliverer(), self.relay, self.settings.local_concurrency
        )
        await self.worker.start()
        self._spawn(self.relay.run(), "relay")

    def _deliverer(self) -> Deliverer:
        self.live.start_connectors()
        return Deliverer(self.live, self.recorder, self.claims, self.xref, self.metrics)

    def _start_broker_relay(self) -> None:
        assert self.broker is not None
        self.relay = BrokerRelay(
            self.engine,
            self.broker,
            batch=self.settings.relay_batch,
            poll_interval=self.settings.poll_interval,
        )
        self._spawn(self._connected(self.relay.run()), "relay")

    def _start_broker_worker(self) -> None:
        assert self.broker is not None
        worker = BrokerWorker(
            self.broker, self._deliverer(), routes(self.config), self.settings.prefetch
        )
        self.live.on_routes_added.append(worker.add_routes)
        self.worker = worker
        self._spawn(self._connected(self.worker.start()), "worker")

    async def _connected(self, then: Coroutine[Any, Any, None]) -> None:
        """Wait for RabbitMQ (the API keeps accepting into the outbox meanwhile), then run."""
        try:
            await self._connect_broker()
        except BaseException:
            then.close()
            raise
        await then

    async def _connect_broker(self) -> None:
        assert self.broker is not None
        async with self._broker_lock:
            if self.broker.connected:
                return
            delay = 0.2
            while True:
                try:
                    await self.broker.connect()
                    await self.broker.declare(routes(self.config))
                    return
                except BrokerUnavailable as exc:
                    log.warning("waiting for RabbitMQ", error=str(exc), retry_in=delay)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 5.0)

    async def _reconcile_forever(self) -> None:
        if self.broker is not None:
            await self._connect_broker()
        await reconcile.run_forever(
            self.engine,
            self.broker,
            self.settings.reconcile_every,
            self.settings.reconcile_stuck_after,
        )

    async def reconcile_now(self, trigger: str) -> dict[str, Any]:
        if self.broker is not None:
            await self._connect_broker()
        return await reconcile.run_once(
            self.engine, self.broker, self.settings.reconcile_stuck_after, trigger
        )

    async def _stop_relay(self, grace_s: float = 5.0) -> None:
        """Let the relay finish its batch (publish + mark sent); cancelled only if it hangs."""
        task = next((t for t in self._background if t.get_name() == "relay"), None)
        if self.relay is None or task is None:
            return
        self.relay.request_stop()
        if self.broker is None or self.broker.link_up:
            await asyncio.wait({task}, timeout=grace_s)

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        self._background.append(asyncio.create_task(coro, name=name))

    async def stop(self) -> None:
        await self.inbound.stop()
        await self._stop_relay()
        for task in self._background:
            task.cancel()
        for task in self._background:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.worker is not None:
            await self.worker.stop()
        await self.accepts.aclose()
        await self.claims.aclose()
        await self.recorder.aclose()
        await self.live.aclose()
        if self.broker is not None:
            await self.broker.close()
        await self.engine.dispose()
