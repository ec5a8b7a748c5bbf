"""Run the inbound sources of every interface, supervised, and find the HTTP-speaking ones.

A source that raises is logged and started again after a pause (a file share that
went away must not stop the gateway); after a configuration reload every source is
restarted on the new configuration. Sources must therefore be resumable, which their
state (the file ledger) and idempotency keys make them.

Each source is built with a ``SourceContext`` (:mod:`esb.sdk`), its only view of the
gateway: ``accept`` into the ingress, the current configuration's key check, the
idempotency-key check of the HTTP door, and its own ``state`` in the database
(:mod:`esb.store.source_state`), whose lease this process holds as ``owner``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from esb.config.gateway import GatewayConfig
from esb.connectors import ConnectorRegistry
from esb.ingress import Ingress, check_idempotency_key
from esb.sdk import HttpInbound, InboundSource, MessageOutcome, SourceContext, SystemClock
from esb.sdk._schedule import DEFAULT_ZONE, Run
from esb.sdk._state import DEFAULT_LEASE_S, process_owner
from esb.store.source_outcomes import message_outcomes
from esb.store.source_state import SourceStateStore

log = structlog.get_logger(__name__)
RESTART_AFTER_S = 5.0


class InboundRunner:
    def __init__(
        self,
        registry: ConnectorRegistry,
        ingress: Ingress,
        engine: AsyncEngine,
        data_dir: Path,
        *,
        lease_ttl: float = DEFAULT_LEASE_S,
        time_zone: str = DEFAULT_ZONE,
        on_run: Callable[[str, Run], None] | None = None,
    ) -> None:
        self.registry = registry
        self.ingress = ingress
        self.engine = engine  # for the sources' state and outcomes; they never see it
        self.data_dir = data_dir
        self.lease_ttl = lease_ttl
        self.time_zone = time_zone
        self.on_run = on_run  # the runs of sources' schedules, as job "interface/kind/name"
        self.owner = process_owner()  # one holder name per process: a restart keeps its leases
        self.clock = SystemClock()
        self.sources: dict[tuple[str, str], InboundSource] = {}
        self._tasks: list[asyncio.Task[None]] = []

    def _context(self, config: GatewayConfig, interface: str, kind: str) -> SourceContext:
        spec = config.interfaces[interface]

        async def accept(body: Any, **options: Any) -> Any:
            return await self.ingress.accept_document(interface, body, **options)

        async def accept_batch(documents: Sequence[tuple[Any, str | None]]) -> list[Any]:
            return await self.ingress.accept_documents(interface, documents)

        def authenticate(key: str) -> str | None:
            return self.ingress.config().authenticate(key)  # follows reloads

        async def outcomes(keys: Sequence[str]) -> dict[str, MessageOutcome]:
            return await message_outcomes(self.engine, spec.source, spec.message_type, keys)

        state = SourceStateStore(
            self.engine, interface, kind, owner=self.owner, lease_ttl=self.lease_ttl
        )
        return SourceContext(
            interface=interface,
            source_system=spec.source,
            message_type=spec.message_type,
            config_dir=config.folder,
            data_dir=self.data_dir,
            accept=accept,
            accept_batch=accept_batch,
            check_idempotency_key=check_idempotency_key,
            authenticate=authenticate,
            state=state,
            clock=self.clock,
            log=log.bind(interface=interface, source=kind),
            time_zone=self.time_zone,
            on_run=self._runs_of(interface, kind),
            outcomes=outcomes,
        )

    def _runs_of(self, interface: str, kind: str) -> Callable[[Run], None] | None:
        on_run = self.on_run
        if on_run is None:
            return None
        return lambda run: on_run(f"{interface}/{kind}/{run.name}", run)

    def start(self, config: GatewayConfig) -> None:
        for interface, spec in config.interfaces.items():
            for source_config in spec.inbound:
                context = self._context(config, interface, source_config.kind)
                source = self.registry.build_inbound(source_config, context)
                self.sources[(interface, source_config.kind)] = source
                name = f"inbound-{interface}-{source_config.kind}"
                self._tasks.append(asyncio.create_task(self._supervise(source, name), name=name))
        if self.sources:
            log.info("inbound sources started", sources=[f"{i}/{k}" for i, k in self.sources])

    async def _supervise(self, source: InboundSource, name: str) -> None:
        while True:
            try:
                await source.run()
                return
            except asyncio.CancelledError:
                raise
            except Exception:  # a source's failure is logged and retried, never fatal
                log.exception(
                    "inbound source failed; restarting", source=name, retry_in=RESTART_AFTER_S
                )
                await asyncio.sleep(RESTART_AFTER_S)

    def http_source(self, interface: str, kind: str) -> HttpInbound | None:
        source = self.sources.get((interface, kind))
        return source if isinstance(source, HttpInbound) else None

    async def restart(self, config: GatewayConfig) -> None:
        await self.stop()
        self.start(config)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for source in self.sources.values():
            await source.aclose()
        self._tasks.clear()
        self.sources.clear()


OnReload = Callable[[GatewayConfig], Any]
