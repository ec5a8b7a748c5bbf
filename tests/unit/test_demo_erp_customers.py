"""The demo's ERP stand-in answers the customer list API as the scenario's pages do, so
the demo's customer-master can be tried with ERP_URL=http://127.0.0.1:8000/demo/erp."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from esb.demo import demo_app

SCENARIO = Path(__file__).resolve().parents[1] / "data" / "scenario" / "inputs"


async def test_the_customer_pages_are_the_scenarios_and_updated_since_filters() -> None:
    transport = httpx.ASGITransport(app=demo_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://demo") as client:
        for page in (1, 2):
            answer = await client.get("/erp/api/customers", params={"page": page})
            expected = json.loads((SCENARIO / f"erp_customers_page{page}.json").read_text())
            assert answer.json() == expected
        since = await client.get(
            "/erp/api/customers",
            params={"updated_since": "2026-11-25T23:00:00Z", "page": 1},  # 07:00 in Shanghai
        )
        assert [c["code"] for c in since.json()["items"]] == ["C0003", "C0004"]
        assert since.json()["next_page"] is None
        latest = await client.get(
            "/erp/api/customers", params={"updated_since": "2026-11-26T09:15:00+08:00"}
        )
        assert latest.json() == {"items": [], "next_page": None}
        bad = await client.get("/erp/api/customers", params={"updated_since": "yesterday"})
        assert bad.status_code == 400
        naive = await client.get("/erp/api/customers", params={"updated_since": "2026-11-26"})
        assert naive.status_code == 400
