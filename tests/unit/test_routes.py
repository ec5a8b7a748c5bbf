"""The route map of the demo factory, every part switched on: each way in, each connector
kind, each condition; the live state comes from the report's rows as they are."""

from __future__ import annotations

from typing import Any

import pytest

from esb.config.gateway import GatewayConfig
from esb.config.loader import load_config
from esb.connectors import load_registry
from esb.routes import edge_health, route_map
from esb.settings import demo_config_dir

EVERYTHING_ON = {"MES_DB_URL": "mysql://esb@mes-db/mes", "ERP_URL": "http://erp.local"}


def demo(env: dict[str, str]) -> GatewayConfig:
    return load_config(demo_config_dir(), load_registry(), {"ESB_DATA_DIR": "var", **env})


def report(config: GatewayConfig, breakers: dict[str, str]) -> dict[str, Any]:
    """A report whose rows differ (n pending, 10 n parked), so each is read from its own."""
    pairs = [(i, t) for i, iface in config.interfaces.items() for t in iface.targets]
    rows = [
        {"interface": i, "target": t, "status": ["ok", "degraded", "failing"][n % 3],
         "pending": n, "parked": 10 * n, "blocked": 100 * n, "last_error": None}
        for n, (i, t) in enumerate(pairs)
    ]  # fmt: skip
    systems = [{"system": s, "breaker": b} for s, b in breakers.items()]
    return {"window": "1h", "to": "2026-12-06T02:00:00+00:00", "interfaces": rows,
            "systems": systems}  # fmt: skip


def test_the_demo_factory_as_a_graph() -> None:
    config = demo(EVERYTHING_ON)
    found = route_map(config, report(config, {}))
    assert [(s["name"], s["kind"], s["calls_in"]) for s in found["systems"]] == [
        ("erp", "system", True),
        ("mes", "system", False),
        ("wms", "system", True),
        ("finance", "system", False),
        ("xref", "gateway", False),
    ]
    ways_in = {i["name"]: [s["kind"] for s in i["sources"]] for i in found["interfaces"]}
    assert ways_in == {
        "sales-order": ["http"],
        "shipment": ["http", "file-drop"],
        "production-report": ["sql-poll"],
        "customer-master": ["http", "rest-poll"],
    }
    edges = {
        e["id"]: (e["from"], e["to"], e["connector"], e["mapping"] and e["mapping"]["name"],
                  e["when"])
        for e in found["edges"]
    }  # fmt: skip
    assert edges == {
        "sales-order/mes": ("erp", "mes", "rest", "sales-order-to-mes", None),
        "sales-order/wms": ("erp", "wms", "soap", "sales-order-to-wms", "OrderType == '02'"),
        "shipment/erp": ("wms", "erp", "rest", "shipment-to-erp", None),
        "shipment/finance": ("wms", "finance", "file", "shipment-to-finance", "status == 'S'"),
        "production-report/erp": ("mes", "erp", "rest", "production-report-to-erp", None),
        "production-report/finance": (
            "mes", "finance", "kingdee", "production-report-to-finance", None,
        ),
        "customer-master/xref": ("erp", "xref", "xref", None, None),
    }  # fmt: skip
    mes = found["edges"][0]["mapping"]
    assert mes == {"name": "sales-order-to-mes", "description": "ERP sales order -> MES work order",
                   "xref": ["customer", "material"]}  # fmt: skip
    assert (found["window"], found["at"], found["switched_off"]) == (
        "1h", "2026-12-06T02:00:00+00:00", [],
    )  # fmt: skip


def test_each_edge_has_its_own_rows_live_state_and_its_systems_breaker() -> None:
    config = demo(EVERYTHING_ON)
    found = route_map(config, report(config, {"erp": "open", "mes": "half_open"}))
    live = {e["id"]: (e["health"], e["breaker"], e["pending"], e["parked"], e["blocked"])
            for e in found["edges"]}  # fmt: skip
    assert live == {
        "sales-order/mes": ("ok", "half_open", 0, 0, 0),
        "sales-order/wms": ("degraded", None, 1, 10, 100),
        "shipment/erp": ("breaker_open", "open", 2, 20, 200),  # its status: failing
        "shipment/finance": ("ok", None, 3, 30, 300),
        "production-report/erp": ("breaker_open", "open", 4, 40, 400),  # degraded
        "production-report/finance": ("failing", None, 5, 50, 500),
        "customer-master/xref": ("ok", None, 6, 60, 600),  # the gateway's own: no breaker
    }
    assert found["edges"][2]["status"] == "failing"
    assert [s["breaker"] for s in found["systems"]] == ["open", "half_open", None, None, None]


def test_what_is_switched_off_is_named_not_drawn() -> None:
    config = demo({})
    found = route_map(config, report(config, {}))
    assert [i["name"] for i in found["interfaces"]] == ["sales-order", "shipment"]
    assert found["switched_off"] == ["customer-master", "production-report"]
    assert [s["name"] for s in found["systems"]] == ["erp", "mes", "wms", "finance"]


@pytest.mark.parametrize(
    ("status", "breaker", "health"),
    [
        ("ok", None, "ok"),
        ("degraded", "closed", "degraded"),
        ("failing", "half_open", "failing"),
        ("ok", "open", "breaker_open"),
        ("failing", "open", "breaker_open"),
    ],
)
def test_an_open_breaker_outranks_the_numbers(
    status: str, breaker: str | None, health: str
) -> None:
    assert edge_health(status, breaker) == health
