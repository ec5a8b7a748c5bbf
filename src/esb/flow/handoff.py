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
#: The most deliveries waiting in one process per slot it holds, so waiters for one busy
#: system leave the worker room for the others.
WAITERS_PER_SLOT = 4


class LocalSlots:
    """The slots this process holds, per system, and the deliveries waiting for one of them.

    A slot given back here wakes a delivery waiting in this process, so a busy system
    drains at the pace of its calls rather than of deferral round trips. Only while this
    process holds a slot (one is sure to come back soon), at most WAITERS_PER_SLOT waiters
    per slot held and only as many as the recent call time lets through in half of
    HANDOFF_WAIT_S, and each for at most HANDOFF_WAIT_S: then it is deferred as usual.
    """

    def __init__(self) -> None:
        self._held: dict[str, int] = {}
        self._waiting: dict[str, deque[asyncio.Future[None]]] = {}

    def waiting(self, system: str) -> int:
        return len(self._waiting.get(system, ()))

    def may_wait(self, system: str, call_s: float | None) -> bool:
        """Whether one more delivery may wait here: one per slot held, and more while
        the queue drains well within HANDOFF_WAIT_S at the recent call time (a backlog
        after an outage drains at the pace of its calls, not of deferral round trips)."""
        held, waiting = self._held.get(system, 0), self.waiting(system)
        if waiting < held:
            return True
        if call_s is None:  # no call has ended yet: how long one takes is unknown
            return False
        return waiting < held * WAITERS_PER_SLOT and (waiting + 1) * call_s <= (
            held * HANDOFF_WAIT_S / 2
        )

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
