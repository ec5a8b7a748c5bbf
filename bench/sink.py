"""The target system of the benchmark: answers 200 to every POST and remembers who arrived when.

A raw asyncio protocol with httptools on uvloop, so the sink costs far less than
anything it measures. Each delivered body is a sales order whose ``order_id`` is
unique per request and whose ``sent_ns`` is the client's send time
(``time.monotonic_ns()``, the same clock in every process of the machine).

    GET  /stats      {"count", "unique", "duplicates", "without_id", "sent_to_delivered_ms"}
    GET  /arrivals   {order_id: first arrival, monotonic ns}
    POST /reset      forget everything
    GET  /healthz    200
    POST <any other> record the order, answer 200

    python bench/sink.py --port 9100
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any, cast

import httptools
import orjson
import uvloop

CONTROL = {b"/stats", b"/arrivals", b"/reset", b"/healthz"}


class Ledger:
    """Who arrived, when, and how often."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.arrivals: dict[str, int] = {}
        self.count = 0
        self.without_id = 0
        self.sent_to_delivered_ns: list[int] = []

    def record(self, body: bytes, now_ns: int) -> None:
        self.count += 1
        try:
            order = orjson.loads(body)
            order_id = str(order["order_id"])
            sent_ns = int(order.get("sent_ns", 0))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            self.without_id += 1
            return
        if order_id in self.arrivals:
            return
        self.arrivals[order_id] = now_ns
        if sent_ns:
            self.sent_to_delivered_ns.append(now_ns - sent_ns)

    def stats(self) -> dict[str, Any]:
        unique = len(self.arrivals)
        return {
            "count": self.count,
            "unique": unique,
            "duplicates": self.count - self.without_id - unique,
            "without_id": self.without_id,
            "sent_to_delivered_ms": percentiles_ms(self.sent_to_delivered_ns),
        }


def percentiles_ms(values_ns: list[int]) -> dict[str, float | None]:
    if not values_ns:
        return {"p50": None, "p99": None}
    ordered = sorted(values_ns)
    return {f"p{round(q * 100)}": _at(ordered, q) for q in (0.50, 0.99)}


def _at(ordered: list[int], q: float) -> float:
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1e6, 2)


def response(status: bytes, body: bytes) -> bytes:
    return (
        b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )


OK = response(b"200 OK", b"{}")


class SinkProtocol(asyncio.Protocol):
    """One keep-alive connection; httptools calls back as the request arrives."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.url = b""
        self.chunks: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            assert self.transport is not None
            self.transport.write(response(b"400 Bad Request", b"{}"))
            self.transport.close()

    # httptools callbacks
    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        assert self.transport is not None
        body, path = b"".join(self.chunks), self.url.split(b"?", 1)[0]
        self.url, self.chunks = b"", []
        if path in CONTROL:
            self.transport.write(self.control(self.parser.get_method(), path))
        else:
            self.ledger.record(body, time.monotonic_ns())
            self.transport.write(OK)
        if not self.parser.should_keep_alive():
            self.transport.close()

    def control(self, method: bytes, path: bytes) -> bytes:
        if path == b"/stats":
            return response(b"200 OK", orjson.dumps(self.ledger.stats()))
        if path == b"/arrivals":
            return response(b"200 OK", orjson.dumps(self.ledger.arrivals))
        if path == b"/reset" and method == b"POST":
            self.ledger.reset()
        return OK


async def serve(host: str, port: int) -> None:
    ledger = Ledger()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SinkProtocol(ledger), host, port, backlog=1024)
    print(f"sink listening on http://{host}:{port}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100)
    args = parser.parse_args()
    uvloop.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()
