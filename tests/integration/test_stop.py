"""Stopping while RabbitMQ is away: the gateway stops at once, it does not wait for it.

The broker connection goes through a TCP proxy the test cuts. Cancelling a consumer
on a connection that is reconnecting would wait for the reconnect, and a process
manager would end up SIGKILLing the gateway; the stop must not depend on the broker.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

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


@pytest.mark.parametrize("mode", ["production"], indirect=True)
async def test_stops_at_once_while_rabbitmq_is_away(
    mode_settings: dict[str, Any], rabbit_url: str, target: TargetServer, tmp_path: Path
) -> None:
    proxy = await TcpProxy("127.0.0.1", 5672).start()
    via_proxy = rabbit_url.replace("127.0.0.1:5672", f"127.0.0.1:{proxy.port}")
    config = write_config(tmp_path / "cfg", rest_interface(target.url))
    settings = Settings(config=config, **{**mode_settings, "broker_url": via_proxy})
    gut = GatewayUnderTest(settings)
    await gut.start()
    try:
        accepted = await gut.send("sales_order", {"OrderNo": "SO-STOP-1"})
        await gut.wait_status(accepted.json()["id"], "delivered")  # consuming for real

        await proxy.cut()
        for _ in range(50):  # the connection notices, and reconnects in vain
            ready = await gut.client.get(f"{gut.url}/readyz")
            if ready.status_code == 503:
                break
            await asyncio.sleep(0.1)
        assert ready.json()["checks"] == {"database": "ok", "broker": "unavailable"}

        started = time.monotonic()
        async with asyncio.timeout(20):
            await gut.stop()
        assert time.monotonic() - started < 3.0
    finally:
        await gut.stop()
        await gut.client.aclose()
        await proxy.cut()
        direct = settings.model_copy(update={"broker_url": rabbit_url})
        await delete_broker_objects(direct, routes(gut.config))
