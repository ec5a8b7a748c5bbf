"""Poison messages: more of them than the prefetch, of several shapes, in front of valid orders.

Each shape fails somewhere else - in the mapping, inside the connector, or while its
outcome is recorded - and each must end parked with its reason within a minute, while
every valid order behind them is delivered (issue 9, item 2). Both modes.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any, ClassVar, Literal

import pytest
from sqlalchemy import text

from esb.connectors import DeliveryRequest, Outcome
from esb_rest import RestConnector
from esb_rest.connector import RestConfig
from tests.support.gateway import GatewayUnderTest, write_config
from tests.support.target import TargetServer

PREFETCH = 4
PER_SHAPE = 6  # three shapes: 18 poison messages, more than four times the prefetch

INTERFACES = """
interfaces:
  sales-order:
    source: erp
    message_type: sales_order
    key: OrderNo
    retry: {{schedule: [0.2s], jitter: 0}}
    targets:
      mes:
        mapping: to-mes
        connector: {{kind: fragile, url: "{url}/api/work-orders", timeout: {{total: 5s}}}}
"""

MAPPING = """
source: erp
target: mes
fields:
  workOrderNo: {path: OrderNo, required: true}
  lineNo: {path: Big, type: int}
  explode: {path: Explode}
  remark: {path: Remark}
"""


class FragileConfig(RestConfig):
    kind: Literal["fragile"] = "fragile"


class FragileConnector(RestConnector):
    """A third-party connector with a bug: a body shape it did not expect makes it raise."""

    kind: ClassVar[str] = "fragile"
    Config: ClassVar[type[FragileConfig]] = FragileConfig

    async def deliver(self, request: DeliveryRequest) -> Outcome:
        if request.body.get("explode"):
            raise KeyError("customer")
        return await super().deliver(request)


POISON_RECORD = "POISON-RECORD"
PG_TRIGGER = [
    """CREATE FUNCTION esb_test_poison() RETURNS trigger AS $$
    BEGIN
      IF NEW.outcome <> 'parked' AND EXISTS (
          SELECT 1 FROM deliveries d JOIN messages m ON m.id = d.message_id
          WHERE d.id = NEW.delivery_id AND m.body LIKE '%POISON-RECORD%') THEN
        RAISE EXCEPTION 'poison record';
      END IF;
      RETURN NEW;
    END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER esb_test_poison BEFORE INSERT ON attempts
       FOR EACH ROW EXECUTE FUNCTION esb_test_poison()""",
]
PG_DROP = [
    "DROP TRIGGER IF EXISTS esb_test_poison ON attempts",
    "DROP FUNCTION IF EXISTS esb_test_poison()",
]
SQLITE_TRIGGER = [
    """CREATE TRIGGER esb_test_poison BEFORE INSERT ON attempts
       WHEN NEW.outcome <> 'parked' AND EXISTS (
          SELECT 1 FROM deliveries d JOIN messages m ON m.id = d.message_id
          WHERE d.id = NEW.delivery_id AND m.body LIKE '%POISON-RECORD%')
       BEGIN SELECT RAISE(ABORT, 'poison record'); END"""
]


async def execute(gut: GatewayUnderTest, statements: list[str]) -> None:
    async with gut.gateway.engine.begin() as conn:
        for statement in statements:
            await conn.execute(text(statement))


def poison(n: int) -> list[tuple[dict[str, Any], str]]:
    """(body, what its parked reason says) for each shape."""
    return [
        ({"OrderNo": f"P-MAP-{n}", "Big": "1" * 40}, "beyond the 64-bit integer range"),
        ({"OrderNo": f"P-CON-{n}", "Explode": True}, "connector error: KeyError"),
        ({"OrderNo": f"P-REC-{n}", "Remark": POISON_RECORD}, "without a recorded outcome"),
    ]


async def test_poison_messages_park_and_never_hold_up_valid_orders(
    make_gateway: Any, target: TargetServer, tmp_path: Path
) -> None:
    folder = write_config(tmp_path / "cfg", INTERFACES.format(url=target.url))
    (folder / "mappings").mkdir()
    (folder / "mappings" / "to-mes.yaml").write_text(MAPPING)
    gut = await make_gateway(
        folder,
        connectors={"fragile": FragileConnector},
        prefetch=PREFETCH,
        local_concurrency=PREFETCH,
    )
    production = not gut.settings.embedded
    await execute(gut, PG_TRIGGER if production else SQLITE_TRIGGER)
    try:
        await run_poison_then_valid(gut, target)
    finally:
        if production:
            await execute(gut, PG_DROP)


async def run_poison_then_valid(gut: GatewayUnderTest, target: TargetServer) -> None:
    shapes = [shape for n in range(PER_SHAPE) for shape in poison(n)]
    poisoned = [(await gut.send("sales_order", body), reason) for body, reason in shapes]
    valid = [await gut.send("sales_order", {"OrderNo": f"OK-{n}"}) for n in range(20)]
    assert all(r.status_code == 202 for r, _ in poisoned)
    assert all(r.status_code == 202 for r in valid)
    started = time.monotonic()
    for response, reason in poisoned:
        message = await gut.wait_status(response.json()["id"], "parked", timeout=60)
        delivery = message["deliveries"][0]
        assert reason in delivery["last_error"], message
        assert delivery["attempts"] == 1, message  # parked at once: no retries, no loop
    for response in valid:
        await gut.wait_status(response.json()["id"], "delivered", timeout=60)
    assert time.monotonic() - started < 60
    await asyncio.sleep(0.3)
    got = {r.json()["workOrderNo"] for r in target.received}
    assert {f"OK-{n}" for n in range(20)} <= got
    assert not {no for no in got if no.startswith(("P-MAP", "P-CON"))}  # never sent


@pytest.mark.parametrize("mode", ["production"])
async def test_the_redelivery_bound_holds_on_classic_queues_too(
    make_gateway: Any, target: TargetServer, tmp_path: Path
) -> None:
    """Classic queues count no deliveries (quorum ones do): the bound is the gateway's own,
    kept in the database, so it holds on both."""
    folder = write_config(tmp_path / "cfg", INTERFACES.format(url=target.url))
    (folder / "mappings").mkdir()
    (folder / "mappings" / "to-mes.yaml").write_text(MAPPING)
    gut = await make_gateway(
        folder, connectors={"fragile": FragileConnector}, prefetch=2, queue_type="classic"
    )
    await execute(gut, PG_TRIGGER)
    try:
        poison_bodies = [{"OrderNo": f"P-{n}", "Remark": POISON_RECORD} for n in range(3)]
        bad = [await gut.send("sales_order", body) for body in poison_bodies]
        good = await gut.send("sales_order", {"OrderNo": "OK-1"})
        for response in bad:
            message = await gut.wait_status(response.json()["id"], "parked", timeout=60)
            assert "without a recorded outcome" in message["deliveries"][0]["last_error"]
        await gut.wait_status(good.json()["id"], "delivered", timeout=60)
        await execute(gut, PG_DROP)  # the cause is fixed: a replay starts the count afresh
        message = await gut.message(bad[0].json()["id"])
        replay = await gut.admin(
            "POST",
            f"/v1/deliveries/{message['deliveries'][0]['id']}/replay",
            json={"reason": "recording fixed"},
        )
        assert replay.status_code == 200, replay.text
        await gut.wait_status(bad[0].json()["id"], "delivered", timeout=30)
    finally:
        await execute(gut, PG_DROP)
