"""Alerts reach the team's WeCom / DingTalk group: markdown naming the interface, target,
status, waiting deliveries, last error and the dashboard; a recovery message; at most 20
messages a minute per robot, a burst folded into digests and nothing dropped; a robot
that refuses the gateway (a bad DingTalk secret) shows in the health report and /metrics.
All over real HTTP to stand-ins that check keys, signatures and the rate limit."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from typing import Any

import aiohttp

from esb.alerts import Alerter
from esb.config.models import ChatChannel
from tests.integration.test_metrics import samples
from tests.support.gateway import SYSTEMS_YAML, rest_interface, write_config
from tests.support.robots import DINGTALK_SECRET, RobotServer
from tests.support.target import TargetServer

RETRY = "retry: {schedule: [0.2s], max_attempts: 1000, jitter: 0}"


def alerts_yaml(channels: str, **options: str) -> str:
    lines = "".join(f"  {k}: {v}\n" for k, v in options.items())
    return f"alerts:\n  dashboard_url: http://gw.example/dashboard\n{lines}  channels:\n{channels}"


def wecom(robots: RobotServer, name: str = "team-wecom", extra: str = "") -> str:
    return f"    {name}:\n      kind: wecom\n      url: {robots.wecom_url()}\n{extra}"


def dingtalk(robots: RobotServer, secret: str, extra: str = "") -> str:
    return (
        f"    team-dingtalk:\n      kind: dingtalk\n      url: {robots.dingtalk_url()}\n"
        f"      secret: {secret}\n{extra}"
    )


async def test_mes_down_tells_wecom_within_a_minute_then_its_recovery(
    make_gateway, tmp_path: Path
) -> None:
    robots = await RobotServer().start()
    mes = await TargetServer().start()
    port = mes.served.port if mes.served else 0
    try:
        interfaces = rest_interface(mes.url).replace(
            "retry: {schedule: [0.1s, 0.2s, 0.3s], jitter: 0}", RETRY
        )
        folder = write_config(tmp_path / "cfg", interfaces)
        (folder / "alerts.yaml").write_text(
            alerts_yaml(wecom(robots), check="0.3s", window="2s", every="1h")
        )
        await mes.stop()  # MES down: its port refuses connections
        gut = await make_gateway(folder)
        started = time.monotonic()
        await gut.send("sales_order", {"OrderNo": "SO-DOWN-1"})

        down = await robots.wait_for("wecom", "sales-order", timeout_s=60)
        assert time.monotonic() - started < 60
        text = down.text
        assert "告警" in text
        assert "接口" in text
        for part in ("sales-order", "mes", "failing", "等待投递", "最近错误"):
            assert part in text, (part, text)
        assert "http://gw.example/dashboard#sales-order/mes" in text
        assert down.body["msgtype"] == "markdown"
        assert set(down.body["markdown"]) == {"content"}
        await asyncio.sleep(1.0)
        assert len(robots.shown("wecom")) == 1  # one message for the outage, not one per check

        mes = TargetServer()
        mes._port = port
        await mes.start()  # MES back on the same port
        recovered = await robots.wait_for("wecom", "恢复", timeout_s=30)
        assert "sales-order" in recovered.text
        assert "mes" in recovered.text
        assert [c.errcode for c in robots.calls] == [0, 0]
        report = (await gut.admin("GET", "/v1/report")).json()
        (channel,) = report["alert_channels"]
        assert channel["name"] == "team-wecom"
        assert channel["ok"] is True
        assert channel["sent"] == 2
        assert channel["waiting"] == 0
        assert channel["url"].endswith("/wecom/cgi-bin/webhook/send")  # the key is not shown
    finally:
        await mes.stop()
        await robots.stop()


def many_interfaces(url: str, count: int) -> str:
    out = "interfaces:\n"
    for n in range(count):
        out += f"""
  line-{n:02d}:
    source: erp
    message_type: report_{n:02d}
    retry: {{schedule: [0.05s], max_attempts: 3, jitter: 0}}
    targets:
      mes:
        connector: {{kind: rest, url: "{url}/api/line-{n:02d}", timeout: {{total: 2s}}}}
"""
    return out


def folded(text: str) -> int:
    """How many alerts one message carries (a digest or a repeated alert says so)."""
    found = re.search(r"合并了 (\d+) 条告警", text)
    return int(found.group(1)) if found else 1


async def test_a_burst_across_ten_interfaces_stays_under_twenty_messages_a_minute(
    make_gateway, tmp_path: Path
) -> None:
    """200 failing deliveries over 10 interfaces, alerts re-armed every second and three
    processes checking: the robot sees at most 20 messages, never its limit answer, and
    together they name every interface; every alert was shown or still waits its turn."""
    robots = await RobotServer().start()
    mes = await TargetServer(default_status=503).start()
    try:
        folder = write_config(tmp_path / "cfg", many_interfaces(mes.url, 10), SYSTEMS_YAML)
        (folder / "alerts.yaml").write_text(  # check 1h: only the three below check
            alerts_yaml(wecom(robots), check="1h", window="1m", every="1s")
        )
        gut = await make_gateway(folder)
        for n in range(10):
            for i in range(20):
                await gut.send(f"report_{n:02d}", {"No": f"L{n}-{i}"})
        started = time.monotonic()
        processes = [Alerter(gut.gateway.engine, lambda: gut.gateway.config) for _ in range(3)]
        raised: list[dict[str, Any]] = []

        async def check_often(alerter: Alerter) -> None:
            async with aiohttp.ClientSession() as session:
                while time.monotonic() - started < 10:
                    raised.extend(await alerter.check(session))
                    await asyncio.sleep(0.1)

        await asyncio.gather(*(check_often(a) for a in processes))
        assert time.monotonic() - started < 60
        shown = robots.shown("wecom")
        assert 1 <= len(shown) <= 20, (len(shown), len(raised), robots.calls[:3])
        assert len(robots.calls) == len(shown)  # never a 45009: the budget held
        named = set(re.findall(r"line-\d\d", "\n".join(c.text for c in shown)))
        assert named == {f"line-{n:02d}" for n in range(10)}
        assert any("告警汇总" in c.text for c in shown)  # bursts went out as digests
        report = (await gut.admin("GET", "/v1/report")).json()
        (channel,) = report["alert_channels"]
        assert channel["ok"] is True
        assert channel["sent"] == len(shown)
        assert len(raised) > 20  # far more alerts than messages: folded
        # nothing dropped: every alert raised was carried by a message or waits
        assert sum(folded(c.text) for c in shown) + channel["waiting"] == len(raised)
    finally:
        await mes.stop()
        await robots.stop()


async def test_a_robot_over_its_limit_is_retried_after_the_window(
    make_gateway, tmp_path: Path
) -> None:
    """A robot stricter than configured answers 45009: the alerts wait out the window and
    are shown afterwards, none lost."""
    robots = await RobotServer(limit=2, per_s=2.0).start()
    mes = await TargetServer(default_status=503).start()
    try:
        folder = write_config(tmp_path / "cfg", many_interfaces(mes.url, 6), SYSTEMS_YAML)
        limit = "      limit: {messages: 20, per: 2s}\n"
        (folder / "alerts.yaml").write_text(
            alerts_yaml(wecom(robots, extra=limit), check="0.2s", window="1m", every="1h")
        )
        gut = await make_gateway(folder)
        for n in range(6):
            await gut.send(f"report_{n:02d}", {"No": f"L{n}"})
            await asyncio.sleep(0.4)  # failures arrive one after another: several messages
        deadline = time.monotonic() + 30
        wanted = {f"line-{n:02d}" for n in range(6)}
        while time.monotonic() < deadline:
            named = set(re.findall(r"line-\d\d", "\n".join(c.text for c in robots.shown())))
            if named == wanted:
                break
            await asyncio.sleep(0.2)
        assert named == wanted
        refused = [c for c in robots.calls if c.errcode == 45009]
        assert refused, [c.errcode for c in robots.calls]
        for call in refused:  # the next try waited out the window
            later = [c.at for c in robots.calls if c.at > call.at]
            assert not later or min(later) - call.at >= 1.9
    finally:
        await mes.stop()
        await robots.stop()


async def test_a_bad_dingtalk_secret_is_an_alert_channel_error(
    make_gateway, tmp_path: Path
) -> None:
    robots = await RobotServer().start()
    mes = await TargetServer(default_status=503).start()
    try:
        interfaces = rest_interface(mes.url).replace(
            "retry: {schedule: [0.1s, 0.2s, 0.3s], jitter: 0}", RETRY
        )
        folder = write_config(tmp_path / "cfg", interfaces)
        channels = dingtalk(robots, "SECnot-the-robots-secret") + wecom(robots)
        (folder / "alerts.yaml").write_text(alerts_yaml(channels, check="0.3s", every="1h"))
        gut = await make_gateway(folder)
        await gut.send("sales_order", {"OrderNo": "SO-SIGN-1"})
        await robots.wait_for("wecom", "sales-order")  # the other robot still gets it
        await robots.wait_refused(310000)
        # the robots answered; the gateway records each answer just after: wait for both
        deadline = time.monotonic() + 10
        while True:
            report = (await gut.admin("GET", "/v1/report")).json()
            by_name = {c["name"]: c for c in report["alert_channels"]}
            bad = by_name["team-dingtalk"]
            recorded = bad["ok"] is False and by_name["team-wecom"]["sent"] >= 1
            if recorded or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        assert bad["ok"] is False, bad
        assert bad["kind"] == "dingtalk"
        assert "310000" in bad["last_error"]
        assert "sign not match" in bad["last_error"]
        assert bad["last_sent_at"] is None
        assert bad["waiting"] >= 1
        assert by_name["team-wecom"]["ok"] is True
        await gut.gateway.metrics.refresh(gut.gateway.engine)
        text = (await gut.client.get(f"{gut.url}/metrics")).text
        found = samples(text)
        ok = "esb_alert_channel_ok"
        assert found[(ok, (("channel", "team-dingtalk"), ("kind", "dingtalk")))] == 0
        assert found[(ok, (("channel", "team-wecom"), ("kind", "wecom")))] == 1
        assert found[("esb_alert_channel_waiting", (("channel", "team-dingtalk"),))] >= 1
    finally:
        await mes.stop()
        await robots.stop()


async def test_dingtalk_signed_messages_in_english_by_setting(make_gateway, tmp_path: Path) -> None:
    robots = await RobotServer().start()
    mes = await TargetServer(default_status=503).start()
    try:
        interfaces = rest_interface(mes.url).replace(
            "retry: {schedule: [0.1s, 0.2s, 0.3s], jitter: 0}", RETRY
        )
        folder = write_config(tmp_path / "cfg", interfaces)
        (folder / "alerts.yaml").write_text(
            alerts_yaml(dingtalk(robots, "${DING_SECRET}"), check="0.3s", language="en")
        )
        gut = await make_gateway(folder, env={"DING_SECRET": DINGTALK_SECRET})
        await gut.send("sales_order", {"OrderNo": "SO-EN-1"})
        call = await robots.wait_for("dingtalk", "sales-order")
        assert set(call.body["markdown"]) == {"title", "text"}
        assert call.body["markdown"]["title"].startswith("Alert: sales-order → mes")
        text = call.body["markdown"]["text"]
        for part in ("Interface", "Target", "Status", "failing", "Waiting deliveries"):
            assert part in text, (part, text)
        assert "HTTP 503" in text
        assert not re.search(r"[\u4e00-\u9fff]", text)  # no Chinese in the English setting
    finally:
        await mes.stop()
        await robots.stop()


async def test_the_dingtalk_stand_in_checks_the_signature_and_its_hour() -> None:
    from esb.alert_robots import dingtalk_sign, request_body, send, signed_url

    robots = await RobotServer().start()
    try:
        good = ChatChannel(kind="dingtalk", url=robots.dingtalk_url(), secret=DINGTALK_SECRET)
        wrong = ChatChannel(kind="dingtalk", url=robots.dingtalk_url(), secret="SECwrong")
        async with aiohttp.ClientSession() as session:
            assert (await send(session, good, "t", "text")).outcome == "ok"
            refused = await send(session, wrong, "t", "text")
            assert refused.outcome == "failed"
            assert "310000" in (refused.error or "")
            unsigned = ChatChannel(kind="dingtalk", url=robots.dingtalk_url())
            assert "310000" in ((await send(session, unsigned, "t", "x")).error or "")
            stale_ms = int((time.time() - 3700) * 1000)  # more than an hour ago
            url = signed_url(robots.dingtalk_url(), DINGTALK_SECRET, stale_ms)
            async with session.post(
                aiohttp.client.URL(url, encoded=True),
                json=request_body("dingtalk", "t", "x"),
            ) as response:
                assert (await response.json())["errcode"] == 310000
            other = ChatChannel(kind="dingtalk", url=robots.dingtalk_url("no-such-token"))
            assert "300001" in ((await send(session, other, "t", "x")).error or "")
        assert [c.errcode for c in robots.calls] == [0, 310000, 310000, 310000, 300001]
        # the sign is URL-encoded Base64 (its + / = escaped on the URL)
        sign = dingtalk_sign(DINGTALK_SECRET, 1_700_000_000_000)
        assert "%" in sign or re.fullmatch(r"[A-Za-z0-9]+", sign)
        assert "+" not in sign
        assert "/" not in sign
        assert "=" not in sign
    finally:
        await robots.stop()


async def test_the_wecom_stand_in_checks_the_key_and_the_message() -> None:
    from esb.alert_robots import send

    robots = await RobotServer().start()
    try:
        good = ChatChannel(kind="wecom", url=robots.wecom_url())
        async with aiohttp.ClientSession() as session:
            assert (await send(session, good, "t", "**hi**")).outcome == "ok"
            wrong = ChatChannel(kind="wecom", url=robots.wecom_url("not-a-key"))
            assert "93000" in ((await send(session, wrong, "t", "x")).error or "")
            empty = await send(session, good, "t", " ")
            assert empty.outcome == "failed"
            gone = ChatChannel(kind="wecom", url="http://127.0.0.1:9/cgi-bin/webhook/send?key=k")
            unreachable = await send(session, gone, "t", "x")
            assert unreachable.outcome == "failed"
            assert "unreachable" in (unreachable.error or "")
            assert "key=" not in (unreachable.error or "")  # the key is a credential
        assert robots.shown("wecom")[0].body == {
            "msgtype": "markdown",
            "markdown": {"content": "**hi**"},
        }
    finally:
        await robots.stop()


async def test_the_demo_factory_alerts_a_signed_dingtalk_robot_when_its_variable_is_set(
    make_gateway, tmp_path: Path
) -> None:
    """The shipped demo configuration, its MES failing: ALERT_DINGTALK_URL and
    ALERT_DINGTALK_SECRET switch its robot on, and the message is signed and shown."""
    from esb.settings import demo_config_dir

    robots = await RobotServer().start()
    mes = await TargetServer(default_status=503).start()
    try:
        env = {
            "ERP_API_KEY": "erp-demo-test-key",
            "MES_URL": mes.url,
            "ERP_URL": mes.url,
            "DROP_DIR": str(tmp_path / "drop"),
            "ALERT_DINGTALK_URL": robots.dingtalk_url(),
            "ALERT_DINGTALK_SECRET": DINGTALK_SECRET,
        }
        gut = await make_gateway(demo_config_dir(), env=env, config_watch=False)
        order = Path(__file__).parents[1] / "data/scenario/inputs/sales_order_normal.json"
        response = await gut.client.post(
            f"{gut.url}/v1/messages/sales_order",
            content=order.read_bytes(),
            headers={
                "Authorization": "Bearer erp-demo-test-key",
                "Content-Type": "application/json",
            },
        )
        assert response.status_code == 202, response.text
        call = await robots.wait_for("dingtalk", "sales-order", timeout_s=60)
        assert "mes" in call.text
        assert "接口" in call.text
        assert [c.errcode for c in robots.calls] == [0]  # signed right the first time
    finally:
        await mes.stop()
        await robots.stop()


async def test_the_demo_serves_the_robots_under_demo() -> None:
    """``esb serve``'s own stand-ins: /demo/wecom/... and /demo/dingtalk/... (signed)."""
    from starlette.applications import Starlette
    from starlette.routing import Mount

    from esb.alert_robots import send
    from esb.demo import DEMO_DINGTALK_SECRET, DEMO_DINGTALK_TOKEN, DEMO_WECOM_KEY, demo_app
    from esb.testing.served import Served

    served = await Served(Starlette(routes=[Mount("/demo", demo_app())])).start()
    try:
        base = f"{served.url}/demo"
        wecom_ = ChatChannel(
            kind="wecom", url=f"{base}/wecom/cgi-bin/webhook/send?key={DEMO_WECOM_KEY}"
        )
        ding = ChatChannel(
            kind="dingtalk",
            url=f"{base}/dingtalk/robot/send?access_token={DEMO_DINGTALK_TOKEN}",
            secret=DEMO_DINGTALK_SECRET,
        )
        async with aiohttp.ClientSession() as session:
            assert (await send(session, wecom_, "t", "**告警**")).outcome == "ok"
            assert (await send(session, ding, "告警", "**告警**")).outcome == "ok"
            async with session.get(f"{base}/wecom/received") as listing:
                (shown,) = await listing.json()
            assert shown["body"]["markdown"]["content"] == "**告警**"
            async with session.get(f"{base}/dingtalk/received") as listing:
                assert len(await listing.json()) == 1
    finally:
        await served.stop()
