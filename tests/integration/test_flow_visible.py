"""What an operator sees of flow control: the report, /metrics, the dashboard and alerts,
while a target is slow, then down (breaker open), then back (breaker closed)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

from esb.alerts import Alerter
from tests.integration.test_dashboard import ADMIN_KEY, page  # noqa: F401  (a fixture)
from tests.integration.test_metrics import samples
from tests.support.flow import send_orders, systems_with_flow, wait_orders
from tests.support.gateway import GatewayUnderTest, rest_interface, write_config
from tests.support.target import TargetServer

FLOW = "max_in_flight: 2\nrate: 50/s\nbreaker: {failures: 3, cool_down: 1500ms}"


async def system_row(gut: GatewayUnderTest) -> dict[str, Any]:
    report = (await gut.admin("GET", "/v1/report")).json()
    (row,) = report["systems"]
    return dict(row)


async def until(
    gut: GatewayUnderTest, check: Callable[[dict[str, Any]], bool], timeout: float = 20.0
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while not check(row := await system_row(gut)):
        assert time.monotonic() < deadline, row
        await asyncio.sleep(0.05)
    return row


async def metric(gut: GatewayUnderTest, name: str, **labels: str) -> float:
    await gut.gateway.metrics.refresh(gut.gateway.engine)
    text = (await gut.client.get(f"{gut.url}/metrics")).text
    want = tuple(sorted(labels.items()))
    return sum(v for (n, found), v in samples(text).items() if n == name and found == want)


async def alerts(gut: GatewayUnderTest) -> list[dict[str, Any]]:
    """The breaker's alerts of one check (the target's own "failing" alert aside)."""
    alerter = Alerter(gut.gateway.engine, lambda: gut.gateway.config)
    async with aiohttp.ClientSession() as session:
        sent = await alerter.check(session)
    return [a for a in sent if a["kind"].startswith("breaker")]


async def dashboard_row(browser: Any, gut: GatewayUnderTest, breaker: str) -> dict[str, str]:
    await browser.goto(f"{gut.url}/dashboard")
    await browser.fill("#admin-key", ADMIN_KEY)
    await browser.press("#admin-key", "Enter")
    row = browser.locator(f'#systems-rows tr.breaker-{breaker}[data-system="mes"]')
    await row.wait_for()
    cells = await row.locator("td").evaluate_all(
        "cells => cells.map(c => [c.dataset.field, c.dataset.value, c.textContent])"
    )
    return {field: (value, text) for field, value, text in cells}


async def test_report_metrics_dashboard_and_alerts_follow_the_breaker(
    make_gateway,
    target: TargetServer,
    tmp_path: Path,
    page: Any,  # noqa: F811
) -> None:
    webhook = await TargetServer().start()
    try:
        interface = rest_interface(target.url, schedule="[0.2s]").replace(
            "jitter: 0}", "jitter: 0, max_attempts: 100}"
        )
        folder = write_config(tmp_path / "cfg", interface, systems_with_flow(FLOW))
        (folder / "alerts.yaml").write_text(f"alerts:\n  webhook: {webhook.url}/hook\n")
        gut = await make_gateway(folder)
        closed = await system_row(gut)
        assert closed["breaker"] == "closed"
        assert (closed["in_flight"], closed["max_in_flight"], closed["rate_per_s"]) == (0, 2, 50)

        target.delay_s = 1.0  # slow: both slots busy, the others wait for one
        await send_orders(gut.url, [f"V-{n}" for n in range(6)])
        busy = await until(gut, lambda r: r["in_flight"] == 2 and r["deferred"]["max_in_flight"])
        # read a moment after the report: a round of calls may just have ended (a loaded
        # CI run read 0 between two rounds), so the metric is watched until both are busy
        deadline = time.monotonic() + 10
        while (shown := await metric(gut, "esb_flow_in_flight", system="mes")) != 2:
            assert time.monotonic() < deadline, shown
            await asyncio.sleep(0.05)
        await wait_orders(target, 6, timeout=30)

        target.delay_s, target.default_status = 0.0, 503  # down: the breaker opens
        await send_orders(gut.url, [f"W-{n}" for n in range(10)])
        opened = await until(gut, lambda r: r["breaker"] == "open" and r["deferred"]["breaker"])
        assert opened["reopens_at"] is not None
        assert await metric(gut, "esb_flow_breaker_state", system="mes") == 2
        assert await metric(gut, "esb_flow_waiting", system="mes", reason="breaker") > 0
        assert await metric(gut, "esb_flow_deferred_total", system="mes", reason="breaker") > 0
        shown = await dashboard_row(page, gut, "open")
        assert shown["breaker"][0] == "open"
        assert "Open" in shown["breaker"][1]  # the page is in English (the browser's)
        sent = await alerts(gut)
        assert [a["kind"] for a in sent] == ["breaker_opened"]
        assert "熔断器已打开" in sent[0]["text_zh"]
        assert "3 consecutive transient failures" in sent[0]["text_en"]
        assert sent[0]["system"] == "mes"

        target.default_status = 200  # back: the probe succeeds and closes it
        await wait_orders(target, 16, timeout=30)
        back = await until(gut, lambda r: r["breaker"] == "closed")
        assert back["deferred"] == {"breaker": 0, "max_in_flight": 0, "rate": 0}
        assert await metric(gut, "esb_flow_breaker_state", system="mes") == 0
        later = await alerts(gut)
        assert [a["kind"] for a in later] == ["breaker_closed"]
        assert "熔断器已关闭" in later[0]["text_zh"]
        assert await alerts(gut) == []  # each event once
        kinds = [b["kind"] for b in webhook.bodies("/hook") if b["kind"].startswith("breaker")]
        assert kinds == ["breaker_opened", "breaker_closed"]
        print(f"\nVISIBLE busy {busy} / open {opened}")
    finally:
        await webhook.stop()
