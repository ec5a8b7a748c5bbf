"""Prometheus metrics of one gateway process (``GET /metrics``; workers: ESB_METRICS_PORT).

Counters and histograms are updated where things happen (accept, attempt);
gauges that describe the database (backlog, parked, oldest pending, relay lag) are
refreshed by a periodic query, so a scrape never touches the database.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from esb.errors import StoreUnavailable
from esb.status import AttemptOutcome, DeliveryStatus, OutboxStatus
from esb.store.engine import transaction, utcnow
from esb.store.tables import deliveries, outbox

log = structlog.get_logger(__name__)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600)
PAIR = ("interface", "target")


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.accepted = Counter(
            "esb_messages_accepted", "Messages accepted (202)", ["interface"], registry=r
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
        self.backlog = Gauge("esb_backlog", "Pending deliveries", PAIR, registry=r)
        self.parked = Gauge("esb_parked", "Parked deliveries", PAIR, registry=r)
        self.oldest_pending = Gauge(
            "esb_oldest_pending_seconds", "Age of the oldest pending delivery", PAIR, registry=r
        )
        self.relay_lag = Gauge(
            "esb_relay_lag_seconds",
            "Age of the oldest due outbox row not yet published",
            registry=r,
        )

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
            due: datetime | None = await conn.scalar(
                select(func.min(o.available_at)).where(
                    o.status == OutboxStatus.PENDING, o.available_at <= now
                )
            )
        for gauge in (self.backlog, self.parked, self.oldest_pending):
            gauge.clear()
        for interface, target, status, count, oldest in rows:
            if status == DeliveryStatus.PENDING:
                self.backlog.labels(interface, target).set(count)
                self.oldest_pending.labels(interface, target).set((now - oldest).total_seconds())
            else:
                self.parked.labels(interface, target).set(count)
        self.relay_lag.set((now - due).total_seconds() if due else 0.0)

    async def refresh_forever(self, engine: AsyncEngine, every_s: float = 15.0) -> None:
        while True:
            try:
                await self.refresh(engine)
            except StoreUnavailable as exc:
                log.warning("metrics not refreshed", error=str(exc))
            await asyncio.sleep(every_s)
