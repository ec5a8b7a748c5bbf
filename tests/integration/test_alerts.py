"""Alerts reach a webhook when a target fails or backs up, at most once per interval."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from esb.alerts import Alerter
from tests.support.gateway import rest_interface, write_config
from tests.support.target import TargetServer


async def test_failing_and_backlog_alerts_are_rate_limited(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    webhook = await TargetServer().start()
    try:
        interfaces = rest_interface(target.url, schedule="[0.05s, 0.05s, 0.05s, 60s]").replace(
            "    targets:", "    health: {backlog_above: 0}\n    targets:"
        )
        folder = write_config(tmp_path / "cfg", interfaces)
        (folder / "alerts.yaml").write_text(
            f"alerts:\n  webhook: {webhook.url}/hooks/esb\n  every: 1h\n"
            "  dashboard_url: http://gw.example/dashboard\n  headers: {X-Token: t0k3n}\n"
        )
        target.default_status = 503
        gut = await make_gateway(folder)
        message_id = (await gut.send("sales_order", {"OrderNo": "SO-A1"})).json()["id"]
        await gut.wait_for(message_id, lambda m: m["deliveries"][0]["attempts"] >= 3)

        alerter = Alerter(gut.gateway.engine, lambda: gut.gateway.config)
        async with aiohttp.ClientSession() as session:
            first = await alerter.check(session)
            again = await alerter.check(session)
        assert sorted(n["kind"] for n in first) == ["backlog", "failing"]
        assert again == []  # within the interval: nothing more
        bodies = webhook.bodies("/hooks/esb")
        assert len(bodies) == 2
        failing = next(b for b in bodies if b["kind"] == "failing")
        assert failing["dashboard"] == "http://gw.example/dashboard#sales-order/mes"
        assert failing["last_error"]["error"].startswith("HTTP 503")
        assert "sales-order -> mes is failing" in failing["text"]
        assert webhook.received[0].headers["x-token"] == "t0k3n"
    finally:
        await webhook.stop()
