"""The health report: per interface and target, what came in, what went out, how fast, how well.

Counts and latencies cover the window; ``parked`` and ``pending`` are the state now
(what an operator must act on). Percentiles are exact on the recorded values, with
linear interpolation between ranks (the same definition as PostgreSQL's
``percentile_cont``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from esb.config.loader import GatewayConfig
from esb.config.types import parse_duration
from esb.status import AttemptOutcome, DeliveryStatus
from esb.store.engine import transaction, utcnow
from esb.store.tables import attempts, deliveries

Pair = tuple[str, str]
PERCENTILES = (50, 95, 99)

#: Default thresholds; an interface can override them in YAML (see docs/operations.md).
FAILING_SUCCESS_RATE = 0.5
DEGRADED_SUCCESS_RATE = 0.95
FAILING_CONSECUTIVE = 3
DEGRADED_PENDING_AGE_S = 300.0


def percentile(sorted_values: Sequence[float], p: float) -> float | None:
    """Linear interpolation between closest ranks; ``sorted_values`` ascending."""
    if not sorted_values:
        return None
    rank = (len(sorted_values) - 1) * p / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    if low == high:
        return float(sorted_values[low])
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (rank - low)


def latency_summary(values: list[float]) -> dict[str, float | None]:
    values.sort()
    out: dict[str, float | None] = {f"p{p}": _round(percentile(values, p)) for p in PERCENTILES}
    out["max"] = _round(values[-1]) if values else None
    return out


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


@dataclass
class PairStats:
    received: int = 0
    delivered: int = 0
    attempts: int = 0
    successes: int = 0
    parked: int = 0
    pending: int = 0
    oldest_pending: datetime | None = None
    attempt_ms: list[float] = field(default_factory=list)
    end_to_end_ms: list[float] = field(default_factory=list)
    trailing_failures: int = 0
    last_error: dict[str, Any] | None = None

    def status(self, now: datetime) -> str:
        rate = self.successes / self.attempts if self.attempts else None
        if self.trailing_failures >= FAILING_CONSECUTIVE or (
            rate is not None and rate < FAILING_SUCCESS_RATE
        ):
            return "failing"
        age = (now - self.oldest_pending).total_seconds() if self.oldest_pending else 0.0
        if (
            (rate is not None and rate < DEGRADED_SUCCESS_RATE)
            or self.parked
            or (age > DEGRADED_PENDING_AGE_S)
        ):
            return "degraded"
        return "ok"

    def as_dict(self, interface: str, target: str, now: datetime) -> dict[str, Any]:
        age = (now - self.oldest_pending).total_seconds() if self.oldest_pending else None
        return {
            "interface": interface,
            "target": target,
            "received": self.received,
            "delivered": self.delivered,
            "attempts": self.attempts,
            "failed_attempts": self.attempts - self.successes,
            "parked": self.parked,
            "pending": self.pending,
            "oldest_pending_age_s": _round(age),
            "success_rate": _round(self.successes / self.attempts) if self.attempts else None,
            "attempt_latency_ms": latency_summary(self.attempt_ms),
            "end_to_end_latency_ms": latency_summary(self.end_to_end_ms),
            "last_error": self.last_error,
            "status": self.status(now),
        }


async def _collect(engine: AsyncEngine, since: datetime, stats: dict[Pair, PairStats]) -> None:
    d, a = deliveries.c, attempts.c
    async with transaction(engine) as conn:
        for row in await conn.execute(
            select(d.interface, d.target, func.count())
            .where(d.created_at >= since)
            .group_by(d.interface, d.target)
        ):
            stats[(row[0], row[1])].received = row[2]
        for row in await conn.execute(
            select(d.interface, d.target, d.end_to_end_ms).where(d.delivered_at >= since)
        ):
            s = stats[(row[0], row[1])]
            s.delivered += 1
            if row[2] is not None:
                s.end_to_end_ms.append(row[2])
        for row in await conn.execute(
            select(a.interface, a.target, a.outcome, a.duration_ms, a.started_at, a.error)
            .where(a.started_at >= since)
            .order_by(a.id)
        ):
            s = stats[(row[0], row[1])]
            s.attempts += 1
            s.attempt_ms.append(row[3])
            if row[2] == AttemptOutcome.DELIVERED:
                s.successes += 1
                s.trailing_failures = 0
            else:
                s.trailing_failures += 1
                s.last_error = {"at": row[4].isoformat(), "error": row[5]}
        for row in await conn.execute(
            select(d.interface, d.target, d.status, func.count(), func.min(d.created_at))
            .where(d.status.in_([DeliveryStatus.PENDING, DeliveryStatus.PARKED]))
            .group_by(d.interface, d.target, d.status)
        ):
            s = stats[(row[0], row[1])]
            if row[2] == DeliveryStatus.PENDING:
                s.pending, s.oldest_pending = row[3], row[4]
            else:
                s.parked = row[3]


async def build_report(
    engine: AsyncEngine, config: GatewayConfig, window: str = "15m"
) -> dict[str, Any]:
    seconds = parse_duration(window)
    now = utcnow()
    since = now - timedelta(seconds=seconds)
    stats: dict[Pair, PairStats] = defaultdict(PairStats)
    for name, interface in config.interfaces.items():
        for target in interface.targets:
            stats[(name, target)]  # every configured pair is listed, even when quiet
    await _collect(engine, since, stats)
    rows = [s.as_dict(i, t, now) for (i, t), s in sorted(stats.items())]
    return {
        "window": window,
        "window_s": seconds,
        "from": since.isoformat(),
        "to": now.isoformat(),
        "interfaces": rows,
    }
