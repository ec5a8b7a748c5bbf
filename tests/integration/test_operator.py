"""Operator actions: replay and discard, admin only, each audited with who, when, why."""

from __future__ import annotations

import asyncio
from pathlib import Path
from uuid import UUID

from sqlalchemy import select

from esb.store.tables import outbox
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


async def test_a_discarded_delivery_already_on_its_way_is_never_sent(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    """The discard wins over a message already published to RabbitMQ (production) or
    already claimed for an in-process worker (embedded): the worker checks first."""
    target.delay_s = 0.5  # one call at a time, each slow: a backlog forms behind it
    # a call timed out on a loaded machine is retried (and arrives twice, as it should):
    # this test is about the discard, so no call may time out
    config = rest_interface(target.url, timeout="60s")
    gut = await make_gateway(
        write_config(tmp_path / "cfg", config), prefetch=1, local_concurrency=1
    )
    sent = [(await gut.send("sales_order", {"OrderNo": f"SO-Q{n}"})).json() for n in range(5)]
    on_its_way = "sent" if not gut.settings.embedded else "claimed"
    waiting = [m["deliveries"][0]["id"] for m in sent[1:]]
    victim = await _waiting_in_flight(gut, target, waiting, on_its_way)
    response = await gut.admin(
        "POST", f"/v1/deliveries/{victim}/discard", json={"reason": "order cancelled"}
    )
    assert response.status_code == 200, response.text
    others = [m["id"] for m in sent if m["deliveries"][0]["id"] != victim]
    for message_id in others:
        await gut.wait_status(message_id, "delivered", timeout=30)
    await asyncio.sleep(1.0)  # a late send would have arrived by now
    discarded = next(m for m in sent if m["deliveries"][0]["id"] == victim)
    received = [r.json()["OrderNo"] for r in target.received]
    assert len(received) == len(others)
    message = await gut.message(discarded["id"])
    assert message["deliveries"][0]["status"] == "discarded"
    assert message["deliveries"][0]["attempts"] == 0
    assert f"SO-Q{sent.index(discarded)}" not in received


async def _waiting_in_flight(
    gut, target: TargetServer, delivery_ids: list[str], status: str
) -> str:
    """A delivery whose broker message (or in-process claim) exists, while the worker is
    still busy with an earlier one."""
    deadline = asyncio.get_running_loop().time() + 10
    while asyncio.get_running_loop().time() < deadline:
        async with gut.gateway.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(outbox.c.delivery_id, outbox.c.status).where(
                        outbox.c.delivery_id.in_([UUID(d) for d in delivery_ids])
                    )
                )
            ).all()
        ready = [str(r.delivery_id) for r in rows if r.status == status]
        if ready and len(target.received) <= 1:
            return ready[-1]
        await asyncio.sleep(0.02)
    raise AssertionError(f"no delivery reached {status!r} in time")


async def test_operator_input_the_store_cannot_hold_is_a_422_naming_the_field(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    """Query parameters, reasons, operator names and corrected bodies: odd values answer
    422 naming the field in both modes - never a 5xx, never a 503 that invites retries."""
    gut, message_id, delivery_id = await parked_message(make_gateway, target, tmp_path)
    cases = [
        ("GET", "/v1/messages?since=999999999d", None, "since"),
        ("GET", "/v1/messages?since=0001-01-01T00:00:00%2B14:00", None, "since"),
        ("GET", "/v1/messages?key=SO%00", None, "key"),
        ("GET", "/v1/trace?key=a%00b", None, "key"),
        ("GET", "/v1/report?window=999999999d", None, "window"),
        ("GET", "/v1/report/series?window=999999999d&step=999999d", None, "window"),
        ("POST", f"/v1/deliveries/{delivery_id}/discard", b'{"reason": "a\\u0000b"}', "reason"),
        ("POST", f"/v1/deliveries/{delivery_id}/replay", b'{"reason": "\\ud800"}', "reason"),
        ("POST", f"/v1/deliveries/{delivery_id}/replay", b"\t\xff{", "body"),
        (
            "POST",
            f"/v1/deliveries/{delivery_id}/replay",
            b'{"reason": "r", "operator": "' + b"o" * 101 + b'"}',
            "operator",
        ),
    ]
    correct = f"/v1/deliveries/{delivery_id}/correct"
    for raw, field in [
        (b'{"reason": "r", "body": {"n": 18446744073709551616}}', "body.n"),
        (b'{"reason": "r", "body": {"n": 1e400}}', ""),
        (b'{"reason": "r", "body": {"n": NaN}}', ""),
        (b'{"reason": "r", "body": {"s": "\\ud800"}}', ""),
        (b'{"reason": "r", "body": {"s": "a\\u0000"}}', "body.s"),
        (b'{"reason": "r", "body": ' + b"[" * 100 + b"]" * 100 + b"}", None),
        (b'{"reason": "r", "body": null}', "body"),
        (b'{"reason": "r"}', "body"),
    ]:
        cases.append(("POST", correct, raw, field))
    for method, path, raw, field in cases:
        response = await gut.admin(
            method, path, content=raw, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 422, (path, raw, response.text)
        if field is not None:
            assert response.json()["error"].get("field", "") == field, (path, raw, response.text)
    message = await gut.message(message_id)
    assert message["deliveries"][0]["status"] == "parked"  # nothing was half-applied
    assert message["audit"] == []
