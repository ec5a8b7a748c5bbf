"""The dashboard's parallel-run section in a real headless Chromium: each shadow with today's
match rate, comparisons and differing fields, exactly as the API counts them; promote and
roll back through its dialog (a reason required), audited; in English and in Chinese, no
text missing from either catalogue."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from esb.i18n import text
from tests.integration.test_dashboard import CHROMIUM_ARGS, TIMEOUT_MS, chromium_path
from tests.support.gateway import ADMIN_KEY, GatewayUnderTest
from tests.support.shadow import IGNORE, candidate_config, order, send_all, wait_compared
from tests.support.target import TargetServer

PROMOTE_WHY = "two weeks in parallel, only priority differs, MES agreed"
ROLLBACK_WHY = "MES 拒收 RUSH"


@pytest.fixture
async def browser_page() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS
        )
        page = await browser.new_page(viewport={"width": 1600, "height": 900})
        page.set_default_timeout(TIMEOUT_MS)
        yield page
        await browser.close()


ROW = '#shadow tr[data-shadow="sales-order/mes"]'
READ_ROW = """row => Object.fromEntries([...row.querySelectorAll('[data-field]')]
  .map(cell => [cell.dataset.field, [cell.dataset.value ?? null, cell.textContent]]))"""


async def open_board(page: Any, gut: GatewayUnderTest) -> None:
    """Open the page; sign in unless this tab holds the key (the page shows one or the other
    once its script has started)."""
    await page.goto(f"{gut.url}/dashboard")
    await page.locator("#login:visible, #board:visible").first.wait_for()
    if await page.locator("#login").is_visible():
        await page.fill("#admin-key", ADMIN_KEY)
        await page.press("#admin-key", "Enter")
    await page.locator(ROW).wait_for()


async def missing_words(page: Any) -> list[str]:
    """Keys the page shows as ⟦key⟧: missing from the page language's catalogue."""
    text = await page.evaluate("document.body.innerText")
    return [part.split("⟧")[0] for part in text.split("⟦")[1:]]


async def act(page: Any, action: str, reason: str) -> str:
    """Open the row's dialog, try without a reason (refused), then give one and confirm;
    what the dialog said would change."""
    await page.click(f'{ROW} button[data-action="{action}"]')
    await page.locator("#shadow-dialog[open]").wait_for()
    effect = await page.locator("#shadow-dialog-effect").text_content()
    await page.click("#shadow-confirm")
    await page.locator("#shadow-error:not(:empty)").wait_for()  # no reason: refused in words
    await page.fill("#shadow-reason", reason)
    await page.fill("#shadow-operator", "zhang.min")
    await page.click("#shadow-confirm")
    await page.locator("#shadow-dialog[open]").wait_for(state="detached")
    after = "rollback" if action == "promote" else "promote"
    await page.locator(f'{ROW} button[data-action="{after}"]').wait_for()
    return str(effect)


# the page draws what the API answers, tested in both modes (test_routes.py,
# test_shadow.py): the browser part runs in one mode to keep the suite short
@pytest.mark.parametrize("mode", ["embedded"], indirect=True)
async def test_the_parallel_run_section_shows_the_numbers_and_promotes(
    make_gateway, target: TargetServer, tmp_path: Path, browser_page: Any
) -> None:
    page = browser_page
    shadow = f"{{mapping: order-to-mes-v2, ignore: {IGNORE}}}"
    gut = await make_gateway(candidate_config(tmp_path / "cfg", target.url, shadow))
    ids = await send_all(gut, [order(n, n in {1, 4, 9, 10}) for n in range(12)])
    for message_id in ids:
        await gut.wait_status(message_id, "delivered")
    entry = await wait_compared(gut, 12)

    await open_board(page, gut)
    cells = await page.eval_on_selector(ROW, READ_ROW)
    assert cells["match_rate"] == [str(entry["today"]["match_rate"]), "66.7%"]
    assert cells["compared"] == ["12", "12"]
    assert "candidate mapping order-to-mes-v2" in await page.locator(ROW).text_content()
    fields = await page.eval_on_selector_all(f"{ROW} .shadow-fields li", "li => li.map(l => "
                                             "[l.dataset.field, l.textContent])")  # fmt: skip
    assert fields == [["priority", "priority in 4 documents"]]
    assert await missing_words(page) == []

    effect = await act(page, "promote", PROMOTE_WHY)
    assert effect.startswith(
        "Now mes via order-to-mes gets the messages. Afterwards mes via order-to-mes-v2 does"
    )
    listed = (await gut.admin("GET", "/v1/shadow")).json()["shadows"][0]
    assert listed["state"] == "promoted"
    assert listed["promoted"]["by"] == "admin:zhang.min"
    assert "promoted" in await page.locator(f"{ROW} [data-field=state]").text_content()

    await page.evaluate("localStorage.setItem('esb.language', 'zh')")
    await open_board(page, gut)
    title = f"{text('shadow.title', 'zh')} {text('shadow.subtitle', 'zh')}"
    assert await page.locator("#shadow-title").text_content() == title
    at = datetime.fromisoformat(listed["promoted"]["at"]).astimezone(ZoneInfo("Asia/Shanghai"))
    promoted = text(
        "shadow.state.promoted", "zh", at=f"{at:%Y-%m-%d %H:%M:%S}", by="admin:zhang.min"
    )
    now = text("shadow.delivering", "zh", target="mes", mapping="order-to-mes-v2")
    assert await page.locator(f"{ROW} [data-field=state]").text_content() == promoted + now
    assert await missing_words(page) == []
    effect = await act(page, "rollback", ROLLBACK_WHY)
    v2, v1 = (text("shadow.route_via", "zh", target="mes", mapping=f"order-to-mes{v}")
              for v in ("-v2", ""))  # fmt: skip
    assert effect == text("shadow.dialog.rollback_effect", "zh", now=v2, after=v1)
    assert (await gut.admin("GET", "/v1/shadow")).json()["shadows"][0]["state"] == "shadow"
    shown = await page.locator(f"{ROW} [data-field=state]").text_content()
    assert shown.startswith(text("shadow.state.shadow", "zh"))

    await page.locator("#audit").scroll_into_view_if_needed()  # read when it comes into view
    await page.select_option("#audit-action", "shadow")
    await page.click('#audit-form button[type="submit"]')
    entry = page.locator('#audit-entries li[data-action="shadow.rollback"]')
    await entry.wait_for()
    assert await entry.locator(".audit-action").text_content() == text(
        "audit.action.shadow.rollback", "zh"
    )
    assert await entry.locator(".audit-subject").text_content() == text(
        "shadow.audit_subject", "zh", interface="sales-order", target="mes"
    )
    assert await page.locator("#audit-entries > li").count() == 2  # both, nothing else
    trail = (await gut.admin("GET", "/v1/audit?action=shadow")).json()["entries"]
    assert [(e["action"], e["actor"], e["reason"]) for e in trail] == [
        ("shadow.rollback", "admin:zhang.min", ROLLBACK_WHY),
        ("shadow.promote", "admin:zhang.min", PROMOTE_WHY),
    ]
