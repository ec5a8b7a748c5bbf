"""The inbound sources' state store on the real databases (SQLite and PostgreSQL): values
scoped to one source, and a lease that one owner holds at a time, renewed, expiring,
taken over; ``run_exclusive`` runs a source in one of two "processes" (two engines on
one database) and hands it over when the holder stops or loses its lease."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from esb.settings import Settings
from esb.store.engine import create_engine
from esb.store.migrate import upgrade
from esb.store.source_state import SourceStateStore
from esb.store.tables import source_leases


class StepClock:
    """Wall time that moves only when told to (lease expiry without waiting)."""

    def __init__(self) -> None:
        self.at = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at

    def monotonic(self) -> float:
        return self.at.timestamp()

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


@pytest.fixture
async def engines(
    mode_settings: dict[str, Any], tmp_path: Path
) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    """Two engines on one database, as two gateway processes have."""
    settings = Settings(config=tmp_path, **mode_settings)
    first, second = create_engine(settings), create_engine(settings)
    if settings.embedded:
        await upgrade(settings.effective_database_url)
    yield first, second
    await first.dispose()
    await second.dispose()


def store(engine: AsyncEngine, owner: str, clock: StepClock | None = None, **options: Any) -> Any:
    options.setdefault("lease_ttl", 10.0)
    return SourceStateStore(engine, "shipment", "file-drop", owner=owner, clock=clock, **options)


async def test_values_are_json_kept_per_source(engines: tuple[AsyncEngine, AsyncEngine]) -> None:
    engine, other_process = engines
    state = store(engine, "a")
    await state.put("cursor", {"after": "2026-12-01T08:00:00Z", "qty": Decimal("1.10")})
    await state.put_many({"file/1": [1, "甲"], "file/2": None, "100%_done": True})
    assert await store(other_process, "b").get("cursor") == {
        "after": "2026-12-01T08:00:00Z",
        "qty": 1.1,
    }
    assert await state.get_many(["file/1", "file/2", "missing"]) == {
        "file/1": [1, "甲"],
        "file/2": None,
    }
    assert await state.keys("file/") == ["file/1", "file/2"]
    assert await state.keys("100%_") == ["100%_done"]  # LIKE's wildcards are plain text here
    assert await state.keys("1_0") == []
    assert await state.add("file/1", "other") is False
    assert await state.add("file/3", 3) is True
    await state.delete("file/1")
    assert await state.get("file/1") is None
    neighbours = [
        SourceStateStore(engine, "another", "file-drop", owner="a"),
        SourceStateStore(engine, "shipment", "soap", owner="a"),
    ]
    for neighbour in neighbours:  # another interface's or another kind's state is apart
        assert await neighbour.keys() == []
        assert await neighbour.acquire() is True
    with pytest.raises(ValueError, match="state key"):
        await state.put("x" * 251, 1)


async def test_one_owner_at_a_time_until_the_lease_expires(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    clock = StepClock()
    a, b = store(engines[0], "a", clock), store(engines[1], "b", clock)
    assert await a.acquire() is True
    assert await b.acquire() is False
    assert await a.acquire() is True  # ours already: renewed
    assert (await a.holder(), await b.holder()) == ("a", "a")

    clock.advance(8)
    assert await a.renew() is True  # renewed: 10 s from now
    clock.advance(8)
    assert await b.acquire() is False  # 16 s after taking it, 8 after the renewal
    clock.advance(3)
    assert await b.holder() is None  # expired
    assert await b.acquire() is True  # taken over
    assert await a.renew() is False  # a learns it lost the lease
    assert await a.acquire() is False

    await a.release()  # not a's: nothing happens
    assert await a.holder() == "b"
    await b.release()
    assert await a.holder() is None
    assert await a.acquire() is True  # released: taken at once


async def test_a_killed_holder_on_this_host_is_replaced_at_once(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    ended = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import os; print(os.getpid())", stdout=asyncio.subprocess.PIPE
    )
    pid = (await ended.communicate())[0].decode().strip()
    dead = f"{socket.gethostname()}:{pid}:0000"
    assert await store(engines[0], dead).acquire() is True
    assert await store(engines[1], "elsewhere:1:x").acquire() is True
    assert await store(engines[0], "far-away-host:1:y").acquire() is False  # may be alive


async def test_run_exclusive_runs_the_source_in_one_process_and_hands_it_over(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    a, b = store(engines[0], "a", lease_ttl=1.0), store(engines[1], "b", lease_ttl=1.0)
    running: list[str] = []

    def work(name: str) -> Any:
        async def run() -> None:
            running.append(name)
            try:
                await asyncio.Event().wait()
            finally:
                running.remove(name)

        return run

    first = asyncio.create_task(a.run_exclusive(work("a")))
    await _until(lambda: running == ["a"])
    second = asyncio.create_task(b.run_exclusive(work("b")))
    await asyncio.sleep(2.5)  # two and a half leases: a renews, b keeps waiting
    assert running == ["a"]

    first.cancel()  # a stops (a reload, a shutdown): released, b takes over at once
    with contextlib.suppress(asyncio.CancelledError):
        await first
    await _until(lambda: running == ["b"], within=1.5)

    async with engines[0].begin() as conn:  # another process took the lease from b
        until = datetime.now(UTC) + timedelta(hours=1)
        await conn.execute(update(source_leases).values(owner="c", expires_at=until))
    await _until(lambda: running == [], within=2.0)  # b stops its work at its next renewal
    assert not second.done()  # and waits for the lease again
    second.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await second


async def test_work_that_ends_releases_the_lease(engines: tuple[AsyncEngine, AsyncEngine]) -> None:
    a, b = store(engines[0], "a"), store(engines[1], "b")
    done: list[str] = []

    async def once() -> None:
        assert await b.holder() == "a"
        done.append("ran")

    await a.run_exclusive(once)
    assert done == ["ran"]
    assert await b.holder() is None

    async def fails() -> None:
        raise RuntimeError("the source broke")

    with pytest.raises(RuntimeError, match="the source broke"):
        await a.run_exclusive(fails)
    assert await b.acquire() is True


async def _until(check: Any, within: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {within}s")
        await asyncio.sleep(0.02)
