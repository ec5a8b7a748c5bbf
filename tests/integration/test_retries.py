"""Transient failures retry on the interface's schedule; permanent ones park at once."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.support.gateway import rest_interface, write_config
from tests.support.target import TargetServer

ORDER = {"OrderNo": "SO-R1", "Lines": [{"Qty": "1"}]}


def attempts_of(message: dict) -> list[dict]:
    return message["deliveries"][0]["attempt_log"]


async def test_three_503_then_200_is_delivered_after_four_attempts(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    target.script.extend([503, 503, 503])
    gut = await make_gateway(write_config(tmp_path / "cfg", rest_interface(target.url)))
    message_id = (await gut.send("sales_order", ORDER)).json()["id"]

    message = await gut.wait_status(message_id, "delivered")

    log = attempts_of(message)
    assert [a["outcome"] for a in log] == ["retry", "retry", "retry", "delivered"]
    assert [a["status_code"] for a in log] == [503, 503, 503, 200]
    assert [a["number"] for a in log] == [1, 2, 3, 4]
    assert all(a["duration_ms"] > 0 and a["started_at"] for a in log)
    assert message["deliveries"][0]["attempts"] == 4
    assert message["deliveries"][0]["last_error"] is None  # delivered: the 503 is history
    assert log[2]["error"].startswith("HTTP 503")  # ... kept in its attempt
    assert len(target.received) == 4
    assert set(target.idempotency_keys()) == {f"{message_id}:mes"}


async def test_a_400_parks_at_once_with_the_reason(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    target.default_status = 400
    gut = await make_gateway(write_config(tmp_path / "cfg", rest_interface(target.url)))
    message_id = (await gut.send("sales_order", ORDER)).json()["id"]

    message = await gut.wait_status(message_id, "parked")
    await asyncio.sleep(0.5)  # nothing else may happen to a parked delivery

    assert len(target.received) == 1
    delivery = (await gut.message(message_id))["deliveries"][0]
    assert delivery["status"] == "parked"
    assert delivery["attempts"] == 1
    assert delivery["last_error"].startswith("HTTP 400")
    assert [a["outcome"] for a in attempts_of(message)] == ["parked"]


async def test_exhausted_retries_park_with_the_last_error(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    target.default_status = 503
    config = rest_interface(target.url, schedule="[0.05s, 0.05s]")
    gut = await make_gateway(write_config(tmp_path / "cfg", config))
    message_id = (await gut.send("sales_order", ORDER)).json()["id"]

    message = await gut.wait_status(message_id, "parked")

    assert len(target.received) == 3  # schedule of 2 waits = 3 attempts
    assert message["deliveries"][0]["last_error"].startswith("retries exhausted after 3 attempts")


async def test_down_target_is_delivered_when_back_also_across_a_gateway_restart(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    """Retry timers live in the database: a restart between backoff tiers loses nothing."""
    await target.stop()
    config = rest_interface(target.url, schedule="[0.2s, 0.4s, 0.6s, 0.8s, 1s]")
    gut = await make_gateway(write_config(tmp_path / "cfg", config))
    message_id = (await gut.send("sales_order", ORDER)).json()["id"]
    await gut.wait_for(message_id, lambda m: m["deliveries"][0]["attempts"] >= 2)

    await gut.stop()  # the gateway goes away with a retry scheduled
    await asyncio.sleep(0.5)
    await gut.start()
    await gut.wait_for(message_id, lambda m: m["deliveries"][0]["attempts"] >= 3)
    await target.start()  # the target comes back on the same port

    message = await gut.wait_status(message_id, "delivered", timeout=20)
    log = attempts_of(message)
    assert log[-1]["outcome"] == "delivered"
    assert all(a["outcome"] == "retry" for a in log[:-1])
    assert len(log) >= 4
    assert "ClientConnectorError" in log[0]["error"]
    assert len(target.received) == 1
