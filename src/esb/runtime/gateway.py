"""One gateway process assembled from parts, started in order and stopped in reverse:

    store      engine, group commits (accepts, claims, outcomes, refusals), master-data cache
    trail      records the configuration's changes in the audit log (at start, reloads)
    shadow     shadow promotions applied on top of the files; the comparisons' recorder
    broker     the RabbitMQ link (production, when this process relays or works)
    connectors the targets' connectors (when this process delivers)
    pipeline   relay + workers: embedded, or through RabbitMQ
    inbound    the interfaces' other doors (file drops, SOAP endpoints)
    services   metrics refresh, WAL checkpoints, watchers, consistency check, alerts,
               the value report's daily rollup

The API gets none of this: only the narrow objects below (``ingress``, ``reads``,
``operator``, ``reconciler``, ``master_data``, ``live``, ``metrics``, ``inbound``,
``shadows``) and
``ready()``, each handed to the handlers that need it.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from esb.alerts import Alerter
from esb.batching import GroupCommit
from esb.broker import Broker
from esb.config.loader import GatewayConfig
from esb.config_trail import ConfigTrail
from esb.connectors import ConnectorRegistry
from esb.connectors.core import CoreServices
from esb.deliverer import Deliverer
from esb.errors import ValidationFailed
from esb.flow import FlowGate
from esb.inbound import InboundRunner
from esb.ingress import Ingress
from esb.link import BrokerLink
from esb.live import LiveConfig, routes
from esb.master_data import MasterData
from esb.metrics import Metrics
from esb.queries.runner import QueryRunner
from esb.reads import Reads
from esb.reconcile import LEASE_SCOPE, MISSED_RUNS, Reconciler
from esb.runtime.part import Health, Part, Services
from esb.runtime.pipeline import BrokerPipeline, EmbeddedPipeline, Pipeline
from esb.runtime.store import Store
from esb.scheduling import run_job
from esb.sdk import Schedule
from esb.settings import Settings
from esb.shadow.part import ShadowPart, Shadows
from esb.shadow.runner import ShadowRunner
from esb.store.checkpoint import checkpoint_forever
from esb.store.operator import OperatorActions
from esb.store.shadow import ComparisonRecord, write_comparisons
from esb.store.source_state import SourceStateStore
from esb.store.young_tables import analyze_young_tables_forever
from esb.value_rollup import JOB, roll_up_forever
from esb.xref import XrefCache
from esb.xref_check import scheduled_check

log = structlog.get_logger(__name__)

Service = Callable[[], Coroutine[Any, Any, None]]


class Connectors:
    """The connectors of every target: built for a process that delivers, closed after
    its workers stopped."""

    name = "connectors"

    def __init__(self, live: LiveConfig) -> None:
        self.live = live

    async def start(self) -> None:
        self.live.start_connectors()

    async def stop(self) -> None:
        await self.live.aclose()

    async def health(self) -> Health:
        return None


class Inbound:
    """The inbound sources as a part; restarted on every configuration reload."""

    name = "inbound"

    def __init__(self, runner: InboundRunner, live: LiveConfig) -> None:
        self.runner = runner
        self.live = live

    async def start(self) -> None:
        self.runner.start(self.live.config)
        self.live.on_reloaded.append(self.runner.restart)

    async def stop(self) -> None:
        await self.runner.stop()

    async def health(self) -> Health:
        return None


class Queries:
    """The named queries' pools: made on first use, closed on every reload and at stop."""

    name = "queries"

    def __init__(self, runner: QueryRunner, live: LiveConfig) -> None:
        self.runner = runner
        self.live = live

    async def start(self) -> None:
        self.live.on_reloaded.append(self._reloaded)

    async def _reloaded(self, _: GatewayConfig) -> None:
        await self.runner.reset()

    async def stop(self) -> None:
        await self.runner.aclose()

    async def health(self) -> Health:
        return None


class Gateway:
    """``start`` the parts this process runs, ``stop`` them in reverse, ``ready`` says
    whether each can do its job now."""

    def __init__(
        self, settings: Settings, config: GatewayConfig, registry: ConnectorRegistry
    ) -> None:
        self.settings = settings
        self.live = LiveConfig(settings.config, registry, config, settings.config_env())
        self.metrics = Metrics()
        self.store = Store(settings, config.folder)
        self.store.on_released = self.notify  # the next delivery of a key is queued
        self.trail = ConfigTrail(self.engine, lambda: self.live.base)  # the files, as written
        self.live.trail = self.trail
        self.link = None if settings.embedded else self._link(settings)
        self.pipeline: Pipeline | None = None
        self.ingress = Ingress(
            self.store.accept,
            self.store.accept_many,
            lambda: self.live.config,
            self.notify,
            lambda interface, n: self.metrics.accepted.labels(interface).inc(n),
            self._refused,
        )
        self.inbound = InboundRunner(
            registry,
            self.ingress,
            self.engine,
            settings.data_dir,
            time_zone=settings.time_zone,
            on_run=self.metrics.scheduled_run,
        )
        self.reads = Reads(self.store.reader)  # embedded: beside the writer, not through it
        self.queries = QueryRunner()
        self.flow = FlowGate(self.engine, self.live, self.metrics, settings.flow_lease)
        self.operator = OperatorActions(self.engine, self.notify)
        self.master_data = MasterData(self.engine, self.store.xref)
        self.live.core = CoreServices(self.master_data)  # the xref connector writes through it
        self.reconciler = Reconciler(
            self.engine, self.link, settings.reconcile_stuck_after, self.notify
        )
        self.shadow = self._shadow(settings)
        self.shadows = Shadows(self.shadow, settings.time_zone)
        self._started: list[Part] = []
        self._checked: list[Part] = [self.store]

    def _shadow(self, settings: Settings) -> ShadowPart:
        recorder: GroupCommit[ComparisonRecord, None] = GroupCommit(
            lambda batch: write_comparisons(self.engine, batch), name="shadow-comparisons"
        )
        runner = ShadowRunner(
            self.live, self.store.xref, recorder, self.metrics, settings.time_zone
        )
        return ShadowPart(self.live, self.engine, self.store.reader, runner, recorder, self.metrics)

    def _link(self, settings: Settings) -> BrokerLink:
        broker = Broker(
            settings.broker_url or "",
            prefix=settings.broker_prefix,
            queue_type=settings.queue_type,
            publish_timeout=settings.publish_timeout,
        )
        return BrokerLink(
            broker, lambda: routes(self.live.config), attempt_timeout=settings.publish_timeout
        )

    def reconcile_lease(self) -> SourceStateStore:
        """The scheduled consistency check runs in one process: the holder of this lease."""
        interface, kind = LEASE_SCOPE
        ttl = self.settings.reconcile_every * (MISSED_RUNS + 1)
        return SourceStateStore(self.engine, interface, kind, lease_ttl=ttl)

    # what tests and tools look at --------------------------------------------------------
    @property
    def config(self) -> GatewayConfig:
        return self.live.config

    @property
    def engine(self) -> AsyncEngine:
        return self.store.engine

    @property
    def xref(self) -> XrefCache:
        return self.store.xref

    @property
    def broker(self) -> Broker | None:
        return None if self.link is None else self.link.broker

    async def _refused(self, interface: str, refused: Sequence[ValidationFailed]) -> None:
        """Documents refused at the door: counted in /metrics and for the value report."""
        self.metrics.refused.labels(interface).inc(len(refused))
        await self.store.refused(interface, refused)

    def notify(self) -> None:
        """A message was committed or re-queued: wake this process's relay, or, when it
        runs none, ring the relays of the others (PostgreSQL)."""
        if self.pipeline is not None and self.pipeline.relay is not None:
            self.pipeline.notify()
        elif self.store.bell is not None:
            self.store.bell.ring()

    # lifecycle ---------------------------------------------------------------------------
    def parts(self, *, relay: bool, worker: bool, inbound: bool) -> list[Part]:
        """What this process runs, in start order."""
        delivering = worker or (self.settings.embedded and relay)
        parts: list[Part] = [self.store, self.trail, self.shadow]
        if self.link is not None and (relay or worker):
            parts.append(self.link)
        if delivering:
            parts.append(Connectors(self.live))
        if relay or worker:
            self.pipeline = self._pipeline(relay=relay, worker=worker)
            parts.append(self.pipeline)
        if inbound:
            parts.append(Inbound(self.inbound, self.live))
        parts.append(Queries(self.queries, self.live))
        parts.append(Services(self._services(relay=relay)))
        return parts

    def _deliverer(self) -> Deliverer:
        store = self.store
        return Deliverer(
            self.live,
            store.outcomes,
            store.claims,
            store.xref,
            self.metrics,
            self.flow,
            self.shadow.runner,
        )

    def _pipeline(self, *, relay: bool, worker: bool) -> Pipeline:
        if self.link is None:
            return EmbeddedPipeline(self.settings, self.store, self._deliverer)
        return BrokerPipeline(
            self.settings,
            self.store,
            self.link,
            self.live,
            self._deliverer,
            relay=relay,
            worker=worker,
        )

    def _services(self, *, relay: bool) -> dict[str, Service]:
        """Every process refreshes what it shows; the one that relays also checks and alerts."""
        settings, store = self.settings, self.store
        services: dict[str, Service] = {
            "metrics": lambda: self.metrics.refresh_forever(store.engine),
            "xref-watch": lambda: store.xref.watch(settings.xref_refresh),
            "flow-leases": self.flow.renew_forever,
            "shadow-watch": lambda: self.shadow.watch_forever(settings.shadow_refresh),
        }
        if (wal := store.sqlite_file) is not None:
            services["wal-checkpoint"] = lambda: checkpoint_forever(wal)
        else:
            services["young-tables"] = lambda: analyze_young_tables_forever(store.engine)
        if settings.config_watch:
            services["config-watch"] = self.live.watch
        if relay:
            services["reconcile"] = lambda: self.reconciler.run_forever(
                settings.reconcile_every, self.reconcile_lease()
            )
            services["alerts"] = Alerter(
                store.engine, lambda: self.live.config, settings.time_zone
            ).run_forever
            services[JOB] = lambda: roll_up_forever(
                store.engine, settings.time_zone, lambda run: self.metrics.scheduled_run(JOB, run)
            )
            services.update(self._xref_checks())
        return services

    def _xref_checks(self) -> dict[str, Service]:
        """masterdata.yaml's scheduled sync checks, one job per domain (in one process of
        all: ``run_job`` holds the job's lease); each run reads the current configuration."""
        zone = self.settings.time_zone
        services: dict[str, Service] = {}
        for domain, check in self.config.xref_checks.items():
            if check.schedule is None:
                continue
            name = f"xref-check-{domain}"

            def service(domain: str = domain, name: str = name, text: str = check.schedule) -> Any:
                async def work() -> int:
                    spec = self.live.config.xref_checks.get(domain)
                    return await scheduled_check(self.engine, domain, spec, zone)

                return run_job(
                    self.engine,
                    name,
                    Schedule.parse(text, zone),
                    work,
                    on_run=lambda run: self.metrics.scheduled_run(name, run),
                )

            services[name] = service
        return services

    async def start(self, *, relay: bool = True, worker: bool = True, inbound: bool = True) -> None:
        for part in self.parts(relay=relay, worker=worker, inbound=inbound):
            await part.start()
            self._started.append(part)
            if part is self.link:
                self._checked.append(part)

    async def ready(self) -> dict[str, str]:
        """Each checked part's health: the database always, RabbitMQ when this process
        relays or works."""
        checks = {part.name: await part.health() for part in self._checked}
        return {name: health for name, health in checks.items() if health is not None}

    async def stop(self) -> None:
        """Every started part in reverse; a part never started (a failed start) is skipped,
        the store is always closed."""
        started, self._started = self._started, []
        for part in reversed(started):
            await part.stop()
        await self.queries.aclose()  # a query may have run before a failed start
        if self.store not in started:
            await self.store.stop()
        if self.link is not None and self.link not in started:
            await self.link.stop()  # a reconcile run may have connected it
