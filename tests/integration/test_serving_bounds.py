"""The HTTP server's bounds (esb.serving) over real sockets, with uvicorn's h11 and httptools.

A tiny app stands in for the gateway; raw sockets play the clients that trickle
headers or a body, send nothing, send too much, or hold connections past the cap.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from esb.limits import MAX_HEADER_BYTES
from esb.serving import Reason, server_config
from esb.settings import Settings
from tests.support.serving import bind

HEADER_S, BODY_S = 0.5, 0.8
#: how late a cut may come on a busy 2-core machine (generous: the bound is what matters)
SLACK_S = 2.5


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Reads the whole body, then answers its length; /slow first thinks for 1.5 s."""
    if scope["type"] != "http":
        return
    size, more = 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        size += len(message.get("body", b""))
        more = message.get("more_body", False)
    if scope["path"] == "/slow":
        await asyncio.sleep(1.5)
    body = str(size).encode()
    headers = [(b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class Server:
    def __init__(self, base: type[asyncio.Protocol], max_connections: int) -> None:
        settings = Settings(
            http_header_timeout=HEADER_S,
            http_body_timeout=BODY_S,
            http_max_connections=max_connections,
            http_keep_alive=2,
        )
        self.cuts: list[Reason] = []
        self.sock = bind()
        self.port = int(self.sock.getsockname()[1])
        config = server_config(
            app, settings, host="127.0.0.1", port=self.port, on_cut=self.cuts.append, base=base
        )
        config.lifespan = "off"
        self.server = uvicorn.Server(config)

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection("127.0.0.1", self.port)


@pytest.fixture(params=[H11Protocol, HttpToolsProtocol], ids=["h11", "httptools"])
async def server(request: pytest.FixtureRequest) -> AsyncIterator[Server]:
    served = Server(request.param, getattr(request, "max_connections", 100))
    task = asyncio.create_task(served.server.serve(sockets=[served.sock]))
    for _ in range(1000):
        if served.server.started:
            break
        await asyncio.sleep(0.01)
    yield served
    served.server.should_exit = True
    await task
    served.sock.close()


async def until_closed(reader: asyncio.StreamReader) -> tuple[bytes, float]:
    """Everything the server sends until it closes, and when it closed (monotonic)."""
    data = b""
    try:
        while chunk := await asyncio.wait_for(reader.read(65536), timeout=10):
            data += chunk
    except ConnectionResetError:
        pass
    return data, time.monotonic()


async def trickle(writer: asyncio.StreamWriter, data: bytes, every_s: float = 0.05) -> None:
    """One byte at a time until the server hangs up."""
    try:
        for byte in data:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(every_s)
    except (ConnectionError, RuntimeError):
        return


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


async def test_a_connection_that_sends_nothing_is_closed_with_408(server: Server) -> None:
    started = time.monotonic()
    reader, writer = await server.connect()
    answer, closed = await until_closed(reader)
    writer.close()
    assert status_of(answer) == 408, answer
    assert b'"code":"request_timeout"' in answer
    assert HEADER_S - 0.05 <= closed - started <= HEADER_S + SLACK_S
    assert server.cuts == ["header_timeout"]


async def test_trickled_headers_are_cut_at_the_header_deadline(server: Server) -> None:
    started = time.monotonic()
    reader, writer = await server.connect()
    request = b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Pad: " + b"a" * 200 + b"\r\n\r\n"
    sending = asyncio.create_task(trickle(writer, request))
    answer, closed = await until_closed(reader)
    await sending
    assert status_of(answer) == 408, answer
    assert HEADER_S - 0.05 <= closed - started <= HEADER_S + SLACK_S
    assert server.cuts == ["header_timeout"]


async def test_a_trickled_body_is_cut_at_the_body_deadline(server: Server) -> None:
    reader, writer = await server.connect()
    writer.write(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n")
    await writer.drain()
    headers_sent = time.monotonic()
    sending = asyncio.create_task(trickle(writer, b"b" * 500))
    answer, closed = await until_closed(reader)
    await sending
    assert status_of(answer) == 408, answer
    assert b"body did not arrive within 0.8 s" in answer
    assert BODY_S - 0.05 <= closed - headers_sent <= BODY_S + SLACK_S
    assert server.cuts == ["body_timeout"]


async def test_the_deadlines_do_not_cover_the_app_answering(server: Server) -> None:
    """A prompt client waits as long as the app needs; the connection stays usable."""
    reader, writer = await server.connect()
    writer.write(b"POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
    assert status_of(head) == 200
    assert await reader.readexactly(1) == b"3"
    await asyncio.sleep(HEADER_S + 0.3)  # idle between requests: uvicorn's keep-alive (2 s)
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
    assert status_of(head) == 200
    writer.close()
    assert server.cuts == []


async def test_the_next_request_on_a_kept_alive_connection_has_its_own_deadline(
    server: Server,
) -> None:
    reader, writer = await server.connect()
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
    assert status_of(head) == 200
    await reader.readexactly(1)  # the body: "0"
    started = time.monotonic()
    sending = asyncio.create_task(trickle(writer, b"GET / HTTP/1.1\r\nHost: x\r\n" * 20))
    answer, closed = await until_closed(reader)
    await sending
    assert status_of(answer) == 408, answer
    assert HEADER_S - 0.05 <= closed - started <= HEADER_S + SLACK_S


async def test_oversized_headers_get_431(server: Server) -> None:
    reader, writer = await server.connect()
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n")
    try:
        for n in range(MAX_HEADER_BYTES // 1000 + 2):
            writer.write(b"X-Pad-%d: " % n + b"a" * 1000 + b"\r\n")
            await writer.drain()
    except ConnectionError:
        pass
    answer, _ = await until_closed(reader)
    assert status_of(answer) == 431, answer
    assert server.cuts == ["header_size"]


@pytest.mark.parametrize("server", [H11Protocol], indirect=True, ids=["h11"])
async def test_beyond_the_connection_cap_requests_get_503_until_idle_ones_are_cut(
    server: Server,
) -> None:
    cap = 100  # the fixture's cap
    idle = [await server.connect() for _ in range(cap)]
    reader, writer = await server.connect()
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    await writer.drain()
    answer, _ = await until_closed(reader)
    assert status_of(answer) == 503, answer
    for idle_reader, _ in idle:  # the idle ones are cut at the header deadline...
        assert status_of((await until_closed(idle_reader))[0]) == 408
    reader, writer = await server.connect()  # ...and the next caller is served
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    await writer.drain()
    answer, _ = await until_closed(reader)
    assert status_of(answer) == 200, answer
    for _, idle_writer in idle:
        idle_writer.close()


async def test_a_pipelined_request_waits_for_the_app_without_being_cut(server: Server) -> None:
    """The second request's deadline does not run while the app still answers the first."""
    reader, writer = await server.connect()
    writer.write(b"POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab")
    await writer.drain()
    await asyncio.sleep(0.1)
    writer.write(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nabcd")  # pipelined
    await writer.drain()
    for length in (b"2", b"4"):  # both answered, in order, after 1.5 s > both deadlines
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
        assert status_of(head) == 200, head
        assert await reader.readexactly(1) == length
    writer.close()
    assert server.cuts == []
