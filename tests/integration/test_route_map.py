"""The dashboard's route map in a real headless Chromium, on the demo factory as
``esb serve`` runs it with no settings (MES and WMS on a real HTTP server here): it draws
the demo's systems and routes, keeps its drawing while nothing changes, turns a route red
once its target fails, and a click on the route focuses that route's tile and shows what
is parked on it and its mapping run on the last message."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from esb.settings import demo_config_dir
from tests.integration.test_dashboard import (  # noqa: F401  (page is a fixture)
    ERP_KEY,
    WMS_KEY,
    page,
    send,
    vector,
)
from tests.support.gateway import ADMIN_KEY, GatewayUnderTest
from tests.support.target import TargetServer

REFRESH_MS = 15_000
RED, GREEN = "rgb(248, 81, 73)", "rgb(63, 185, 80)"  # --failing, --ok of dashboard.css
MES = '[data-edge="sales-order/mes"]'

READ_MAP = """svg => {
  const nodes = {left: [], middle: [], right: []};
  const at = {};
  for (const n of svg.querySelectorAll('.route-node')) {
    nodes[n.dataset.column].push(n.dataset.node);
    const box = n.querySelector('rect');
    at[n.dataset.column + ':' + n.dataset.node] = [+box.getAttribute('x'), +box.getAttribute('y')];
  }
  const edges = Object.fromEntries([...svg.querySelectorAll('.route-edge')].map(e => [
    e.dataset.edge, [e.dataset.from, e.dataset.to, e.dataset.health, e.textContent,
                     getComputedStyle(e.querySelector('.route-line')).stroke]]));
  const ways = Object.fromEntries([...svg.querySelectorAll('.route-in')]
    .map(e => [e.dataset.interface, [e.dataset.from, e.dataset.ways]]));
  return {nodes, at, edges, ways};
}"""


async def sign_in(tab: Any, gut: GatewayUnderTest) -> None:
    await tab.goto(f"{gut.url}/dashboard")
    await tab.fill("#admin-key", ADMIN_KEY)
    await tab.press("#admin-key", "Enter")
    await tab.locator("#updated", has_text="Updated").wait_for()


async def next_refresh(tab: Any) -> None:
    """Move the tab's clock past its 15 s timer and wait for the refresh it starts."""
    before = await tab.text_content("#updated")
    await tab.clock.fast_forward(REFRESH_MS + 1000)
    await tab.wait_for_function(
        "before => document.querySelector('#updated').textContent !== before", arg=before
    )


def check_demo_drawn(drawn: dict[str, Any]) -> None:
    assert drawn["nodes"] == {
        "left": ["erp", "wms"],
        "middle": ["sales-order", "shipment"],
        "right": ["mes", "wms", "erp", "finance"],  # by the interfaces that reach them
    }
    at = drawn["at"]
    assert at["left:erp"][0] < at["middle:sales-order"][0] < at["right:mes"][0]
    for column in drawn["nodes"]:
        ys = [at[f"{column}:{name}"][1] for name in drawn["nodes"][column]]
        assert ys == sorted(ys), column
    assert drawn["ways"] == {
        "sales-order": ["erp", "http"],
        "shipment": ["wms", "http · file-drop"],
    }
    routes = {edge: value[:3] for edge, value in drawn["edges"].items()}
    assert routes == {
        "sales-order/mes": ["erp", "mes", "ok"],
        "sales-order/wms": ["erp", "wms", "ok"],
        "shipment/erp": ["wms", "erp", "ok"],
        "shipment/finance": ["wms", "finance", "ok"],
    }
    text = {edge: value[3] for edge, value in drawn["edges"].items()}
    assert "soap · when OrderType == '02'" in text["sales-order/wms"]
    assert "file · when status == 'S'" in text["shipment/finance"]
    assert "0 waiting · 0 parked" in text["sales-order/mes"]
    assert {value[4] for value in drawn["edges"].values()} == {GREEN}


async def read_map(tab: Any) -> dict[str, Any]:
    return dict(await tab.locator("#routemap .route-svg").evaluate(READ_MAP))


async def check_route_opened(tab: Any, gut: GatewayUnderTest, parked: list[str]) -> None:
    """The tile is focused, the panel lists exactly this route's parked deliveries and
    runs the mapping on the last message: what the MES was sent for it."""
    await tab.locator(f"{MES} .route-badge").click()
    tiles = await tab.eval_on_selector_all(".tile.focused", "tiles => tiles.map(t => t.id)")
    assert tiles == ["sales-order/mes"]
    panel = tab.locator("#route-detail")
    assert await panel.locator("h3").text_content() == "sales-order → mes"
    assert await panel.locator(".route-tile-link").get_attribute("href") == "#sales-order/mes"
    rows = panel.locator("tr[data-delivery]")
    await rows.nth(len(parked) - 1).wait_for()
    assert sorted(await rows.evaluate_all("rows => rows.map(r => r.dataset.delivery)")) == sorted(
        parked
    )
    output = panel.locator('pre[data-field="output"]')
    await output.wait_for()
    assert "sales-order-to-mes" in str(await panel.locator(".route-mapping h4").text_content())
    found = (await gut.admin("GET", "/v1/messages", params={"target": "mes", "limit": 1})).json()
    last = await gut.message(found["messages"][0]["id"])
    assert json.loads(str(await output.text_content())) == last["deliveries"][0]["sent_body"]
    assert (
        json.loads(str(await panel.locator('pre[data-field="input"]').text_content()))
        == (last["body"])
    )


# the page draws what the API answers, tested in both modes (test_routes.py,
# test_shadow.py): the browser part runs in one mode to keep the suite short
@pytest.mark.parametrize("mode", ["embedded"], indirect=True)
async def test_the_route_map_draws_the_demo_and_turns_a_failing_route_red(
    page: Any,  # noqa: F811
    make_gateway,
    target: TargetServer,
    tmp_path: Path,
) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    env = {"ERP_API_KEY": ERP_KEY, "WMS_API_KEY": WMS_KEY, "MES_URL": target.url,
           "WMS_URL": target.url, "DROP_DIR": str(tmp_path / "drop")}  # fmt: skip
    gut = await make_gateway(demo_config_dir(), env=env, config_watch=False)
    order = vector("sales_order_normal")
    await send(gut, "sales_order", order, ERP_KEY, {"mes": "delivered"})
    await page.clock.install()
    await sign_in(page, gut)
    await page.locator(f"{MES}[data-health='ok']").wait_for()
    check_demo_drawn(await read_map(page))

    # nothing changed: the next refresh leaves the drawing as it is
    await page.evaluate(f"window.drawnRoute = document.querySelector('{MES}')")
    await next_refresh(page)
    assert await page.evaluate(f"document.querySelector('{MES}') === window.drawnRoute")

    # the MES refuses orders (and the WMS the urgent one): parked; the next refresh shows it
    target.default_status = 400
    normal = await send(gut, "sales_order", {**order, "OrderNo": "SO-ROUTE-2"}, ERP_KEY,
                        {"mes": "parked"})  # fmt: skip
    urgent = await send(gut, "sales_order", vector("sales_order_urgent"), ERP_KEY,
                        {"mes": "parked", "wms": "parked"})  # fmt: skip
    await next_refresh(page)
    red = page.locator(f"{MES}[data-health='failing']")
    await red.wait_for()
    drawn = await read_map(page)
    assert drawn["edges"]["sales-order/mes"][4] == RED
    assert "2 waiting" not in drawn["edges"]["sales-order/mes"][3]
    assert "0 waiting · 2 parked" in drawn["edges"]["sales-order/mes"][3]
    assert drawn["edges"]["shipment/erp"][2:] == ["ok", drawn["edges"]["shipment/erp"][3], GREEN]
    assert not await page.evaluate(f"document.querySelector('{MES}') === window.drawnRoute")

    mes_parked = [
        d["id"] for m in (normal, urgent) for d in m["deliveries"] if d["target"] == "mes"
    ]
    await check_route_opened(page, gut, mes_parked)
    assert await page.locator("#parked tbody tr").count() == 3  # the WMS's one is not this route's

    # by keyboard: the WMS route, its tile and its one parked delivery
    await page.focus('[data-edge="sales-order/wms"]')
    await page.keyboard.press("Enter")
    await page.locator("#route-detail h3", has_text="sales-order → wms").wait_for()
    [wms] = [d["id"] for d in urgent["deliveries"] if d["target"] == "wms"]
    await page.locator(f'#route-detail tr[data-delivery="{wms}"]').wait_for()
    assert await page.locator("#route-detail tr[data-delivery]").count() == 1
    tiles = await page.eval_on_selector_all(".tile.focused", "tiles => tiles.map(t => t.id)")
    assert tiles == ["sales-order/wms"]

    # in Chinese, every word of the map comes from the catalogue
    await page.evaluate("localStorage.setItem('esb.language', 'zh')")
    await page.reload()
    await page.locator(f"{MES}[data-health='failing']").wait_for()
    shown = await page.locator("#routes").inner_text()
    assert "线路图" in shown
    assert "挂起 2" in shown
    assert "⟦" not in shown
    assert errors == []
