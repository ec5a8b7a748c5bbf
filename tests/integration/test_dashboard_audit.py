"""The audit section of the dashboard in a real headless Chromium: a replay made on the
page is listed with who, when (the factory's time), what and why; filters, "older"
pages, a configuration change's before/after, and the CSV export without the key in
any URL; in English and in Chinese."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.integration.test_dashboard import ARTIFACTS, CHROMIUM_ARGS, TIMEOUT_MS, chromium_path
from tests.integration.test_dashboard_state import sign_in
from tests.support.gateway import ADMIN_KEY, GatewayUnderTest, rest_interface, write_config
from tests.support.target import TargetServer

FACTORY = ZoneInfo("Asia/Shanghai")
EDITS = 55  # master-data edits after the replay: it is then on the second page of 50
REASON = "MES 已修复 order import"
URL_PATH = "interfaces.sales-order.targets.mes.connector.url"
REFRESH_MS = 20_000  # the section reads the trail again every 15 s while in view


@pytest.fixture
async def tab() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS
        )
        context = await browser.new_context(
            viewport={"width": 1400, "height": 900}, accept_downloads=True, locale="en-GB"
        )
        page = await context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        yield page
        await browser.close()


def factory_minute(at: str) -> str:
    """The factory's wall-clock minute of ``at``, as a datetime-local field holds it."""
    return datetime.fromisoformat(at).astimezone(FACTORY).strftime("%Y-%m-%dT%H:%M")


async def replay_on_the_page(page: Any, delivery_id: str) -> None:
    await page.click(f'#parked tr[data-delivery="{delivery_id}"] button[data-action="replay"]')
    await page.locator("#action-dialog[open]").wait_for()
    await page.fill("#action-reason", REASON)
    await page.fill("#action-operator", "li.wei")
    await page.click("#action-confirm")
    await page.locator("#action-dialog[open]").wait_for(state="detached")


async def shown(page: Any, text: str, timeout: float = TIMEOUT_MS) -> None:
    await page.locator("#audit-status", has_text=text).wait_for(timeout=timeout)


async def show(page: Any, **filters: str) -> None:
    for name in ("since", "until", "actor", "interface"):
        await page.fill(f"#audit-{name}", filters.get(name, ""))
    await page.select_option("#audit-action", filters.get("action", ""))
    await page.click('#audit-form button[type="submit"]')


async def make_history(gut: GatewayUnderTest, folder: Path, target: TargetServer) -> None:
    for n in range(EDITS):
        edit = {"codes": {"mes": f"9{n:05}"}, "reason": "客户主数据初始化"}
        assert (await gut.admin("PUT", f"/v1/xref/customer/erp/C{n:03}", json=edit)).is_success
    changed = rest_interface(target.url).replace("/api/work-orders", "/api/v2/work-orders")
    (folder / "interfaces.yaml").write_text(changed)
    why = {"reason": "MES v2", "operator": "wang.fang"}
    assert (await gut.admin("POST", "/v1/config/reload", json=why)).status_code == 200


async def check_replay_entry(page: Any, entry: dict[str, Any]) -> None:
    item = page.locator(f'#audit-entries li[data-id="{entry["id"]}"]')
    at = datetime.fromisoformat(entry["at"]).astimezone(FACTORY).strftime("%Y-%m-%d %H:%M:%S")
    assert await item.locator("time").inner_text() == at  # the factory's time, not UTC
    assert await item.locator(".audit-action").inner_text() == "Replayed"
    assert await item.locator(".audit-actor").inner_text() == "admin:li.wei"
    assert await item.locator(".audit-reason").inner_text() == REASON
    subject = await item.locator(".audit-subject").inner_text()
    assert subject == f"sales-order → mes, delivery {entry['delivery_id']}"
    sides = item.locator(".audit-sides pre")
    assert not await sides.first.is_visible()  # folded until asked
    await item.locator("summary").click()
    before, after = await sides.all_inner_texts()
    assert '"status": "parked"' in before
    assert '"status": "pending"' in after


async def check_config_entry(page: Any, target: TargetServer) -> None:
    item = page.locator('#audit-entries li[data-action="config.reload"]')
    assert await item.locator(".audit-actor").inner_text() == "admin:wang.fang"
    await item.locator("summary").click()
    rows = await item.locator(".audit-changes tbody tr").evaluate_all(
        "rows => rows.map(r => [r.dataset.path, ...[...r.cells].map(c => c.textContent)])"
    )
    assert rows == [
        [
            URL_PATH,
            URL_PATH,
            f"{target.url}/api/work-orders",
            f"{target.url}/api/v2/work-orders",
        ]
    ]


async def check_export(page: Any, gut: GatewayUnderTest) -> None:
    async with page.expect_download() as info:
        await page.click("#audit-export")
    download = await info.value
    assert download.suggested_filename == "audit.csv"
    content = await asyncio.to_thread(Path(await download.path()).read_bytes)
    assert content.startswith("\ufeff".encode())  # Excel reads it as UTF-8
    table = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert [row[2] for row in table[1:]] == ["replay"]  # the filters of the page
    assert table[1][1] == "admin:li.wei"
    assert table[1][6] == REASON
    assert table[1][0].endswith("+08:00")


# the trail itself is tested in both modes through the API (test_audit_trail.py,
# test_config_audit.py); the page runs in one mode to keep the suite short
@pytest.mark.parametrize("mode", ["embedded"], indirect=True)
async def test_the_audit_section_lists_a_replay_made_on_the_page(
    tab: Any, make_gateway, target: TargetServer, tmp_path: Path, mode: str
) -> None:
    page = tab
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("pageerror", lambda error: errors.append(str(error)))
    folder = write_config(tmp_path / "cfg", rest_interface(target.url))
    gut = await make_gateway(folder, time_zone="Asia/Shanghai", config_watch=False)
    target.script.append(400)
    accepted = await gut.send("sales_order", {"OrderNo": "SO-AUDIT-1"})
    message = await gut.wait_status(accepted.json()["id"], "parked")
    [delivery] = message["deliveries"]

    await sign_in(page, gut, "en")
    await replay_on_the_page(page, delivery["id"])
    await gut.wait_status(message["id"], "delivered")
    await make_history(gut, folder, target)
    [replayed] = (await gut.admin("GET", "/v1/audit?action=replay")).json()["entries"]

    await page.locator("#audit").scroll_into_view_if_needed()  # read when it comes into view
    await shown(page, "50 entries shown", REFRESH_MS)  # (or within 15 s if it was in view)
    actions = page.locator("#audit-entries > li")
    assert await actions.first.get_attribute("data-action") == "config.reload"  # newest first
    assert await page.locator('#audit-entries li[data-action="replay"]').count() == 0
    await page.click("#audit-older")
    await shown(page, f"{EDITS + 2} entries shown")
    assert await page.locator("#audit-older").is_hidden()  # the last page
    assert await actions.last.get_attribute("data-action") == "replay"
    await check_replay_entry(page, replayed)
    await check_config_entry(page, target)
    assert "times in Asia/Shanghai" in await page.locator("#audit-title").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    await page.locator("#audit-title").scroll_into_view_if_needed()
    await page.screenshot(path=str(ARTIFACTS / f"dashboard-audit-{mode}.png"))

    minute = factory_minute(replayed["at"])
    await show(page, since=minute, action="replay", interface="sales-order")
    await shown(page, "1 entry shown")
    await check_replay_entry(page, replayed)
    await check_export(page, gut)
    await show(page, until=minute)  # before the replay's minute, in the factory's zone
    await shown(page, "No entry matches.")
    later = (datetime.fromisoformat(minute) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    await show(page, since=later)
    await shown(page, "No entry matches.")
    await show(page, actor="admin:li.wei")
    await shown(page, "1 entry shown")
    await show(page, action="xref")
    await shown(page, "50 entries shown")

    assert "⟦" not in await page.locator("#audit").inner_text()
    assert errors == []
    assert not [url for url in requests if ADMIN_KEY in url]
    assert all(url.startswith((gut.url, "blob:")) for url in requests)


# the words do not depend on the mode: one mode keeps the suite short
@pytest.mark.parametrize("mode", ["embedded"], indirect=True)
async def test_the_audit_section_reads_in_chinese(
    tab: Any, make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    page = tab
    folder = write_config(tmp_path / "cfg", rest_interface(target.url))
    gut = await make_gateway(folder, config_watch=False)
    working = rest_interface(target.url)
    (folder / "interfaces.yaml").write_text(working.replace("kind: rest", "kind: rets"))
    assert (await gut.admin("POST", "/v1/config/reload")).status_code == 422
    await page.goto(f"{gut.url}/dashboard")
    await page.evaluate("localStorage.setItem('esb.language', 'zh')")
    await sign_in(page, gut, "zh")
    await page.locator("#audit").scroll_into_view_if_needed()
    await shown(page, "已显示 1 条")
    item = page.locator('#audit-entries li[data-action="config.refused"]')
    assert await item.locator(".audit-action").inner_text() == "配置变更被拒绝"
    await item.locator("summary").click()
    [problem] = await item.locator(".problems li").all_inner_texts()
    assert "unknown connector kind 'rets'" in problem
    heading = await page.locator("#audit-title").inner_text()
    assert heading.startswith("审计记录")

    await item.locator("summary").click()  # folded again: an open one is not redrawn
    (folder / "interfaces.yaml").write_text(working.replace("work-orders", "v2/work-orders"))
    assert (await gut.admin("POST", "/v1/config/reload")).status_code == 200
    await shown(page, "已显示 2 条", REFRESH_MS)  # in view: read again by itself
    newest = page.locator("#audit-entries > li").first
    assert await newest.locator(".audit-action").inner_text() == "配置已重新加载"
    await newest.locator("summary").click()
    heads = await newest.locator(".audit-changes thead th").all_inner_texts()
    assert heads == ["配置项", "之前", "之后"]
    assert "⟦" not in await page.locator("#audit").inner_text()
