"""CPU of the worker's check before a call (``check_claims``) on PostgreSQL, against the
same statement on a bare asyncpg connection (its floor).

    .venv/bin/python bench/claim_check_bench.py [--calls 3000] [--ids 10] [--rounds 3]

A scratch database (``esb_claim_bench``, dropped after) is migrated and given ``--ids``
accepted messages; each round times ``--calls`` checks of all of them, as the worker's
group commit batches them, in process CPU time (what the worker's share of a core pays,
whatever PostgreSQL does meanwhile). Prints µs of CPU a call for both.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import replace

import asyncpg

from esb.settings import Settings
from esb.store.accept import NewMessage, accept_messages
from esb.store.claims import Claim, check_claims
from esb.store.engine import create_engine
from esb.store.migrate import upgrade

ADMIN = "postgresql://127.0.0.1:5432/test"
NAME = "esb_claim_bench"
URL = f"postgresql://127.0.0.1:5432/{NAME}"
#: the check's statement, as the store sends it (kept here: the bench also measures older code)
STATES = "SELECT id, status, redeliveries FROM deliveries WHERE id = ANY($1)"


#: one order as an accept hands it to the store; each has its own key
ORDER = NewMessage(
    interface="sales-order",
    message_type="sales_order",
    source_system="erp",
    business_key=None,
    idempotency_key="",
    content_type="application/json",
    body='{"OrderNo": "SO-BENCH"}',
    targets=["mes"],
)


def order(n: int) -> NewMessage:
    return replace(ORDER, business_key=f"SO-{n}", idempotency_key=f"BENCH-{n}")


async def admin(sql: str) -> None:
    conn = await asyncpg.connect(ADMIN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def measure(opts: argparse.Namespace) -> None:
    engine = create_engine(Settings(database_url=URL))
    try:
        accepted = await accept_messages(engine, [order(n) for n in range(opts.ids)])
        claims = [Claim(a.deliveries[0].id) for a in accepted]
        ids = [c.delivery_id for c in claims]
        floor = await asyncpg.connect(URL)
        for _ in range(300):  # warm: prepared statements, plans
            await check_claims(engine, claims)
            await floor.fetch(STATES, ids)
        print("| round | check_claims µs CPU a call | bare asyncpg µs CPU a call | ratio |")
        print("|---|---:|---:|---:|")
        for round_ in range(1, opts.rounds + 1):
            started = time.process_time()
            for _ in range(opts.calls):
                states = await check_claims(engine, claims)
            ours = (time.process_time() - started) / opts.calls * 1e6
            assert all(s.pending for s in states)
            started = time.process_time()
            for _ in range(opts.calls):
                await floor.fetch(STATES, ids)
            bare = (time.process_time() - started) / opts.calls * 1e6
            print(f"| {round_} | {ours:.0f} | {bare:.0f} | {ours / bare:.2f} |")
        await floor.close()
    finally:
        await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--ids", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    opts = parser.parse_args()
    await admin(f"DROP DATABASE IF EXISTS {NAME}")
    await admin(f"CREATE DATABASE {NAME}")
    try:
        await upgrade(Settings(database_url=URL).effective_database_url)
        await measure(opts)
    finally:
        await admin(f"DROP DATABASE IF EXISTS {NAME}")


if __name__ == "__main__":
    asyncio.run(main())
