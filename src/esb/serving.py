"""How ``esb serve`` runs uvicorn: bounded against slow, idle and oversized requests.

uvicorn answers 503 beyond a concurrency cap (``limit_concurrency``) and closes idle
kept-alive connections, but it has no deadline for *receiving* a request (its issue
#157; the pull request for one was never merged): a client that opens a connection
and sends nothing, or trickles its headers or body a byte at a time, holds it for
ever; and its httptools parser keeps headers of any size. ``RequestDeadlines`` adds
what is missing on top of uvicorn's own protocol class, through the asyncio.Protocol
methods only:

- a request's line and headers must arrive within ``header_timeout`` (counted from
  the connection, or on a kept-alive one from the next request's first byte) and hold
  at most ``limits.MAX_HEADER_BYTES``;
- its body must arrive within ``body_timeout`` of the end of its headers.

A deadline counts only while the server waits for the client, not while the app is
still answering an earlier request or has paused reading. A late client gets ``408``
(an oversized one ``431``) with ``Connection: close`` and the connection is closed.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, ClassVar, Literal

import orjson
import structlog
import uvicorn
from uvicorn.protocols.http.auto import AutoHTTPProtocol

from esb.heap import freeze_startup_objects
from esb.limits import MAX_HEADER_BYTES
from esb.settings import Settings

log = structlog.get_logger(__name__)
Phase = Literal["headers", "body"]
#: Why a connection was cut (the label of ``esb_http_requests_cut_total``).
Reason = Literal["header_timeout", "body_timeout", "header_size"]


@dataclass(frozen=True)
class Bounds:
    header_timeout: float
    body_timeout: float
    max_header_bytes: int = MAX_HEADER_BYTES
    on_cut: Callable[[Reason], None] | None = None  # e.g. count it in the metrics


def refusal(status: int, code: str, message: str) -> bytes:
    """A complete HTTP/1.1 answer in the API's error shape, after which we close."""
    body = orjson.dumps({"error": {"code": code, "message": message}})
    head = (
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
        "content-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


class RequestDeadlines(asyncio.Protocol):
    """Mixed in before uvicorn's HTTP protocol class (see ``bounded_protocol``)."""

    bounds: ClassVar[Bounds]
    # set by uvicorn's protocol: its transport, flow control and request/response cycle
    transport: asyncio.Transport
    flow: Any  # .read_paused
    cycle: Any  # None until a request's headers are in; .more_body, .response_started/complete

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._timer: asyncio.TimerHandle | None = None
        self._phase: Phase | None = None
        self._seen: Any = None  # the last cycle whose headers this class has seen complete
        self._header_bytes = 0
        self._arm("headers")

    def data_received(self, data: bytes) -> None:
        if self._phase is None and self._between_requests():
            self._arm("headers")  # the first byte of the next request on a kept-alive connection
        super().data_received(data)
        if self._observe() or self._phase != "headers" or self.transport.is_closing():
            return
        self._header_bytes += len(data)
        if self._header_bytes > self.bounds.max_header_bytes:
            limit = self.bounds.max_header_bytes
            self._cut("header_size", 431, "headers_too_large", f"headers above {limit} bytes")

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _between_requests(self) -> bool:
        return self.cycle is None or not self.cycle.more_body

    def _arm(self, phase: Phase) -> None:
        self._disarm()
        self._phase = phase
        if phase == "headers":
            self._header_bytes = 0
        seconds = self.bounds.header_timeout if phase == "headers" else self.bounds.body_timeout
        self._timer = asyncio.get_running_loop().call_later(seconds, self._expired)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._phase = None, None

    def _observe(self) -> bool:
        """Follow uvicorn's parser: True when headers or a body completed since last time."""
        cycle = self.cycle
        if cycle is not None and cycle is not self._seen:
            self._seen = cycle
            if cycle.more_body:
                self._arm("body")
            else:
                self._disarm()
            return True
        if self._phase == "body" and not self.cycle.more_body:
            self._disarm()
            return True
        return False

    def _expired(self) -> None:
        self._timer = None
        phase = self._phase
        if phase is None or self.transport.is_closing() or self._observe():
            return
        if self._server_busy():
            self._arm(phase)  # the client is waiting for us, not we for it
            return
        seconds = self.bounds.header_timeout if phase == "headers" else self.bounds.body_timeout
        reason: Reason = "header_timeout" if phase == "headers" else "body_timeout"
        message = f"the request's {phase} did not arrive within {seconds:g} s"
        self._cut(reason, 408, "request_timeout", message)

    def _server_busy(self) -> bool:
        if self.flow.read_paused:
            return True
        cycle = self.cycle  # headers of a next request while the app still answers this one
        return self._phase == "headers" and cycle is not None and not cycle.response_complete

    def _may_answer(self) -> bool:
        """No response of ours is under way on the connection, so one can be written."""
        cycle = self.cycle
        if self._phase == "body":
            return not cycle.response_started
        return cycle is None or bool(cycle.response_complete)

    def _cut(self, reason: Reason, status: int, code: str, message: str) -> None:
        if self._may_answer():
            self.transport.write(refusal(status, code, message))
        self._disarm()
        self.transport.close()
        log.debug("connection cut", reason=reason, client=self.transport.get_extra_info("peername"))
        if self.bounds.on_cut is not None:
            self.bounds.on_cut(reason)


def bounded_protocol(base: type[asyncio.Protocol], bounds: Bounds) -> type[asyncio.Protocol]:
    """uvicorn's protocol class ``base`` (httptools or h11) with ``bounds`` enforced."""
    return type(f"Bounded{base.__name__}", (RequestDeadlines, base), {"bounds": bounds})


def server_config(
    app: Any,
    settings: Settings,
    *,
    host: str,
    port: int,
    access_log: bool = False,
    on_cut: Callable[[Reason], None] | None = None,
    base: type[asyncio.Protocol] = AutoHTTPProtocol,
) -> uvicorn.Config:
    """uvicorn's configuration for the gateway: every ESB_HTTP_* setting applied."""
    bounds = Bounds(settings.http_header_timeout, settings.http_body_timeout, on_cut=on_cut)
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=bounded_protocol(base, bounds),
        ws="none",  # the gateway has no WebSocket endpoint
        # uvicorn counts the connection asking too: N + 1 lets exactly N be served
        limit_concurrency=settings.http_max_connections + 1,
        timeout_keep_alive=settings.http_keep_alive,
        h11_max_incomplete_event_size=2 * MAX_HEADER_BYTES,  # ours answers 431 first
        log_config=None,
        access_log=access_log,
        timeout_graceful_shutdown=10,
        server_header=False,
    )


def shared_socket(host: str, port: int) -> socket.socket:
    """A socket bound with SO_REUSEPORT, so several processes share the port (Linux spreads
    connections over them). Not listening yet: uvicorn listens once the app has started,
    so the kernel never queues a connection on a process that is still starting."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def serve_forever(
    app: Any,
    settings: Settings,
    *,
    host: str,
    port: int,
    reuse_port: bool = False,
    access_log: bool = False,
) -> None:
    """Serve ``app`` until SIGTERM/SIGINT; with ``reuse_port`` other processes share the port."""
    config = server_config(
        app, settings, host=host, port=port, access_log=access_log, on_cut=_counter(app)
    )
    sockets = [shared_socket(host, port)] if reuse_port else None
    GatewayServer(config).run(sockets=sockets)


class GatewayServer(uvicorn.Server):
    """uvicorn's server; once the app has started, its objects are frozen (``esb.heap``)."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:  # a failed start has exited already
            freeze_startup_objects()


def _counter(app: Any) -> Callable[[Reason], None]:
    """Count cut connections in the gateway's metrics (the gateway exists once started)."""

    def count(reason: Reason) -> None:
        metrics = getattr(app.state, "metrics", None)
        if metrics is not None:
            metrics.http_cut.labels(reason).inc()

    return count
