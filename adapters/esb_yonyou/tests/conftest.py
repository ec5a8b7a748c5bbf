"""A Yonyou stand-in (U8 OpenAPI and YonBIP gateway) on a real socket per test, and
connectors pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from esb.sdk import ConnectorContext
from esb.testing.yonyou import YonyouServer
from esb_yonyou import YonyouConfig, YonyouConnector

Make = Callable[..., YonyouConnector]


@pytest.fixture
async def standin() -> AsyncIterator[YonyouServer]:
    server = await YonyouServer().start()
    yield server
    await server.stop()


def u8_options(server: YonyouServer, **more: Any) -> dict[str, Any]:
    return {
        "api": "u8",
        "base_url": server.url,
        "path": "/api/saleorder/add",
        "app_key": server.app_key,
        "app_secret": server.app_secret,
        "from_account": server.from_account,
        "to_account": server.to_account,
        "polling": {"first": "20ms", "longest": "100ms"},
        **more,
    }


def yonbip_options(server: YonyouServer, **more: Any) -> dict[str, Any]:
    return {
        "api": "yonbip",
        "base_url": f"{server.url}/iuap-api-gateway",
        "path": "/yonbip/sd/voucherorder/singleSave",
        "app_key": server.app_key,
        "app_secret": server.app_secret,
        **more,
    }


@pytest.fixture
async def make() -> AsyncIterator[Make]:
    """``make(options)``: a connector, closed after the test."""
    made: list[YonyouConnector] = []

    def build(options: dict[str, Any]) -> YonyouConnector:
        config = YonyouConfig.model_validate({"kind": "yonyou", **options})
        connector = YonyouConnector(config, ConnectorContext(Path("."), "erp", "sales-order"))
        made.append(connector)
        return connector

    yield build
    for connector in made:
        await connector.aclose()
