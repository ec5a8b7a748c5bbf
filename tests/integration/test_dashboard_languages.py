"""The dashboard in Chinese and in English, in a real headless Chromium on a real gateway.

The operator switches the language with the button (the browser asked for the other one)
and the choice holds across a reload; every part of the board is drawn (tiles, flow
control, queries, charts, parked list, the action dialog, the operator's actions, a
refused configuration, a trace) and nothing on it is an untranslated key (⟦key⟧) or in
the other language. In Chinese, the glyphs really render: a screenshot of the heading
differs from the same heading drawn with one character repeated (with no Chinese font
both are rows of identical boxes; a browser limited to DejaVu shows that the check fails).
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_dashboard import ARTIFACTS, CHROMIUM_ARGS, TIMEOUT_MS, chromium_path
from tests.support.flow import systems_with_flow
from tests.support.gateway import ADMIN_KEY, GatewayUnderTest, rest_interface, write_config
from tests.support.target import TargetServer

FLOW = "max_in_flight: 2\nrate: 50/s\nbreaker: {failures: 3, cool_down: 1500ms}"
QUERIES = """
queries:
  mes-completions:
    description: completions of one work order
    database: mysql://ro@127.0.0.1:9/mes
    systems: [erp]
    sql: SELECT id FROM mes_completion WHERE work_order = :work_order AND id > :after
    parameters:
      work_order: {type: string}
      after: {type: integer, default: 0}
"""
PARKED, DELIVERED = "SO-LANG-1", "SO-LANG-2"
OTHER = {"zh": "en", "en": "zh"}
BROWSER_LOCALE = {"zh": "zh-CN", "en": "en-GB"}

# Every visible piece of fixed wording: headings, column heads, labels, buttons, captions.
WORDING = (
    "h1, h2, th[scope=col], label, button:not(#language):not(.link), figcaption, summary, "
    "dt, .badge, #summary, #updated, #consistency, #parked-empty, .trace .summary, "
    ".timeline strong, #activity .result, #configuration p"
)
READ_WORDING = f"""wantChinese => {{
  const cjk = /[\\u4e00-\\u9fff]/;
  return [...document.querySelectorAll("{WORDING}")]
    .filter(el => el.getClientRects().length && el.innerText.trim())
    .filter(el => cjk.test(el.innerText) !== wantChinese)
    .map(el => `${{el.tagName}}#${{el.id}}: ${{el.innerText.trim()}}`);
}}"""
UNTRANSLATED = """() => {
  const found = [];
  found.push(...document.body.innerText.split("\\n").filter(line => line.includes("⟦")));
  for (const el of document.querySelectorAll("*")) {
    for (const name of ["title", "aria-label", "placeholder"]) {
      const value = el.getAttribute(name);
      if (value && value.includes("⟦")) found.push(`${el.tagName}[${name}]: ${value}`);
    }
  }
  for (const el of document.querySelectorAll("svg title")) {
    if (el.textContent.includes("⟦")) found.push(`svg title: ${el.textContent}`);
  }
  for (const el of document.querySelectorAll("[data-i18n]")) {
    if (!el.textContent.trim()) found.push(`empty [data-i18n=${el.dataset.i18n}]`);
  }
  return found;
}"""


@pytest.fixture
async def chromium() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS
        )
        yield playwright, browser
        await browser.close()


async def open_page(browser: Any, locale: str) -> Any:
    context = await browser.new_context(viewport={"width": 1400, "height": 900}, locale=locale)
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    return page


@pytest.fixture
async def board(make_gateway, target: TargetServer, tmp_path: Path) -> GatewayUnderTest:
    """Flow control on the MES, a named query, a deadline; one order parked, one delivered."""
    interface = rest_interface(target.url).replace(
        "      mes:\n", "      mes:\n        deadline: 5m\n"
    )
    folder = write_config(tmp_path / "cfg", interface, systems_with_flow(FLOW))
    (folder / "queries.yaml").write_text(QUERIES, encoding="utf-8")
    gut = await make_gateway(folder)
    target.script.append(400)
    for order, status in ((PARKED, "parked"), (DELIVERED, "delivered")):
        accepted = await gut.send("sales_order", {"OrderNo": order})
        assert accepted.status_code == 202, accepted.text
        await gut.wait_status(accepted.json()["id"], status)
    return gut


async def page_language(page: Any) -> str:
    await page.locator("h1:not(:empty)").wait_for()  # translated
    return str(await page.evaluate("document.documentElement.lang"))


async def switch_to(page: Any, lang: str) -> None:
    """The button names the other language in itself; pressing it reloads in that one."""
    button = page.locator("#language")
    assert await button.text_content() == ("中文" if lang == "zh" else "English")
    async with page.expect_navigation():
        await button.click()
    assert await page_language(page) == BROWSER_LOCALE[lang] if lang == "zh" else "en"


async def sign_in(page: Any) -> None:
    await page.fill("#admin-key", ADMIN_KEY)
    await page.press("#admin-key", "Enter")
    await page.locator("#board:not([hidden])").wait_for()


async def updated(page: Any, lang: str) -> str:
    """The header's "Updated 08:30:05 (Asia/Shanghai)" once a refresh went through."""
    word = "更新于" if lang == "zh" else "Updated"
    shown = page.locator("#updated", has_text=word)
    await shown.wait_for()
    return str(await shown.text_content())


async def refuse_a_change(gut: GatewayUnderTest) -> None:
    interfaces = gut.settings.config / "interfaces.yaml"
    interfaces.write_text(interfaces.read_text().replace("kind: rest", "kind: rets"))
    for _ in range(200):
        report = (await gut.admin("GET", "/v1/report")).json()
        if report["configuration"]["status"] == "reload_failed":
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the broken configuration was never refused")


async def whole_board(page: Any) -> None:
    """Every section drawn: tiles, routes, flow control, queries, charts, parked, the refusal."""
    for part in (
        ".tile",
        "#routemap .route-edge",
        "#systems-rows tr",
        "#queries-rows tr",
        "#legend li",
        f'#parked tr[data-key="{PARKED}"]',
        "#configuration li",
    ):
        await page.locator(part).first.wait_for()


async def replay_in_the_dialog(page: Any, lang: str) -> None:
    row = page.locator(f'#parked tr[data-key="{PARKED}"]')
    await row.locator('button[data-action="replay"]').click()
    dialog = page.locator("#action-dialog[open]")
    await dialog.wait_for()
    assert await page.evaluate(UNTRANSLATED) == []
    assert await page.evaluate(READ_WORDING, lang == "zh") == []
    await page.fill("#action-reason", "MES fixed" if lang == "en" else "MES 已修复")
    await page.click("#action-confirm")
    await dialog.wait_for(state="detached")
    await page.locator("#activity .result.delivered").wait_for()


async def trace(page: Any) -> None:
    await page.fill("#trace-key", PARKED)
    await page.press("#trace-key", "Enter")
    await page.locator(".timeline li.operator").wait_for()


@pytest.mark.parametrize("mode", ["embedded"], indirect=True)
@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_the_whole_board_in_one_language_chosen_with_the_button(
    chromium: Any, board: GatewayUnderTest, lang: str
) -> None:
    _, browser = chromium
    page = await open_page(browser, BROWSER_LOCALE[OTHER[lang]])  # the browser asks for the other
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(f"{board.url}/dashboard")
    assert await page_language(page) == ("zh-CN" if lang == "en" else "en")
    await switch_to(page, lang)
    await sign_in(page)
    await refuse_a_change(board)
    await page.reload()  # the choice is remembered; the tab keeps the key
    assert await page_language(page) == ("zh-CN" if lang == "zh" else "en")
    assert (await updated(page, lang)).endswith(
        "（Asia/Shanghai）" if lang == "zh" else "(Asia/Shanghai)"  # noqa: RUF001
    )
    await whole_board(page)
    await replay_in_the_dialog(page, lang)
    await trace(page)

    assert await page.evaluate(UNTRANSLATED) == []
    assert await page.evaluate(READ_WORDING, lang == "zh") == []
    assert await page.title() == ("网关看板" if lang == "zh" else "Gateway dashboard")
    summary = str(await page.locator("#trace .summary").text_content())
    assert summary == (
        f"{PARKED}：共 1 条消息，1 次投递，1 次人工操作"  # noqa: RUF001
        if lang == "zh"
        else f"{PARKED}: 1 message, 1 delivery, 1 operator action"
    )
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"dashboard-languages-{lang}.png"), full_page=True)
    assert errors == []


def require_cjk_font() -> None:
    if shutil.which("dpkg") is None:
        return
    found = subprocess.run(["dpkg", "-s", "fonts-noto-cjk"], capture_output=True, check=False)
    if found.returncode != 0:
        pytest.fail("fonts-noto-cjk is not installed: apt-get install fonts-noto-cjk", False)


async def glyphs_render(page: Any) -> bool:
    """The heading as drawn differs from the same heading with its first character
    repeated: real glyphs differ from each other, missing ones are all the same box."""
    heading = page.locator("h1")
    shown = await heading.screenshot()
    text = str(await heading.text_content())
    await heading.evaluate("(h, text) => { h.textContent = text; }", text[0] * len(text))
    repeated = await heading.screenshot()
    await heading.evaluate("(h, text) => { h.textContent = text; }", text)
    return shown != repeated


async def chinese_board(browser: Any, gut: GatewayUnderTest) -> Any:
    page = await open_page(browser, "zh-CN")
    await page.goto(f"{gut.url}/dashboard")
    await sign_in(page)
    await updated(page, "zh")
    await page.locator(".tile").first.wait_for()
    return page


@pytest.mark.parametrize("mode", ["embedded"], indirect=True)
async def test_chinese_glyphs_render_and_the_check_sees_missing_ones(
    chromium: Any, board: GatewayUnderTest, tmp_path: Path
) -> None:
    require_cjk_font()
    playwright, browser = chromium
    page = await chinese_board(browser, board)
    assert await page.locator("h1").text_content() == "集成网关"
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "dashboard-zh.png"))
    assert await glyphs_render(page)

    # The control: a Chromium that may use DejaVu only draws boxes, and the check says so.
    fonts = tmp_path / "fonts.conf"
    fonts.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        f"<dir>/usr/share/fonts/truetype/dejavu</dir><cachedir>{tmp_path / 'fc'}</cachedir>"
        "</fontconfig>"
    )
    bare = await playwright.chromium.launch(
        executable_path=chromium_path(), args=CHROMIUM_ARGS, env={"FONTCONFIG_FILE": str(fonts)}
    )
    try:
        without = await chinese_board(bare, board)
        assert not await glyphs_render(without)
    finally:
        await bare.close()
