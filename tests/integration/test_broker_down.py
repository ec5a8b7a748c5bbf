"""With RabbitMQ away, the gateway still answers at once: messages are accepted into the
outbox, ``/readyz`` says the broker is unavailable, and ``POST /v1/reconcile`` (which
needs the broker) is a 503 with a JSON error, each within 2 s. When RabbitMQ is back
the link reconnects by itself and what was accepted meanwhile is delivered.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from esb.live import routes
from esb.settings import Settings
from tests.support.gateway import (
    GatewayUnderTest,
    delete_broker_objects,
    rest_interface,
    write_config,
)
from tests.support.target import TargetServer
from tests.support.tcpproxy import TcpProxy

PROMPT_S = 2.0


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def timed(request: Any) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await request
    return response, time.monotonic() - started


async def assert_prompt_answers(gut: GatewayUnderTest, order_no: str) -> str:
    """The three answers the issue asks for; returns the accepted message's id."""
    sent, took = await timed(gut.send("sales_order", {"OrderNo": order_no}))
    assert sent.status_code == 202, sent.text
    assert took < PROMPT_S, f"ingress took {took:.2f}s"

    ready, took = await timed(gut.client.get(f"{gut.url}/readyz"))
    assert took < PROMPT_S, f"/readyz took {took:.2f}s"
    assert ready.status_code == 503
    assert ready.json() == {"ready": False, "checks": {"database": "ok", "broker": "unavailable"}}

    reconciled, took = await timed(gut.admin("POST", "/v1/reconcile"))
    assert took < PROMPT_S, f"/v1/reconcile took {took:.2f}s"
    assert reconciled.status_code == 503, reconciled.text
    assert reconciled.headers["Retry-After"] == "1"
    assert reconciled.json()["error"]["code"] == "broker_unavailable"
    return str(sent.json()["id"])


@pytest.fixture
async def proxy() -> AsyncIterator[TcpProxy]:
    running = await TcpProxy("127.0.0.1", 5672).start()
    yield running
    await running.cut()


@pytest.mark.parametrize("mode", ["production"], indirect=True)
async def test_a_broker_that_never_answered(
    mode_settings: dict[str, Any], target: TargetServer, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "cfg", rest_interface(target.url))
    nowhere = f"amqp://guest:guest@127.0.0.1:{closed_port()}/"
    gut = GatewayUnderTest(Settings(config=config, **{**mode_settings, "broker_url": nowhere}))
    started = time.monotonic()
    await gut.start()  # the gateway starts without its broker
    try:
        assert time.monotonic() - started < PROMPT_S
        await assert_prompt_answers(gut, "SO-NOBROKER-1")
        started = time.monotonic()
        await gut.stop()
        assert time.monotonic() - started < PROMPT_S, "a stop does not wait for RabbitMQ"
    finally:
        await gut.stop()
        await gut.client.aclose()


@pytest.mark.parametrize("mode", ["production"], indirect=True)
async def test_a_broker_that_went_away_and_came_back(
    mode_settings: dict[str, Any],
    rabbit_url: str,
    proxy: TcpProxy,
    target: TargetServer,
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path / "cfg", rest_interface(target.url))
    via_proxy = rabbit_url.replace("127.0.0.1:5672", f"127.0.0.1:{proxy.port}")
    settings = Settings(config=config, **{**mode_settings, "broker_url": via_proxy})
    gut = GatewayUnderTest(settings)
    await gut.start()
    try:
        first = await gut.send("sales_order", {"OrderNo": "SO-AWAY-0"})
        await gut.wait_status(first.json()["id"], "delivered")  # connected for real

        await proxy.cut()
        for _ in range(50):  # the connection notices the cut
            if (await gut.client.get(f"{gut.url}/readyz")).status_code == 503:
                break
            await asyncio.sleep(0.1)
        accepted = await assert_prompt_answers(gut, "SO-AWAY-1")

        await proxy.restore()
        await gut.wait_status(accepted, "delivered", timeout=30)
        reconciled = await gut.admin("POST", "/v1/reconcile")
        assert reconciled.status_code == 200, reconciled.text
        assert (await gut.client.get(f"{gut.url}/readyz")).status_code == 200
    finally:
        await gut.stop()
        await gut.client.aclose()
        direct = settings.model_copy(update={"broker_url": rabbit_url})
        await delete_broker_objects(direct, routes(gut.config))
