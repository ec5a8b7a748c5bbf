"""Group commit: each caller gets its own result after the shared commit; stopping never hangs."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from esb.batching import GroupCommit, answers
from esb.errors import StoreRefused, StoreUnavailable


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


async def test_a_refused_member_fails_alone_and_the_others_commit() -> None:
    """One bad value must not fail its neighbours: the batch is split until it is alone."""
    committed: list[int] = []

    async def write(items: Sequence[int]) -> list[int]:
        await asyncio.sleep(0.005)
        if 13 in items or 40 in items:
            raise StoreRefused("value too long")
        committed.extend(items)
        return list(items)

    commit: GroupCommit[int, int] = GroupCommit(write)
    results = await asyncio.gather(*(commit.submit(n) for n in range(60)), return_exceptions=True)
    await commit.aclose()
    refused = [n for n, r in enumerate(results) if isinstance(r, StoreRefused)]
    assert refused == [13, 40]
    assert sorted(committed) == [n for n in range(60) if n not in (13, 40)]
    assert [r for r in results if not isinstance(r, BaseException)] == sorted(committed)


async def test_a_database_that_is_away_fails_the_whole_batch_at_once() -> None:
    """No isolation round trips for an outage: every member gets StoreUnavailable (503)."""
    calls = 0

    async def write(items: Sequence[int]) -> list[int]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.005)
        raise StoreUnavailable("connection refused")

    commit: GroupCommit[int, int] = GroupCommit(write)
    results = await asyncio.gather(*(commit.submit(n) for n in range(30)), return_exceptions=True)
    await commit.aclose()
    assert all(isinstance(r, StoreUnavailable) for r in results)
    assert calls <= 3  # the first caller's batch, then the rest together


async def test_many_items_are_answered_in_order_each_with_its_own_failure() -> None:
    async def write(items: Sequence[int]) -> list[int]:
        if 7 in items:
            raise StoreRefused("value too long")
        return [item * 10 for item in items]

    commit: GroupCommit[int, int] = GroupCommit(write)
    answers = await commit.submit_many(range(10))
    await commit.aclose()
    assert [a if isinstance(a, int) else "refused" for a in answers] == [
        0, 10, 20, 30, 40, 50, 60, "refused", 80, 90
    ]  # fmt: skip


async def test_what_waits_behind_a_batch_the_database_turned_away_fails_with_it() -> None:
    """A single writer keeps acceptance order: an item queued after one that found the
    database away is never committed before that one is sent again."""
    committed: list[int] = []
    calls = 0

    async def write(items: Sequence[int]) -> list[int]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        if calls == 1:  # away for the first write only
            raise StoreUnavailable("database is locked")
        committed.extend(items)
        return list(items)

    commit: GroupCommit[int, int] = GroupCommit(write, max_batch=3)
    first = asyncio.ensure_future(commit.submit_many([1, 2, 3]))
    await asyncio.sleep(0)  # the writer took the first page
    second = asyncio.ensure_future(commit.submit_many([4, 5, 6]))
    assert all(isinstance(a, StoreUnavailable) for a in await first)
    assert all(isinstance(a, StoreUnavailable) for a in await second)
    assert committed == []
    assert await commit.submit_many([1, 2, 3]) == [1, 2, 3]
    await commit.aclose()


async def test_answers_run_coroutines_together_and_answer_each_in_order() -> None:
    told = asyncio.Event()

    async def waits() -> str:
        await told.wait()  # set by the next one: run one after the other, this never ends
        return "waited"

    async def tells() -> str:
        told.set()
        return "told"

    async def fails() -> str:
        raise StoreRefused("its own")

    found = await asyncio.wait_for(answers([waits(), fails(), tells()]), 5)
    assert found[0] == "waited"
    assert isinstance(found[1], StoreRefused)
    assert found[2] == "told"


async def test_a_cancelled_wait_for_answers_cancels_what_is_left() -> None:
    loop = asyncio.get_running_loop()
    futures: list[asyncio.Future[int]] = [loop.create_future() for _ in range(3)]
    futures[0].set_result(1)
    waiting = asyncio.ensure_future(answers(futures))
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert [f.cancelled() for f in futures] == [False, True, True]
