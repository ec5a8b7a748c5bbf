"""A known set of messages for the value report's tests: good documents, documents refused
at the door (the field named), documents a blip makes the target refuse once, documents
the target refuses until an operator replays or corrects them; and what every figure of
the month must be, counted from what was sent."""

from __future__ import annotations

import json
import re
import statistics
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from esb.store.value import bucket
from tests.support.gateway import ERP_KEY, GatewayUnderTest, write_config
from tests.support.target import Received, TargetServer

ZONE = "Asia/Shanghai"
SCHEMA = {
    "type": "object",
    "required": ["OrderNo"],
    "properties": {
        "OrderNo": {"type": "string"},
        "Lines": {"type": "array", "items": {"properties": {"Qty": {"type": "number"}}}},
    },
}
SALES_PATH = "/api/work-orders"
STATUS_PATHS = ("/api/mes-status", "/api/wms-status")


def interfaces(url: str) -> str:
    # generous timeouts: a call that times out on a loaded machine is retried, and the
    # scene counts what the target saw (``Target.repeated``), so it stays exact either way
    rest = "kind: rest, timeout: {connect: 5s, total: 10s}"
    return f"""
interfaces:
  sales-order:
    description: ERP sales orders become MES work orders
    source: erp
    message_type: sales_order
    key: OrderNo
    schema: schemas/order.schema.json
    minutes_per_document: 4.5
    retry: {{schedule: [0.1s, 0.1s, 0.1s], jitter: 0}}
    targets:
      mes:
        connector: {{{rest}, url: "{url}{SALES_PATH}"}}
  status-update:
    source: erp
    message_type: status_update
    key: OrderNo
    retry: {{schedule: [0.1s, 0.1s, 0.1s], jitter: 0}}
    targets:
      mes:
        connector: {{{rest}, url: "{url}{STATUS_PATHS[0]}"}}
      wms:
        connector: {{{rest}, url: "{url}{STATUS_PATHS[1]}"}}
"""


class Target:
    """The target's answers: a document marked ``Hold`` is refused (400: parked) while
    ``holding`` (the MES status endpoint takes everything); one marked ``Blip`` gets a 503
    on its first call (retried)."""

    def __init__(self) -> None:
        self.holding = True
        self.calls: dict[tuple[str, str], int] = {}

    def __call__(self, received: Received) -> int:
        body = received.json()
        key = (received.path, body["OrderNo"])
        self.calls[key] = self.calls.get(key, 0) + 1
        if body.get("Hold") and self.holding and received.path != STATUS_PATHS[0]:
            return 400
        if body.get("Blip") and self.calls[key] == 1:
            return 503
        return 200

    def repeated(self, paths: tuple[str, ...], orders: list[str]) -> int:
        """How many of these deliveries the target was called for more than once: the
        scene's blips, and any call a loaded machine made time out (then retried)."""
        return sum(self.calls.get((path, order), 0) > 1 for path in paths for order in orders)


async def accepted(
    gut: GatewayUnderTest, message_type: str, prefix: str, count: int, **marks: bool
) -> list[str]:
    """Send ``count`` documents ``{prefix}0``, ``{prefix}1``...; their message ids."""
    ids = []
    for n in range(count):
        response = await gut.send(message_type, {"OrderNo": f"{prefix}{n}", **marks})
        assert response.status_code == 202, response.text
        ids.append(str(response.json()["id"]))
    return ids


async def refused(gut: GatewayUnderTest, content: bytes) -> str:
    """Send a document the door refuses; the field it names, as the report counts it."""
    response = await gut.client.post(
        f"{gut.url}/v1/messages/sales_order",
        content=content,
        headers={"Authorization": f"Bearer {ERP_KEY}", "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
    return re.sub(r"\[\d+\]", "[]", response.json()["error"].get("field", ""))


def named(prefix: str, ids: list[str]) -> list[str]:
    """The order numbers ``accepted`` gave these messages."""
    return [f"{prefix}{n}" for n in range(len(ids))]


def delivery(message: dict[str, Any], target: str) -> dict[str, Any]:
    return next(d for d in message["deliveries"] if d["target"] == target)


async def operate(gut: GatewayUnderTest, delivery_id: str, action: str, **body: Any) -> None:
    response = await gut.admin(
        "POST", f"/v1/deliveries/{delivery_id}/{action}", json={"reason": "test", **body}
    )
    assert response.status_code == 200, response.text


async def median_of(gut: GatewayUnderTest, ids: list[str]) -> float:
    """Each message's accepted -> last target delivered, rounded as the report rounds."""
    times = []
    for message_id in ids:
        message = await gut.message(message_id)
        times.append(bucket(max(d["end_to_end_ms"] for d in message["deliveries"])))
    return statistics.median(times)


async def run_scene(make_gateway: Any, target: TargetServer, folder: Path) -> dict[str, Any]:
    """Run the known set of messages through a gateway configured in ``folder``; the
    gateway (``gut``), the month (``period``) and what each figure must be."""
    answers = Target()
    target.answer = answers
    write_config(folder, interfaces(target.url))
    (folder / "schemas").mkdir()
    (folder / "schemas" / "order.schema.json").write_text(json.dumps(SCHEMA))
    gut = await make_gateway(folder, time_zone=ZONE)

    good = await accepted(gut, "sales_order", "G", 5)
    blips = await accepted(gut, "sales_order", "B", 2, Blip=True)
    held = await accepted(gut, "sales_order", "H", 5, Hold=True)
    both = await accepted(gut, "status_update", "S", 2)
    waits = await accepted(gut, "status_update", "W", 2, Hold=True)
    for message_id in good + blips + both:
        await gut.wait_status(message_id, "delivered")
    parked = {m: delivery(await gut.wait_status(m, "parked"), "wms" if m in waits else "mes")
              for m in held + waits}  # fmt: skip

    answers.holding = False  # the cause is fixed at the target: the operator acts
    for message_id in (held[0], held[1], waits[0]):
        await operate(gut, parked[message_id]["id"], "replay")
    await operate(gut, parked[held[2]]["id"], "correct", body={"OrderNo": "H2"})
    await operate(gut, parked[held[3]]["id"], "discard")  # never delivered: not moved
    fixed = [held[0], held[1], held[2], waits[0]]  # held[4] and waits[1] stay parked
    for message_id in fixed:
        await gut.wait_status(message_id, "delivered")
    assert (await gut.send("sales_order", {"OrderNo": "G0"})).status_code == 200  # a repeat

    fields = [
        await refused(gut, b'{"OrderNo": "R1", "Lines": [{"Qty": "two"}]}'),
        await refused(gut, b'{"OrderNo": "R2", "Lines": [{"Qty": 1}, {"Qty": "x"}]}'),
        await refused(gut, b'{"OrderNo": "R3", "Lines": [{}, {}, {"Qty": null}]}'),
        await refused(gut, b'{"Lines": []}'),
        await refused(gut, b'{"OrderNo": '),
    ]
    moved_sales = good + blips + held[:3]
    moved_status = [*both, waits[0]]
    # delivered by retries alone (no operator): the blips, which the target must have seen
    # twice, and whatever else the target saw more than once
    assert all(answers.calls[(SALES_PATH, f"B{n}")] == 2 for n in range(len(blips)))
    retried_sales = answers.repeated((SALES_PATH,), [*named("G", good), *named("B", blips)])
    retried_status = answers.repeated(STATUS_PATHS, named("S", both)) + answers.repeated(
        (STATUS_PATHS[0],), named("W", waits)
    )
    return {
        "gut": gut,
        "period": datetime.now(ZoneInfo(ZONE)).strftime("%Y-%m"),
        "sales-order": {
            "moved": len(moved_sales),
            "refused": len(fields),
            "refused_fields": sorted(
                ({"field": f, "documents": fields.count(f)} for f in set(fields)),
                key=lambda f: (-f["documents"], f["field"]),
            ),
            "fixed": 3,
            "retried": retried_sales,
            "median_end_to_end_ms": await median_of(gut, moved_sales),
            "minutes_per_document": 4.5,
            "hours_saved": round(len(moved_sales) * 4.5 / 60, 2),
        },
        "status-update": {
            "moved": len(moved_status),
            "refused": 0,
            "refused_fields": [],
            "fixed": 1,
            "retried": retried_status,
            "median_end_to_end_ms": await median_of(gut, moved_status),
            "minutes_per_document": None,
            "hours_saved": None,
        },
        "total": {
            "moved": len(moved_sales) + len(moved_status),
            "refused": len(fields),
            "fixed": 4,
            "retried": retried_sales + retried_status,
            "median_end_to_end_ms": await median_of(gut, moved_sales + moved_status),
            "hours_saved": round(len(moved_sales) * 4.5 / 60, 2),
        },
    }
