"""The audit trail as an API: every operator action, filtered, paged, and exported as CSV
that Excel opens (UTF-8 with a byte-order mark, times in the factory's zone)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from tests.support.gateway import ERP_KEY, rest_interface, write_config
from tests.support.target import TargetServer


async def test_operator_actions_are_listed_filtered_paged_and_exported(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    target.default_status = 422
    gut = await make_gateway(
        write_config(tmp_path / "cfg", rest_interface(target.url)), time_zone="Asia/Shanghai"
    )
    parked = []
    for order in ("SO-A1", "SO-A2"):
        message_id = (await gut.send("sales_order", {"OrderNo": order})).json()["id"]
        parked.append((await gut.wait_status(message_id, "parked"))["deliveries"][0]["id"])
    target.default_status = 200
    replay = {"reason": "MES 字段长度已修正", "operator": "li.wei"}
    assert (await gut.admin("POST", f"/v1/deliveries/{parked[0]}/replay", json=replay)).is_success
    discard = {"reason": "duplicate, cancelled in ERP"}
    assert (await gut.admin("POST", f"/v1/deliveries/{parked[1]}/discard", json=discard)).is_success

    answer = await gut.admin("GET", "/v1/audit")
    assert answer.status_code == 200, answer.text
    entries = answer.json()["entries"]
    assert [(e["action"], e["actor"], e["delivery_id"]) for e in entries] == [
        ("discard", "admin", parked[1]),
        ("replay", "admin:li.wei", parked[0]),
    ]  # newest first
    assert entries[1]["interface"] == "sales-order"
    assert entries[1]["target"] == "mes"
    assert entries[1]["reason"] == "MES 字段长度已修正"
    assert (entries[1]["before"]["status"], entries[1]["after"]["status"]) == ("parked", "pending")
    assert answer.json()["next_before"] is None

    async def actions(query: str) -> list[str]:
        found = await gut.admin("GET", f"/v1/audit?{query}")
        assert found.status_code == 200, found.text
        return [e["action"] for e in found.json()["entries"]]

    assert await actions("actor=admin") == ["discard", "replay"]  # admin:li.wei is admin's
    assert await actions("actor=admin:li.wei") == ["replay"]
    assert await actions("action=replay") == ["replay"]
    assert await actions("interface=sales-order&since=1h") == ["discard", "replay"]
    assert await actions("interface=shipment") == []
    assert await actions("until=2026-01-01T00:00:00Z") == []

    first = (await gut.admin("GET", "/v1/audit?limit=1")).json()
    assert [e["action"] for e in first["entries"]] == ["discard"]
    second = await actions(f"limit=1&before={first['next_before']}")
    assert second == ["replay"]

    exported = await gut.admin("GET", "/v1/audit?format=csv")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert exported.content.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert table[0][:3] == ["时间 at", "操作人 actor", "操作 action"]  # both languages
    rows = [dict(zip([h.split()[-1] for h in table[0]], r, strict=True)) for r in table[1:]]
    assert [r["action"] for r in rows] == ["discard", "replay"]
    assert rows[1]["reason"] == "MES 字段长度已修正"
    assert rows[1]["at"].endswith("+08:00")  # the factory's time
    assert rows[1]["interface"] == "sales-order"

    refused = await gut.client.get(
        f"{gut.url}/v1/audit", headers={"Authorization": f"Bearer {ERP_KEY}"}
    )
    assert refused.status_code == 403
    bad = await gut.admin("GET", "/v1/audit?since=yesterday")
    assert bad.status_code == 422
    assert "since" in bad.text
