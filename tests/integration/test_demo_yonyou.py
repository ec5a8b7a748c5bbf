"""The demo serves a Yonyou stand-in at /demo/yonyou: the yonyou connector, pointed at it with
the demo's app, writes a sales order through U8's OpenAPI and through a YonBIP gateway."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from esb.connectors import load_registry
from esb.demo import (
    DEMO_YONYOU_APP_KEY,
    DEMO_YONYOU_APP_SECRET,
    DEMO_YONYOU_FROM_ACCOUNT,
    DEMO_YONYOU_TO_ACCOUNT,
    demo_app,
)
from esb.sdk import ConnectorContext, Delivered
from esb.testing import delivery_request
from esb.testing.served import Served

ORDER = {"saleorder": {"code": "SO-1", "cuscode": "C001", "entry": [{"inventorycode": "A001"}]}}


def options(base: str, api: str) -> dict[str, Any]:
    login = {"app_key": DEMO_YONYOU_APP_KEY, "app_secret": DEMO_YONYOU_APP_SECRET}
    if api == "u8":
        return {
            "api": "u8",
            "base_url": base,
            "path": "/api/saleorder/add",
            "from_account": DEMO_YONYOU_FROM_ACCOUNT,
            "to_account": DEMO_YONYOU_TO_ACCOUNT,
            **login,
        }
    return {
        "api": "yonbip",
        "base_url": f"{base}/iuap-api-gateway",
        "token_url": f"{base}/iuap-api-auth",  # under /demo/yonyou, not at the host's root
        "path": "/yonbip/sd/voucherorder/singleSave",
        **login,
    }


@pytest.mark.parametrize("api", ["u8", "yonbip"])
async def test_the_demo_yonyou_takes_a_sales_order(api: str) -> None:
    served = await Served(demo_app()).start()
    registry = load_registry()
    config = registry.connector_config("yonyou", options(f"{served.url}/yonyou", api))
    connector = registry.build(config, ConnectorContext(Path("."), "erp", "sales-order"))
    try:
        outcome = await connector.deliver(delivery_request(ORDER))
        async with httpx.AsyncClient() as client:
            listed = (await client.get(f"{served.url}/yonyou/received")).json()
    finally:
        await connector.aclose()
        await served.stop()
    assert isinstance(outcome, Delivered), outcome
    assert [document["body"] for document in listed] == [ORDER]
