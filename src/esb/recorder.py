"""Group commit for outcomes: many workers' results share one transaction.

A worker awaits ``record``; it returns once the outcome is committed, and only then
does the worker acknowledge the broker message. Nothing is batched by waiting: each
flush takes whatever arrived during the previous one, so batches grow with load.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from esb.errors import StoreUnavailable
from esb.store.outcomes import AttemptRecord, write_outcomes

log = structlog.get_logger(__name__)

MAX_BATCH = 500


class OutcomeRecorder:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._pending: list[tuple[AttemptRecord, asyncio.Future[None]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outcome-recorder")

    async def record(self, record: AttemptRecord) -> None:
        """Return once ``record`` is committed; raise if it could not be written at all."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((record, future))
        self._wake.set()
        await future

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                await self._flush(batch)

    async def _flush(self, batch: list[tuple[AttemptRecord, asyncio.Future[None]]]) -> None:
        delay = 0.1
        while True:
            try:
                await write_outcomes(self._engine, [r for r, _ in batch])
            except StoreUnavailable as exc:
                log.warning("outcomes not recorded yet, retrying", error=str(exc), batch=len(batch))
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            except Exception as exc:  # a bug: fail these outcomes loudly, keep recording others
                log.exception("recording outcomes failed", batch=len(batch))
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                return
            for _, future in batch:
                if not future.done():
                    future.set_result(None)
            return

    async def aclose(self) -> None:
        """Flush what is queued, then stop."""
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            await self._flush(batch)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
