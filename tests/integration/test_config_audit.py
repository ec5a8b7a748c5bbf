"""Configuration changes in the audit trail: what changed (secrets never by value), who
asked and why, a refused change with its problems, a change made while stopped; once
each, however many processes load it."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

from sqlalchemy import select

from esb.store.tables import config_state
from tests.support.gateway import write_config
from tests.support.target import TargetServer

OLD_PASSWORD = "pw-old-7f3a91"
NEW_PASSWORD = "pw-new-c04d2e"
SYSTEMS = """
systems:
  erp: {api_key: "erp-test-key-0123"}
  mes: {}
  wms: {description: warehouse}
"""
MAPPING = """
source: erp
target: mes
fields:
  workOrderNo: OrderNo
  qty: Qty
"""
PURCHASE_ORDER = """
  purchase-order:
    source: erp
    message_type: purchase_order
    targets:
      mes:
        connector: {{kind: rest, url: "{url}/api/purchase-orders"}}
"""


def interfaces(url: str, path: str = "/api/work-orders", password: str = OLD_PASSWORD) -> str:
    return f"""
interfaces:
  sales-order:
    source: erp
    message_type: sales_order
    key: OrderNo
    targets:
      mes:
        mapping: so-to-mes
        connector:
          kind: rest
          url: "{url}{path}"
          auth: {{type: basic, username: gw, password: "{password}"}}
"""


def factory(folder: Path, url: str) -> Path:
    write_config(folder, interfaces(url), SYSTEMS)
    (folder / "mappings").mkdir(exist_ok=True)
    (folder / "mappings" / "so-to-mes.yaml").write_text(MAPPING)
    return folder


async def entries(gut: Any, query: str = "action=config") -> list[dict[str, Any]]:
    answer = await gut.admin("GET", f"/v1/audit?{query}")
    assert answer.status_code == 200, answer.text
    return list(answer.json()["entries"])


async def until_entries(gut: Any, count: int, query: str = "action=config") -> list[Any]:
    for _ in range(150):
        found = await entries(gut, query)
        if len(found) >= count:
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"never {count} entries for {query}: {found}")


async def test_a_reload_is_audited_with_what_changed_and_never_a_secret(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    folder = factory(tmp_path / "cfg", target.url)
    gut = await make_gateway(folder, config_watch=False)
    assert await entries(gut) == []  # the first configuration of a database is no change
    running = gut.gateway.config.digest

    write_config(
        folder,
        interfaces(target.url, "/api/v2/work-orders", NEW_PASSWORD)
        + PURCHASE_ORDER.format(url=target.url),
        SYSTEMS.replace("  wms: {description: warehouse}\n", ""),
    )
    (folder / "mappings" / "so-to-mes.yaml").write_text(MAPPING.replace("qty:", "quantity:"))
    why = {"reason": "MES v2 接口上线", "operator": "li.wei"}
    reloaded = await gut.admin("POST", "/v1/config/reload", json=why)
    assert reloaded.status_code == 200, reloaded.text

    [entry] = await entries(gut)
    assert (entry["action"], entry["actor"], entry["reason"]) == (
        "config.reload",
        "admin:li.wei",
        "MES v2 接口上线",
    )
    assert entry["delivery_id"] is None
    assert entry["before"]["config"] == running[:16]
    assert entry["after"]["config"] == gut.gateway.config.digest[:16] != running[:16]
    mes = "interfaces.sales-order.targets.mes.connector"
    before, after = entry["before"]["values"], entry["after"]["values"]
    assert before == {
        "systems.wms": {
            "description": "warehouse",
            "api_key": None,
            "api_key_sha256": None,
            "flow": None,
        },
        f"{mes}.url": f"{target.url}/api/work-orders",
        f"{mes}.auth.password": "***",
        "mappings.so-to-mes.fields.qty": "Qty",
    }
    added = after.pop("interfaces.purchase-order")
    assert after == {
        f"{mes}.url": f"{target.url}/api/v2/work-orders",
        f"{mes}.auth.password": "***",  # changed: at its path on both sides, never its value
        "mappings.so-to-mes.fields.quantity": "Qty",
    }
    assert (added["source"], added["message_type"]) == ("erp", "purchase_order")
    assert added["targets"]["mes"]["connector"]["url"] == f"{target.url}/api/purchase-orders"

    exported = await gut.admin("GET", "/v1/audit?format=csv")
    with_secrets = await gut.admin("GET", "/v1/audit")
    async with gut.gateway.engine.connect() as conn:
        [kept] = (await conn.execute(select(config_state.c.summary))).all()
    for shown in (exported.content.decode("utf-8-sig"), with_secrets.text, kept.summary):
        for secret in (OLD_PASSWORD, NEW_PASSWORD, "erp-test-key-0123"):
            assert secret not in shown

    again = await gut.admin("POST", "/v1/config/reload")  # the same files: nothing changed
    assert again.status_code == 200
    assert len(await entries(gut)) == 1
    for bad, field in (({"operator": "x" * 101}, "operator"), ({"reason": 7}, "reason")):
        refused = await gut.admin("POST", "/v1/config/reload", json=bad)
        assert refused.status_code == 422
        assert refused.json()["error"]["field"] == field


async def test_a_refused_change_is_audited_once_with_its_problems(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    folder = factory(tmp_path / "cfg", target.url)
    gut = await make_gateway(folder, config_watch=False)
    running = gut.gateway.config.digest
    (folder / "interfaces.yaml").write_text(
        interfaces(target.url).replace("kind: rest", "kind: rets")
    )
    refused = await gut.admin("POST", "/v1/config/reload", json={"reason": "try rets"})
    assert refused.status_code == 422
    again = await gut.admin("POST", "/v1/config/reload")  # the same refusal: one entry
    assert again.status_code == 422

    [entry] = await entries(gut)
    assert (entry["action"], entry["actor"], entry["reason"]) == (
        "config.refused",
        "admin",
        "try rets",
    )
    assert entry["before"] == {"config": running[:16]}
    assert entry["after"]["problems"] == refused.json()["problems"]
    assert entry["after"]["problems"][0].startswith("interfaces.yaml:")
    assert "unknown connector kind 'rets'" in entry["after"]["problems"][0]
    assert entry["after"]["config"] != running[:16]

    (folder / "interfaces.yaml").write_text(interfaces(target.url, "/api/v2/work-orders"))
    assert (await gut.admin("POST", "/v1/config/reload")).status_code == 200
    newest = await entries(gut)
    assert [e["action"] for e in newest] == ["config.reload", "config.refused"]
    assert newest[0]["after"]["values"] == {
        "interfaces.sales-order.targets.mes.connector.url": f"{target.url}/api/v2/work-orders"
    }


async def test_the_watcher_records_who_it_is_and_the_files_it_saw(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    folder = factory(tmp_path / "cfg", target.url)
    gut = await make_gateway(folder)  # watching the folder, as a gateway does
    (folder / "mappings" / "so-to-mes.yaml").write_text(
        MAPPING.replace(": OrderNo", ": OrderNumber")
    )
    [entry] = await until_entries(gut, 1)
    assert entry["action"] == "config.reload"
    assert entry["actor"] == f"watcher:{socket.gethostname()}"
    assert entry["reason"] == "mappings/so-to-mes.yaml"
    assert entry["before"]["values"] == {"mappings.so-to-mes.fields.workOrderNo": "OrderNo"}
    assert entry["after"]["values"] == {"mappings.so-to-mes.fields.workOrderNo": "OrderNumber"}


async def test_a_change_made_while_stopped_is_recorded_at_start_once(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    folder = factory(tmp_path / "cfg", target.url)
    first = await make_gateway(folder, config_watch=False)
    running = first.gateway.config.digest
    await first.stop()
    (folder / "interfaces.yaml").write_text(interfaces(target.url, "/api/v2/work-orders"))

    second = await make_gateway(folder, config_watch=False)
    [entry] = await entries(second)
    assert (entry["action"], entry["actor"]) == ("config.load", f"startup:{socket.gethostname()}")
    url = "interfaces.sales-order.targets.mes.connector.url"
    assert entry["before"] == {
        "config": running[:16],
        "values": {url: f"{target.url}/api/work-orders"},
    }
    assert entry["after"]["values"] == {url: f"{target.url}/api/v2/work-orders"}
    await second.stop()

    third = await make_gateway(folder, config_watch=False)  # the same files again: no entry
    assert len(await entries(third)) == 1
