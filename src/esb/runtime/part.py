"""The one lifecycle every part of a gateway process has: start, stop, health.

A gateway starts its parts in order and stops them in reverse, so a part may rely on
those before it (the pipeline on the store, the services on the pipeline) both while
it runs and while it stops. ``health`` is what ``/readyz`` reports for the part: "ok",
"unavailable", or None when the part has nothing to check.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

Health = str | None


class Part(Protocol):
    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def health(self) -> Health: ...


class Background:
    """Named coroutines that run for as long as their part does; cancelled together."""

    def __init__(self) -> None:
        self.tasks: list[asyncio.Task[None]] = []

    def spawn(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        task = asyncio.create_task(coro, name=name)
        self.tasks.append(task)
        return task

    async def cancel(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.tasks.clear()


class Services:
    """Background services of a process (metrics refresh, checkpoints, watchers, the
    scheduled consistency check, alerts): each a coroutine that runs until stopped."""

    name = "services"

    def __init__(self, services: dict[str, Callable[[], Coroutine[Any, Any, None]]]) -> None:
        self.services = services
        self._running = Background()

    async def start(self) -> None:
        for name, run in self.services.items():
            self._running.spawn(run(), name)

    async def stop(self) -> None:
        await self._running.cancel()

    async def health(self) -> Health:
        return None
