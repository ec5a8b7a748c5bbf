"""Group commit: each caller gets its own result after the shared commit; stopping never hangs."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from esb.batching import GroupCommit
from esb.errors import StoreUnavailable


async def test_concurrent_callers_share_batches_and_get_their_own_results() -> None:
    batches: list[list[int]] = []

    async def write(items: Sequence[int]) -> list[int]:
        batches.append(list(items))
        await asyncio.sleep(0.01)
        return [item * 10 for item in items]

    commit: GroupCommit[int, int] = GroupCommit(write)
    results = await asyncio.gather(*(commit.submit(n) for n in range(50)))
    await commit.aclose()
    assert results == [n * 10 for n in range(50)]
    assert len(batches) < 50  # callers that arrived during a write shared the next one


async def test_close_writes_what_is_queued() -> None:
    written: list[int] = []

    async def write(items: Sequence[int]) -> list[None]:
        written.extend(items)
        return [None] * len(items)

    commit: GroupCommit[int, None] = GroupCommit(write)
    callers = [asyncio.create_task(commit.submit(n)) for n in range(20)]
    await asyncio.sleep(0)  # submitted, not yet written
    await commit.aclose()
    await asyncio.gather(*callers)
    assert sorted(written) == list(range(20))


async def test_close_gives_up_on_a_database_that_stays_away() -> None:
    """A retrying writer (outcomes) must not keep a stopping gateway alive for ever."""

    async def write(items: Sequence[int]) -> list[None]:
        raise StoreUnavailable("connection refused")

    commit: GroupCommit[int, None] = GroupCommit(write, retry_unavailable=True)
    callers = [asyncio.create_task(commit.submit(n)) for n in range(5)]
    await asyncio.sleep(0.2)  # the writer is retrying
    async with asyncio.timeout(5):
        await commit.aclose(grace_s=0.3)
    for caller in callers:
        with pytest.raises(StoreUnavailable, match="stopped before"):
            await caller
