"""The parallel run before go-live, in both modes: a candidate mapping runs beside the live
one on live traffic, compared field by field, nothing sent; its numbers are exact; a
failing shadow never touches the live delivery; promotion and rollback are audited and
change which mapping delivers."""

from __future__ import annotations

from pathlib import Path

from tests.support.shadow import (
    IGNORE,
    candidate_config,
    order,
    send_all,
    shadow_entry,
    wait_compared,
)
from tests.support.target import TargetServer


async def test_a_candidate_differing_in_one_field_is_measured_exactly(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    shadow = f"{{mapping: order-to-mes-v2, ignore: {IGNORE}}}"
    gut = await make_gateway(candidate_config(tmp_path / "cfg", target.url, shadow))
    urgent = {2, 5, 7, 11}
    ids = await send_all(gut, [order(n, n in urgent) for n in range(12)])
    for message_id in ids:
        await gut.wait_status(message_id, "delivered")

    entry = await wait_compared(gut, 12)
    today = entry["today"]
    assert (today["compared"], today["matched"], today["differed"], today["failed"]) == (
        12,
        8,
        4,
        0,
    )
    assert today["match_rate"] == round(8 / 12, 6)
    assert today["fields"] == [{"field": "priority", "messages": 4}]  # masked ones never
    assert entry["fields"] == today["fields"]
    assert entry["state"] == "shadow"
    assert entry["delivering"] == {"target": "mes", "mapping": "order-to-mes"}
    # the target got the live mapping's body only: nothing of the shadow was sent
    assert len(target.received) == 12
    assert {b["priority"] for b in target.bodies()} == {"NORMAL", "URGENT"}
    assert {b["version"] for b in target.bodies()} == {1}

    found = await gut.admin("GET", "/v1/shadow/sales-order/mes/comparisons?outcome=differ")
    assert found.status_code == 200, found.text
    differing = found.json()["comparisons"]
    assert sorted(c["key"] for c in differing) == [f"SO-{n:04d}" for n in sorted(urgent)]
    assert differing[0]["differences"] == [
        {"path": "priority", "live": "URGENT", "shadow": "RUSH"}
    ]
    # a delivery compared once is counted once, whatever happens to it later
    again = await shadow_entry(gut)
    assert again["today"]["compared"] == 12
