"""The door: authentication, authorisation, limits, idempotency, and 503 instead of a false 202."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.support.gateway import ADMIN_KEY, ERP_KEY, MES_KEY, rest_interface, write_config
from tests.support.target import TargetServer

ORDER = {"OrderNo": "SO-I1", "OrderType": "01", "Lines": [{"LineNo": 10, "Qty": "2"}]}


@pytest.fixture
async def gut(make_gateway, target: TargetServer, tmp_path: Path) -> Any:
    return await make_gateway(
        write_config(tmp_path / "cfg", rest_interface(target.url)), max_body_bytes=2048
    )


async def test_a_repeat_returns_the_first_id_and_the_target_gets_it_once(
    gut, target: TargetServer
) -> None:
    first = await gut.send("sales_order", ORDER)
    reordered = dict(reversed(list(ORDER.items())))  # same document, other key order
    second = await gut.send("sales_order", reordered)
    assert (first.status_code, second.status_code) == (202, 200)
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["duplicate"] is True
    await gut.wait_status(first.json()["id"], "delivered")
    await asyncio.sleep(0.3)
    assert len(target.received) == 1


async def test_idempotency_key_header_wins_over_the_body(gut) -> None:
    """A repeat under the same key is the same message; the same key with another body is
    refused (422, as the IETF Idempotency-Key draft says), never answered as a repeat."""
    first = await gut.send("sales_order", ORDER, headers={"Idempotency-Key": "erp-42"})
    reordered = dict(reversed(list(ORDER.items())))
    repeat = await gut.send("sales_order", reordered, headers={"Idempotency-Key": "erp-42"})
    assert repeat.status_code == 200
    assert repeat.json()["id"] == first.json()["id"]
    other_body = await gut.send(
        "sales_order", {**ORDER, "OrderNo": "SO-I2"}, headers={"Idempotency-Key": "erp-42"}
    )
    assert other_body.status_code == 422, other_body.text
    error = other_body.json()["error"]
    assert (error["code"], error["field"]) == ("idempotency_key_reused", "Idempotency-Key")
    assert first.json()["id"] in error["message"]
    fresh = await gut.send("sales_order", ORDER, headers={"Idempotency-Key": "erp-43"})
    assert fresh.status_code == 202
    assert fresh.json()["id"] != first.json()["id"]


async def test_concurrent_repeats_create_one_message(gut, target: TargetServer) -> None:
    body = {**ORDER, "OrderNo": "SO-RACE"}
    responses = await asyncio.gather(*(gut.send("sales_order", body) for _ in range(12)))
    ids = {r.json()["id"] for r in responses}
    assert len(ids) == 1
    assert sorted(r.status_code for r in responses) == [200] * 11 + [202]
    await gut.wait_status(ids.pop(), "delivered")
    await asyncio.sleep(0.3)
    assert len(target.received) == 1


async def test_callers_are_authenticated_and_limited_to_their_own_types(gut) -> None:
    url = f"{gut.url}/v1/messages/sales_order"
    cases = [
        ({}, 401, "unauthenticated"),
        ({"Authorization": "Bearer wrong-key"}, 401, "unauthenticated"),
        ({"Authorization": f"Basic {ERP_KEY}"}, 401, "unauthenticated"),
        ({"Authorization": f"Bearer {MES_KEY}"}, 403, "forbidden"),
        ({"Authorization": f"Bearer {ADMIN_KEY}"}, 403, "forbidden"),
    ]
    for headers, status, code in cases:
        response = await gut.client.post(url, json=ORDER, headers=headers)
        assert response.status_code == status, (headers, response.text)
        assert response.json()["error"]["code"] == code
    unknown = await gut.send("no_such_type", ORDER)
    assert unknown.status_code == 404


async def test_bad_requests_get_a_precise_4xx(gut) -> None:
    auth = {"Authorization": f"Bearer {ERP_KEY}"}
    url = f"{gut.url}/v1/messages/sales_order"
    too_big = await gut.client.post(url, content=b'{"a": "' + b"x" * 4096 + b'"}', headers=auth)
    assert too_big.status_code == 413
    as_xml = await gut.client.post(
        url, content=b"<a/>", headers={**auth, "Content-Type": "application/xml"}
    )
    assert as_xml.status_code == 415
    broken = await gut.client.post(
        url, content=b'{"OrderNo": ', headers={**auth, "Content-Type": "application/json"}
    )
    assert broken.status_code == 422
    assert broken.json()["error"]["code"] == "malformed_json"
    long_key = await gut.send("sales_order", ORDER, headers={"Idempotency-Key": "k" * 500})
    assert long_key.status_code == 422
    assert long_key.json()["error"]["field"] == "Idempotency-Key"


async def test_tracing_by_business_key_and_visibility(gut) -> None:
    message_id = (await gut.send("sales_order", ORDER)).json()["id"]
    await gut.wait_status(message_id, "delivered")

    found = (await gut.admin("GET", "/v1/messages", params={"key": "SO-I1"})).json()
    assert [m["id"] for m in found["messages"]] == [message_id]
    assert found["messages"][0]["deliveries"][0]["status"] == "delivered"
    by_status = await gut.admin(
        "GET", "/v1/messages", params={"target": "mes", "status": "parked", "since": "1h"}
    )
    assert by_status.json()["messages"] == []

    own = await gut.client.get(
        f"{gut.url}/v1/messages/{message_id}", headers={"Authorization": f"Bearer {ERP_KEY}"}
    )
    assert own.status_code == 200
    assert own.json()["body"] == ORDER
    someone_else = await gut.client.get(
        f"{gut.url}/v1/messages/{message_id}", headers={"Authorization": f"Bearer {MES_KEY}"}
    )
    assert someone_else.status_code == 404


async def test_a_client_hanging_up_mid_body_is_not_an_error(gut, capsys) -> None:
    port = int(gut.url.rsplit(":", 1)[1])
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        b"POST /v1/messages/sales_order HTTP/1.1\r\nHost: x\r\n"
        b"Authorization: Bearer " + ERP_KEY.encode() + b"\r\n"
        b'Content-Type: application/json\r\nContent-Length: 500\r\n\r\n{"OrderNo":'
    )
    await writer.drain()
    writer.close()
    await asyncio.sleep(0.3)
    assert (await gut.send("sales_order", ORDER)).status_code == 202
    captured = capsys.readouterr()
    assert "unexpected error" not in captured.out + captured.err


async def test_the_ingress_shortcut_answers_as_the_router_did(gut, monkeypatch) -> None:
    """POST /v1/messages/{type} skips FastAPI's router (esb.api.shortcut); a bug still
    gets the server error middleware's 500 in JSON, a NUL in the query the 422 of the
    check outside it, and other methods and paths the router's own answers."""
    auth = {"Authorization": f"Bearer {ERP_KEY}"}
    url = f"{gut.url}/v1/messages/sales_order"

    async def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("a bug in the accept path")

    monkeypatch.setattr(gut.gateway.ingress, "accept", broken)
    bug = await gut.client.post(url, json=ORDER, headers=auth)
    assert bug.status_code == 500
    assert bug.json()["error"]["code"] == "internal"
    assert "a bug" not in bug.text
    monkeypatch.undo()

    nul = await gut.client.post(f"{url}?x=%00", json=ORDER, headers=auth)
    assert (nul.status_code, nul.json()["error"]["field"]) == (422, "x")
    wrong_method = await gut.client.put(url, json=ORDER, headers=auth)
    assert wrong_method.status_code == 405
    nested = await gut.client.post(f"{url}/extra", json=ORDER, headers=auth)
    assert nested.status_code in (404, 405)
    accepted = await gut.client.post(url, json=ORDER, headers=auth)
    assert accepted.status_code == 202
