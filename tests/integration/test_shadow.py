"""The parallel run before go-live, in both modes: a candidate mapping runs beside the live
one on live traffic, compared field by field, nothing sent; its numbers are exact; a
failing shadow never touches the live delivery; promotion and rollback are audited and
change which mapping delivers."""

from __future__ import annotations

from pathlib import Path

from tests.support.gateway import ERP_KEY
from tests.support.shadow import (
    IGNORE,
    candidate_config,
    cloud_target,
    order,
    replacement_config,
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
    assert differing[0]["differences"] == [{"path": "priority", "live": "URGENT", "shadow": "RUSH"}]
    # a delivery compared once is counted once, whatever happens to it later
    again = await shadow_entry(gut)
    assert again["today"]["compared"] == 12


async def deliver(gut, target: TargetServer, number: int) -> dict:
    """Send an urgent order, wait until it is delivered; the body the target got."""
    (message_id,) = await send_all(gut, [order(number, urgent=True)])
    await gut.wait_status(message_id, "delivered")
    bodies = [b for b in target.bodies() if b["workOrderNo"] == f"SO-{number:04d}"]
    assert len(bodies) == 1, bodies
    return dict(bodies[0])


async def test_promote_and_rollback_are_audited_and_change_which_mapping_delivers(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    shadow = f"{{mapping: order-to-mes-v2, ignore: {IGNORE}}}"
    gut = await make_gateway(candidate_config(tmp_path / "cfg", target.url, shadow))
    assert (await deliver(gut, target, 1))["priority"] == "URGENT"  # the live mapping

    action = {"reason": "两周并行无差异 two weeks in parallel", "operator": "li.wei"}
    promoted = await gut.admin("POST", "/v1/shadow/sales-order/mes/promote", json=action)
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["delivering"] == {"target": "mes", "mapping": "order-to-mes-v2"}
    after = await deliver(gut, target, 2)
    assert (after["priority"], after["version"], after["items"][0]["note"]) == (
        "RUSH",
        2,
        "candidate",
    )
    entry = await shadow_entry(gut)
    assert entry["state"] == "promoted"
    assert entry["promoted"]["by"] == "admin:li.wei"
    assert entry["today"]["compared"] == 1  # a promoted candidate is live: nothing to compare
    twice = await gut.admin("POST", "/v1/shadow/sales-order/mes/promote", json=action)
    assert twice.status_code == 409, twice.text

    back = {"reason": "MES 拒收 RUSH rejected by MES"}
    rolled = await gut.admin("POST", "/v1/shadow/sales-order/mes/rollback", json=back)
    assert rolled.status_code == 200, rolled.text
    assert rolled.json()["delivering"] == {"target": "mes", "mapping": "order-to-mes"}
    assert (await deliver(gut, target, 3))["priority"] == "URGENT"
    assert (await shadow_entry(gut))["state"] == "shadow"
    again = await gut.admin("POST", "/v1/shadow/sales-order/mes/rollback", json=back)
    assert again.status_code == 409, again.text

    trail = await gut.admin("GET", "/v1/audit?action=shadow&interface=sales-order")
    assert trail.status_code == 200, trail.text
    entries = trail.json()["entries"]
    assert [(e["action"], e["actor"], e["target"]) for e in entries] == [
        ("shadow.rollback", "admin", "mes"),
        ("shadow.promote", "admin:li.wei", "mes"),
    ]
    assert entries[1]["reason"] == action["reason"]
    assert entries[1]["before"] == {"target": "mes", "mapping": "order-to-mes"}
    assert entries[1]["after"] == {"target": "mes", "mapping": "order-to-mes-v2"}
    assert entries[0]["after"] == {"target": "mes", "mapping": "order-to-mes"}


async def test_a_failing_shadow_never_touches_the_live_delivery(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    """Two shadows beside ``mes``: a candidate whose mapping fails on every order, and a new
    target whose test endpoint refuses connections. The live deliveries go as if neither
    were there: one attempt each, nothing parked."""
    down = "http://127.0.0.1:9/test"  # discard port: nothing listens
    config = candidate_config(
        tmp_path / "cfg", target.url, "{mapping: order-to-mes-bad}", cloud_target(target.url, down)
    )
    gut = await make_gateway(config)
    ids = await send_all(gut, [order(n, n % 2 == 0) for n in range(6)])
    for message_id in ids:
        found = await gut.wait_status(message_id, "delivered")
        assert [(d["target"], d["attempts"]) for d in found["deliveries"]] == [("mes", 1)]
    failing = await wait_compared(gut, 6)
    assert (failing["today"]["failed"], failing["today"]["matched"]) == (6, 0)
    assert failing["today"]["match_rate"] == 0.0
    assert failing["today"]["sent"] == 0  # a shadow that failed has nothing to send
    failures = await gut.admin("GET", "/v1/shadow/sales-order/mes/comparisons?outcome=failed")
    assert failures.json()["comparisons"][0]["error"] == (
        "mapping: CustCode: required value is missing"
    )
    cloud = await wait_compared(gut, 6, target="mescloud")
    assert (cloud["today"]["sent"], cloud["today"]["send_failed"]) == (0, 6)
    latest = await gut.admin("GET", "/v1/shadow/sales-order/mescloud/comparisons?outcome=differ")
    assert latest.json()["comparisons"][0]["sent"].startswith("not delivered")
    parked = await gut.admin("GET", "/v1/messages?status=parked")
    assert parked.json()["messages"] == []
    assert [r.path for r in target.received] == ["/api/work-orders"] * 6


async def test_a_new_target_replaces_the_live_one_when_promoted(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    """``mescloud`` stands for the system replacing ``mes``: in shadow it gets no delivery
    and its output goes to the test endpoint only; promoted, it gets the messages and
    ``mes`` none; rolled back, ``mes`` again."""
    config = replacement_config(tmp_path / "cfg", target.url, f"{target.url}/cloud-test/orders")
    gut = await make_gateway(config)
    (first,) = await send_all(gut, [order(1, urgent=False)])
    found = await gut.wait_status(first, "delivered")
    assert [d["target"] for d in found["deliveries"]] == ["mes"]
    entry = await wait_compared(gut, 1, target="mescloud")
    assert entry["kind"] == "target"
    assert entry["today"]["fields"] == [  # as many: by name
        {"field": "orderNo", "messages": 1},
        {"field": "workOrderNo", "messages": 1},
    ]
    assert entry["today"]["sent"] == 1
    assert [r.path for r in target.received] == ["/api/work-orders", "/cloud-test/orders"]
    assert target.received[1].json()["orderNo"] == "SO-0001"

    reason = {"reason": "cut-over to the new MES"}
    promoted = await gut.admin("POST", "/v1/shadow/sales-order/mescloud/promote", json=reason)
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["before"] == {"target": "mes", "mapping": "order-to-mes"}
    assert promoted.json()["delivering"] == {"target": "mescloud", "mapping": "order-to-mescloud"}
    (second,) = await send_all(gut, [order(2, urgent=False)])
    found = await gut.wait_status(second, "delivered")
    assert [d["target"] for d in found["deliveries"]] == ["mescloud"]
    assert target.received[-1].path == "/cloud/orders"
    assert target.received[-1].json()["orderNo"] == "SO-0002"

    rolled = await gut.admin("POST", "/v1/shadow/sales-order/mescloud/rollback", json=reason)
    assert rolled.status_code == 200, rolled.text
    (third,) = await send_all(gut, [order(3, urgent=False)])
    found = await gut.wait_status(third, "delivered")
    assert [d["target"] for d in found["deliveries"]] == ["mes"]
    await wait_compared(gut, 2, target="mescloud")
    paths = [r.path for r in target.received]
    assert paths.count("/cloud/orders") == 1  # only the one sent while promoted
    assert paths.count("/api/work-orders") == 2


async def test_the_files_rule_after_a_promotion(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    """A promotion applies while the files declare that very shadow. Made permanent in the
    files (the candidate becomes ``mapping:``, ``shadow:`` goes), it is only listed as
    stale; a different candidate runs in shadow and the live mapping delivers; the same
    shadow declared again is promoted again."""
    folder = tmp_path / "cfg"
    with_v2 = f"{{mapping: order-to-mes-v2, ignore: {IGNORE}}}"
    gut = await make_gateway(candidate_config(folder, target.url, with_v2), config_watch=False)
    reason = {"reason": "go live"}
    promoted = await gut.admin("POST", "/v1/shadow/sales-order/mes/promote", json=reason)
    assert promoted.status_code == 200, promoted.text
    assert (await deliver(gut, target, 1))["priority"] == "RUSH"

    async def reload_with(shadow: str, mapping: str = "order-to-mes") -> None:
        interfaces = folder / "interfaces.yaml"
        text = candidate_config(tmp_path / "scratch", target.url, shadow) / "interfaces.yaml"
        interfaces.write_text(
            text.read_text().replace("mapping: order-to-mes\n", f"mapping: {mapping}\n")
        )
        answer = await gut.admin("POST", "/v1/config/reload")
        assert answer.status_code == 200, answer.text

    await reload_with("null", mapping="order-to-mes-v2")  # made permanent in the files
    listed = (await gut.admin("GET", "/v1/shadow")).json()
    assert listed["shadows"] == []
    assert [(s["target"], s["mapping"], s["previous"]) for s in listed["stale"]] == [
        ("mes", "order-to-mes-v2", "order-to-mes")
    ]
    assert (await deliver(gut, target, 2))["priority"] == "RUSH"  # the files say v2

    await reload_with("{mapping: order-to-mes-bad}")  # another candidate: not the one promoted
    entry = await shadow_entry(gut)
    assert (entry["state"], entry["mapping"]) == ("shadow", "order-to-mes-bad")
    assert (await deliver(gut, target, 3))["priority"] == "URGENT"  # the files' live mapping

    await reload_with(with_v2)  # the promoted shadow, declared again
    assert (await shadow_entry(gut))["state"] == "promoted"
    assert (await deliver(gut, target, 4))["priority"] == "RUSH"


async def test_bad_requests_are_refused_naming_the_field(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    shadow = "{mapping: order-to-mes-v2}"
    gut = await make_gateway(candidate_config(tmp_path / "cfg", target.url, shadow))
    base = "/v1/shadow/sales-order/mes"
    for method, path, body, field in (
        ("GET", "/v1/shadow?days=0", None, "days"),
        ("GET", "/v1/shadow?days=367", None, "days"),
        ("GET", f"{base}/comparisons?day=2026-1-1", None, "day"),
        ("GET", f"{base}/comparisons?outcome=maybe", None, "outcome"),
        ("GET", f"{base}/comparisons?limit=501", None, "limit"),
        ("POST", f"{base}/promote", {"reason": ""}, "reason"),
        ("POST", f"{base}/promote", {"operator": "li"}, "reason"),
        ("POST", f"{base}/rollback", {"reason": "r", "operator": "x" * 101}, "operator"),
        ("POST", f"{base}/promote", {"reason": "a\x00b"}, "reason"),
        ("GET", f"/v1/shadow/{'i' * 101}/mes/comparisons", None, "interface"),
    ):
        answer = await gut.admin(method, path, json=body)
        assert answer.status_code == 422, (path, answer.text)
        assert field in answer.json()["error"]["field"], (path, answer.text)
    unknown = await gut.admin("POST", "/v1/shadow/sales-order/erp/promote", json={"reason": "r"})
    assert unknown.status_code == 404
    assert "declared: sales-order mes" in unknown.json()["error"]["message"]
    system = await gut.client.get(f"{gut.url}/v1/shadow", headers={"Authorization": "Bearer "
                                                                    f"{ERP_KEY}"})  # fmt: skip
    assert system.status_code == 403
    assert (await shadow_entry(gut))["state"] == "shadow"  # nothing changed
