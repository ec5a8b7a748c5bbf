"""The consistency check, against inconsistencies made for real."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aio_pika
import pytest
from sqlalchemy import delete

from esb.store.engine import transaction
from esb.store.tables import outbox
from tests.support.gateway import rest_interface, write_config
from tests.support.target import TargetServer


async def reconcile(gut) -> dict:
    response = await gut.admin("POST", "/v1/reconcile")
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.mark.parametrize("mode", ["production"], indirect=True)
async def test_a_purged_queue_is_redriven_but_a_waiting_one_is_not(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    gut = await make_gateway(
        write_config(tmp_path / "cfg", rest_interface(target.url)),
        start=False,
        reconcile_stuck_after=0.3,
    )
    await gut.start(relay=True, worker=False)  # published, nobody consumes
    ids = [(await gut.send("sales_order", {"OrderNo": f"SO-P{n}"})).json()["id"] for n in range(5)]
    await asyncio.sleep(0.8)
    waiting = await reconcile(gut)
    assert waiting["found"]["waiting_in_queue"] == 5  # the messages are in the queue: left alone
    assert waiting["found"]["lost"] == 0

    connection = await aio_pika.connect(gut.settings.broker_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(
            gut.gateway.broker.queue_name(("sales-order", "mes")), passive=True
        )
        await queue.purge()  # the broker lost them
    repaired = await reconcile(gut)
    assert repaired["found"]["lost"] == 5
    assert repaired["found"]["redriven"] == {"sales-order/mes": 5}

    await gut.stop()
    await gut.start()  # now with workers
    for message_id in ids:
        await gut.wait_status(message_id, "delivered")
    assert sorted(b["OrderNo"] for b in target.bodies()) == [f"SO-P{n}" for n in range(5)]
    report = (await gut.admin("GET", "/v1/report")).json()
    assert report["consistency_check"]["found"]["lost"] == 5
    assert report["consistency_check"]["trigger"] == "api"


@pytest.mark.parametrize("mode", ["embedded"], indirect=True)
async def test_a_vanished_outbox_row_is_redriven(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    gut = await make_gateway(
        write_config(tmp_path / "cfg", rest_interface(target.url)),
        start=False,
        reconcile_stuck_after=0.3,
    )
    await gut.start(relay=False, worker=False)
    message_id = (await gut.send("sales_order", {"OrderNo": "SO-V1"})).json()["id"]
    await asyncio.sleep(0.5)
    unpublished = await reconcile(gut)
    assert unpublished["found"]["unpublished"] == 1  # nobody relays: reported, left alone
    async with transaction(gut.gateway.engine) as conn:
        await conn.execute(delete(outbox))  # the queue (the outbox) lost it
    repaired = await reconcile(gut)
    assert repaired["found"]["lost"] == 1
    await gut.stop()
    await gut.start()
    await gut.wait_status(message_id, "delivered")
    assert [b["OrderNo"] for b in target.bodies()] == ["SO-V1"]
