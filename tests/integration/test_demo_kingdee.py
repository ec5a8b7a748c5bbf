"""The demo serves a K/3 Cloud stand-in at /demo/kingdee: the kingdee connector, pointed at it
with the demo's credentials, saves the scenario's production receipt there."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from esb.connectors import load_registry
from esb.demo import DEMO_KINGDEE_ACCT_ID, DEMO_KINGDEE_PASSWORD, DEMO_KINGDEE_USER, demo_app
from esb.sdk import ConnectorContext, Delivered
from esb.testing import delivery_request
from esb.testing.served import Served

EXPECTED = Path(__file__).parents[1] / "data" / "scenario" / "expected"


async def test_the_demo_kingdee_takes_the_production_receipt() -> None:
    served = await Served(demo_app()).start()
    registry = load_registry()
    options = {
        "url": f"{served.url}/kingdee/k3cloud",
        "acct_id": DEMO_KINGDEE_ACCT_ID,
        "username": DEMO_KINGDEE_USER,
        "password": DEMO_KINGDEE_PASSWORD,
        "form_id": "PRD_INSTOCK",
    }
    config = registry.connector_config("kingdee", options)
    connector = registry.build(config, ConnectorContext(Path("."), "finance", "production-report"))
    expected = json.loads((EXPECTED / "kingdee_PRD_INSTOCK_MES-CPL-1.json").read_text("utf-8"))
    try:
        outcome = await connector.deliver(delivery_request(expected["Model"]))
        async with httpx.AsyncClient() as client:
            listed = (await client.get(f"{served.url}/kingdee/received")).json()
            others = (await client.get(f"{served.url}/mes/received")).json()
    finally:
        await connector.aclose()
        await served.stop()
    assert isinstance(outcome, Delivered), outcome
    assert [{"formid": d["formid"], "Model": d["Model"]} for d in listed] == [expected]
    assert listed[0]["DocumentStatus"] == "C"
    assert others == []  # the other stand-ins' routes are still there
