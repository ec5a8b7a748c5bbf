"""The scheduled consistency check is a singleton: of two processes on one database, one
runs it (the lease holder); when it stops, the other takes over at once."""

from __future__ import annotations

import asyncio
import contextlib

from sqlalchemy.ext.asyncio import AsyncEngine

from esb.reconcile import LEASE_SCOPE, Reconciler
from esb.store.source_state import SourceStateStore
from tests.integration.test_source_state import engines  # noqa: F401  (the fixture)

EVERY_S = 0.05


class Process:
    """One gateway process's scheduled check: its runs counted, each announced."""

    def __init__(self, engine: AsyncEngine, owner: str) -> None:
        self.runs = 0
        self.ran = asyncio.Event()
        self.lease = SourceStateStore(engine, *LEASE_SCOPE, owner=owner, lease_ttl=30)
        reconciler = Reconciler(engine, None, stuck_after_s=600, notify=self._counted)
        self.task = asyncio.create_task(reconciler.run_forever(EVERY_S, self.lease))

    def _counted(self) -> None:
        self.runs += 1
        self.ran.set()

    async def stop(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


async def test_one_process_runs_the_schedule_and_the_other_takes_over(
    engines: tuple[AsyncEngine, AsyncEngine],  # noqa: F811
) -> None:
    first, second = Process(engines[0], "host:1:a"), Process(engines[1], "host:2:b")
    try:
        waits = [asyncio.create_task(p.ran.wait()) for p in (first, second)]
        done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED, timeout=30)
        for wait in pending:
            wait.cancel()
        assert done, "no scheduled run at all"
        holder, standby = (first, second) if first.runs else (second, first)
        while holder.runs < 5:  # several rounds: the standby never runs meanwhile
            holder.ran.clear()
            await asyncio.wait_for(holder.ran.wait(), 30)
        assert standby.runs == 0
        assert await standby.lease.holder() == holder.lease.owner

        await holder.stop()  # releases the lease: the standby runs from its next round
        await asyncio.wait_for(standby.ran.wait(), 30)
        assert await standby.lease.holder() == standby.lease.owner
    finally:
        await first.stop()
        await second.stop()
