"""The durable pipeline end to end, in both modes, against a real HTTP target."""

from __future__ import annotations

from pathlib import Path

from tests.support.gateway import rest_interface, write_config
from tests.support.target import TargetServer

ORDER = {"OrderNo": "SO-1", "OrderType": "01", "Lines": [{"LineNo": 10, "Qty": "1"}]}


async def test_message_is_delivered_with_idempotency_key(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    gut = await make_gateway(write_config(tmp_path / "cfg", rest_interface(target.url)))
    response = await gut.send("sales_order", ORDER)
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["status"] == "accepted"
    assert [d["target"] for d in accepted["deliveries"]] == ["mes"]

    message = await gut.wait_status(accepted["id"], "delivered")
    delivery = message["deliveries"][0]
    assert delivery["attempts"] == 1
    assert delivery["attempt_log"][0]["outcome"] == "delivered"
    assert delivery["attempt_log"][0]["status_code"] == 200
    assert target.bodies("/api/work-orders") == [ORDER]
    assert target.idempotency_keys() == [f"{accepted['id']}:mes"]
