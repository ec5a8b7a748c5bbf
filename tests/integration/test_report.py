"""The health report's numbers, checked exactly against attempts we record ourselves."""

from __future__ import annotations

import asyncio
import statistics
from datetime import timedelta
from pathlib import Path

from esb.ids import uuid7
from esb.status import AttemptOutcome, DeliveryStatus
from esb.store.engine import transaction, utcnow
from esb.store.tables import attempts, deliveries, messages
from tests.support.gateway import rest_interface, write_config
from tests.support.target import TargetServer


async def seed(engine, *, durations: list[float], e2e: list[float], failures: int) -> None:
    """One message per duration; the first ``failures`` attempts failed and are parked."""
    now = utcnow()
    async with transaction(engine) as conn:
        for n, duration in enumerate(durations):
            message_id, delivery_id = uuid7(), uuid7()
            failed = n < failures
            await conn.execute(
                messages.insert().values(
                    id=message_id,
                    interface="sales-order",
                    message_type="sales_order",
                    source_system="erp",
                    business_key=f"SO-{n}",
                    idempotency_key=f"k{n}",
                    content_type="application/json",
                    body="{}",
                    received_at=now,
                )
            )
            await conn.execute(
                deliveries.insert().values(
                    id=delivery_id,
                    message_id=message_id,
                    interface="sales-order",
                    target="mes",
                    status=DeliveryStatus.PARKED if failed else DeliveryStatus.DELIVERED,
                    attempts=1,
                    round_attempts=1,
                    created_at=now,
                    updated_at=now,
                    delivered_at=None if failed else now,
                    end_to_end_ms=None if failed else e2e[n],
                )
            )
            await conn.execute(
                attempts.insert().values(
                    delivery_id=delivery_id,
                    interface="sales-order",
                    target="mes",
                    number=1,
                    started_at=now - timedelta(seconds=1),
                    duration_ms=duration,
                    outcome=AttemptOutcome.PARKED if failed else AttemptOutcome.DELIVERED,
                    status_code=400 if failed else 200,
                    error="HTTP 400: bad" if failed else None,
                )
            )
        # an attempt outside the window must not count
        await conn.execute(
            attempts.insert().values(
                delivery_id=delivery_id,
                interface="sales-order",
                target="mes",
                number=2,
                started_at=now - timedelta(hours=2),
                duration_ms=99999.0,
                outcome=AttemptOutcome.DELIVERED,
            )
        )


def exact(values: list[float], p: int) -> float:
    """percentile_cont, computed independently with the standard library."""
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


async def test_report_numbers_are_exact(make_gateway, target: TargetServer, tmp_path: Path) -> None:
    gut = await make_gateway(write_config(tmp_path / "cfg", rest_interface(target.url)))
    durations = [float(d) for d in range(1, 101)]  # 1..100 ms
    e2e = [d * 10 + 0.5 for d in durations]
    await seed(gut.gateway.engine, durations=durations, e2e=e2e, failures=5)

    response = await gut.admin("GET", "/v1/report", params={"window": "15m"})
    assert response.status_code == 200, response.text
    [row] = [r for r in response.json()["interfaces"] if r["target"] == "mes"]

    assert row["received"] == 100
    assert row["delivered"] == 95
    assert row["attempts"] == 100
    assert row["failed_attempts"] == 5
    assert row["parked"] == 5
    assert row["pending"] == 0
    assert row["success_rate"] == 0.95
    for p in (50, 95, 99):
        assert row["attempt_latency_ms"][f"p{p}"] == round(exact(durations, p), 3)
        assert row["end_to_end_latency_ms"][f"p{p}"] == round(exact(e2e[5:], p), 3)
    assert row["attempt_latency_ms"]["max"] == 100.0
    assert row["last_error"]["error"] == "HTTP 400: bad"
    assert row["status"] == "degraded"  # 95 % success and parked deliveries


async def test_report_reflects_live_traffic(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    target.script.extend([503])
    gut = await make_gateway(write_config(tmp_path / "cfg", rest_interface(target.url)))
    ids = [(await gut.send("sales_order", {"OrderNo": f"SO-L{i}"})).json()["id"] for i in range(3)]
    for message_id in ids:
        await gut.wait_status(message_id, "delivered")
    [row] = (await gut.admin("GET", "/v1/report", params={"window": "1h"})).json()["interfaces"]
    assert (row["received"], row["delivered"], row["attempts"], row["failed_attempts"]) == (
        3,
        3,
        4,
        1,
    )
    assert row["success_rate"] == 0.75
    assert row["last_error"]["error"].startswith("HTTP 503")
    assert row["attempt_latency_ms"]["p50"] > 0
    assert row["end_to_end_latency_ms"]["p99"] >= row["end_to_end_latency_ms"]["p50"] > 0
    bad_window = await gut.admin("GET", "/v1/report", params={"window": "soon"})
    assert bad_window.status_code == 422


async def test_thresholds_and_deadlines_come_from_yaml(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    extra = """
    deadline: 2s
    health: {degraded_below: 0.99, failing_below: 0.2, failing_after: 2, backlog_above: 0}
""".rstrip("\n")
    config = rest_interface(target.url, schedule="[0.05s, 0.05s, 0.05s]").replace(
        "        connector:",
        extra.replace("    deadline", "        deadline").replace("    health", "        health")
        + "\n        connector:",
    )
    target.script.extend([503, 503])
    gut = await make_gateway(write_config(tmp_path / "cfg", config))
    first = (await gut.send("sales_order", {"OrderNo": "SO-T1"})).json()["id"]
    await gut.wait_status(first, "delivered")
    [row] = (await gut.admin("GET", "/v1/report", params={"window": "10m"})).json()["interfaces"]
    assert row["success_rate"] == round(1 / 3, 6)
    assert row["status"] == "degraded"  # 33 % is above failing_below 0.2, below 0.99
    assert row["deadline"]["within_s"] == 2.0
    assert row["deadline"]["on_time_share"] == 1.0
    assert row["throughput_per_s"] == round(1 / 600, 3)

    target.default_status = 503  # two failures in a row: failing_after 2
    second = (await gut.send("sales_order", {"OrderNo": "SO-T2"})).json()["id"]
    await gut.wait_for(second, lambda m: m["deliveries"][0]["attempts"] >= 2)
    [row] = (await gut.admin("GET", "/v1/report", params={"window": "10m"})).json()["interfaces"]
    assert row["status"] == "failing"
    await asyncio.sleep(2.1)
    [row] = (await gut.admin("GET", "/v1/report", params={"window": "10m"})).json()["interfaces"]
    assert row["deadline"]["overdue_now"] == 1
