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

from esb.errors import StoreUnavailable

log = structlog.get_logger(__name__)

_STOPPED = "the gateway stopped before this was committed"
T = TypeVar("T")
R = TypeVar("R")


class GroupCommit(Generic[T, R]):
    """``submit(item)`` returns ``write(batch)[i]`` for its item once the batch committed.

    ``retry_unavailable``: keep retrying a batch while the database is away (outcomes
    must not be lost); otherwise the callers get StoreUnavailable at once (ingress
    answers 503).
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
        delay = 0.1
        while True:
            try:
                results = await self._write([item for item, _ in batch])
            except StoreUnavailable as exc:
                if self._retry:
                    log.warning(
                        "batch not committed yet, retrying",
                        name=self._name,
                        error=str(exc),
                        size=len(batch),
                    )
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 5.0)
                    continue
                self._settle(batch, exc)
                return
            except Exception as exc:  # a bug: fail these callers loudly, keep serving others
                log.exception("batch failed", name=self._name, size=len(batch))
                self._settle(batch, exc)
                return
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)
            return

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
