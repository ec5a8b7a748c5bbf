"""A real HTTP server standing in for a target system (MES, ERP...).

It records every request it gets and answers from a script (e.g. 503, 503, 503,
then 200), so tests can count exactly what the target saw.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from esb.testing.served import Served


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = 0.0  # monotonic time of arrival
    status: int = 0  # what the target answered

    def json(self) -> Any:
        return orjson.loads(self.body)


@dataclass
class TargetServer:
    """Scripted answers: ``answer`` first (a status for this request, or None to go on;
    it may be async, to hold a call until something else happened), then ``script`` is
    consumed, then ``default_status``."""

    default_status: int = 200
    script: deque[int] = field(default_factory=deque)
    delay_s: float = 0.0
    received: list[Received] = field(default_factory=list)
    in_flight: int = 0  # requests being answered now
    max_in_flight: int = 0  # the most ever answered at the same time
    answer: Callable[[Received], int | Awaitable[int | None] | None] | None = None
    served: Served | None = None
    _port: int = 0
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/{path:path}", self._handle, methods=["POST", "PUT"])])

    async def _handle(self, request: Request) -> Response:
        body = await request.body()
        received = Received(request.url.path, dict(request.headers), body, time.monotonic())
        self.received.append(received)
        self._arrived.set()
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            decided = self.answer(received) if self.answer is not None else None
            status = await decided if inspect.isawaitable(decided) else decided
        finally:
            self.in_flight -= 1
        if status is None:
            status = self.script.popleft() if self.script else self.default_status
        received.status = status
        return JSONResponse({"status": status}, status_code=status)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    async def start(self) -> TargetServer:
        self.served = await Served(self.app(), self._port).start()
        self._port = self.served.port
        return self

    async def stop(self) -> None:
        """Go down: the port refuses connections until ``start`` again (same port)."""
        if self.served is not None:
            await self.served.stop()
            self.served = None

    async def wait_received(self, count: int) -> None:
        while len(self.received) < count:
            self._arrived.clear()
            await self._arrived.wait()

    def bodies(self, path: str | None = None) -> list[Any]:
        return [r.json() for r in self.received if path is None or r.path == path]

    def idempotency_keys(self) -> list[str]:
        return [r.headers.get("idempotency-key", "") for r in self.received]
