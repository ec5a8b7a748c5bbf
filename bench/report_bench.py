"""How fast is the health report with millions of recorded attempts (PostgreSQL)?

Keys are sequential (time order), as the gateway's UUIDv7 ids are.
Fills a fresh database with N attempts spread evenly over --days (one delivery per
attempt; 1 in 20 attempts failed with a 503, 1 delivery in 10,000 parked), server-side
with generate_series, then times
``build_report`` for a 1-hour window (median of --runs) and shows the plan of the
heaviest query. Everything runs through the same code the API uses.

    .venv/bin/python bench/report_bench.py --attempts 1000000 10000000 --days 30
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from pathlib import Path

import asyncpg

from esb.config.loader import load_config
from esb.connectors import load_registry
from esb.report import build_report
from esb.settings import Settings
from esb.store.engine import create_engine
from esb.store.migrate import upgrade

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
       CASE WHEN g % 10000 = 0 THEN 'parked' ELSE 'delivered' END, 1, 1,
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
        await engine.dispose()
        row = report["interfaces"][0]
        return {
            "attempts": n,
            "fill_s": round(fill_s, 1),
            "median_ms": round(statistics.median(timings), 1),
            "max_ms": round(max(timings), 1),
            "window_attempts": row["attempts"],
        }
    finally:
        await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--days", type=float, default=30.0)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    print("| recorded attempts | in the 1-hour window | report median (ms) | max (ms) | fill (s) |")
    print("|---:|---:|---:|---:|---:|")
    for n in args.attempts:
        r = await measure(n, args.days, args.runs)
        print(
            f"| {r['attempts']:,} | {r['window_attempts']:,} | {r['median_ms']} | "
            f"{r['max_ms']} | {r['fill_s']} |",
            flush=True,
        )


if __name__ == "__main__":
    asyncio.run(main())
