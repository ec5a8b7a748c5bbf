"""The health report: per interface and target, what came in, what went out, how fast, how well.

Counts and latencies cover the window; ``parked`` and ``pending`` are the state now
(what an operator must act on); ``blocked`` counts the pending deliveries that wait
behind an earlier one of their business key (``ordering: key``), and
``blocked_by_parked`` names the parked deliveries that hold others back, and how many.
Percentiles are exact on the recorded values, with
linear interpolation between ranks (PostgreSQL's ``percentile_cont``). ``status``
comes from the thresholds an interface sets in YAML (``health:``). ``systems`` shows
flow control now: each limited system's breaker, calls in flight and deliveries waiting.
``schedules`` shows each poll, sync or check run on a schedule: its last run's start,
duration, rows and error, and how many runs failed or were skipped (an overrun).
``alert_channels`` shows each chat robot of ``alerts.yaml``: whether its last send was
accepted (``ok``), its last error (a bad DingTalk secret, an unreachable URL), when it
last showed a message and how many alerts wait for it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from esb.config.gateway import GatewayConfig
from esb.config.types import HealthThresholds, parse_duration
from esb.scheduling import schedules
from esb.store.alert_queue import channel_states, waiting
from esb.store.engine import transaction, utcnow
from esb.store.flow_read import read_flow
from esb.store.stats import Pair, PairStats, collect, percentile

__all__ = ["build_report", "percentile", "status_of"]


def status_of(s: PairStats, limits: HealthThresholds, now: datetime) -> str:
    """``failing``, ``degraded`` or ``ok``, from the pair's own thresholds."""
    rate = s.successes / s.attempts if s.attempts else None
    if s.trailing_failures >= limits.failing_after or (
        rate is not None and rate < limits.failing_below
    ):
        return "failing"
    age = (now - s.oldest_pending).total_seconds() if s.oldest_pending else 0.0
    backlog = limits.backlog_above is not None and s.pending > limits.backlog_above
    if (
        (rate is not None and rate < limits.degraded_below)
        or s.parked
        or backlog
        or (age > limits.oldest_pending_above)
    ):
        return "degraded"
    return "ok"


def _row(
    pair: Pair, s: PairStats, config: GatewayConfig, now: datetime, window_s: float
) -> dict[str, Any]:
    interface = config.interfaces.get(pair[0])
    limits = (
        interface.target_health(pair[1])
        if interface and pair[1] in interface.targets
        else HealthThresholds()
    )
    deadline = (
        interface.targets[pair[1]].deadline if interface and pair[1] in interface.targets else None
    )
    age = (now - s.oldest_pending).total_seconds() if s.oldest_pending else None
    row: dict[str, Any] = {
        "interface": pair[0],
        "target": pair[1],
        "received": s.received,
        "delivered": s.delivered,
        "attempts": s.attempts,
        "failed_attempts": s.attempts - s.successes,
        "parked": s.parked,
        "pending": s.pending,
        "blocked": s.blocked,
        "blocked_by_parked": s.blocked_by_parked,
        "oldest_pending_age_s": None if age is None else round(age, 3),
        "success_rate": round(s.successes / s.attempts, 6) if s.attempts else None,
        "throughput_per_s": round(s.delivered / window_s, 3) if window_s else None,
        "attempt_latency_ms": s.attempt_latency.as_dict(),
        "end_to_end_latency_ms": s.end_to_end.as_dict(),
        "last_error": s.last_error,
        "status": status_of(s, limits, now),
    }
    if deadline is not None:
        row["deadline"] = {
            "within_s": deadline,
            "overdue_now": s.overdue,
            "on_time_share": round(s.on_time / s.delivered, 6) if s.delivered else None,
        }
    return row


async def flow_rows(engine: AsyncEngine, config: GatewayConfig) -> list[dict[str, Any]]:
    """Per system with a ``flow:`` section: its breaker, the calls in flight now and the
    deliveries waiting for it, by reason. No section anywhere: no query."""
    specs = {name: s.flow for name, s in config.systems.items() if s.flow is not None}
    if not specs:
        return []
    async with transaction(engine) as conn:
        found = await read_flow(conn, sorted(specs), utcnow().timestamp())
    rows = []
    for state in found:
        spec = specs[state.system]
        rows.append(
            {
                "system": state.system,
                "breaker": state.breaker if spec.breaker is not None else None,
                "consecutive_failures": state.failures,
                "reopens_at": state.reopen_at.isoformat() if state.reopen_at else None,
                "breaker_changed_at": state.changed_at.isoformat() if state.changed_at else None,
                "in_flight": state.in_flight,
                "max_in_flight": spec.max_in_flight,
                "rate_per_s": spec.rate,
                "deferred": {
                    reason: state.deferred.get(reason, 0)
                    for reason in ("breaker", "max_in_flight", "rate")
                },
            }
        )
    return rows


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


async def alert_channel_rows(engine: AsyncEngine, config: GatewayConfig) -> list[dict[str, Any]]:
    """Each configured chat robot: ok or its last error, its last send, what waits for it."""
    channels = config.alerts.channels if config.alerts else {}
    if not channels:
        return []
    states, queued = await channel_states(engine), await waiting(engine)
    rows = []
    for name, channel in sorted(channels.items()):
        state = states.get(name)
        rows.append(
            {
                "name": name,
                "kind": channel.kind,
                "url": channel.url_shown(),
                "ok": state.ok if state else True,
                "last_error": state.last_error if state else None,
                "last_error_at": _iso(state.last_error_at) if state else None,
                "last_sent_at": _iso(state.last_sent_at) if state else None,
                "sent": state.sent if state else 0,
                "waiting": queued.get(name, 0),
                "limited_until": _iso(state.limited_until) if state else None,
            }
        )
    return rows


async def build_report(
    engine: AsyncEngine, config: GatewayConfig, window: str = "15m"
) -> dict[str, Any]:
    window_s = parse_duration(window)
    now = utcnow()
    since = now - timedelta(seconds=window_s)
    deadlines = {
        (i, t): spec.deadline
        for i, iface in config.interfaces.items()
        for t, spec in iface.targets.items()
        if spec.deadline is not None
    }
    stats = await collect(engine, since, now, deadlines)
    pairs = {(i, t) for i, iface in config.interfaces.items() for t in iface.targets} | set(stats)
    return {
        "window": window,
        "window_s": window_s,
        "from": since.isoformat(),
        "to": now.isoformat(),
        "interfaces": [
            _row(p, stats.get(p, PairStats()), config, now, window_s) for p in sorted(pairs)
        ],
        "systems": await flow_rows(engine, config),
        "schedules": await schedules(engine),
        "alert_channels": await alert_channel_rows(engine, config),
    }
