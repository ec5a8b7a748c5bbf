"""Relays in other processes are rung when outbox rows are committed (PostgreSQL NOTIFY).

With API, relay and worker as separate processes, a relay learnt of new rows only at its
poll tick. These tests run the poll at 30 s, so anything delivered within seconds was
delivered because the bell rang: the API's accept, and the worker's outcome that queues
the next update of a key, each wake the relay in a third process.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from esb.settings import Settings
from esb.store import bell
from esb.store.engine import create_engine
from tests.integration.test_cluster import probed
from tests.integration.test_faults import env_for
from tests.integration.test_ordering_property import config_yaml
from tests.support.gateway import ERP_KEY, write_config
from tests.support.process import GatewayProcess
from tests.support.serving import free_port
from tests.support.target import TargetServer

#: far longer than any wait below: only a ring can explain a delivery within them
POLL_S = "30"


@pytest.fixture
async def engine(pg_clean: str, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(Settings(database_url=pg_clean, data_dir=tmp_path))
    yield engine
    await engine.dispose()


class Wakes:
    """What a relay's wake-up would see: each call, queued."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[float] = asyncio.Queue()

    def __call__(self) -> None:
        self.queue.put_nowait(time.monotonic())

    async def next(self, timeout: float = 5.0) -> float:
        return await asyncio.wait_for(self.queue.get(), timeout)

    async def settled(self, quiet: float = 0.5) -> int:
        """How many wakes arrived until none came for ``quiet`` seconds."""
        count = 0
        while True:
            try:
                await asyncio.wait_for(self.queue.get(), quiet)
            except TimeoutError:
                return count
            count += 1


async def listening_pids(url: str) -> list[int]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = current_database() AND query LIKE 'LISTEN%'"
        )
    finally:
        await conn.close()
    return [int(r["pid"]) for r in rows]


@asynccontextmanager
async def listening(engine: AsyncEngine) -> AsyncIterator[tuple[Wakes, bell.OutboxBell]]:
    """A relay's listener (its wakes recorded) and another process's bell, on one engine;
    the first wake, on listening, already taken."""
    wakes = Wakes()
    listener = asyncio.create_task(bell.listen(engine, wakes))
    ringer = bell.OutboxBell(engine)
    try:
        await wakes.next()  # listening: it looks once for what came before
        yield wakes, ringer
    finally:
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
        await ringer.aclose()


async def test_a_ring_wakes_the_listener_and_rings_in_a_burst_coalesce(
    engine: AsyncEngine, pg_clean: str
) -> None:
    async with listening(engine) as (wakes, ringer):
        ringer.ring()
        await wakes.next()
        assert await wakes.settled() == 0

        for _ in range(50):  # a burst of commits: one NOTIFY, and one more after it
            ringer.ring()
        assert 1 <= await wakes.settled() <= 2
        ringer.ring()  # a ring after the burst is not swallowed by it
        await wakes.next()
    assert await listening_pids(pg_clean) == []  # stopped: its connection stops listening


async def test_the_listener_listens_again_when_its_connection_is_killed(
    engine: AsyncEngine, pg_clean: str
) -> None:
    async with listening(engine) as (wakes, ringer):
        (first,) = await listening_pids(pg_clean)
        admin = await asyncpg.connect(pg_clean)
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", first)
        finally:
            await admin.close()
        await wakes.next(timeout=10)  # back, after its backoff: it looks once again
        (second,) = await listening_pids(pg_clean)
        assert second != first
        ringer.ring()
        await wakes.next()


async def test_separate_processes_deliver_without_waiting_for_the_poll(
    pg_clean: str, rabbit_url: str, target: TargetServer, tmp_path: Path
) -> None:
    """API, relay and worker apart: the relay is rung by the API's accept and by the
    worker's outcome that queues the key's next update (ordering: key)."""
    settings: dict[str, Any] = {
        "database_url": pg_clean,
        "broker_url": rabbit_url,
        "broker_prefix": f"esbtest-bell-{uuid.uuid4().hex[:10]}",
    }
    env = {
        **env_for(settings, write_config(tmp_path / "cfg", config_yaml(target.url))),
        "ESB_POLL_INTERVAL": POLL_S,
    }
    api = GatewayProcess(env, free_port(), tmp_path / "api.log", ("--no-worker", "--no-relay"))
    parts = [probed(env, tmp_path / f"{cmd}.log", cmd) for cmd in ("relay", "worker")]
    for process in (api, *parts):
        process.start()
    try:
        for process in (api, *parts):
            await process.wait_ready()
        await asyncio.sleep(1)  # the relay's first look done: it now waits for its tick
        async with httpx.AsyncClient(timeout=10) as client:
            started = time.monotonic()
            for step in (1, 2, 3):  # the 2nd and 3rd wait for the one before: the worker rings
                response = await client.post(
                    f"{api.url}/v1/messages/status_update",
                    json={"OrderNo": "K-1", "Step": step},
                    headers={"Authorization": f"Bearer {ERP_KEY}"},
                )
                assert response.status_code == 202, response.text
            await asyncio.wait_for(target.wait_received(3), 10)
        assert [b["Step"] for b in target.bodies()] == [1, 2, 3]
        assert time.monotonic() - started < 10 < float(POLL_S)
    finally:
        for process in (api, *parts):
            await asyncio.to_thread(process.stop)
