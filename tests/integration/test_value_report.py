"""The value report's figures, checked exactly against a known set of messages (both modes).

The test sends good documents, documents refused at the door (the field named),
documents the target turns away once (a blip the retry saves), and documents the
target refuses until an operator replays or corrects them; then every figure of the
month must be what was sent, its JSON and its CSV alike.
"""

from __future__ import annotations

import csv
import io
import json
import re
import statistics
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

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


def interfaces(url: str) -> str:
    rest = "kind: rest, timeout: {connect: 1s, total: 3s}"
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
        connector: {{{rest}, url: "{url}/api/work-orders"}}
  status-update:
    source: erp
    message_type: status_update
    key: OrderNo
    retry: {{schedule: [0.1s, 0.1s, 0.1s], jitter: 0}}
    targets:
      mes:
        connector: {{{rest}, url: "{url}/api/mes-status"}}
      wms:
        connector: {{{rest}, url: "{url}/api/wms-status"}}
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
        if body.get("Hold") and self.holding and received.path != "/api/mes-status":
            return 400
        if body.get("Blip") and self.calls[key] == 1:
            return 503
        return 200


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


@pytest.fixture
async def scene(make_gateway: Any, target: TargetServer, tmp_path: Path) -> dict[str, Any]:
    """Run the known set of messages through a gateway; what each figure must be."""
    answers = Target()
    target.answer = answers
    folder = write_config(tmp_path / "cfg", interfaces(target.url))
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
            "retried": len(blips),
            "median_end_to_end_ms": await median_of(gut, moved_sales),
            "minutes_per_document": 4.5,
            "hours_saved": round(len(moved_sales) * 4.5 / 60, 2),
        },
        "status-update": {
            "moved": len(moved_status),
            "refused": 0,
            "refused_fields": [],
            "fixed": 1,
            "retried": 0,
            "median_end_to_end_ms": await median_of(gut, moved_status),
            "minutes_per_document": None,
            "hours_saved": None,
        },
        "total": {
            "moved": len(moved_sales) + len(moved_status),
            "refused": len(fields),
            "fixed": 4,
            "retried": len(blips),
            "median_end_to_end_ms": await median_of(gut, moved_sales + moved_status),
            "hours_saved": round(len(moved_sales) * 4.5 / 60, 2),
        },
    }


async def test_every_figure_is_what_was_sent(scene: dict[str, Any]) -> None:
    gut = scene["gut"]
    response = await gut.admin("GET", "/v1/report/value", params={"period": scene["period"]})
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["period"] == scene["period"]
    assert report["time_zone"] == ZONE
    assert report["complete"] is False
    rows = {row.pop("interface"): row for row in report["interfaces"]}
    assert rows["sales-order"].pop("description") == "ERP sales orders become MES work orders"
    assert rows["status-update"].pop("description") == ""
    assert rows == {name: scene[name] for name in ("sales-order", "status-update")}
    assert report["total"] == scene["total"]
    # the field counts: Lines[].Qty three times (whichever line), the key, the body itself
    assert [f["documents"] for f in scene["sales-order"]["refused_fields"]] == [3, 1, 1]
    assert {f["field"] for f in scene["sales-order"]["refused_fields"]} == {
        "Lines[].Qty", "OrderNo", ""}  # fmt: skip

    default = await gut.admin("GET", "/v1/report/value")  # this month
    assert default.json()["interfaces"] == response.json()["interfaces"]
    other = await gut.admin("GET", "/v1/report/value", params={"period": "2001-02"})
    assert other.json()["total"] == {
        "moved": 0, "refused": 0, "fixed": 0, "retried": 0, "median_end_to_end_ms": None,
        "hours_saved": 0.0}  # fmt: skip
    assert other.json()["complete"] is True


async def test_the_csv_has_the_same_figures(scene: dict[str, Any]) -> None:
    gut = scene["gut"]
    by_header = await gut.admin(
        "GET", "/v1/report/value", params={"period": scene["period"]},
        headers={"Accept": "text/csv"})  # fmt: skip
    by_format = await gut.admin(
        "GET", "/v1/report/value", params={"period": scene["period"], "format": "csv"}
    )
    assert by_header.content == by_format.content
    assert by_header.headers["content-type"].startswith("text/csv")
    assert f"value-{scene['period']}.csv" in by_header.headers["content-disposition"]
    assert by_header.content.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM, for Excel
    header, *lines = list(csv.reader(io.StringIO(by_header.content.decode("utf-8-sig"))))
    assert header[:3] == ["月份 period", "接口 interface", "免重复录入的单据 documents moved"]
    rows = {line[1]: dict(zip(header, line, strict=True)) for line in lines}
    assert set(rows) == {"sales-order", "status-update", "合计 total"}
    sales, status, total = rows["sales-order"], rows["status-update"], rows["合计 total"]
    assert sales["月份 period"] == scene["period"]
    for row, expected in ((sales, scene["sales-order"]), (total, scene["total"])):
        assert int(row["免重复录入的单据 documents moved"]) == expected["moved"]
        assert int(row["入口拦截的错误 refused at the door"]) == expected["refused"]
        assert int(row["运维修复后送达 fixed by an operator"]) == expected["fixed"]
        assert int(row["重试挽回的投递 saved by a retry"]) == expected["retried"]
        assert float(row["中位耗时(毫秒) median end-to-end (ms)"]) == expected[
            "median_end_to_end_ms"]  # fmt: skip
        assert float(row["节省工时(估算) hours saved (estimate)"]) == expected["hours_saved"]
    assert status["节省工时(估算) hours saved (estimate)"] == "—"  # no figure, not 0
    assert status["每单人工分钟 minutes per document"] == "—"
    assert "Lines[].Qty: 3" in sales["拦截最多的字段 most refused fields"]


async def test_the_rollup_job_runs_and_a_bad_period_is_refused(scene: dict[str, Any]) -> None:
    """The daily rollup is scheduled in the gateway and its runs succeed (the figures
    above were counted while it ran); a period that is not a month is a 422 naming it."""
    for period in ("2026-13", "2026-1", "26-11", "November", "", "1999-12", "2026-11-01"):
        answer = await scene["gut"].admin("GET", "/v1/report/value", params={"period": period})
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["field"] == "period"
    report = (await scene["gut"].admin("GET", "/v1/report")).json()
    [job] = [s for s in report["schedules"] if s["job"] == "value-rollup"]
    assert job["error"] is None
    assert job["runs"] >= 1
    metrics = (await scene["gut"].client.get(f"{scene['gut'].url}/metrics")).text
    assert 'esb_messages_refused_total{interface="sales-order"} 5.0' in metrics
