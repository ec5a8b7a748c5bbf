"""Serve an ASGI app with uvicorn on a real loopback socket inside the test's event loop:
targets that stand in for a system, and HTTP-speaking sources."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from esb.sdk import HttpInbound


def bind(port: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(512)
    sock.setblocking(False)
    return sock


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served:
    """An app listening on 127.0.0.1; ``stop`` runs its lifespan shutdown."""

    def __init__(self, app: Any, port: int = 0) -> None:
        self.app = app
        self.sock = bind(port)
        self.port = int(self.sock.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="auto")
        self.server = uvicorn.Server(config)
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> Served:
        self.task = asyncio.create_task(self.server.serve(sockets=[self.sock]))
        while not self.server.started:
            if self.task.done():
                self.task.result()
                raise RuntimeError("server exited during start-up (see the log above)")
            await asyncio.sleep(0.01)
        return self

    async def stop(self) -> None:
        self.server.should_exit = True
        if self.task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        self.sock.close()


async def serve_source(source: HttpInbound) -> Served:
    """An HTTP-speaking source on a real socket, as the gateway serves it: every
    ``POST /`` goes to ``source.handle``."""

    async def endpoint(request: Request) -> Response:
        return await source.handle(request)

    return await Served(Starlette(routes=[Route("/", endpoint, methods=["POST"])])).start()
