"""A real HTTP server standing in for a system's list API (an ERP's customers, say).

It answers ``GET`` with the page its ``page`` query parameter asks for, from the pages
it was given, and records every request (path and query), so a test can check what a
polling source asked for (``updated_since``) and count its pulls. ``script`` answers
first (a status and a body, to play an API that fails or answers garbage), then
``answer`` (a callable deciding from the request; None: go on), then the pages.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from esb.testing.served import Served

__all__ = ["ListApiServer", "Pulled"]

#: A scripted answer: the status and the body's bytes.
Answer = tuple[int, bytes]


@dataclass(frozen=True)
class Pulled:
    """One request the server got."""

    path: str
    query: dict[str, str]
    headers: dict[str, str]
    at: float  # monotonic time of arrival


@dataclass
class ListApiServer:
    """``pages``: page (as the ``page`` parameter says it, ``"1"`` when absent) -> the
    JSON answer; ``path``: where the list is served (other paths answer 404)."""

    pages: dict[str, Any] = field(default_factory=dict)
    path: str = "/api/customers"
    script: deque[Answer] = field(default_factory=deque)
    answer: Callable[[Pulled], Answer | None] | None = None
    delay_s: float = 0.0
    received: list[Pulled] = field(default_factory=list)
    served: Served | None = None
    _port: int = 0

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/{path:path}", self._handle, methods=["GET"])])

    async def _handle(self, request: Request) -> Response:
        pulled = Pulled(
            request.url.path, dict(request.query_params), dict(request.headers), time.monotonic()
        )
        self.received.append(pulled)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        status, body = self._decide(pulled)
        return Response(body, status_code=status, media_type="application/json")

    def _decide(self, pulled: Pulled) -> Answer:
        if self.script:
            return self.script.popleft()
        decided = self.answer(pulled) if self.answer is not None else None
        if decided is not None:
            return decided
        page = self.pages.get(pulled.query.get("page", "1"))
        if pulled.path != self.path or page is None:
            return 404, b'{"error": "no such page"}'
        return 200, orjson.dumps(page)

    def pulls(self, path: str | None = None) -> list[Pulled]:
        """The requests for the list (``path``, default the list's) in arrival order."""
        wanted = path or self.path
        return [r for r in self.received if r.path == wanted]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    async def start(self) -> ListApiServer:
        self.served = await Served(self.app(), self._port).start()
        self._port = self.served.port
        return self

    async def stop(self) -> None:
        if self.served is not None:
            await self.served.stop()
            self.served = None
