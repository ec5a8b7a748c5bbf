"""The API page (/docs, Swagger UI) works on a network without internet.

Every asset the page references is served by the gateway itself, and in a real
Chromium where any request to another host is refused, it renders the gateway's
operations. (There is no /redoc: ReDoc's bundle always fetches a logo from redoc.ly.)
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest

from tests.integration.test_dashboard import CHROMIUM_ARGS, TIMEOUT_MS, chromium_path
from tests.support.gateway import GatewayUnderTest, rest_interface, write_config

pytestmark = pytest.mark.parametrize("mode", ["embedded"], indirect=True)  # same in both
REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url:\s*["']([^"']+)["']""")


@pytest.fixture
async def gut(make_gateway: Any, tmp_path: Path) -> GatewayUnderTest:
    gateway: GatewayUnderTest = await make_gateway(
        write_config(tmp_path / "cfg", rest_interface("http://127.0.0.1:9"))
    )
    return gateway


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS
        )
        yield launched
        await launched.close()


async def test_every_asset_of_the_api_page_comes_from_the_gateway(gut: GatewayUnderTest) -> None:
    page = "/docs"
    html = (await gut.client.get(f"{gut.url}{page}")).text
    references = [a or b for a, b in REFERENCE.findall(html)]
    assert any(r.endswith(".js") for r in references), html
    assert "/openapi.json" in references
    for reference in references:
        assert not urlsplit(reference).netloc, f"{page} loads {reference} from elsewhere"
        answer = await gut.client.get(urljoin(f"{gut.url}{page}", reference))
        assert answer.status_code == 200, reference
        assert answer.content, reference
    assert "://" not in html


async def test_the_api_page_renders_with_no_internet(gut: GatewayUnderTest, browser: Any) -> None:
    page, rendered = "/docs", ".swagger-ui .opblock"
    tab = await browser.new_page()
    tab.set_default_timeout(TIMEOUT_MS)
    requested: list[str] = []
    gateway = urlsplit(gut.url).netloc

    async def offline(route: Any) -> None:
        requested.append(route.request.url)
        if urlsplit(route.request.url).netloc == gateway:
            await route.continue_()
        else:
            await route.abort("internetdisconnected")

    await tab.route("**/*", offline)
    await tab.goto(f"{gut.url}{page}")
    await tab.wait_for_selector(rendered)
    assert await tab.locator(rendered).count() >= 20  # the gateway's operations
    assert "esb: integration gateway" in await tab.content()
    elsewhere = [url for url in requested if urlsplit(url).netloc != gateway]
    assert elsewhere == [], elsewhere
    assert (await gut.client.get(f"{gut.url}/redoc")).status_code == 404
