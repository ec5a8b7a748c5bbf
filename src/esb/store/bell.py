"""PostgreSQL: a process that commits outbox rows wakes the relays of other processes.

A relay wakes at once for rows its own process commits; rows another process commits
(an API run with ``--no-relay``, a worker that queues the next update of a key) waited
for its poll tick, ``ESB_POLL_INTERVAL``: up to 250 ms between the ``202`` and the
publish when API, relay and worker run as separate processes, the layout that delivers
the most on a given machine (docs/performance.md, issue 15). Here such a process sends
``NOTIFY`` on one channel after its commit, and every relay ``LISTEN``s on a connection
of its own. The poll stays as the backstop: a lost notification, or a listener whose
connection dropped, only costs latency, never a message.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from esb.errors import StoreUnavailable
from esb.store.engine import driver_connection

log = structlog.get_logger(__name__)

#: the one channel: a notification carries nothing, the relay looks at the outbox itself
CHANNEL = "esb_outbox"
#: longest wait before listening again after the listener's connection was lost
MAX_BACKOFF_S = 10.0
#: least time between two rings of one process: under a flood of accepts one NOTIFY per
#: round trip would cost the API a pooled connection and a statement every few hundred
#: microseconds, while its relays are busy anyway (500 a second at most)
MIN_GAP_S = 0.002


class OutboxBell:
    """Rings the relays of other processes after this process committed outbox rows.

    Rings are coalesced: while one ``NOTIFY`` is on its way, any number of further rings
    make exactly one more, sent after it (a relay woken by the first may have looked
    before the later commits), and no sooner than ``MIN_GAP_S`` after it."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._task: asyncio.Task[None] | None = None
        self._again = False

    def ring(self) -> None:
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = asyncio.get_running_loop().create_task(self._send(), name="outbox-bell")

    async def _send(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            self._again = False
            sent_at = loop.time()
            try:
                async with driver_connection(self.engine) as driver:
                    await driver.execute(f"NOTIFY {CHANNEL}")
            except Exception as exc:  # the relays' poll finds the rows all the same
                log.debug("outbox bell not rung", error=str(exc))
                return
            if not self._again:
                return
            await asyncio.sleep(sent_at + MIN_GAP_S - loop.time())

    async def aclose(self) -> None:
        """Let a ring on its way finish (before the engine closes)."""
        if self._task is not None:
            with contextlib.suppress(Exception):
                await self._task


async def listen(engine: AsyncEngine, wake: Callable[[], None]) -> None:
    """Call ``wake`` on every ring, for as long as the caller runs (cancel to stop).

    Holds one pooled connection. When it is lost, listening starts again after 0.5 s,
    doubling up to ``MAX_BACKOFF_S`` while it keeps failing, and ``wake`` is called once
    it listens (rows may have been committed meanwhile); the relay's poll covers the gap."""
    backoff = 0.5

    def listening() -> None:
        nonlocal backoff
        backoff = 0.5

    while True:
        try:
            await _listen_once(engine, wake, listening)
        except Exception as exc:  # whatever broke it, the relay must not lose its bell
            log.warning("relay not listening for new rows", error=str(exc), retry_in=backoff)
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, MAX_BACKOFF_S)


async def _listen_once(
    engine: AsyncEngine, wake: Callable[[], None], on_listening: Callable[[], None]
) -> None:
    """Listen until the connection is lost, then raise StoreUnavailable."""
    lost = asyncio.Event()

    def rung(*_: Any) -> None:
        wake()

    async with driver_connection(engine) as driver:
        driver.add_termination_listener(lambda _conn: lost.set())
        await driver.add_listener(CHANNEL, rung)
        try:
            wake()  # what was committed while no one listened
            on_listening()
            await lost.wait()
        finally:
            if not driver.is_closed():
                with contextlib.suppress(Exception):
                    await driver.remove_listener(CHANNEL, rung)
        raise StoreUnavailable("the relay's listening connection was lost")
