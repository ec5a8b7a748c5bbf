"""The circuit breaker: a target that is down gets a handful of calls, not one per delivery and
retry tier; nothing is lost, and no attempt is spent while the breaker holds deliveries back."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from esb.store.tables import flow_events
from tests.support.flow import (
    attempt_counts,
    delivered_orders,
    send_orders,
    systems_with_flow,
    wait_orders,
)
from tests.support.gateway import rest_interface, write_config
from tests.support.target import TargetServer

FAILURES = 5
CAP = 4


def breaker(cool_down: float) -> str:
    return f"max_in_flight: {CAP}\nbreaker: {{failures: {FAILURES}, cool_down: {cool_down}s}}"


async def closed_at(engine: AsyncEngine) -> float:
    """When the breaker last closed (epoch seconds), from its alert event."""
    async with engine.connect() as conn:
        at = await conn.scalar(
            select(flow_events.c.at)
            .where(flow_events.c.event == "breaker_closed")
            .order_by(flow_events.c.id.desc())
            .limit(1)
        )
    assert at is not None, "the breaker never closed"
    return float(at.timestamp())


async def outage_then_recovery(
    make_gateway,
    target: TargetServer,
    tmp_path: Path,
    outage_s: float,
    cool_down: float,
    count: int = 100,
) -> None:
    target.default_status = 503
    interface = rest_interface(target.url, schedule="[0.3s, 0.5s, 1s]")
    interface = interface.replace("jitter: 0}", "jitter: 0, max_attempts: 100}")
    config = write_config(tmp_path / "cfg", interface, systems_with_flow(breaker(cool_down)))
    gut = await make_gateway(config)
    down_since = time.monotonic()
    orders = [f"BR-{n:03}" for n in range(count)]
    ids = await send_orders(gut.url, orders)

    await asyncio.sleep(max(0.0, outage_s - (time.monotonic() - down_since)))
    calls_in_outage = len(target.received)
    target.default_status = 200
    back, back_wall = time.monotonic(), time.time()
    done = await wait_orders(target, count, timeout=cool_down + 30)
    closed = await closed_at(gut.gateway.engine) - back_wall

    # a handful: the calls that open it, those already on their way (at most the cap),
    # then one probe per cool-down
    handful = FAILURES + CAP + int(outage_s / cool_down) + 1
    print(
        f"\nBREAKER outage {outage_s:g} s, {count} due: {calls_in_outage} calls during the "
        f"outage (bound {handful}); all delivered {done - back:.2f} s after the target was back "
        f"(the breaker closed after {closed:.2f} s)"
    )
    assert calls_in_outage <= handful
    assert done - back <= cool_down + 10  # within seconds of its return (busy CI: slack)
    assert sorted(delivered_orders(target)) == orders  # every one, once
    await asyncio.sleep(0.3)
    assert sorted(delivered_orders(target)) == orders  # and no late duplicate
    counts = await attempt_counts(gut.gateway.engine)
    # deferred deliveries spent no attempt: every recorded attempt is a call the target got,
    # or one that found no connection to it
    calls = len(target.received) + counts["unreached"]
    assert counts["attempts"] == counts["attempt_rows"] == calls
    assert counts["rounds"] == counts["attempts"]
    # no retry tier was burnt (an attempt that found no connection is one more)
    assert counts["most"] <= 1 + int(outage_s / cool_down) + 1 + counts["unreached"]
    # the trace agrees: a wait is no attempt; each attempt is a call, its number in sequence
    logs = [(await gut.message(i))["deliveries"][0]["attempt_log"] for i in ids]
    assert sum(len(log) for log in logs) == calls
    assert all([a["number"] for a in log] == list(range(1, len(log) + 1)) for log in logs)
    assert all(log[-1]["outcome"] == "delivered" for log in logs)


async def test_a_down_target_gets_a_handful_of_calls_and_everything_afterwards(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    await outage_then_recovery(make_gateway, target, tmp_path, outage_s=8.0, cool_down=3.0)


@pytest.mark.parametrize("mode", ["production"], indirect=True)
async def test_the_issue_s_thirty_second_outage(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    await outage_then_recovery(make_gateway, target, tmp_path, outage_s=30.0, cool_down=6.0)


async def test_a_failure_ratio_opens_it_without_consecutive_failures(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    """Every other call fails: never 4 in a row, but half of the calls in the window."""
    target.script.extend([503, 200] * 10)
    flow = "max_in_flight: 1\nbreaker: {failures: 4, ratio: 0.5, window: 1m, cool_down: 1h}"
    interface = rest_interface(target.url, schedule="[0.1s]").replace(
        "jitter: 0}", "jitter: 0, max_attempts: 100}"
    )
    gut = await make_gateway(write_config(tmp_path / "cfg", interface, systems_with_flow(flow)))
    await send_orders(gut.url, [f"RA-{n}" for n in range(6)], parallel=1)

    deadline = time.monotonic() + 20
    while (row := (await gut.admin("GET", "/v1/report")).json()["systems"][0])["breaker"] != "open":
        assert time.monotonic() < deadline, row
        await asyncio.sleep(0.05)
    calls = len(target.received)
    await asyncio.sleep(0.5)
    assert len(target.received) == calls  # open: no call goes
    assert row["consecutive_failures"] == 1
    statuses = [r.status for r in target.received]
    assert statuses[:5] == [503, 200, 503, 200, 503]  # 3 of 5 failed: the ratio, not a run
    assert calls == 5
