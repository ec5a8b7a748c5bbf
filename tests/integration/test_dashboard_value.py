"""The dashboard's value page in a real headless Chromium (both modes): the month's figures
are what the test sent, in English and in Chinese; printing leaves the report alone; the
CSV button saves the report; another month can be chosen."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_dashboard import CHROMIUM_ARGS, TIMEOUT_MS, chromium_path
from tests.support.gateway import ADMIN_KEY, GatewayUnderTest
from tests.support.target import TargetServer
from tests.support.value_scene import run_scene

FIELDS = {  # the page's cells and the report's figures
    "moved": "moved",
    "refused": "refused",
    "fixed": "fixed",
    "retried": "retried",
    "median": "median_end_to_end_ms",
    "hours": "hours_saved",
}


@pytest.fixture
async def browser_page() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS
        )
        context = await browser.new_context(
            viewport={"width": 1400, "height": 900}, locale="en-GB", accept_downloads=True
        )
        page = await context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        yield page
        await browser.close()


async def open_value_page(page: Any, gut: GatewayUnderTest) -> None:
    await page.goto(f"{gut.url}/dashboard")
    await page.fill("#admin-key", ADMIN_KEY)
    await page.press("#admin-key", "Enter")
    await page.locator("#updated").filter(has_text=":").wait_for()
    await page.click(".pages a[href='#value']")
    await page.locator("#value-rows tr").first.wait_for()


async def cells(page: Any, interface: str) -> dict[str, str]:
    """The row's figures as the page holds them (``data-value``) and shows them."""
    row = page.locator(f"#value tr[data-interface='{interface}']")
    found = await row.locator("td").evaluate_all(
        "cells => cells.map(c => [c.dataset.field, c.dataset.value, c.textContent])"
    )
    return {field: (value, text) for field, value, text in found}


def number(value: str) -> float | None:
    return None if value == "" else float(value)


async def test_the_value_page_shows_the_months_figures(
    browser_page: Any, make_gateway: Any, target: TargetServer, tmp_path: Path
) -> None:
    page = browser_page
    scene = await run_scene(make_gateway, target, tmp_path / "cfg")
    gut = scene["gut"]
    await open_value_page(page, gut)

    assert await page.locator("#value-month").input_value() == scene["period"]
    assert scene["period"] in await page.locator("#value-period").inner_text()
    for interface, expected in (
        ("sales-order", scene["sales-order"]),
        ("status-update", scene["status-update"]),
        ("", scene["total"]),  # the total row
    ):
        shown = await cells(page, interface)
        for field, key in FIELDS.items():
            assert number(shown[field][0]) == expected[key], (interface, field)
        for field in ("moved", "fixed", "retried"):
            assert shown[field][1] == str(expected[FIELDS[field]]), (interface, field)
    sales = await cells(page, "sales-order")
    assert sales["hours"][1] == "0.75"
    assert sales["refused"][1].startswith("5")
    assert "Lines[].Qty: 3" in sales["refused"][1]
    assert "(the body): 1" in sales["refused"][1]
    assert (await cells(page, "status-update"))["hours"][1] == "—"  # no minutes: no estimate

    # the page is the report alone: the board's sections are not shown
    assert await page.locator("#tiles").is_hidden()
    assert await page.locator("#value").is_visible()
    text = await page.locator("body").inner_text()
    assert "⟦" not in text
    assert "Documents moved without re-keying" in text

    # printing leaves the report and its terms, without the header, links and buttons
    await page.emulate_media(media="print")
    for hidden in (".bar", ".pages", ".value-controls", "#tiles"):
        assert await page.locator(hidden).is_hidden(), hidden
    assert await page.locator("#value table.value").is_visible()
    assert await page.locator(".value-terms").is_visible()
    await page.emulate_media(media="screen")

    async with page.expect_download() as saving:
        await page.click("#value-csv")
    download = await saving.value
    assert download.suggested_filename == f"value-{scene['period']}.csv"
    saved = await asyncio.to_thread(Path(await download.path()).read_bytes)
    assert saved.startswith(b"\xef\xbb\xbf")
    assert "合计 total" in saved.decode("utf-8-sig")

    await page.fill("#value-month", "2001-02")
    await page.locator("#value-period", has_text="2001-02").wait_for()
    assert (await cells(page, "sales-order"))["moved"] == ("0", "0")


# the words do not depend on the mode: one mode keeps the suite short
@pytest.mark.parametrize("mode", ["embedded"], indirect=True)
async def test_the_value_page_reads_in_chinese(
    browser_page: Any, make_gateway: Any, target: TargetServer, tmp_path: Path
) -> None:
    page = browser_page
    scene = await run_scene(make_gateway, target, tmp_path / "cfg")
    await page.goto(f"{scene['gut'].url}/dashboard")
    await page.evaluate("localStorage.setItem('esb.language', 'zh')")
    await open_value_page(page, scene["gut"])
    text = await page.locator("#value").inner_text()
    assert "⟦" not in text
    for words in ("价值报表", "免重复录入的单据", "合计", "指标说明"):
        assert words in text
    assert "Lines[].Qty\uff1a3 次" in text  # a full-width colon
    shown = await cells(page, "sales-order")
    assert number(shown["moved"][0]) == scene["sales-order"]["moved"]
