"""What the contract cannot know about this source: a caller without the token is turned away."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from esb_example import WebhookSource

from esb.testing import ConnectorRegistry, StandInGateway, serve_source


def test_a_caller_without_the_token_is_turned_away(
    esb_registry: ConnectorRegistry, tmp_path: Path
) -> None:
    gateway = StandInGateway()
    config = esb_registry.source_config("example-webhook", {"token": "right"})
    source = WebhookSource(config, gateway.context("orders", "erp", "order", tmp_path))

    async def call() -> httpx.Response:
        served = await serve_source(source)
        try:
            async with httpx.AsyncClient() as client:
                headers = {"Authorization": "Bearer wrong"}
                return await client.post(f"{served.url}/", json={"a": 1}, headers=headers)
        finally:
            await served.stop()

    answer = asyncio.run(call())
    assert answer.status_code == 401
    assert gateway.offered == []
