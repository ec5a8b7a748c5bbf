"""Group commit: concurrent callers share one transaction, each returns after that commit.

Nothing waits to fill a batch: a flush takes whatever arrived while the previous
one ran, so at low load a batch is one item (no added latency) and at high load the
cost of a commit is shared by many.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

import structlog

from esb.errors import StoreRefused, StoreUnavailable

log = structlog.get_logger(__name__)

_STOPPED = "the gateway stopped before this was committed"
T = TypeVar("T")
R = TypeVar("R")


async def answers(pending: Sequence[Awaitable[R]]) -> list[R | Exception]:
    """What each of ``pending`` came to, in order: its result or its own exception (one
    failing does not fail the others); a cancellation is raised, not answered.

    Awaited one after the other, not gathered: the items of a page are answered by the
    same commits, so after the first most are done already and cost no wake-up (a
    gather puts a callback on every one: 500 loop callbacks a staging-table page)."""
    futures = [asyncio.ensure_future(p) for p in pending]  # coroutines run at once
    found: list[R | Exception] = []
    try:
        for future in futures:
            try:
                found.append(await future)
            except Exception as exc:
                found.append(exc)
    except BaseException:  # cancelled: so is what is left, as with gather
        for future in futures:
            future.cancel()
        raise
    return found


class GroupCommit(Generic[T, R]):
    """``submit(item)`` returns ``write(batch)[i]`` for its item once the batch committed.

    ``retry_unavailable``: keep retrying a batch while the database is away (outcomes
    must not be lost); otherwise the callers get StoreUnavailable at once (ingress
    answers 503), and with a single writer so do the items queued behind that batch: an
    item is never committed after an earlier one was turned away (the single writer
    keeps acceptance order, which ordering by business key relies on). A batch that fails
    for any other reason is split until the member at fault is alone: the others still
    commit, and only that caller gets the error.
    """

    def __init__(
        self,
        write: Callable[[Sequence[T]], Awaitable[Sequence[R]]],
        *,
        max_batch: int = 500,
        writers: int = 1,
        retry_unavailable: bool = False,
        name: str = "group-commit",
    ) -> None:
        self._write = write
        self._max_batch = max_batch
        self._writers = writers
        self._retry = retry_unavailable
        self._name = name
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = False

    def start(self) -> None:
        for n in range(self._writers):
            self._tasks.append(asyncio.create_task(self._run(), name=f"{self._name}-{n}"))

    async def submit(self, item: T) -> R:
        if not self._tasks:
            self.start()
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        self._wake.set()
        return await future

    def enqueue(self, items: Sequence[T]) -> list[asyncio.Future[R]]:
        """Queue ``items`` now, in this order (before any later call's); each future gets
        its item's result, or the exception its own write raised."""
        if not self._tasks:
            self.start()
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[R]] = [loop.create_future() for _ in items]
        self._pending.extend(zip(items, futures, strict=True))
        self._wake.set()
        return futures

    async def submit_many(self, items: Sequence[T]) -> list[R | Exception]:
        """``submit`` for each item at once (they share the next commits), answered in
        order: each its result or the exception its own write raised."""
        return await answers(self.enqueue(items))

    def _take(self) -> list[tuple[T, asyncio.Future[R]]]:
        batch, self._pending = self._pending[: self._max_batch], self._pending[self._max_batch :]
        if self._pending:
            self._wake.set()
        return batch

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while batch := self._take():
                try:
                    await self._flush(batch)
                except asyncio.CancelledError:  # stopped mid-write: fail its callers
                    self._settle(batch, StoreUnavailable(_STOPPED))
                    raise
            if self._closing:
                return

    async def _flush(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        """Write ``batch``; if it fails for a reason other than the database being away,
        write its halves apart, so one member's bad data fails that member alone."""
        try:
            results = await self._write_until_stored([item for item, _ in batch])
        except StoreUnavailable as exc:  # the database is away: every member alike
            self._settle(batch, exc)
            if self._writers == 1:  # and what waits behind it: see the class docstring
                queued, self._pending = self._pending, []
                self._settle(queued, exc)
            return
        except Exception as exc:
            if len(batch) > 1:
                log.warning(
                    "batch refused; isolating its members", name=self._name, error=repr(exc)
                )
                middle = len(batch) // 2
                await self._flush(batch[:middle])
                await self._flush(batch[middle:])
                return
            if not isinstance(exc, StoreRefused):  # a bug: fail this caller loudly
                log.exception("write failed", name=self._name)
            self._settle(batch, exc)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)

    async def _write_until_stored(self, items: list[T]) -> Sequence[R]:
        """One write; with ``retry_unavailable`` it is repeated while the database is away."""
        delay = 0.1
        while True:
            try:
                return await self._write(items)
            except StoreUnavailable as exc:
                if not self._retry:
                    raise
                log.warning(
                    "batch not committed yet, retrying",
                    name=self._name,
                    error=str(exc),
                    size=len(items),
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    @staticmethod
    def _settle(batch: list[tuple[T, asyncio.Future[R]]], exc: BaseException) -> None:
        for _, future in batch:
            if not future.done():
                future.set_exception(exc)

    async def aclose(self, grace_s: float = 10.0) -> None:
        """Write what is queued, then stop; after ``grace_s`` the rest fails with StoreUnavailable.

        A writer that retries while the database is away would otherwise keep a stopping
        process alive for ever. An outcome not written leaves its delivery claimed, and
        the next start or the consistency check puts it back: delivered again, not lost.
        """
        self._closing = True
        self._wake.set()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=grace_s)
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        unwritten, self._pending = self._pending, []
        if unwritten:
            log.warning(
                "gateway stopping; batch not committed", name=self._name, size=len(unwritten)
            )
        self._settle(unwritten, StoreUnavailable(_STOPPED))
