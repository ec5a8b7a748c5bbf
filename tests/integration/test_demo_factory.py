"""The demo factory's vectors, end to end through the real pipeline, in both modes.

The shipped configuration (examples/demo-factory) runs unchanged; only the URLs of
the systems point at real servers started here: MES and ERP (HTTP), WMS (SOAP).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from esb.settings import demo_config_dir
from esb.testing.target import Received
from tests.support.drops import drop, eventually
from tests.support.gateway import GatewayUnderTest
from tests.support.soap_server import SoapServer, canonical
from tests.support.target import TargetServer

VECTORS = Path(__file__).resolve().parents[1] / "data" / "scenario"
ERP_KEY, WMS_KEY = "erp-demo-test-key", "wms-demo-test-key"


def vector(name: str) -> Any:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


@pytest.fixture
async def soap() -> Any:
    server = await SoapServer().start()
    yield server
    await server.stop()


@pytest.fixture
async def demo(
    make_gateway, target: TargetServer, soap: SoapServer, tmp_path: Path
) -> GatewayUnderTest:
    env = {
        "ERP_API_KEY": ERP_KEY,
        "WMS_API_KEY": WMS_KEY,
        "MES_URL": target.url,
        "ERP_URL": target.url,
        "WMS_URL": soap.base_url,
        "DROP_DIR": str(tmp_path / "drop"),
    }
    return await make_gateway(demo_config_dir(), env=env, config_watch=False)


async def send_order(demo: GatewayUnderTest, name: str) -> dict[str, Any]:
    response = await demo.send("sales_order", vector(f"inputs/{name}.json"), key=ERP_KEY)
    assert response.status_code == 202, response.text
    return dict(response.json())


@pytest.mark.parametrize("kind", ["normal", "urgent", "sample"])
async def test_each_order_reaches_mes_exactly(
    demo: GatewayUnderTest, target: TargetServer, soap: SoapServer, kind: str
) -> None:
    accepted = await send_order(demo, f"sales_order_{kind}")
    assert {d["target"] for d in accepted["deliveries"]} == (
        {"mes", "wms"} if kind == "urgent" else {"mes"}
    )
    message = await demo.wait_status(accepted["id"], "delivered")

    [mes_body] = target.bodies("/api/work-orders")
    assert mes_body == vector(f"expected/mes_work_order_{kind}.json")
    if kind == "urgent":
        [pick] = soap.received
        expected = etree.parse(str(VECTORS / "expected/wms_pick_request_urgent.xml")).getroot()
        assert pick.canonical() == canonical(expected)
        wms = next(d for d in message["deliveries"] if d["target"] == "wms")
        assert wms["attempt_log"][0]["detail"]["PickId"]
    else:
        assert soap.received == []
        skipped = {"target": "wms", "reason": "when: OrderType == '02' is false"}
        assert message["skipped"] == [skipped]


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("invalid_missing_order_no", "OrderNo"),
        ("invalid_no_lines", "Lines"),
        ("invalid_qty_not_a_number", "Lines[1].Qty"),
        ("invalid_unknown_order_type", "OrderType"),
        ("invalid_bad_delivery_date", "DeliveryDate"),
    ],
)
async def test_invalid_orders_are_refused_naming_the_field(
    demo: GatewayUnderTest, target: TargetServer, name: str, field: str
) -> None:
    response = await demo.send("sales_order", vector(f"inputs/{name}.json"), key=ERP_KEY)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["field"] == field
    assert field in [e["field"] for e in error["errors"]]
    listed = (await demo.admin("GET", "/v1/messages", params={"since": "1h"})).json()
    assert listed["messages"] == []  # nothing was stored
    await asyncio.sleep(0.2)
    assert target.received == []


async def test_unknown_customer_parks_then_fix_and_replay_delivers(
    demo: GatewayUnderTest, target: TargetServer
) -> None:
    accepted = await send_order(demo, "sales_order_unknown_customer")
    message = await demo.wait_status(accepted["id"], "parked")
    [mes] = message["deliveries"]
    assert "customer" in mes["last_error"]
    assert "erp" in mes["last_error"]
    assert "'C9999'" in mes["last_error"]
    assert target.received == []

    fixed = await demo.admin(
        "PUT",
        "/v1/xref/customer/erp/C9999",
        json={"codes": {"mes": "900999"}, "reason": "new customer"},
    )
    assert fixed.status_code == 200, fixed.text
    replay = await demo.admin(
        "POST",
        f"/v1/deliveries/{mes['id']}/replay",
        json={"reason": "customer C9999 added to master data"},
    )
    assert replay.status_code == 200, replay.text

    await demo.wait_status(accepted["id"], "delivered")
    assert target.bodies("/api/work-orders") == [
        vector("expected/mes_work_order_unknown_customer_after_fix.json")
    ]


async def test_the_same_order_twice_is_one_message(
    demo: GatewayUnderTest, target: TargetServer
) -> None:
    first = await send_order(demo, "sales_order_normal")
    again = await demo.send("sales_order", vector("inputs/sales_order_normal.json"), key=ERP_KEY)
    assert again.status_code == 200
    assert again.json()["id"] == first["id"]
    await demo.wait_status(first["id"], "delivered")
    await asyncio.sleep(0.3)
    assert len(target.bodies("/api/work-orders")) == 1


SHIPMENT_ROWS = [  # the good rows of both CSV files, as the file drop will submit them
    (
        {
            "order_no": "SO-20261124-0001",
            "ship_date": "2026-11-25 09:30",
            "carrier": "顺丰速运",
            "tracking_no": "SF1234567890",
            "status": "S",
        },
        1,
        "SO-20261124-0001",
    ),
    (
        {
            "order_no": "SO-20261124-0002",
            "ship_date": "2026-11-25 10:05",
            "carrier": "京东物流",
            "tracking_no": "JD0098765432",
            "status": "P",
        },
        2,
        None,
    ),
    (
        {
            "order_no": "SO-20261124-0003",
            "ship_date": "2026-11-26 08:00",
            "carrier": "顺丰速运",
            "tracking_no": "SF2000000001",
            "status": "S",
        },
        3,
        "SO-20261124-0003",
    ),
]


@pytest.mark.parametrize(("row", "status_no", "invoice"), SHIPMENT_ROWS)
async def test_shipment_rows_reach_erp_and_finance(
    demo: GatewayUnderTest,
    target: TargetServer,
    tmp_path: Path,
    row: dict[str, str],
    status_no: int,
    invoice: str | None,
) -> None:
    response = await demo.send("shipment", row, key=WMS_KEY)
    assert response.status_code == 202, response.text
    await demo.wait_status(response.json()["id"], "delivered")
    assert target.bodies("/api/order-status") == [
        vector(f"expected/erp_order_status_{status_no}.json")
    ]
    folder = tmp_path / "drop" / "finance" / "invoice-requests"
    files = sorted(p.name for p in folder.glob("*")) if folder.exists() else []
    if invoice is None:
        assert files == []
    else:
        assert files == [f"INV-{invoice}.json"]
        assert (folder / files[0]).read_bytes() == (
            VECTORS / f"expected/finance_INV-{invoice}.json"
        ).read_bytes()


async def test_status_updates_arrive_in_order_while_other_orders_flow(
    demo: GatewayUnderTest, target: TargetServer, tmp_path: Path
) -> None:
    """Scenario "Status updates arrive in order": the ERP answers 503 to the first status
    update for SO-20261124-0005 (PARTIAL); SHIPPED is not sent before PARTIAL has been
    delivered, and another order's update goes through while SO-20261124-0005's waits."""
    order, other = "SO-20261124-0005", SHIPMENT_ROWS[0][0]
    other_arrived = asyncio.Event()
    calls: list[str] = []

    async def erp(got: Received) -> int | None:
        body = got.json()
        if body["OrderNo"] != order:
            other_arrived.set()
            return None
        calls.append(body["Status"])
        if len(calls) == 1:
            return 503  # the first status update for this order, once
        if len(calls) == 2:  # its retry is held until another order got through meanwhile
            await asyncio.wait_for(other_arrived.wait(), timeout=20)
        return None

    target.answer = erp
    drop(tmp_path / "drop" / "wms" / "shipments", "wms_shipments_20261127_sequence.csv",
         (VECTORS / "inputs" / "wms_shipments_20261127_sequence.csv").read_bytes())  # fmt: skip
    await eventually(lambda: len(calls) >= 1, what="the first update reaches the ERP")
    response = await demo.send("shipment", other, key=WMS_KEY)  # another order, meanwhile
    assert response.status_code == 202, response.text
    await demo.wait_status(response.json()["id"], "delivered")

    found = await eventually(lambda: _all_delivered(demo, order), what="both updates delivered")
    assert [m["key"] for m in found] == [order, order]
    assert calls == ["PARTIAL", "PARTIAL", "SHIPPED"]  # SHIPPED never before PARTIAL got through
    delivered = [b for b in target.bodies("/api/order-status") if b["OrderNo"] == order]
    assert delivered[1:] == vector("expected/erp_order_status_sequence.json")  # [0]: the 503
    assert delivered[-1]["Status"] == "SHIPPED"  # the ERP ends with the order shipped


async def _all_delivered(demo: GatewayUnderTest, key: str) -> list[dict[str, Any]] | None:
    response = await demo.admin("GET", "/v1/messages", params={"key": key})
    found = response.json()["messages"]
    erp = [d for m in found for d in m["deliveries"] if d["target"] == "erp"]
    return found if len(erp) == 2 and all(d["status"] == "delivered" for d in erp) else None
