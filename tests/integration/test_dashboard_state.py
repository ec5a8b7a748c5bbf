"""The dashboard in a real headless Chromium: a refused configuration change is shown
until a good one, and the trace reads in words with the operators' actions on it; each
in Chinese and in English (the language the browser asks for)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_dashboard import CHROMIUM_ARGS, TIMEOUT_MS, chromium_path
from tests.support.gateway import ADMIN_KEY, GatewayUnderTest, rest_interface, write_config
from tests.support.target import TargetServer

#: What the page says, by the language the browser asks for.
WORDS = {
    "en": {
        "updated": "Updated",
        "refused": ["Configuration change refused", "1 problem;",
                    "keeps running on the configuration loaded at"],
        "summary": "SO-DASH-1: 1 message, 1 delivery, 1 operator action",
        "parameters": ["work_order text (required)", "after integer (default 0)"],
        "limits": "1,000 rows / 10 s",
    },
    "zh": {
        "updated": "更新于",
        "refused": ["配置变更被拒绝", "有 1 个问题；", "网关继续使用"],  # noqa: RUF001
        "summary": "SO-DASH-1：共 1 条消息，1 次投递，1 次人工操作",  # noqa: RUF001
        "parameters": ["work_order 文本 (必填)", "after 整数 (默认 0)"],
        "limits": "1,000 行 / 10 秒",
    },
}  # fmt: skip


#: the words on these parts of the board do not depend on the mode (their data is tested in
#: both modes through the API): each language once, in embedded mode
ONE_MODE = pytest.mark.parametrize("mode", ["embedded"], indirect=True)


@pytest.fixture(params=["en", "zh"])
def lang(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def browser_page(lang: str) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS
        )
        locale = "zh-CN" if lang == "zh" else "en-GB"
        page = await browser.new_page(viewport={"width": 1400, "height": 900}, locale=locale)
        page.set_default_timeout(TIMEOUT_MS)
        yield page
        await browser.close()


async def sign_in(page: Any, gut: GatewayUnderTest, lang: str) -> None:
    await page.goto(f"{gut.url}/dashboard")
    await page.fill("#admin-key", ADMIN_KEY)
    await page.press("#admin-key", "Enter")
    await page.locator("#updated", has_text=WORDS[lang]["updated"]).wait_for()


async def reopen(page: Any, lang: str) -> None:
    """The tab keeps the key: a reload refreshes the board at once (no 15 s wait)."""
    await page.reload()
    await page.locator("#updated", has_text=WORDS[lang]["updated"]).wait_for()


async def reload_state(gut: GatewayUnderTest, status: str) -> None:
    for _ in range(100):
        report = (await gut.admin("GET", "/v1/report")).json()
        if report["configuration"]["status"] == status:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"configuration never {status}")


@ONE_MODE
async def test_a_refused_change_is_on_the_board_until_a_good_one(
    browser_page: Any, lang: str, make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    page = browser_page
    folder = write_config(tmp_path / "cfg", rest_interface(target.url))
    gut = await make_gateway(folder)
    await sign_in(page, gut, lang)
    banner = page.locator("#configuration")
    assert await banner.is_hidden()

    (folder / "interfaces.yaml").write_text(
        rest_interface(target.url).replace("kind: rest", "kind: rets")
    )
    await reload_state(gut, "reload_failed")
    await reopen(page, lang)
    await banner.wait_for(state="visible")
    assert await banner.get_attribute("role") == "alert"
    text = " ".join((await banner.inner_text()).split())
    for words in WORDS[lang]["refused"]:
        assert words in text, (words, text)
    [problem] = await banner.locator("li").all_inner_texts()
    assert problem.startswith("interfaces.yaml:10: interfaces.sales-order.targets.mes.connector")
    assert "did you mean 'rest'?" in problem

    (folder / "interfaces.yaml").write_text(rest_interface(target.url))
    await reload_state(gut, "ok")
    await reopen(page, lang)
    await banner.wait_for(state="hidden")


@ONE_MODE
async def test_the_trace_reads_in_words_with_the_operators_actions(
    browser_page: Any, lang: str, make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    page = browser_page
    gut = await make_gateway(write_config(tmp_path / "cfg", rest_interface(target.url)))
    target.script.append(400)
    accepted = await gut.send("sales_order", {"OrderNo": "SO-DASH-1"})
    message = await gut.wait_status(accepted.json()["id"], "parked")
    [delivery] = message["deliveries"]
    action = {"reason": "MES fixed", "operator": "li"}
    replayed = await gut.admin("POST", f"/v1/deliveries/{delivery['id']}/replay", json=action)
    assert replayed.json()["previous_status"] == "parked"
    await gut.wait_status(message["id"], "delivered")

    await sign_in(page, gut, lang)
    await page.fill("#trace-key", "SO-DASH-1")
    await page.press("#trace-key", "Enter")
    summary = page.locator("#trace .summary")
    await summary.wait_for()
    assert await summary.inner_text() == WORDS[lang]["summary"]
    events = await page.locator(".timeline li").evaluate_all(
        "items => items.map(i => [i.dataset.event, i.classList.contains('operator'),"
        " i.querySelector('.detail').textContent])"
    )
    assert [e[0] for e in events] == ["received", "parked", "replayed", "delivered"]
    assert events[2][1:] == [True, "admin:li: MES fixed"]
    assert not any(e[1] for e in events[:2] + events[3:])


@ONE_MODE
async def test_the_board_lists_the_named_queries_with_their_parameters(
    browser_page: Any, lang: str, make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    page = browser_page
    folder = write_config(tmp_path / "cfg", rest_interface(target.url))
    (folder / "queries.yaml").write_text(
        """
queries:
  mes-completions:
    description: 某工单的完工报告 / completions of one work order
    database: mysql://ro@127.0.0.1:9/mes
    systems: [erp]
    sql: SELECT id FROM mes_completion WHERE work_order = :work_order AND id > :after
    parameters:
      work_order: {type: string}
      after: {type: integer, default: 0}
""",
        encoding="utf-8",
    )
    gut = await make_gateway(folder)
    await sign_in(page, gut, lang)
    section = page.locator("#queries")
    await section.wait_for(state="visible")
    row = section.locator("tr[data-query='mes-completions']")
    text = " ".join((await row.inner_text()).split())
    assert "/v1/queries/mes-completions" in text
    assert "某工单的完工报告" in text
    for words in WORDS[lang]["parameters"]:
        assert words in text, (words, text)
    assert "erp" in text
    assert WORDS[lang]["limits"] in text
