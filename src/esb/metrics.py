"""Prometheus metrics of a gateway process (``GET /metrics``; workers: ESB_METRICS_PORT).

Counters and histograms are updated where things happen (accept, attempt);
gauges that describe the database (backlog, parked, oldest pending, relay lag) are
refreshed by a periodic query, so a scrape never touches the database.

Processes that share a port (``esb serve --reuse-port``) share a folder too
(``share_between_processes``, prometheus-client's multiprocess mode): each writes its
values there and any of them answers a scrape with the sums of all, so the counters
Prometheus sees do not jump with whichever process took the connection. The gauges
read the database, which every process sees alike: the most recent value wins.
"""

from __future__ import annotations

import asyncio
import os
from datetime import datetime
from pathlib import Path

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, values
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from esb.errors import StoreUnavailable
from esb.sdk._schedule import Run
from esb.status import AttemptOutcome, DeliveryStatus, OutboxStatus
from esb.store.alert_queue import channel_states, waiting
from esb.store.breaker import CLOSED, HALF_OPEN
from esb.store.engine import transaction, utcnow
from esb.store.flow_read import SystemFlow, known_systems, read_flow
from esb.store.ordering import blocked_counts
from esb.store.tables import deliveries, outbox

log = structlog.get_logger(__name__)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600)
PAIR = ("interface", "target")
#: prometheus-client's switch for multiprocess mode (read when a metric is created).
SHARED_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def share_between_processes(folder: Path) -> None:
    """Keep this process's metrics in ``folder`` with those of the other processes there.

    Must run before the first metric of the process is created; values of processes
    that ended stay in the folder, so the sums never go down while the group runs.
    """
    folder.mkdir(parents=True, exist_ok=True)
    os.environ[SHARED_DIR_VARIABLE] = str(folder.resolve())
    # prometheus-client chose its value class from the environment when imported: again
    values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]


def _shared_folder() -> str | None:
    folder = os.environ.get(SHARED_DIR_VARIABLE)
    if folder and not getattr(values.ValueClass, "_multiprocess", False):
        # set outside share_between_processes, after prometheus-client chose its value class
        raise RuntimeError(f"{SHARED_DIR_VARIABLE} was set after prometheus_client was imported")
    return folder or None


def _database_gauge(
    name: str, documentation: str, labels: tuple[str, ...], registry: CollectorRegistry
) -> Gauge:
    """Every process reads the same database: shared, the most recent value is the one."""
    return Gauge(name, documentation, labels, registry=registry, multiprocess_mode="mostrecent")


class Metrics:
    def __init__(self) -> None:
        r = CollectorRegistry()
        #: what a scrape reads: this process's registry, or the sums over the shared folder
        self.registry = r
        self.shared_folder = _shared_folder()
        if self.shared_folder is not None:
            self.registry = CollectorRegistry()
            MultiProcessCollector(self.registry, path=self.shared_folder)  # type: ignore[no-untyped-call]
        self.accepted = Counter(
            "esb_messages_accepted", "Messages accepted (202)", ["interface"], registry=r
        )
        self.refused = Counter(
            "esb_messages_refused",
            "Documents refused at the door (422), by interface",
            ["interface"],
            registry=r,
        )
        self.attempts = Counter(
            "esb_attempts", "Delivery attempts by outcome", [*PAIR, "outcome"], registry=r
        )
        self.attempt_seconds = Histogram(
            "esb_attempt_duration_seconds",
            "One call to a target",
            PAIR,
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.end_to_end_seconds = Histogram(
            "esb_end_to_end_seconds",
            "Accepted to delivered",
            PAIR,
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.http_cut = Counter(
            "esb_http_requests_cut",
            "Connections closed because a request was too slow or its headers too large",
            ["reason"],
            registry=r,
        )
        self.deferred = Counter(
            "esb_flow_deferred",
            "Deliveries put back by flow control (no attempt), by reason",
            ["system", "reason"],
            registry=r,
        )
        self.breaker = _database_gauge(
            "esb_flow_breaker_state",
            "Circuit breaker: 0 closed, 1 half-open, 2 open",
            ("system",),
            r,
        )
        self.in_flight = _database_gauge(
            "esb_flow_in_flight", "Calls in flight (leases held), all processes", ("system",), r
        )
        self.waiting = _database_gauge(
            "esb_flow_waiting",
            "Deliveries waiting for flow control now, by reason",
            ("system", "reason"),
            r,
        )
        self.backlog = _database_gauge("esb_backlog", "Pending deliveries", PAIR, r)
        self.parked = _database_gauge("esb_parked", "Parked deliveries", PAIR, r)
        self.blocked = _database_gauge(
            "esb_blocked", "Pending deliveries waiting behind their key's head", PAIR, r
        )
        self.oldest_pending = _database_gauge(
            "esb_oldest_pending_seconds", "Age of the oldest pending delivery", PAIR, r
        )
        self.relay_lag = _database_gauge(
            "esb_relay_lag_seconds", "Age of the oldest due outbox row not yet published", (), r
        )
        self.channel_ok = _database_gauge(
            "esb_alert_channel_ok",
            "Chat alert robot: 1 its last send was accepted (or none yet), 0 it failed",
            ("channel", "kind"),
            r,
        )
        self.channel_waiting = _database_gauge(
            "esb_alert_channel_waiting", "Alerts queued for a chat robot", ("channel",), r
        )
        self.channel_sent = _database_gauge(
            "esb_alert_channel_sent",
            "Messages a chat robot accepted (all processes)",
            ("channel",),
            r,
        )
        self.channel_last_sent = _database_gauge(
            "esb_alert_channel_last_sent_timestamp_seconds",
            "When a chat robot last accepted a message (Unix time)",
            ("channel",),
            r,
        )
        self.scheduled_runs = Counter(
            "esb_scheduled_runs",
            "Runs of scheduled work (polls, syncs, checks) by outcome",
            ["job", "outcome"],
            registry=r,
        )
        self.scheduled_skipped = Counter(
            "esb_scheduled_skipped",
            "Ticks skipped because the job's previous run was still going",
            ["job"],
            registry=r,
        )
        self.scheduled_rows = Counter(
            "esb_scheduled_rows", "Rows or documents handled by scheduled runs", ["job"], registry=r
        )
        self.scheduled_seconds = Histogram(
            "esb_scheduled_run_duration_seconds",
            "One run of scheduled work",
            ["job"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.scheduled_last = Gauge(
            "esb_scheduled_last_run_timestamp_seconds",
            "When the job's last run started (Unix time)",
            ["job"],
            registry=r,
            multiprocess_mode="max",
        )
        self.shadow_comparisons = Counter(
            "esb_shadow_comparisons",
            "Parallel runs: a shadow's output compared with the live one (match, differ, failed)",
            [*PAIR, "outcome"],
            registry=r,
        )
        self.shadow_promoted = Gauge(
            "esb_shadow_promoted",
            "Parallel runs: 1 while this process applies the shadow's promotion, 0 in shadow "
            "(processes sharing a folder: the least of them)",
            PAIR,
            registry=r,
            multiprocess_mode="min",
        )
        self._pairs: set[tuple[str, str]] = set()  # every pair reported so far

    def attempt(
        self,
        interface: str,
        target: str,
        outcome: AttemptOutcome,
        seconds: float,
        end_to_end_s: float | None,
    ) -> None:
        self.attempts.labels(interface, target, outcome.value).inc()
        self.attempt_seconds.labels(interface, target).observe(seconds)
        if end_to_end_s is not None:
            self.end_to_end_seconds.labels(interface, target).observe(end_to_end_s)

    def scheduled_run(self, job: str, run: Run) -> None:
        self.scheduled_runs.labels(job, "failed" if run.error else "ok").inc()
        self.scheduled_seconds.labels(job).observe(run.duration_s)
        self.scheduled_last.labels(job).set(run.started_at.timestamp())
        if run.rows:
            self.scheduled_rows.labels(job).inc(run.rows)
        if run.skipped:
            self.scheduled_skipped.labels(job).inc(run.skipped)

    async def refresh(self, engine: AsyncEngine) -> None:
        now = utcnow()
        d, o = deliveries.c, outbox.c
        async with transaction(engine) as conn:
            rows = (
                await conn.execute(
                    select(d.interface, d.target, d.status, func.count(), func.min(d.created_at))
                    .where(d.status.in_([DeliveryStatus.PENDING, DeliveryStatus.PARKED]))
                    .group_by(d.interface, d.target, d.status)
                )
            ).all()
            blocked = await blocked_counts(conn)
            due: datetime | None = await conn.scalar(
                select(func.min(o.available_at)).where(
                    o.status == OutboxStatus.PENDING, o.available_at <= now
                )
            )
            flow = await read_flow(conn, await known_systems(conn), now.timestamp())
        self._show_flow(flow)
        await self._show_channels(engine)
        pending: dict[tuple[str, str], tuple[int, float]] = {}
        parked: dict[tuple[str, str], int] = {}
        for interface, target, status, count, oldest in rows:
            if status == DeliveryStatus.PENDING:
                pending[(interface, target)] = (count, (now - oldest).total_seconds())
            else:
                parked[(interface, target)] = count
        # a pair with nothing left reads 0 (multiprocess mode cannot remove a series)
        self._pairs |= pending.keys() | parked.keys() | blocked.keys()
        for pair in self._pairs:
            count, age = pending.get(pair, (0, 0.0))
            self.backlog.labels(*pair).set(count)
            self.oldest_pending.labels(*pair).set(age)
            self.parked.labels(*pair).set(parked.get(pair, 0))
            self.blocked.labels(*pair).set(blocked.get(pair, 0))
        self.relay_lag.set((now - due).total_seconds() if due else 0.0)

    def _show_flow(self, systems: list[SystemFlow]) -> None:
        for s in systems:
            state = 0 if s.breaker == CLOSED else 1 if s.breaker == HALF_OPEN else 2
            self.breaker.labels(s.system).set(state)
            self.in_flight.labels(s.system).set(s.in_flight)
            for reason in ("breaker", "max_in_flight", "rate"):
                self.waiting.labels(s.system, reason).set(s.deferred.get(reason, 0))

    async def _show_channels(self, engine: AsyncEngine) -> None:
        states, queued = await channel_states(engine), await waiting(engine)
        for name in states.keys() | queued.keys():
            self.channel_waiting.labels(name).set(queued.get(name, 0))
        for name, state in states.items():
            self.channel_ok.labels(name, state.kind).set(1 if state.ok else 0)
            self.channel_sent.labels(name).set(state.sent)
            if state.last_sent_at is not None:
                self.channel_last_sent.labels(name).set(state.last_sent_at.timestamp())

    async def refresh_forever(self, engine: AsyncEngine, every_s: float = 15.0) -> None:
        while True:
            try:
                await self.refresh(engine)
            except StoreUnavailable as exc:
                log.warning("metrics not refreshed", error=str(exc))
            await asyncio.sleep(every_s)
