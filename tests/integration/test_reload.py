"""Reload without restart: a valid change applies, a broken file never replaces what works."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import ClassVar, Literal

from esb.connectors import ConnectorContext
from esb_rest import RestConnector
from esb_rest.connector import RestConfig
from tests.support.gateway import rest_interface, write_config
from tests.support.target import TargetServer

SECOND_TYPE = """
  purchase-order:
    source: erp
    message_type: purchase_order
    key: PoNo
    targets:
      mes:
        connector: {{kind: rest, url: "{url}/api/purchase-orders"}}
"""


async def test_reload_applies_a_valid_change_and_refuses_a_broken_one(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    folder = write_config(tmp_path / "cfg", rest_interface(target.url))
    gut = await make_gateway(folder, config_watch=False)
    assert (await gut.send("purchase_order", {"PoNo": "PO-1"})).status_code == 404

    (folder / "interfaces.yaml").write_text(
        rest_interface(target.url) + SECOND_TYPE.format(url=target.url)
    )
    reloaded = await gut.admin("POST", "/v1/config/reload")
    assert reloaded.status_code == 200, reloaded.text
    assert reloaded.json()["new_routes"] == [{"interface": "purchase-order", "target": "mes"}]
    accepted = await gut.send("purchase_order", {"PoNo": "PO-1"})
    assert accepted.status_code == 202
    await gut.wait_status(accepted.json()["id"], "delivered")
    assert target.received[-1].path == "/api/purchase-orders"

    (folder / "interfaces.yaml").write_text("interfaces:\n  broken: {source: erp}\n")
    refused = await gut.admin("POST", "/v1/config/reload")
    assert refused.status_code == 422
    assert any("interfaces.yaml:2" in p for p in refused.json()["problems"])
    still = await gut.send("purchase_order", {"PoNo": "PO-2"})  # the working config stays
    assert still.status_code == 202
    await gut.wait_status(still.json()["id"], "delivered")


async def test_a_changed_file_is_picked_up_by_itself(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    folder = write_config(tmp_path / "cfg", rest_interface(target.url))
    gut = await make_gateway(folder)
    (folder / "interfaces.yaml").write_text(
        rest_interface(target.url) + SECOND_TYPE.format(url=target.url)
    )
    for _ in range(100):
        if "purchase-order" in gut.gateway.config.interfaces:
            break
        await asyncio.sleep(0.1)
    assert (await gut.send("purchase_order", {"PoNo": "PO-9"})).status_code == 202


async def _configuration(gut) -> dict[str, object]:
    report = await gut.admin("GET", "/v1/report")
    assert report.status_code == 200, report.text
    return dict(report.json()["configuration"])


async def _until(gut, status: str) -> dict[str, object]:
    for _ in range(100):
        state = await _configuration(gut)
        if state["status"] == status:
            return state
        await asyncio.sleep(0.1)
    raise AssertionError(f"configuration never became {status}: {state}")


async def test_a_refused_reload_shows_in_the_health_report_until_a_good_one(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    folder = write_config(tmp_path / "cfg", rest_interface(target.url))
    gut = await make_gateway(folder)  # watching the folder, as a gateway does
    first = await _configuration(gut)
    assert first["status"] == "ok"
    assert first["problems"] == []

    (folder / "interfaces.yaml").write_text(
        rest_interface(target.url).replace("kind: rest", "kind: rets")
    )
    refused = await _until(gut, "reload_failed")
    assert refused["problems"] == [
        "interfaces.yaml:10: interfaces.sales-order.targets.mes.connector.kind: "
        "unknown connector kind 'rets': did you mean 'rest'? "
        "(installed: file, kingdee, rest, soap, sql, xref, yonyou)"
    ]
    assert refused["loaded_at"] == first["loaded_at"]  # still running the old one
    assert refused["failed_at"] is not None
    still = await gut.send("sales_order", {"OrderNo": "SO-R1"})
    await gut.wait_status(still.json()["id"], "delivered")
    ready = await gut.client.get(f"{gut.url}/readyz")  # serving on the old one: still ready
    assert ready.status_code == 200

    (folder / "interfaces.yaml").write_text(rest_interface(target.url) + SECOND_TYPE.format(
        url=target.url))  # fmt: skip
    cleared = await _until(gut, "ok")
    assert cleared["problems"] == []
    assert cleared["failed_at"] is None
    assert str(cleared["loaded_at"]) > str(first["loaded_at"])


class BrittleConfig(RestConfig):
    kind: Literal["brittle"] = "brittle"


class BrittleConnector(RestConnector):
    """A connector whose constructor refuses some settings with an exception of its own."""

    kind: ClassVar[str] = "brittle"
    Config: ClassVar[type[BrittleConfig]] = BrittleConfig

    def __init__(self, config: BrittleConfig, context: ConnectorContext) -> None:
        if "broken" in config.url:
            raise ValueError("this address is not for me")
        super().__init__(config, context)


async def test_a_connector_that_cannot_be_built_refuses_the_reload_and_the_watch_goes_on(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    folder = write_config(tmp_path / "cfg", rest_interface(target.url))
    gut = await make_gateway(folder, connectors={"brittle": BrittleConnector})
    (folder / "interfaces.yaml").write_text(
        rest_interface(target.url)
        .replace("kind: rest", "kind: brittle")
        .replace("/api/work-orders", "/broken")
    )
    refused = await gut.admin("POST", "/v1/config/reload")
    assert refused.status_code == 422, refused.text
    assert "cannot be built: ValueError: this address is not for me" in refused.text
    report = (await gut.admin("GET", "/v1/report")).json()
    assert report["configuration"]["status"] == "reload_failed"
    accepted = await gut.send("sales_order", {"OrderNo": "SO-R9"})  # the old one still runs
    await gut.wait_status(accepted.json()["id"], "delivered")

    (folder / "interfaces.yaml").write_text(  # the watcher is still there for the fix
        rest_interface(target.url).replace("kind: rest", "kind: brittle")
    )
    for _ in range(100):
        report = (await gut.admin("GET", "/v1/report")).json()
        if report["configuration"]["status"] == "ok":
            break
        await asyncio.sleep(0.1)
    assert report["configuration"]["status"] == "ok"
