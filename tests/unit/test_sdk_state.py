"""The SDK's in-memory state store behaves as the database one does (values, scopes, the
lease between owners), so a plugin's own tests can run its source without a database."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta

import pytest

from esb.sdk import MemoryStateStore


class StepClock:
    def __init__(self) -> None:
        self.at = datetime(2026, 12, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at

    def monotonic(self) -> float:
        return self.at.timestamp()


async def test_values_round_trip_as_json_and_stay_in_their_scope() -> None:
    state = MemoryStateStore("orders", "poll")
    value = {"after": [1, 2]}
    await state.put("cursor", value)
    value["after"].append(3)  # kept as written, not as a shared object
    assert await state.get("cursor") == {"after": [1, 2]}
    assert await state.add("n", 1) is True
    assert await state.add("n", 1) is False  # an equal value is still a value
    await state.put_many({"file/a": 1, "file/b": 2})
    assert await state.keys("file/") == ["file/a", "file/b"]
    assert await state.get_many(["file/a", "nope"]) == {"file/a": 1}
    await state.delete("file/a")
    assert await state.keys("file/") == ["file/b"]
    assert await state.scoped("orders", "other").keys() == []
    with pytest.raises(ValueError, match="state key"):
        await state.get("")


async def test_the_lease_is_one_owners_until_released_or_expired() -> None:
    clock = StepClock()
    a = MemoryStateStore("orders", "poll", owner="a", lease_ttl=10, clock=clock)
    b = a.peer("b")
    assert (await a.acquire(), await b.acquire()) == (True, False)
    clock.at += timedelta(seconds=11)
    assert (await b.acquire(), await a.renew()) == (True, False)
    await b.release()
    assert await a.acquire() is True


async def test_run_exclusive_waits_for_the_holder() -> None:
    a = MemoryStateStore(owner="a", lease_ttl=0.3)
    b = a.peer("b")
    order: list[str] = []

    async def hold() -> None:
        order.append("a")
        await asyncio.sleep(0.4)  # renewed meanwhile

    async def after() -> None:
        order.append("b")

    await asyncio.gather(a.run_exclusive(hold), _later(b.run_exclusive(after)))
    assert order == ["a", "b"]


async def _later(work: Awaitable[None]) -> None:
    await asyncio.sleep(0.05)
    await work
