"""Operator actions: replay and discard, admin only, each audited with who, when, why."""

from __future__ import annotations

from pathlib import Path

from tests.support.gateway import ERP_KEY, rest_interface, write_config
from tests.support.target import TargetServer

ORDER = {"OrderNo": "SO-OP1"}


async def parked_message(make_gateway, target: TargetServer, tmp_path: Path):
    target.default_status = 422
    gut = await make_gateway(write_config(tmp_path / "cfg", rest_interface(target.url)))
    message_id = (await gut.send("sales_order", ORDER)).json()["id"]
    message = await gut.wait_status(message_id, "parked")
    return gut, message_id, message["deliveries"][0]["id"]


async def test_replay_delivers_a_parked_delivery_and_is_audited(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    gut, message_id, delivery_id = await parked_message(make_gateway, target, tmp_path)
    target.default_status = 200  # the cause was fixed on the target's side

    response = await gut.admin(
        "POST",
        f"/v1/deliveries/{delivery_id}/replay",
        json={"reason": "MES field length fixed", "operator": "li.wei"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "pending"

    message = await gut.wait_status(message_id, "delivered")
    assert [a["outcome"] for a in message["deliveries"][0]["attempt_log"]] == [
        "parked",
        "delivered",
    ]
    [entry] = message["audit"]
    assert entry["action"] == "replay"
    assert entry["actor"] == "admin:li.wei"
    assert entry["reason"] == "MES field length fixed"
    assert entry["before"]["status"] == "parked"
    assert entry["after"]["status"] == "pending"
    assert entry["at"]

    again = await gut.admin("POST", f"/v1/deliveries/{delivery_id}/replay", json={"reason": "x"})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "conflict"


async def test_discard_is_final_and_audited(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    gut, message_id, delivery_id = await parked_message(make_gateway, target, tmp_path)

    response = await gut.admin(
        "POST",
        f"/v1/deliveries/{delivery_id}/discard",
        json={"reason": "duplicate order, cancelled in ERP"},
    )
    assert response.status_code == 200, response.text

    message = await gut.message(message_id)
    assert message["status"] == "discarded"
    assert message["audit"][0]["action"] == "discard"
    assert message["audit"][0]["reason"] == "duplicate order, cancelled in ERP"


async def test_operator_endpoints_refuse_system_keys_and_need_a_reason(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    gut, _, delivery_id = await parked_message(make_gateway, target, tmp_path)
    url = f"{gut.url}/v1/deliveries/{delivery_id}/replay"

    as_system = await gut.client.post(
        url, json={"reason": "x"}, headers={"Authorization": f"Bearer {ERP_KEY}"}
    )
    assert as_system.status_code == 403
    anonymous = await gut.client.post(url, json={"reason": "x"})
    assert anonymous.status_code == 401
    no_reason = await gut.admin("POST", f"/v1/deliveries/{delivery_id}/replay", json={})
    assert no_reason.status_code == 422
    assert no_reason.json()["error"]["field"] == "reason"
    unknown = await gut.admin(
        "POST", "/v1/deliveries/00000000-0000-0000-0000-000000000000/replay", json={"reason": "x"}
    )
    assert unknown.status_code == 404
    report = await gut.client.get(
        f"{gut.url}/v1/report", headers={"Authorization": f"Bearer {ERP_KEY}"}
    )
    assert report.status_code == 403


async def test_correct_and_replay_sends_the_fixed_body_and_audits_the_diff(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    gut, message_id, delivery_id = await parked_message(make_gateway, target, tmp_path)
    target.default_status = 200
    before = await gut.message(message_id)
    assert before["deliveries"][0]["sent_body"] == ORDER  # what the target refused

    fixed = {**ORDER, "OrderNo": "SO-OP1-A"}
    response = await gut.admin(
        "POST",
        f"/v1/deliveries/{delivery_id}/correct",
        json={"body": fixed, "reason": "MES wants a suffix for re-sends"},
    )
    assert response.status_code == 200, response.text

    message = await gut.wait_status(message_id, "delivered")
    assert target.bodies()[-1] == fixed
    delivery = message["deliveries"][0]
    assert delivery["corrected_body"] == fixed
    [entry] = message["audit"]
    assert entry["action"] == "correct"
    assert entry["before"]["body"] == ORDER
    assert entry["after"]["body"] == fixed
    assert entry["after"]["changes"] == ['OrderNo: expected "SO-OP1", got "SO-OP1-A"']

    again = await gut.admin(
        "POST", f"/v1/deliveries/{delivery_id}/correct", json={"body": fixed, "reason": "x"}
    )
    assert again.status_code == 409
