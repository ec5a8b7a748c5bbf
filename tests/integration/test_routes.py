"""GET /v1/routes against a running gateway (both modes): the configuration as a graph,
exactly, and each edge's live state as the health report has it, while one target
refuses a document (parked) and another goes down until its breaker opens."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.support.gateway import ERP_KEY, GatewayUnderTest, write_config
from tests.support.target import TargetServer

SYSTEMS = f"""
systems:
  erp:
    description: ERP (REST)
    api_key: "{ERP_KEY}"
  mes:
    description: MES on the shop floor
    flow:
      breaker: {{failures: 2, cool_down: 1h}}
  wms: {{}}
  finance: {{}}
"""

INTERFACES = """
interfaces:
  sales-order:
    description: orders to the shop floor
    source: erp
    message_type: sales_order
    key: OrderNo
    retry: {{schedule: [0.1s], jitter: 0, max_attempts: 100}}
    targets:
      mes:
        mapping: order-to-mes
        deadline: 5m
        connector: {{kind: rest, url: "{url}/mes", timeout: {{connect: 1s, total: 3s}}}}
      wms:
        when: OrderType == '02'
        ordering: key
        connector: {{kind: rest, url: "{url}/wms", timeout: {{connect: 1s, total: 3s}}}}
  shipment:
    source: wms
    message_type: shipment
    key: order_no
    inbound:
      - {{kind: file-drop, folder: "{drop}", pattern: "*.csv", format: csv}}
    targets:
      invoice:
        system: finance
        when: status == 'S'
        connector: {{kind: file, folder: "{out}", filename: "INV-{{order_no}}.json"}}
  customer-master:
    source: erp
    message_type: customer
    key: code
    targets:
      xref:
        ordering: key
        supersede: true
        connector: {{kind: xref, domain: customer, codes: {{erp: code, mes: mes_id}}}}
  quality:
    enabled: ${{QUALITY_ON:+true}}
    source: mes
    message_type: quality
    targets:
      erp:
        connector: {{kind: rest, url: "{url}/erp"}}
"""

MAPPING = """
description: an ERP order as an MES work order
source: erp
target: mes
fields:
  WorkOrder: {path: OrderNo}
  Customer: {path: CustCode, xref: customer}
"""

LIVE = ("health", "status", "breaker", "pending", "parked", "blocked", "last_error")


def configure(folder: Path, url: str) -> Path:
    drop, out = folder.parent / "drop", folder.parent / "out"
    interfaces = INTERFACES.format(url=url, drop=drop, out=out)
    write_config(folder, interfaces, SYSTEMS)
    (folder / "mappings").mkdir()
    (folder / "mappings" / "order-to-mes.yaml").write_text(MAPPING)
    return folder


def shape(routes: dict[str, Any]) -> dict[str, Any]:
    """The configured part of the map: every edge without its live state."""
    edges = [{k: v for k, v in e.items() if k not in LIVE} for e in routes["edges"]]
    return {**routes, "edges": edges, "at": None}


CUSTOMER = {"name": "customer-master", "description": "", "source": "erp",
            "message_type": "customer", "key": "code", "sources": [{"kind": "http"}],
            "targets": ["xref"]}  # fmt: skip
EXPECTED = {
    "window": "15m",
    "at": None,
    "systems": [
        {"name": "erp", "kind": "system", "description": "ERP (REST)", "calls_in": True,
         "breaker": None},
        {"name": "mes", "kind": "system", "description": "MES on the shop floor",
         "calls_in": False, "breaker": "closed"},
        {"name": "wms", "kind": "system", "description": "", "calls_in": False, "breaker": None},
        {"name": "finance", "kind": "system", "description": "", "calls_in": False,
         "breaker": None},
        {"name": "xref", "kind": "gateway", "description": "", "calls_in": False,
         "breaker": None},
    ],
    "interfaces": [
        {"name": "sales-order", "description": "orders to the shop floor", "source": "erp",
         "message_type": "sales_order", "key": "OrderNo", "sources": [{"kind": "http"}],
         "targets": ["mes", "wms"]},
        {"name": "shipment", "description": "", "source": "wms", "message_type": "shipment",
         "key": "order_no", "sources": [{"kind": "file-drop"}], "targets": ["invoice"]},
        CUSTOMER,
    ],
    "edges": [
        {"id": "sales-order/mes", "interface": "sales-order", "target": "mes", "from": "erp",
         "to": "mes", "to_kind": "system", "connector": "rest",
         "mapping": {"name": "order-to-mes", "description": "an ERP order as an MES work order",
                     "xref": ["customer"]},
         "when": None, "ordering": "none", "supersede": False, "deadline_s": 300.0},
        {"id": "sales-order/wms", "interface": "sales-order", "target": "wms", "from": "erp",
         "to": "wms", "to_kind": "system", "connector": "rest", "mapping": None,
         "when": "OrderType == '02'", "ordering": "key", "supersede": False,
         "deadline_s": None},
        {"id": "shipment/invoice", "interface": "shipment", "target": "invoice",
         "from": "wms", "to": "finance", "to_kind": "system", "connector": "file",
         "mapping": None, "when": "status == 'S'", "ordering": "none", "supersede": False,
         "deadline_s": None},
        {"id": "customer-master/xref", "interface": "customer-master", "target": "xref",
         "from": "erp", "to": "xref", "to_kind": "gateway", "connector": "xref",
         "mapping": None, "when": None, "ordering": "key", "supersede": True,
         "deadline_s": None},
    ],
    "switched_off": ["quality"],
}  # fmt: skip


async def routes(gut: GatewayUnderTest) -> dict[str, Any]:
    response = await gut.admin("GET", "/v1/routes")
    assert response.status_code == 200, response.text
    return dict(response.json())


def edge(found: dict[str, Any], edge_id: str) -> dict[str, Any]:
    [one] = [e for e in found["edges"] if e["id"] == edge_id]
    return dict(one)


async def until(
    gut: GatewayUnderTest, check: Callable[[dict[str, Any]], bool], timeout: float = 20.0
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while not check(found := await routes(gut)):
        assert time.monotonic() < deadline, found
        await asyncio.sleep(0.05)
    return found


def statuses(message: dict[str, Any]) -> dict[str, str]:
    return {d["target"]: d["status"] for d in message["deliveries"]}


async def report_row(gut: GatewayUnderTest, edge_id: str) -> dict[str, Any]:
    report = (await gut.admin("GET", "/v1/report")).json()
    [row] = [r for r in report["interfaces"] if f"{r['interface']}/{r['target']}" == edge_id]
    return dict(row)


async def test_the_map_is_the_configuration_with_each_edges_live_health(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    target.answer = lambda got: 400 if got.path == "/wms" else None
    gut = await make_gateway(configure(tmp_path / "cfg", target.url))

    known = {"codes": {"mes": "900123"}}
    assert (await gut.admin("PUT", "/v1/xref/customer/erp/C1", json=known)).status_code == 200
    quiet = await routes(gut)
    assert shape(quiet) == EXPECTED
    assert {e["id"]: e["health"] for e in quiet["edges"]} == dict.fromkeys(
        ("sales-order/mes", "sales-order/wms", "shipment/invoice", "customer-master/xref"), "ok"
    )
    assert all(e["pending"] == e["parked"] == e["blocked"] == 0 for e in quiet["edges"])

    # the WMS refuses an urgent order: parked; the map says what the report says
    urgent = {"OrderNo": "SO-1", "OrderType": "02", "CustCode": "C1"}
    sent = (await gut.send("sales_order", urgent)).json()
    await gut.wait_for(sent["id"], lambda m: statuses(m) == {"mes": "delivered", "wms": "parked"})
    found = await routes(gut)
    wms, row = edge(found, "sales-order/wms"), await report_row(gut, "sales-order/wms")
    assert (wms["health"], wms["status"], row["status"]) == ("failing", "failing", "failing")
    assert wms["last_error"] == row["last_error"]
    assert "400" in wms["last_error"]["error"]
    assert wms["breaker"] is None  # the WMS has no flow: section

    # the MES goes down: two failures open its breaker, the next order waits
    target.default_status = 503
    await gut.send("sales_order", {"OrderNo": "SO-2", "OrderType": "01", "CustCode": "C1"})
    await until(gut, lambda r: edge(r, "sales-order/mes")["breaker"] == "open")
    # the breaker opens as the second failing call ends; that attempt's outcome commits a
    # moment later (the report said "degraded", then "failing"): compare once it is in
    deadline = time.monotonic() + 20
    while (row := await report_row(gut, "sales-order/mes"))["status"] != "failing":
        assert time.monotonic() < deadline, row
        await asyncio.sleep(0.05)
    found = await routes(gut)
    mes = edge(found, "sales-order/mes")
    assert mes["health"] == "breaker_open"
    assert mes["status"] == row["status"] == "failing"
    assert (mes["pending"], mes["parked"]) == (1, 0)  # the order waits for the MES
    assert found["systems"][1] == {**EXPECTED["systems"][1], "breaker": "open"}
    assert shape(found) == {**EXPECTED, "systems": found["systems"]}  # the graph stays


async def test_the_map_needs_the_admin_key_and_a_window_it_can_read(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    gut = await make_gateway(configure(tmp_path / "cfg", target.url))
    url = f"{gut.url}/v1/routes"
    nobody = await gut.client.get(url)
    assert (nobody.status_code, nobody.json()["error"]["code"]) == (401, "unauthenticated")
    system = await gut.client.get(url, headers={"Authorization": f"Bearer {ERP_KEY}"})
    assert (system.status_code, system.json()["error"]["code"]) == (403, "forbidden")
    wrong = await gut.admin("GET", "/v1/routes", params={"window": "soon"})
    assert (wrong.status_code, wrong.json()["error"]["field"]) == (422, "window")
    hour = await gut.admin("GET", "/v1/routes", params={"window": "1h"})
    assert hour.json()["window"] == "1h"
