"""The value report's figures, checked exactly against a known set of messages (both modes).

The test sends good documents, documents refused at the door (the field named),
documents the target turns away once (a blip the retry saves), and documents the
target refuses until an operator replays or corrects them (tests.support.value_scene);
then every figure of the month must be what was sent, its JSON and its CSV alike.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from tests.support.target import TargetServer
from tests.support.value_scene import ZONE, run_scene


@pytest.fixture
async def scene(make_gateway: Any, target: TargetServer, tmp_path: Path) -> dict[str, Any]:
    return await run_scene(make_gateway, target, tmp_path / "cfg")


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
