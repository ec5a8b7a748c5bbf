"""Slots handed over inside one process: a delivery waits briefly for a slot its own
process is about to give back, instead of a deferral round trip through the outbox."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque


class Handoff:
    """``_gate``'s answer when a delivery should wait in the worker for a slot of this
    process (nothing was written)."""


HANDOFF = Handoff()
#: How long a delivery waits in the worker for a slot this process gives back.
HANDOFF_WAIT_S = 1.0


class LocalSlots:
    """The slots this process holds, per system, and the deliveries waiting for one of them.

    A slot given back here wakes a delivery waiting in this process, so a busy system
    drains at the pace of its calls rather than of deferral round trips. Only while this
    process holds a slot (one is sure to come back soon), at most as many waiters as it
    holds slots, and for at most HANDOFF_WAIT_S: then it is deferred as usual.
    """

    def __init__(self) -> None:
        self._held: dict[str, int] = {}
        self._waiting: dict[str, deque[asyncio.Future[None]]] = {}

    def may_wait(self, system: str) -> bool:
        return len(self._waiting.get(system, ())) < self._held.get(system, 0)

    def took(self, system: str) -> None:
        self._held[system] = self._held.get(system, 0) + 1

    def gave_back(self, system: str) -> None:
        self._held[system] -= 1
        waiting = self._waiting.get(system)
        while waiting:
            woken = waiting.popleft()
            if not woken.done():
                woken.set_result(None)
                return

    async def wait(self, system: str) -> None:
        freed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiting = self._waiting.setdefault(system, deque())
        waiting.append(freed)
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(HANDOFF_WAIT_S):
                    await freed
        finally:
            if freed in waiting:
                waiting.remove(freed)
