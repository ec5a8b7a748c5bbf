"""The durable pipeline end to end, in both modes, against a real HTTP target."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

from sqlalchemy import select

from esb.store.engine import transaction
from esb.store.tables import deliveries
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


async def test_the_bytes_sent_are_the_bytes_recorded(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    """The mapped body is serialised once: the target gets the very text the delivery
    keeps as ``sent_body`` (an exact decimal and a non-ASCII name included)."""
    gut = await make_gateway(write_config(tmp_path / "cfg", rest_interface(target.url)))
    order = {"OrderNo": "SO-BYTES", "Customer": "上海精密", "Lines": [{"Qty": 10.50}]}
    accepted = (await gut.send("sales_order", order)).json()
    await gut.wait_status(accepted["id"], "delivered")
    async with transaction(gut.gateway.engine) as conn:
        stored = await conn.scalar(
            select(deliveries.c.sent_body).where(deliveries.c.message_id == UUID(accepted["id"]))
        )
    [received] = target.received
    assert received.body == stored.encode()
    assert received.json() == order
