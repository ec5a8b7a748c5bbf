"""Tracing one order across interfaces, overdue hops, and the dashboard's chart series."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from esb.settings import demo_config_dir
from tests.support.gateway import rest_interface, write_config
from tests.support.target import TargetServer

VECTORS = Path(__file__).resolve().parents[1] / "data" / "scenario"
ERP_KEY, WMS_KEY = "erp-trace-key-1", "wms-trace-key-1"


async def test_one_order_on_one_timeline_across_interfaces(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    env = {
        "ERP_API_KEY": ERP_KEY,
        "WMS_API_KEY": WMS_KEY,
        "MES_URL": target.url,
        "ERP_URL": target.url,
        "DROP_DIR": str(tmp_path / "drop"),
    }
    gut = await make_gateway(demo_config_dir(), env=env, config_watch=False)
    order = json.loads((VECTORS / "inputs/sales_order_normal.json").read_text())
    sale = (await gut.send("sales_order", order, key=ERP_KEY)).json()["id"]
    await gut.wait_status(sale, "delivered")
    row = {
        "order_no": order["OrderNo"],
        "ship_date": "2026-11-25 09:30",
        "carrier": "顺丰速运",
        "tracking_no": "SF1234567890",
        "status": "S",
    }
    shipment = (await gut.send("shipment", row, key=WMS_KEY)).json()["id"]
    await gut.wait_status(shipment, "delivered")

    trace = (await gut.admin("GET", "/v1/trace", params={"key": order["OrderNo"]})).json()
    assert [m["interface"] for m in trace["messages"]] == ["sales-order", "shipment"]
    assert [d["target"] for d in trace["messages"][1]["deliveries"]] == ["erp", "finance"]
    kinds = [(e["event"], e["interface"], e.get("target")) for e in trace["events"]]
    assert kinds[0] == ("received", "sales-order", None)
    assert ("delivered", "sales-order", "mes") in kinds
    assert ("delivered", "shipment", "finance") in kinds
    assert [e["at"] for e in trace["events"]] == sorted(e["at"] for e in trace["events"])
    mes = trace["messages"][0]["deliveries"][0]
    assert mes["late"] is False
    assert mes["overdue"] is False
    assert trace["overdue"] is False


async def test_a_hop_past_its_deadline_is_marked_overdue(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    await target.stop()
    config = rest_interface(target.url, schedule="[5s]").replace(
        "      mes:\n", "      mes:\n        deadline: 500ms\n"
    )
    gut = await make_gateway(write_config(tmp_path / "cfg", config))
    await gut.send("sales_order", {"OrderNo": "SO-LATE"})
    await asyncio.sleep(0.7)
    trace = (await gut.admin("GET", "/v1/trace", params={"key": "SO-LATE"})).json()
    assert trace["overdue"] is True
    assert trace["events"][-1]["event"] == "overdue"


async def test_series_buckets_add_up(make_gateway, target: TargetServer, tmp_path: Path) -> None:
    target.script.extend([503])
    gut = await make_gateway(write_config(tmp_path / "cfg", rest_interface(target.url)))
    for n in range(3):
        accepted = await gut.send("sales_order", {"OrderNo": f"SO-S{n}"})
        await gut.wait_status(accepted.json()["id"], "delivered")
    data = (
        await gut.admin("GET", "/v1/report/series", params={"window": "10m", "step": "1m"})
    ).json()
    [series] = data["series"]
    assert len(series["points"]) == 10
    assert sum(p["attempts"] for p in series["points"]) == 4
    assert sum(p["successes"] for p in series["points"]) == 3
    busy = [p for p in series["points"] if p["attempts"]]
    assert all(p["p95_ms"] > 0 for p in busy)
    too_many = await gut.admin("GET", "/v1/report/series", params={"window": "1d", "step": "1s"})
    assert too_many.status_code == 422


def _delivery(message: dict[str, object]) -> str:
    [delivery] = message["deliveries"]  # type: ignore[misc]
    return str(delivery["id"])  # type: ignore[index]


async def test_operator_actions_are_on_the_timeline(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    """Replay, correct and discard come from the audit log: who, why, and when, in order."""
    gut = await make_gateway(write_config(tmp_path / "cfg", rest_interface(target.url)))
    target.script.extend([400, 400, 400])  # each of the three is refused once: parked
    parked = []
    for n in range(3):
        accepted = await gut.send("sales_order", {"OrderNo": "SO-OPS", "Line": n})
        parked.append(await gut.wait_status(accepted.json()["id"], "parked"))
    action = {"reason": "MES fixed", "operator": "li"}
    assert (await gut.admin("POST", f"/v1/deliveries/{_delivery(parked[0])}/replay",
                            json=action)).status_code == 200  # fmt: skip
    corrected = {**action, "reason": "line number", "body": {"OrderNo": "SO-OPS", "Line": 9}}
    assert (await gut.admin("POST", f"/v1/deliveries/{_delivery(parked[1])}/correct",
                            json=corrected)).status_code == 200  # fmt: skip
    assert (await gut.admin("POST", f"/v1/deliveries/{_delivery(parked[2])}/discard",
                            json={"reason": "duplicate order"})).status_code == 200  # fmt: skip
    for message in parked[:2]:
        await gut.wait_status(message["id"], "delivered")

    trace = (await gut.admin("GET", "/v1/trace", params={"key": "SO-OPS"})).json()
    ops = [(e["event"], e["message_id"], e["detail"]) for e in trace["events"] if "actor" in e]
    assert ops == [
        ("replayed", parked[0]["id"], "admin:li: MES fixed"),
        ("corrected", parked[1]["id"], "admin:li: line number"),
        ("discarded", parked[2]["id"], "admin: duplicate order"),
    ]
    corrected_event = next(e for e in trace["events"] if e["event"] == "corrected")
    assert corrected_event["changes"] == ["Line: expected 1, got 9"]
    for message in parked[:2]:  # refused, then the operator, then delivered
        mine = [e["event"] for e in trace["events"] if e["message_id"] == message["id"]]
        assert mine[0] == "received"
        assert mine[1] == "parked"
        assert mine[2] in ("replayed", "corrected")
        assert mine[-1] == "delivered"
    actions = [d["actions"] for m in trace["messages"] for d in m["deliveries"]]
    assert [[a["action"] for a in acts] for acts in actions] == [["replay"], ["correct"],
                                                                  ["discard"]]  # fmt: skip
