"""Per-bucket figures for the dashboard's charts: attempts, success rate and p95 over time."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, cast, func, literal, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from esb.status import AttemptOutcome
from esb.store.engine import transaction
from esb.store.stats import percentile
from esb.store.tables import attempts

Key = tuple[str, str, int]  # interface, target, bucket


def _bucket(conn: AsyncConnection, since: datetime, step_s: float) -> Any:
    """The bucket number of an attempt: whole steps since the window began."""
    a = attempts.c
    if conn.dialect.name == "postgresql":
        elapsed: Any = func.extract("epoch", a.started_at - literal(since))
        return cast(func.floor(elapsed / step_s), Integer)
    naive = since.replace(tzinfo=None).isoformat(sep=" ")
    elapsed = (func.julianday(a.started_at) - func.julianday(naive)) * 86400.0
    return cast(elapsed / step_s, Integer)


async def _p95(conn: AsyncConnection, bucket: Any, since: datetime) -> dict[Key, float]:
    a = attempts.c
    if conn.dialect.name == "postgresql":
        query = (
            select(
                a.interface,
                a.target,
                bucket,
                func.percentile_cont(0.95).within_group(a.duration_ms),
            )
            .where(a.started_at >= since)
            .group_by(a.interface, a.target, bucket)
        )
        return {(i, t, b): p for i, t, b, p in await conn.execute(query)}
    values: dict[Key, list[float]] = defaultdict(list)
    for i, t, b, d in await conn.execute(
        select(a.interface, a.target, bucket, a.duration_ms).where(a.started_at >= since)
    ):
        values[(i, t, b)].append(d)
    return {k: percentile(sorted(v), 0.95) or 0.0 for k, v in values.items()}


async def attempt_series(
    engine: AsyncEngine, since: datetime, step_s: float, buckets: int
) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Every pair's points, one per step (empty steps included, with zero attempts)."""
    a = attempts.c
    async with transaction(engine) as conn:
        bucket = _bucket(conn, since, step_s)
        counts = await conn.execute(
            select(
                a.interface,
                a.target,
                bucket,
                func.count(),
                func.count().filter(a.outcome == AttemptOutcome.DELIVERED),
            )
            .where(a.started_at >= since)
            .group_by(a.interface, a.target, bucket)
        )
        found = {(i, t, b): (n, ok) for i, t, b, n, ok in counts}
        p95 = await _p95(conn, bucket, since)
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for pair in {(i, t) for i, t, _ in found}:
        out[pair] = [
            _point(since, step_s, b, found.get((*pair, b)), p95.get((*pair, b)))
            for b in range(buckets)
        ]
    return out


def _point(
    since: datetime, step_s: float, bucket: int, counts: tuple[int, int] | None, p95: float | None
) -> dict[str, Any]:
    n, ok = counts or (0, 0)
    return {
        "t": (since + timedelta(seconds=bucket * step_s)).isoformat(),
        "attempts": n,
        "successes": ok,
        "success_rate": round(ok / n, 6) if n else None,
        "p95_ms": None if p95 is None else round(p95, 3),
    }
