"""How fast are the health and value reports with millions of recorded attempts (PostgreSQL)?

Keys are sequential (time order), as the gateway's UUIDv7 ids are.
Fills a fresh database with N attempts spread evenly over --days (one delivery per
attempt; 1 in 20 attempts failed with a 503 and its delivery took 2 attempts, 1 in
1,000 deliveries replayed by an operator, 1 delivery in 10,000 parked), server-side
with generate_series, then times
``build_report`` for a 1-hour window (median of --runs). Then the value report: the
report of this month is timed once with no rollup at all, the daily rollup is brought
up to where its job keeps it (timed once; the last six minutes of deliveries are left to
the report's live count), and ``build_value_report`` is timed for every month the data
touches. Everything runs
through the same code the API uses.

    .venv/bin/python bench/report_bench.py --attempts 1000000 10000000 --days 30
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
from sqlalchemy import func, select

from esb.config.loader import load_config
from esb.connectors import load_registry
from esb.report import build_report
from esb.settings import Settings
from esb.store.engine import create_engine, utcnow
from esb.store.migrate import upgrade
from esb.store.tables import deliveries
from esb.store.value_days import roll_up
from esb.value_report import Month, build_value_report
from esb.value_rollup import MARGIN_S

ADMIN_URL = "postgresql://127.0.0.1:5432/test"
FILL = """
INSERT INTO messages (id, interface, message_type, source_system, business_key,
                      idempotency_key, content_type, body, received_at)
SELECT lpad(to_hex(g), 32, '0')::uuid, 'sales-order', 'sales_order', 'erp', 'SO-' || g,
       'k' || lpad(g::text, 12, '0'),
       'application/json', '{{}}', now() - ({days} * interval '1 day') * (1 - g::float / {n})
FROM generate_series(1, {n}) g;
INSERT INTO deliveries (id, message_id, interface, target, status, attempts, round_attempts,
                        created_at, updated_at, delivered_at, end_to_end_ms)
SELECT lpad(to_hex(g + {n}), 32, '0')::uuid, lpad(to_hex(g), 32, '0')::uuid, 'sales-order',
       'mes',
       CASE WHEN g % 10000 = 0 THEN 'parked' ELSE 'delivered' END,
       CASE WHEN g % 20 = 0 THEN 2 ELSE 1 END, 1,
       now() - ({days} * interval '1 day') * (1 - g::float / {n}),
       now() - ({days} * interval '1 day') * (1 - g::float / {n}),
       CASE WHEN g % 10000 = 0 THEN NULL
            ELSE now() - ({days} * interval '1 day') * (1 - g::float / {n}) END,
       CASE WHEN g % 10000 = 0 THEN NULL ELSE 5 + (g % 997) END
FROM generate_series(1, {n}) g;
INSERT INTO attempts (delivery_id, interface, target, number, started_at, duration_ms, outcome,
                      status_code, error)
SELECT lpad(to_hex(g + {n}), 32, '0')::uuid, 'sales-order', 'mes', 1,
       now() - ({days} * interval '1 day') * (1 - g::float / {n}), 1 + (g % 499),
       CASE WHEN g % 20 = 0 THEN 'retry' ELSE 'delivered' END,
       CASE WHEN g % 20 = 0 THEN 503 ELSE 200 END,
       CASE WHEN g % 20 = 0 THEN 'HTTP 503: busy' END
FROM generate_series(1, {n}) g;
INSERT INTO audit_log (at, actor, action, delivery_id, reason)
SELECT now() - ({days} * interval '1 day') * (1 - g::float / {n}), 'admin:bench', 'replay',
       lpad(to_hex(g + {n}), 32, '0')::uuid, 'target fixed'
FROM generate_series(1000, {n}, 1000) g;
INSERT INTO refusals (interface, day, field, documents)
SELECT 'sales-order', d::date, f, 1 + (extract(day FROM d)::int % 7)
FROM generate_series(now() - {days} * interval '1 day', now(), interval '1 day') d,
     unnest(ARRAY['Lines[].Qty', 'OrderNo', '']) f
ON CONFLICT DO NOTHING;
ANALYZE;
"""
CONFIG = Path(__file__).resolve().parent / "config"


async def admin(sql: str) -> None:
    conn = await asyncpg.connect(ADMIN_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def measure(n: int, days: float, runs: int) -> dict[str, float]:
    name = f"esb_report_bench_{uuid.uuid4().hex[:6]}"
    await admin(f'CREATE DATABASE "{name}"')
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        await upgrade(url.replace("postgresql://", "postgresql+asyncpg://"))
        t0 = time.perf_counter()
        conn = await asyncpg.connect(url)
        await conn.execute(FILL.format(n=n, days=days, run=name))
        await conn.close()
        fill_s = time.perf_counter() - t0
        settings = Settings(database_url=url, config=CONFIG)
        config = load_config(CONFIG, load_registry(), {})
        engine = create_engine(settings)
        timings = []
        await build_report(engine, config, "1h")  # warm the pool and the plan cache
        for _ in range(runs):
            t0 = time.perf_counter()
            report = await build_report(engine, config, "1h")
            timings.append((time.perf_counter() - t0) * 1000)
        value = await measure_value(engine, config, settings.time_zone, days, runs)
        await engine.dispose()
        row = report["interfaces"][0]
        return {
            "attempts": n,
            "fill_s": round(fill_s, 1),
            "median_ms": round(statistics.median(timings), 1),
            "max_ms": round(max(timings), 1),
            "window_attempts": row["attempts"],
            "value": value,
        }
    finally:
        await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def latest_delivery(engine) -> datetime:
    async with engine.connect() as conn:
        return await conn.scalar(select(func.max(deliveries.c.delivered_at)))


async def counted_live(engine, mark: datetime) -> int:
    async with engine.connect() as conn:
        return await conn.scalar(select(func.count()).where(deliveries.c.delivered_at >= mark))


async def time_value(engine, config, time_zone: str, month: Month, runs: int) -> tuple[list, dict]:
    await build_value_report(engine, config, time_zone, month, utcnow())  # warm the pool
    timings = []
    for _ in range(runs):
        t0 = time.perf_counter()
        report = await build_value_report(engine, config, time_zone, month, utcnow())
        timings.append((time.perf_counter() - t0) * 1000)
    return timings, report


async def measure_value(engine, config, time_zone: str, days: float, runs: int) -> dict:
    """The value report of this month once without the rollup (every delivery counted
    from the deliveries), then the rollup brought up to where its job keeps it (the last
    MARGIN_S + 1 minute of deliveries left to the report's live count), then the report of
    each month the data touches, --runs times."""
    zone = ZoneInfo(time_zone)
    now = utcnow().astimezone(zone)
    this_month = Month(now.year, now.month)
    t0 = time.perf_counter()
    await build_value_report(engine, config, time_zone, this_month, utcnow())
    cold_ms = (time.perf_counter() - t0) * 1000
    mark = await latest_delivery(engine) - timedelta(seconds=MARGIN_S + 60)
    t0 = time.perf_counter()
    chunks = await roll_up(engine, zone, mark, chunks=10_000)
    rollup_s = time.perf_counter() - t0
    months = sorted({(d.year, d.month) for d in (now - timedelta(days=days), now)})
    found = []
    for year, number in months:
        timings, report = await time_value(engine, config, time_zone, Month(year, number), runs)
        found.append(
            {
                "period": report["period"],
                "moved": report["total"]["moved"],
                "retried": report["total"]["retried"],
                "fixed": report["total"]["fixed"],
                "median_ms": round(statistics.median(timings), 1),
                "max_ms": round(max(timings), 1),
            }
        )
    return {
        "months": found,
        "cold_period": this_month.label,
        "cold_ms": round(cold_ms, 1),
        "rollup_s": round(rollup_s, 1),
        "chunks": chunks,
        "live": await counted_live(engine, mark),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--days", type=float, default=30.0)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    results = []
    print("| recorded attempts | in the 1-hour window | report median (ms) | max (ms) | fill (s) |")
    print("|---:|---:|---:|---:|---:|")
    for n in args.attempts:
        r = await measure(n, args.days, args.runs)
        results.append(r)
        print(
            f"| {r['attempts']:,} | {r['window_attempts']:,} | {r['median_ms']} | "
            f"{r['max_ms']} | {r['fill_s']} |",
            flush=True,
        )
    print()
    print(
        "| recorded attempts | month | moved | retried | fixed | value report median (ms) | "
        "max (ms) |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|")
    for r in results:
        for v in r["value"]["months"]:
            print(
                f"| {r['attempts']:,} | {v['period']} | {v['moved']:,} | {v['retried']:,} | "
                f"{v['fixed']:,} | {v['median_ms']} | {v['max_ms']} |"
            )
    print()
    print(
        "| recorded attempts | rollup of every day (s) | deliveries counted live | "
        "this month without the rollup (ms) |"
    )
    print("|---:|---:|---:|---:|")
    for r in results:
        v = r["value"]
        print(
            f"| {r['attempts']:,} | {v['rollup_s']} ({v['chunks']} chunks) | {v['live']:,} | "
            f"{v['cold_ms']} ({v['cold_period']}) |"
        )


if __name__ == "__main__":
    asyncio.run(main())
