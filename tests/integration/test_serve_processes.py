"""Several `esb serve` processes on one port (production mode): `--reuse-port`."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import httpx

from tests.integration.test_faults import env_for
from tests.support.gateway import ERP_KEY, rest_interface, write_config
from tests.support.process import GatewayProcess
from tests.support.serving import free_port
from tests.support.target import TargetServer


async def send_on_fresh_connections(url: str, orders: list[str]) -> None:
    """One connection per order, so the kernel spreads them over the listening processes."""
    for order in orders:
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.post(
                f"{url}/v1/messages/sales_order",
                json={"OrderNo": order},
                headers={"Authorization": f"Bearer {ERP_KEY}"},
            )
            assert response.status_code == 202, response.text


async def test_two_processes_share_the_port_and_deliver_everything_once(
    pg_clean: str, rabbit_url: str, target: TargetServer, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "config", rest_interface(target.url))
    settings = {
        "data_dir": tmp_path / "var",
        "database_url": pg_clean,
        "broker_url": rabbit_url,
        "broker_prefix": f"esbtest-{uuid.uuid4().hex[:10]}",
    }
    env, port = env_for(settings, config), free_port()
    first = GatewayProcess(env, port, tmp_path / "first.log", ("--reuse-port",))
    second = GatewayProcess(env, port, tmp_path / "second.log", ("--reuse-port",))
    try:
        first.start()
        await first.wait_ready()
        second.start()  # without SO_REUSEPORT this one would fail to bind and exit
        await second.wait_ready()
        orders = [f"RP-{n:03}" for n in range(60)]
        await send_on_fresh_connections(first.url, orders[:40])
        # stopped from a thread: the target runs on this event loop and must answer meanwhile
        await asyncio.to_thread(first.stop)  # the second process alone serves the port now
        await send_on_fresh_connections(second.url, orders[40:])
        for _ in range(200):
            if len(target.bodies()) >= len(orders):
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.3)
        received = sorted(body["OrderNo"] for body in target.bodies())
        assert received == orders  # every order once, whichever process took it
    finally:
        first.stop()
        second.stop()


def test_embedded_mode_refuses_reuse_port(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from esb.cli import app

    config = write_config(tmp_path / "config", rest_interface("http://127.0.0.1:9"))
    result = CliRunner().invoke(
        app,
        ["serve", "--reuse-port"],
        env={"ESB_CONFIG": str(config), "ESB_DATA_DIR": str(tmp_path / "var")},
    )
    assert result.exit_code == 2
    assert "--reuse-port needs production mode" in result.output
