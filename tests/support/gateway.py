"""A gateway under test: real config files, real database, real broker, real HTTP socket."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aio_pika
import httpx

from esb.api import create_app
from esb.broker import Broker
from esb.config.loader import GatewayConfig, load_config
from esb.connectors import load_registry
from esb.live import routes
from esb.settings import Settings
from tests.support.serving import Served

ADMIN_KEY = "test-admin-key-0123456789"
ERP_KEY = "erp-test-key-0123"
MES_KEY = "mes-test-key-4567"

SYSTEMS_YAML = f"""
systems:
  erp: {{api_key: "{ERP_KEY}"}}
  mes: {{api_key: "{MES_KEY}"}}
  wms: {{}}
  finance: {{}}
"""


def write_config(folder: Path, interfaces_yaml: str, systems_yaml: str = SYSTEMS_YAML) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "systems.yaml").write_text(systems_yaml)
    (folder / "interfaces.yaml").write_text(interfaces_yaml)
    return folder


def rest_interface(
    url: str,
    *,
    schedule: str = "[0.1s, 0.2s, 0.3s]",
    name: str = "sales-order",
    message_type: str = "sales_order",
    extra_targets: str = "",
    timeout: str = "3s",
) -> str:
    connector = (
        f'{{kind: rest, url: "{url}/api/work-orders", timeout: {{connect: 1s, total: {timeout}}}}}'
    )
    return f"""
interfaces:
  {name}:
    source: erp
    message_type: {message_type}
    key: OrderNo
    retry: {{schedule: {schedule}, jitter: 0}}
    targets:
      mes:
        connector: {connector}
{extra_targets}
"""


class GatewayUnderTest:
    def __init__(
        self,
        settings: Settings,
        env: dict[str, str] | None = None,
        connectors: dict[str, type[Any]] | None = None,
    ) -> None:
        self.settings = settings
        self.env = env or {}
        self.registry = load_registry(connectors)
        self.config: GatewayConfig = load_config(
            settings.config, self.registry, {**settings.config_env(), **self.env}
        )
        self.served: Served | None = None
        self.client = httpx.AsyncClient(timeout=10)

    @property
    def url(self) -> str:
        assert self.served is not None
        return self.served.url

    async def start(self, *, relay: bool = True, worker: bool = True) -> GatewayUnderTest:
        app = create_app(
            self.settings, config=self.config, registry=self.registry, relay=relay, worker=worker
        )
        self.served = await Served(app).start()
        return self

    async def stop(self) -> None:
        if self.served is not None:
            await self.served.stop()
            self.served = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    @property
    def gateway(self) -> Any:
        assert self.served is not None
        return self.served.app.state.gateway

    async def send(
        self,
        message_type: str,
        body: Any,
        *,
        key: str = ERP_KEY,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        return await self.client.post(
            f"{self.url}/v1/messages/{message_type}",
            json=body,
            headers={"Authorization": f"Bearer {key}", **(headers or {})},
        )

    async def admin(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {ADMIN_KEY}", **kwargs.pop("headers", {})}
        return await self.client.request(method, f"{self.url}{path}", headers=headers, **kwargs)

    async def message(self, message_id: str) -> dict[str, Any]:
        response = await self.admin("GET", f"/v1/messages/{message_id}")
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def wait_for(
        self, message_id: str, done: Callable[[dict[str, Any]], bool], timeout: float = 15.0
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            found = await self.message(message_id)
            if done(found):
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; message is {found}")
            await asyncio.sleep(0.05)

    async def wait_status(
        self, message_id: str, status: str, timeout: float = 15.0
    ) -> dict[str, Any]:
        return await self.wait_for(message_id, lambda m: m["status"] == status, timeout)

    async def aclose(self) -> None:
        await self.stop()
        await self.client.aclose()
        if not self.settings.embedded:
            await delete_broker_objects(self.settings, routes(self.config))


async def delete_broker_objects(settings: Settings, routes_: list[tuple[str, str]]) -> None:
    """Each test has its own queue prefix; remove its queues and exchanges afterwards."""
    broker = Broker(
        settings.broker_url or "",
        prefix=settings.broker_prefix,
        queue_type=settings.queue_type,
        publish_timeout=5,
    )
    connection = await aio_pika.connect(settings.broker_url or "")
    async with connection:
        channel = await connection.channel()
        for name in [broker.queue_name(r) for r in routes_] + [f"{settings.broker_prefix}.dead"]:
            await channel.queue_delete(name)
        for name in (broker.exchange_name, f"{settings.broker_prefix}.dead"):
            await channel.exchange_delete(name)
