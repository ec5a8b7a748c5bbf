"""The ``xref`` connector: an interface whose target is the gateway's own cross-reference.

Documents posted over HTTP go through the real pipeline (both modes) into the
``customer`` domain: one entity per document found by its first system's code, a null
code leaving a system as it is (or removing it, with ``on_null: remove``), every change
audited with the sync as actor, the cache current at once, a redelivery changing
nothing, and a document that cannot be written parked with a reason naming the field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import select

from esb.config.loader import load_config
from esb.connectors import load_registry
from esb.errors import ConfigError
from esb.sdk import ConnectorContext
from esb.store.tables import audit_log
from esb.testing import delivery_request
from tests.support.gateway import GatewayUnderTest, write_config

SYSTEMS = """
systems:
  erp: {api_key: "erp-sync-test-key-0001"}
"""
INTERFACES = """
interfaces:
  customer-push:
    source: erp
    message_type: customer
    key: code
    retry: {schedule: [0.1s], jitter: 0, max_attempts: 2}
    targets:
      xref:
        connector: {kind: xref, domain: customer, codes: {erp: code, mes: ids.mes, wms: wms_code}}
  customer-fix:
    source: erp
    message_type: customer_fix
    targets:
      xref:
        connector:
          kind: xref
          domain: customer
          codes: {erp: code, mes: mes, wms: wms}
          on_null: remove
          actor: erp-fixes
"""
KEY = "erp-sync-test-key-0001"


@pytest.fixture
async def gut(make_gateway: Any, tmp_path: Path) -> GatewayUnderTest:
    gateway: GatewayUnderTest = await make_gateway(
        write_config(tmp_path / "cfg", INTERFACES, SYSTEMS), config_watch=False
    )
    return gateway


async def post(gut: GatewayUnderTest, message_type: str, body: Any, status: str) -> dict[str, Any]:
    response = await gut.send(message_type, body, key=KEY)
    assert response.status_code == 202, response.text
    return await gut.wait_status(response.json()["id"], status)


async def entity(gut: GatewayUnderTest, code: str) -> Any:
    response = await gut.admin("GET", f"/v1/xref/customer/erp/{code}")
    return response.json() if response.status_code == 200 else None


async def audited(gut: GatewayUnderTest) -> list[tuple[str, Any, Any]]:
    async with gut.gateway.engine.connect() as conn:
        found = await conn.execute(
            select(audit_log.c.actor, audit_log.c.before, audit_log.c.after)
            .where(audit_log.c.action == "xref.put")
            .order_by(audit_log.c.id)
        )
        return [(a, orjson.loads(b)["entity"], orjson.loads(c)["entity"]) for a, b, c in found]


async def test_a_document_upserts_its_entity_audited_and_cached_at_once(
    gut: GatewayUnderTest,
) -> None:
    await post(gut, "customer", {"code": "C1", "ids": {"mes": 9001}, "wms_code": None}, "delivered")
    assert await entity(gut, "C1") == {"erp": "C1", "mes": "9001"}  # a null leaves wms out
    assert gut.gateway.xref.lookup("customer", "erp", "mes", "C1") == "9001"
    await post(gut, "customer", {"code": "C1", "ids": {"mes": 9001}, "wms_code": "W1"}, "delivered")
    assert await entity(gut, "C1") == {"erp": "C1", "mes": "9001", "wms": "W1"}
    await post(gut, "customer", {"code": "C1", "ids": {}, "wms_code": None, "n": 3}, "delivered")
    assert await entity(gut, "C1") == {"erp": "C1", "mes": "9001", "wms": "W1"}  # kept
    assert await audited(gut) == [
        ("sync:customer-push", None, {"erp": "C1", "mes": "9001"}),
        ("sync:customer-push", {"erp": "C1", "mes": "9001"},
         {"erp": "C1", "mes": "9001", "wms": "W1"}),
    ]  # fmt: skip

    await post(gut, "customer_fix", {"code": "C1", "mes": None, "wms": "W2"}, "delivered")
    assert await entity(gut, "C1") == {"erp": "C1", "wms": "W2"}  # on_null: remove
    assert (await audited(gut))[-1][0] == "erp-fixes"
    assert gut.gateway.xref.lookup("customer", "erp", "mes", "C1") is None


async def test_a_redelivery_changes_nothing_twice(gut: GatewayUnderTest) -> None:
    connector = gut.gateway.live.snapshot.connectors.get(("customer-push", "xref"))
    if connector is None:  # production: this process's worker built it too
        pytest.fail("the xref connector was not built")
    request = delivery_request({"code": "C5", "ids": {"mes": "9005"}}, "xref")
    first = await connector.deliver(request)
    again = await connector.deliver(request)
    assert first == again
    assert first.detail == {"domain": "customer", "entity": {"erp": "C5", "mes": "9005"}}
    assert len(await audited(gut)) == 1


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"name": "no code"}, "`code` (erp code) is missing"),
        ({"code": "C7", "ids": {"mes": [1]}}, "`ids.mes` (mes code) is list, not a code"),
        ({"code": "C7", "wms_code": "  "}, "`wms_code` (wms code) is empty"),
        ({"code": "C7", "ids": {"mes": "9" * 201}}, "`ids.mes` (mes code) is longer than 200"),
    ],
)
async def test_a_document_that_cannot_be_written_is_parked_naming_the_field(
    gut: GatewayUnderTest, body: dict[str, Any], reason: str
) -> None:
    message = await post(gut, "customer", body, "parked")
    [delivery] = message["deliveries"]
    assert reason in delivery["last_error"]
    assert await entity(gut, "C7") is None


async def test_a_code_that_names_another_entity_is_parked_not_rekeyed(
    gut: GatewayUnderTest,
) -> None:
    await post(gut, "customer", {"code": "C1", "ids": {"mes": "9001"}}, "delivered")
    message = await post(gut, "customer", {"code": "C2", "ids": {"mes": "9001"}}, "parked")
    [delivery] = message["deliveries"]
    assert "customer erp 'C2'" in delivery["last_error"]
    assert "mes code '9001' already names another entity" in delivery["last_error"]
    assert await entity(gut, "C2") is None
    assert await entity(gut, "C1") == {"erp": "C1", "mes": "9001"}


def test_the_target_needs_no_system_but_a_named_one_must_exist(tmp_path: Path) -> None:
    registry = load_registry()
    load_config(write_config(tmp_path / "ok", INTERFACES, SYSTEMS), registry, {})
    plain = "      xref:\n        connector: {kind: xref,"
    named = INTERFACES.replace(plain, plain.replace("xref:\n", "xref:\n        system: mdm\n"))
    with pytest.raises(ConfigError, match="unknown system 'mdm'"):
        load_config(write_config(tmp_path / "named", named, SYSTEMS), registry, {})
    bad = INTERFACES.replace("mes: ids.mes", "mes: ids..mes")
    with pytest.raises(ConfigError, match=r"codes\.mes: 'ids\.\.mes' is not a path"):
        load_config(write_config(tmp_path / "bad", bad, SYSTEMS), registry, {})


def test_the_plugin_suite_cannot_build_it_outside_a_gateway(tmp_path: Path) -> None:
    registry = load_registry()
    config = registry.connector_config("xref", {"domain": "customer", "codes": {"erp": "code"}})

    with pytest.raises(ConfigError, match="writes the gateway's own data"):
        registry.build(config, ConnectorContext(tmp_path, "xref", "contract"))
