"""300 slow clients against a real `esb serve` process, while orders keep flowing.

A hundred connections send nothing, a hundred trickle their headers, a hundred send
their headers and trickle the body (half of them with a system key, half without).
Every one must be closed within the configured deadline (ESB_HTTP_HEADER_TIMEOUT,
ESB_HTTP_BODY_TIMEOUT), counted on /metrics, while orders sent meanwhile on fresh
connections are accepted promptly.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.integration.test_faults import env_for
from tests.integration.test_metrics import samples
from tests.support.gateway import ADMIN_KEY, ERP_KEY, rest_interface, write_config
from tests.support.process import GatewayProcess
from tests.support.serving import free_port
from tests.support.target import TargetServer

HEADER_S, BODY_S = 2.0, 3.0
#: how late a cut may come on a busy, shared 2-core machine
SLACK_S = 3.0
#: how early: uvloop's timers count on libuv's clock, kept in whole milliseconds and read
#: once per loop iteration, so a deadline can fire a little before its time on the real
#: clock (seen: 1.99985 s for a 2 s deadline)
EARLY_S = 0.05
TRICKLE_S = 0.25
KINDS = ["idle"] * 100 + ["headers"] * 100 + ["body"] * 50 + ["body_unauthenticated"] * 50
INGRESS = b"POST /v1/messages/sales_order HTTP/1.1\r\nHost: gateway\r\n"
BODY = b'{"OrderNo": "SO-SLOW", "Pad": "' + b"x" * 400 + b'"}'


@dataclass
class Cut:
    kind: str
    answer: bytes
    after_s: float  # from the start of the phase under test (connect, or headers sent)

    @property
    def status(self) -> int | None:
        return int(self.answer.split(b" ", 2)[1]) if self.answer.startswith(b"HTTP/") else None


async def trickle(writer: asyncio.StreamWriter, data: bytes) -> None:
    try:
        for byte in data:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(TRICKLE_S)
    except (ConnectionError, RuntimeError):
        return  # the gateway hung up: what the test waits for


async def slow_client(port: int, kind: str) -> Cut:
    started = time.monotonic()  # before the gateway can see the connection or the headers
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    if kind == "headers":
        sending = asyncio.create_task(trickle(writer, INGRESS + b"X-Pad: " + b"a" * 300))
    elif kind.startswith("body"):
        auth = f"Authorization: Bearer {ERP_KEY}\r\n".encode() if kind == "body" else b""
        length = f"Content-Length: {len(BODY)}\r\n".encode()
        started = time.monotonic()
        writer.write(INGRESS + auth + b"Content-Type: application/json\r\n" + length + b"\r\n")
        await writer.drain()
        sending = asyncio.create_task(trickle(writer, BODY))
    else:
        sending = asyncio.create_task(asyncio.sleep(0))
    answer = b""
    try:
        while chunk := await asyncio.wait_for(reader.read(65536), timeout=HEADER_S + 30):
            answer += chunk
    except ConnectionError:  # reset, or a trickled byte met the closed socket (broken pipe)
        pass
    closed = time.monotonic()
    await sending
    writer.close()
    return Cut(kind, answer, closed - started)


async def orders_meanwhile(url: str, seconds: float) -> list[float]:
    """An order on a fresh connection every 0.1 s; the latency of each (all must be 202)."""
    latencies: list[float] = []
    deadline = time.monotonic() + seconds
    n = 0
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=10, limits=limits) as client:
        while time.monotonic() < deadline:
            n += 1
            started = time.monotonic()
            response = await client.post(
                f"{url}/v1/messages/sales_order",
                json={"OrderNo": f"SO-FAST-{n:04}"},
                headers={"Authorization": f"Bearer {ERP_KEY}"},
            )
            latencies.append(time.monotonic() - started)
            assert response.status_code == 202, response.text
            await asyncio.sleep(0.1)
    return latencies


async def test_300_slow_clients_are_cut_in_time_while_orders_flow(
    mode_settings: dict[str, Any], target: TargetServer, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "config", rest_interface(target.url))
    env = {
        **env_for(mode_settings, config),
        "ESB_HTTP_HEADER_TIMEOUT": str(HEADER_S),
        "ESB_HTTP_BODY_TIMEOUT": str(BODY_S),
    }
    gateway = GatewayProcess(env, free_port(), tmp_path / "gateway.log")
    port = int(gateway.url.rsplit(":", 1)[1])
    gateway.start()
    try:
        await gateway.wait_ready()
        slow = asyncio.gather(*(slow_client(port, kind) for kind in KINDS))
        latencies = await orders_meanwhile(gateway.url, BODY_S + 2)
        cuts: list[Cut] = await slow
        async with httpx.AsyncClient(timeout=10) as client:
            metrics = samples((await client.get(f"{gateway.url}/metrics")).text)
            # ...and the gateway still answers operators
            report = await client.get(
                f"{gateway.url}/v1/report", headers={"Authorization": f"Bearer {ADMIN_KEY}"}
            )
            assert report.status_code == 200, report.text
    finally:
        gateway.stop()

    by_kind = {kind: [c for c in cuts if c.kind == kind] for kind in set(KINDS)}
    for kind, group in sorted(by_kind.items()):
        times = [c.after_s for c in group]
        print(f"\nSLOW {kind}: {len(group)} cut after {min(times):.2f}-{max(times):.2f} s")
    print(
        f"ORDERS meanwhile: {len(latencies)}, median {statistics.median(latencies) * 1000:.0f} ms,"
        f" max {max(latencies) * 1000:.0f} ms"
    )
    for kind in ("idle", "headers"):
        for cut in by_kind[kind]:
            assert cut.status == 408, cut
            assert HEADER_S - EARLY_S <= cut.after_s <= HEADER_S + SLACK_S, cut
    for cut in by_kind["body"]:
        assert cut.status == 408, cut
        assert BODY_S - EARLY_S <= cut.after_s <= BODY_S + SLACK_S, cut
    for cut in by_kind["body_unauthenticated"]:
        assert cut.status == 401, cut  # refused at once; the rest of its body is not waited for
        assert b"request_timeout" not in cut.answer
        assert BODY_S - EARLY_S <= cut.after_s <= BODY_S + SLACK_S, cut
    assert metrics[("esb_http_requests_cut_total", (("reason", "header_timeout"),))] == 200
    assert metrics[("esb_http_requests_cut_total", (("reason", "body_timeout"),))] == 100
    assert len(latencies) >= 10
    assert statistics.median(latencies) < 0.5
    assert max(latencies) < 3.0
