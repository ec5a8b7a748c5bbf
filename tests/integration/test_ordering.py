"""Ordering per business key: a later document for a key waits until the earlier one has
ended; other keys are not held up; a parked one holds its key back until an operator
acts; ``supersede`` replaces a waiting document and records it. Both modes."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp

from esb.alerts import Alerter
from esb.testing.target import Received
from tests.integration.test_cli_operate import command_env
from tests.integration.test_metrics import samples
from tests.support.cli import esb
from tests.support.gateway import GatewayUnderTest, write_config
from tests.support.target import TargetServer


def ordered_interface(url: str, *, supersede: bool = False, key: str = "key: OrderNo") -> str:
    return f"""
interfaces:
  status-update:
    source: erp
    message_type: status_update
    {key}
    retry: {{schedule: [0.1s, 0.2s], jitter: 0}}
    targets:
      mes:
        ordering: key
        supersede: {"true" if supersede else "false"}
        connector: {{kind: rest, url: "{url}/status", timeout: {{connect: 1s, total: 3s}}}}
"""


def update(order: str, step: str, fail: str = "") -> dict[str, Any]:
    return {"OrderNo": order, "Step": step, "Fail": fail}


def fail_marked(got: Received) -> int | None:
    """The target refuses what the test marked: 400 parks, 503 retries (once per step)."""
    body = got.json()
    if body.get("Fail") == "400":
        return 400
    return None


def steps(target: TargetServer, order: str, *, ok_only: bool = True) -> list[str]:
    return [
        r.json()["Step"]
        for r in target.received
        if r.json()["OrderNo"] == order and (not ok_only or r.json().get("Fail") != "400")
    ]


async def send(gut: GatewayUnderTest, body: dict[str, Any]) -> dict[str, Any]:
    response = await gut.send("status_update", body)
    assert response.status_code == 202, response.text
    return dict(response.json())


async def delivery(gut: GatewayUnderTest, message_id: str) -> dict[str, Any]:
    return dict((await gut.message(message_id))["deliveries"][0])


async def test_later_update_waits_for_the_earlier_one_while_it_retries(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    failed: set[str] = set()

    def first_call_503(got: Received) -> int | None:
        step = got.json()["Step"]
        if got.json()["OrderNo"] == "SO-1" and step not in failed:
            failed.add(step)
            return 503
        return None

    target.answer = first_call_503
    gut = await make_gateway(write_config(tmp_path / "cfg", ordered_interface(target.url)))
    ids = [(await send(gut, update("SO-1", s)))["id"] for s in ("a", "b", "c")]

    for message_id in ids:
        await gut.wait_status(message_id, "delivered")

    # every step was refused once, then delivered; no step went before the one before it
    assert steps(target, "SO-1") == ["a", "a", "b", "b", "c", "c"]


async def test_a_parked_update_holds_its_key_back_and_a_replay_releases_it(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    target.answer = fail_marked
    gut = await make_gateway(write_config(tmp_path / "cfg", ordered_interface(target.url)))
    first = await send(gut, update("SO-1", "a", fail="400"))
    second = await send(gut, update("SO-1", "b"))
    other = await send(gut, update("SO-2", "a"))

    await gut.wait_status(first["id"], "parked")
    await gut.wait_status(other["id"], "delivered")  # another key is not held up
    waiting = await delivery(gut, second["id"])
    assert waiting["status"] == "pending"
    assert waiting["attempts"] == 0
    head = first["deliveries"][0]["id"]
    assert waiting["blocked_by"] == {
        "delivery_id": head,
        "message_id": first["id"],
        "status": "parked",
    }
    head_view = await delivery(gut, first["id"])
    assert head_view["blocked_by"] is None
    assert head_view["blocking"] == 1  # one waits behind it
    assert waiting["blocking"] == 0
    found = await gut.admin("GET", "/v1/messages", params={"key": "SO-1"})
    blocked = [m for m in found.json()["messages"] if m["id"] == second["id"]]
    assert blocked[0]["deliveries"][0]["blocked_by"]["delivery_id"] == head
    report = (await gut.admin("GET", "/v1/report")).json()["interfaces"][0]
    assert report["blocked"] == 1
    assert report["blocked_by_parked"] == [
        {"delivery_id": head, "message_id": first["id"], "key": "SO-1", "blocked": 1}
    ]
    assert steps(target, "SO-1", ok_only=False) == ["a"]
    await gut.gateway.metrics.refresh(gut.gateway.engine)
    metrics = samples((await gut.client.get(f"{gut.url}/metrics")).text)
    pair = (("interface", "status-update"), ("target", "mes"))
    assert metrics[("esb_blocked", pair)] == 1
    assert metrics[("esb_parked", pair)] == 1
    table = await asyncio.to_thread(esb, "report", env=command_env(gut), cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    header, row, blocker = table.stdout.splitlines()[:3]
    assert header.split()[7] == "blkd"
    assert row.split()[6:8] == ["1", "1"]  # pending, of which blocked
    assert blocker.strip() == f"1 waiting behind parked delivery {head} (key SO-1)"

    target.answer = None  # the target is fixed; the operator replays
    replay = await gut.admin("POST", f"/v1/deliveries/{head}/replay", json={"reason": "ERP fixed"})
    assert replay.status_code == 200, replay.text
    await gut.wait_status(second["id"], "delivered")
    assert steps(target, "SO-1", ok_only=False) == ["a", "a", "b"]
    assert (await delivery(gut, second["id"]))["blocked_by"] is None


async def test_discarding_the_parked_head_releases_the_next_and_a_waiting_one_can_be_discarded(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    target.answer = fail_marked
    gut = await make_gateway(write_config(tmp_path / "cfg", ordered_interface(target.url)))
    first = await send(gut, update("SO-1", "a", fail="400"))
    second = await send(gut, update("SO-1", "b"))
    third = await send(gut, update("SO-1", "c"))
    await gut.wait_status(first["id"], "parked")

    skip = second["deliveries"][0]["id"]  # a waiting one is given up: nothing moves yet
    response = await gut.admin("POST", f"/v1/deliveries/{skip}/discard", json={"reason": "old"})
    assert response.status_code == 200, response.text
    assert (await delivery(gut, third["id"]))["blocked_by"]["message_id"] == first["id"]

    head = first["deliveries"][0]["id"]
    response = await gut.admin("POST", f"/v1/deliveries/{head}/discard", json={"reason": "bad"})
    assert response.status_code == 200, response.text
    await gut.wait_status(third["id"], "delivered")
    assert steps(target, "SO-1", ok_only=False) == ["a", "c"]
    assert (await delivery(gut, second["id"]))["status"] == "discarded"

    # the discarded one replayed takes the last place of its key, as if accepted now
    response = await gut.admin("POST", f"/v1/deliveries/{skip}/replay", json={"reason": "yes"})
    assert response.status_code == 200, response.text
    await gut.wait_status(second["id"], "delivered")
    assert steps(target, "SO-1", ok_only=False) == ["a", "c", "b"]


async def test_supersede_replaces_the_waiting_update_and_records_it(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    target.answer = fail_marked
    config = ordered_interface(target.url, supersede=True)
    gut = await make_gateway(write_config(tmp_path / "cfg", config))
    first = await send(gut, update("SO-1", "a", fail="400"))
    await gut.wait_status(first["id"], "parked")
    second = await send(gut, update("SO-1", "b"))
    third = await send(gut, update("SO-1", "c"))

    replaced = await delivery(gut, second["id"])
    assert replaced["status"] == "superseded"
    assert replaced["superseded_by"] == third["id"]
    assert (await gut.message(second["id"]))["status"] == "superseded"
    listed = await gut.admin("GET", "/v1/messages", params={"status": "superseded"})
    assert [m["id"] for m in listed.json()["messages"]] == [second["id"]]
    assert (await delivery(gut, first["id"]))["status"] == "parked"  # the head stays

    head = first["deliveries"][0]["id"]
    await gut.admin("POST", f"/v1/deliveries/{head}/discard", json={"reason": "stale"})
    await gut.wait_status(third["id"], "delivered")
    assert steps(target, "SO-1", ok_only=False) == ["a", "c"]
    refused = await gut.admin(
        "POST", f"/v1/deliveries/{second['deliveries'][0]['id']}/replay", json={"reason": "x"}
    )
    assert refused.status_code == 409


async def test_supersede_within_one_batch_keeps_the_newest(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    """Several documents for one key accepted together: the first goes, the middle one is
    replaced by the newest, which goes next (and the answers say so)."""
    config = ordered_interface(target.url, supersede=True)
    gut = await make_gateway(write_config(tmp_path / "cfg", config))
    answers = await asyncio.gather(*(send(gut, update("SO-9", s)) for s in "abcdef"))
    for answer in answers:
        await gut.wait_for(answer["id"], lambda m: m["status"] in ("delivered", "superseded"))
    got = steps(target, "SO-9")
    assert got == sorted(got)  # in acceptance order...
    assert got[-1] == "f"  # ... and the newest last
    superseded = [a for a in answers if (await delivery(gut, a["id"]))["status"] == "superseded"]
    assert len(superseded) + len(got) == 6


async def test_a_document_without_a_business_key_is_not_ordered(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    target.answer = fail_marked
    gut = await make_gateway(write_config(tmp_path / "cfg", ordered_interface(target.url)))
    first = await send(gut, {"Step": "a", "Fail": "400"})
    second = await send(gut, {"Step": "b"})
    await gut.wait_status(first["id"], "parked")
    await gut.wait_status(second["id"], "delivered")  # not held back by the parked one
    assert (await delivery(gut, second["id"]))["blocked_by"] is None


async def test_waiting_deliveries_survive_a_restart_and_the_consistency_check(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    """A waiting delivery has no outbox row on purpose: the consistency check must not
    re-drive it (that would send it before its head), and a restart loses none."""
    target.answer = fail_marked
    gut = await make_gateway(
        write_config(tmp_path / "cfg", ordered_interface(target.url)), reconcile_stuck_after=0.2
    )
    first = await send(gut, update("SO-1", "a", fail="400"))
    second = await send(gut, update("SO-1", "b"))
    await gut.wait_status(first["id"], "parked")
    await gut.restart()
    await asyncio.sleep(0.3)  # older than reconcile_stuck_after: a candidate for re-driving
    run = await gut.admin("POST", "/v1/reconcile")
    assert run.status_code == 200, run.text
    assert run.json()["found"]["lost"] == 0
    assert (await delivery(gut, second["id"]))["blocked_by"]["message_id"] == first["id"]
    assert steps(target, "SO-1", ok_only=False) == ["a"]
    target.answer = None
    head = first["deliveries"][0]["id"]
    await gut.admin("POST", f"/v1/deliveries/{head}/replay", json={"reason": "fixed"})
    await gut.wait_status(second["id"], "delivered")
    assert steps(target, "SO-1", ok_only=False) == ["a", "a", "b"]


async def test_an_alert_says_how_many_wait_behind_a_parked_update(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    webhook = await TargetServer().start()
    try:
        target.answer = fail_marked
        folder = write_config(tmp_path / "cfg", ordered_interface(target.url))
        (folder / "alerts.yaml").write_text(
            f"alerts:\n  webhook: {webhook.url}/hooks/esb\n  every: 1h\n"
            "  dashboard_url: http://gw.example/dashboard\n"
        )
        gut = await make_gateway(folder)
        first = await send(gut, update("SO-1", "a", fail="400"))
        await send(gut, update("SO-1", "b"))
        await send(gut, update("SO-1", "c"))
        await gut.wait_status(first["id"], "parked")

        alerter = Alerter(gut.gateway.engine, lambda: gut.gateway.config)
        async with aiohttp.ClientSession() as session:
            sent = await alerter.check(session)
        [blocked] = [n for n in sent if n["kind"] == "blocked"]
        head = first["deliveries"][0]["id"]
        assert blocked["text"] == (
            "esb: status-update -> mes is held back: 2 deliveries wait behind 1 parked one(s) "
            f"of their business key (key SO-1: 2 behind parked delivery {head}); replay or "
            "discard it to release them. http://gw.example/dashboard"
        )
        assert f"2 条在挂起的投递 {head} 之后" in blocked["text_zh"]
        assert blocked["blocked"] == 2
        assert webhook.bodies("/hooks/esb") == sent
    finally:
        await webhook.stop()
