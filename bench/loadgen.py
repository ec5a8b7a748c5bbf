"""Load for the pipeline benchmark: unique sales orders over keep-alive HTTP/1.1 connections.

The client shares the machine's two cores with what it measures, so it is lean:
raw asyncio streams on uvloop, each request assembled from pre-encoded bytes (only
the order id and the send time change), responses read by Content-Length.

Two shapes:

- ``closed_loop``: N connections, each sends its next order as soon as the previous
  one is answered: the accepted rate at saturation.
- ``open_loop``: orders are due at a fixed rate whatever happens to earlier ones; the
  latency of each is measured from the time it was *due*, so a stalled server is
  charged for every order it delayed (no coordinated omission).

Every order carries a unique ``order_id``; the result keeps, per order, the HTTP status
and when it was answered, so the sink's arrivals can be checked against what was
accepted (loss, duplicates, accepted -> delivered latency).

    python bench/loadgen.py http://127.0.0.1:8000/v1/messages/sales_order --key K --rate 500
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time
import uuid
from array import array
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
import uvloop

ORDER_TEMPLATE = Path(__file__).resolve().parents[1] / "tests" / "data" / "peers" / "order.json"
_ID, _SENT = "@@order_id@@", "@@sent_ns@@"
REQUEST_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    path: str
    key: str  # the caller's bearer key

    @classmethod
    def from_url(cls, url: str, key: str) -> Endpoint:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname or not parts.port:
            raise ValueError(f"need http://host:port/path, got {url!r}")
        return cls(parts.hostname, parts.port, parts.path or "/", key)


class OrderRequests:
    """POST requests of the template order with a given id and send time, from pre-encoded parts."""

    def __init__(self, endpoint: Endpoint, template: Path = ORDER_TEMPLATE) -> None:
        order = orjson.loads(template.read_bytes())
        order["order_id"], order["sent_ns"] = _ID, _SENT
        body = orjson.dumps(order)
        self._head, rest = body.split(_ID.encode())
        self._middle, self._tail = rest.split(_SENT.encode())
        self._request_line = (
            f"POST {endpoint.path} HTTP/1.1\r\nHost: {endpoint.host}:{endpoint.port}\r\n"
            f"Authorization: Bearer {endpoint.key}\r\nContent-Type: application/json\r\n"
            "Content-Length: "
        ).encode()

    def build(self, order_id: str, sent_ns: int) -> bytes:
        body = b"".join(
            (self._head, order_id.encode(), self._middle, b"%020d" % sent_ns, self._tail)
        )
        return b"%s%d\r\n\r\n%s" % (self._request_line, len(body), body)


class Connection:
    """One keep-alive connection; reconnects after an error or a ``Connection: close``."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.errors: Counter[str] = Counter()  # transport errors by exception class

    async def call(self, request: bytes) -> int:
        """Send one request; its status, or 0 for a transport error."""
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT_S):
                return await self._exchange(request)
        except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
            self.errors[type(exc).__name__] += 1
            self.close()
            return 0

    async def _exchange(self, request: bytes) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(
                self.endpoint.host, self.endpoint.port
            )
        assert self.reader is not None
        self.writer.write(request)
        head = (await self.reader.readuntil(b"\r\n\r\n")).lower()
        status = int(head[9:12])
        start = head.index(b"\r\ncontent-length:") + 17
        await self.reader.readexactly(int(head[start : head.index(b"\r\n", start)]))
        if b"\r\nconnection: close" in head:
            self.close()
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


@dataclass
class Phase:
    """What one load phase sent and got back, one entry per order."""

    name: str
    ids: list[str] = field(default_factory=list)
    status: array[int] = field(default_factory=lambda: array("H"))
    start_ns: array[int] = field(default_factory=lambda: array("q"))  # due (open) or sent (closed)
    done_ns: array[int] = field(default_factory=lambda: array("q"))
    began_ns: int = 0
    ended_ns: int = 0  # when the last order was started (the measured window's end)
    errors: Counter[str] = field(default_factory=Counter)  # status 0: which transport error

    def add(self, order_id: str, status: int, start_ns: int, done_ns: int) -> None:
        self.ids.append(order_id)
        self.status.append(status)
        self.start_ns.append(start_ns)
        self.done_ns.append(done_ns)

    def accepted(self) -> dict[str, int]:
        """order id -> when its 2xx arrived (monotonic ns)."""
        return {
            i: d
            for i, s, d in zip(self.ids, self.status, self.done_ns, strict=True)
            if 200 <= s < 300
        }

    def refused(self) -> int:
        return sum(1 for s in self.status if not 200 <= s < 300)

    def accepted_between(self, since_ns: int, until_ns: int) -> int:
        return sum(
            1
            for s, d in zip(self.status, self.done_ns, strict=True)
            if 200 <= s < 300 and since_ns <= d < until_ns
        )

    def latencies_ms(self) -> list[float]:
        return [
            (d - t) / 1e6
            for s, t, d in zip(self.status, self.start_ns, self.done_ns, strict=True)
            if 200 <= s < 300
        ]


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..1); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(q * len(ordered) + 0.5) - 1))]


async def closed_loop(
    endpoint: Endpoint, requests: OrderRequests, *, connections: int, duration: float, prefix: str
) -> Phase:
    """Each connection sends back to back for ``duration`` seconds; in-flight orders finish."""
    phase = Phase(prefix, began_ns=time.monotonic_ns())
    deadline = phase.began_ns + int(duration * 1e9)
    seq = itertools.count()

    async def one_connection() -> None:
        conn = Connection(endpoint)
        while (now := time.monotonic_ns()) < deadline:
            order_id = f"{prefix}-{next(seq):07d}"
            status = await conn.call(requests.build(order_id, now))
            phase.add(order_id, status, now, time.monotonic_ns())
        conn.close()
        phase.errors.update(conn.errors)

    await asyncio.gather(*(one_connection() for _ in range(connections)))
    phase.ended_ns = deadline
    return phase


async def open_loop(
    endpoint: Endpoint,
    requests: OrderRequests,
    *,
    rate: float,
    duration: float,
    prefix: str,
    connections: int = 64,
) -> Phase:
    """Order ``i`` is due at ``start + i / rate``; its latency counts from then."""
    phase = Phase(prefix, began_ns=time.monotonic_ns() + 50_000_000)
    end = phase.began_ns + int(duration * 1e9)
    seq = itertools.count()

    async def one_connection() -> None:
        conn = Connection(endpoint)
        while (due := phase.began_ns + int((n := next(seq)) * 1e9 / rate)) < end:
            if (wait := due - time.monotonic_ns()) > 0:
                await asyncio.sleep(wait / 1e9)
            order_id = f"{prefix}-{n:07d}"
            status = await conn.call(requests.build(order_id, time.monotonic_ns()))
            phase.add(order_id, status, due, time.monotonic_ns())
        conn.close()
        phase.errors.update(conn.errors)

    await asyncio.gather(*(one_connection() for _ in range(connections)))
    phase.ended_ns = end
    return phase


def summary(phase: Phase, seconds: float) -> dict[str, Any]:
    latencies = phase.latencies_ms()
    accepted = len(phase.accepted())
    return {
        "phase": phase.name,
        "sent": len(phase.ids),
        "accepted": accepted,
        "refused_or_failed": phase.refused(),
        "transport_errors": dict(phase.errors),
        "accepted_per_s": round(accepted / seconds, 1),
        "latency_ms": {
            "p50": percentile(latencies, 0.50),
            "p99": percentile(latencies, 0.99),
        },
    }


async def _cli(args: argparse.Namespace) -> None:
    endpoint = Endpoint.from_url(args.url, args.key)
    requests = OrderRequests(endpoint, Path(args.template))
    prefix = uuid.uuid4().hex[:8]
    if args.rate:
        phase = await open_loop(
            endpoint,
            requests,
            rate=args.rate,
            duration=args.duration,
            prefix=prefix,
            connections=args.connections,
        )
    else:
        phase = await closed_loop(
            endpoint,
            requests,
            connections=args.connections,
            duration=args.duration,
            prefix=prefix,
        )
    print(orjson.dumps(summary(phase, args.duration), option=orjson.OPT_INDENT_2).decode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="http://host:port/v1/messages/<message_type>")
    parser.add_argument("--key", required=True, help="the caller's bearer key")
    parser.add_argument("--rate", type=float, default=0.0, help="open loop at this many orders/s")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--template", default=str(ORDER_TEMPLATE))
    uvloop.run(_cli(parser.parse_args()))


if __name__ == "__main__":
    main()
