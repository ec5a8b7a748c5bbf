"""The dashboard in a real headless Chromium, against a gateway with real traffic.

The demo factory runs with MES and ERP on a real HTTP server that refuses the first
two work orders (400), the WMS on a real SOAP server and finance on disk. An operator
signs in, reads the tiles, replays one parked delivery, corrects and replays another,
discards a third and traces an order; every step is checked against the API.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from esb.api import errors
from esb.dashboard import dashboard_router
from esb.dashboard.assets import load_assets
from esb.settings import demo_config_dir
from tests.support.gateway import ADMIN_KEY, GatewayUnderTest
from tests.support.soap_server import SoapServer
from tests.support.target import TargetServer

VECTORS = Path(__file__).resolve().parents[1] / "data" / "scenario" / "inputs"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ERP_KEY, WMS_KEY = "erp-dashboard-key-1", "wms-dashboard-key-1"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 10_000


def chromium_path() -> str:
    """Debian's Chromium (no browser download at test time); ESB_TEST_CHROMIUM overrides."""
    found = os.environ.get("ESB_TEST_CHROMIUM") or shutil.which("chromium")
    if not found:
        pytest.fail(
            "Chromium is not installed: apt-get install chromium chromium-driver "
            "(or point ESB_TEST_CHROMIUM at a Chromium binary)",
            pytrace=False,
        )
    return found


@pytest.fixture
async def page() -> AsyncIterator[Any]:
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        pytest.fail("Playwright is missing: pip install -e '.[dev]'", pytrace=False)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS
        )
        # English, asked by the browser (test_dashboard_languages.py covers both languages)
        page = await browser.new_page(viewport={"width": 1600, "height": 900}, locale="en-GB")
        page.set_default_timeout(TIMEOUT_MS)
        yield page
        await browser.close()


def vector(name: str) -> dict[str, Any]:
    return dict(json.loads((VECTORS / f"{name}.json").read_text(encoding="utf-8")))


def statuses(message: dict[str, Any]) -> dict[str, str]:
    return {d["target"]: d["status"] for d in message["deliveries"]}


async def send(
    gut: GatewayUnderTest, kind: str, body: dict[str, Any], key: str, expect: dict[str, str]
) -> dict[str, Any]:
    response = await gut.send(kind, body, key=key)
    assert response.status_code == 202, response.text
    return await gut.wait_for(response.json()["id"], lambda m: statuses(m) == expect)


@pytest.fixture
async def traffic(make_gateway, target: TargetServer, tmp_path: Path) -> Any:
    """Urgent order (MES refuses it, WMS takes it, then its shipment), a normal order
    (MES refuses it) and one whose customer the master data lacks (mapping parks it)."""
    soap = await SoapServer().start()
    env = {
        "ERP_API_KEY": ERP_KEY,
        "WMS_API_KEY": WMS_KEY,
        "MES_URL": target.url,
        "ERP_URL": target.url,
        "WMS_URL": soap.base_url,
        "DROP_DIR": str(tmp_path / "drop"),
    }
    gut = await make_gateway(demo_config_dir(), env=env, config_watch=False)
    target.script.extend([400, 400])
    urgent, normal = vector("sales_order_urgent"), vector("sales_order_normal")
    found = {
        "urgent": await send(
            gut, "sales_order", urgent, ERP_KEY, {"mes": "parked", "wms": "delivered"}
        ),
        "normal": await send(gut, "sales_order", normal, ERP_KEY, {"mes": "parked"}),
    }
    shipment = {
        "order_no": urgent["OrderNo"],
        "ship_date": "2026-11-25 09:30",
        "carrier": "SF Express",
        "tracking_no": "SF1234567890",
        "status": "S",
    }
    await send(gut, "shipment", shipment, WMS_KEY, {"erp": "delivered", "finance": "delivered"})
    found["unknown"] = await send(
        gut, "sales_order", vector("sales_order_unknown_customer"), ERP_KEY, {"mes": "parked"}
    )
    yield gut, found
    await soap.stop()


async def sign_in(page: Any, gut: GatewayUnderTest) -> None:
    await page.goto(f"{gut.url}/dashboard#sales-order/mes")
    await page.fill("#admin-key", "not-the-admin-key")
    await page.press("#admin-key", "Enter")
    await page.locator("#login-error", has_text="does not know that key").wait_for()
    await page.fill("#admin-key", ADMIN_KEY)
    await page.press("#admin-key", "Enter")
    await refreshed(page)


async def refreshed(page: Any) -> None:
    """A refresh went through: the header says "Updated ...", not "Update failed: ..."."""
    updated = page.locator("#updated")
    try:
        await updated.filter(has_text="Updated").wait_for()
    except Exception as exc:  # Playwright's timeout: say what the page shows instead
        raise AssertionError(f"no refresh; the page says {await updated.text_content()!r}") from exc


async def reopen(page: Any, gut: GatewayUnderTest) -> None:
    """The tab keeps the key: opening the page again (no tile in the link) needs no sign-in."""
    await page.goto(f"{gut.url}/dashboard")
    await refreshed(page)
    assert await page.locator("#login").is_hidden()
    assert await page.locator(".tile.focused").count() == 0


READ_TILES = """tiles => tiles.map(t => ({
  pair: [t.dataset.interface, t.dataset.target], status: t.dataset.status,
  badge: t.querySelector('.badge').textContent, focused: t.classList.contains('focused'),
  fields: Object.fromEntries([...t.querySelectorAll('[data-field]')]
    .map(d => [d.dataset.field, [d.dataset.value, d.textContent]]))}))"""


def expected_fields(row: dict[str, Any]) -> dict[str, Any]:
    rate = row["success_rate"]
    counts = {f: (row[f], f"{row[f]:,}") for f in ("received", "delivered", "pending", "parked")}
    return {
        **counts,
        "success_rate": (rate, "—" if rate is None else f"{rate * 100:.1f}%"),
        "p95": (row["attempt_latency_ms"]["p95"], None),
        "end_to_end_p95": (row["end_to_end_latency_ms"]["p95"], None),
        "failed_attempts": (
            row["failed_attempts"],
            f"{row['failed_attempts']:,} of {row['attempts']:,}",
        ),
    }


async def check_tiles(page: Any, gut: GatewayUnderTest) -> None:
    report = (await gut.admin("GET", "/v1/report", params={"window": "15m"})).json()
    tiles = {tuple(t["pair"]): t for t in await page.eval_on_selector_all(".tile", READ_TILES)}
    assert set(tiles) == {(r["interface"], r["target"]) for r in report["interfaces"]}
    for row in report["interfaces"]:
        tile = tiles[(row["interface"], row["target"])]
        assert tile["status"] == row["status"]
        assert row["status"] in tile["badge"].lower()
        for field, (value, text) in expected_fields(row).items():
            shown_value, shown_text = tile["fields"][field]
            shown = None if shown_value == "" else float(shown_value)
            assert shown == value, (row["interface"], row["target"], field, shown_value)
            assert text is None or shown_text == text, (field, shown_text, text)
    assert tiles[("sales-order", "mes")]["fields"]["parked"][0] == "3"
    assert tiles[("sales-order", "mes")]["focused"]  # the alert's link: #interface/target


def row(delivery_id: str) -> str:
    return f'#parked tr[data-delivery="{delivery_id}"]'


async def open_action(page: Any, delivery_id: str, action: str) -> None:
    await page.click(f'{row(delivery_id)} button[data-action="{action}"]')
    await page.locator("#action-dialog[open]").wait_for()


async def confirm(page: Any, reason: str) -> None:
    await page.fill("#action-reason", reason)
    await page.fill("#action-operator", "li.wei")
    await page.click("#action-confirm")
    await page.locator("#action-dialog[open]").wait_for(state="detached")


async def outcome(page: Any, delivery_id: str, action: str) -> str:
    entry = page.locator(f'#activity li[data-delivery="{delivery_id}"][data-action="{action}"]')
    result = entry.locator(".result.delivered, .result.parked, .result.discarded")
    await result.wait_for()
    return str(await result.text_content())


async def replay(page: Any, gut: GatewayUnderTest, message: dict[str, Any]) -> None:
    [mes] = [d for d in message["deliveries"] if d["target"] == "mes"]
    await page.focus(f'{row(mes["id"])} button[data-action="replay"]')  # by keyboard alone
    await page.keyboard.press("Enter")
    await page.locator("#action-reason:focus").wait_for()
    await page.keyboard.type("MES fixed its order import")
    await page.keyboard.press("Tab")
    await page.keyboard.type("li.wei")
    await page.keyboard.press("Enter")
    assert (await outcome(page, mes["id"], "replay")).startswith("delivered")
    after = await gut.message(message["id"])
    assert statuses(after)["mes"] == "delivered"
    [audit] = after["audit"]
    assert (audit["action"], audit["actor"]) == ("replay", "admin:li.wei")
    await page.locator(row(mes["id"])).wait_for(state="detached")


async def correct(
    page: Any, gut: GatewayUnderTest, target: TargetServer, message: dict[str, Any]
) -> None:
    [mes] = message["deliveries"]
    await open_action(page, mes["id"], "correct")
    refused = json.loads(await page.input_value("#action-body"))
    assert refused == mes["sent_body"]  # prefilled with what the MES refused
    fixed = {**refused, "Remark": "corrected by the operator"}
    await page.fill("#action-body", json.dumps(fixed))
    await confirm(page, "MES refuses remarks with line breaks")
    assert (await outcome(page, mes["id"], "correct")).startswith("delivered")
    assert target.bodies()[-1] == fixed
    [audit] = (await gut.message(message["id"]))["audit"]
    assert audit["before"]["body"] == refused  # the original is kept
    [change] = audit["after"]["changes"]
    assert change.startswith("Remark:")
    shown = page.locator(f'#activity li[data-delivery="{mes["id"]}"] li')
    assert await shown.all_text_contents() == [change]


async def discard(page: Any, gut: GatewayUnderTest, message: dict[str, Any]) -> None:
    [mes] = message["deliveries"]
    await open_action(page, mes["id"], "discard")
    await confirm(page, "customer C9999 was a test order")
    assert statuses(await gut.message(message["id"])) == {"mes": "discarded"}
    await page.locator(row(mes["id"])).wait_for(state="detached")
    await page.locator("#parked-empty").wait_for()
    mes_tile = '[id="sales-order/mes"]'  # the tiles follow without a reload
    await page.locator(f'{mes_tile} [data-field="parked"][data-value="0"]').wait_for()


async def trace(page: Any, gut: GatewayUnderTest, key: str) -> None:
    await page.fill("#trace-key", key)
    await page.press("#trace-key", "Enter")
    rows = page.locator(".trace-deliveries tbody tr")
    await rows.first.wait_for()
    shown = await rows.evaluate_all(
        "rows => rows.map(r => [r.dataset.interface, r.dataset.target, r.dataset.status])"
    )
    assert shown == [
        ["sales-order", "mes", "delivered"],
        ["sales-order", "wms", "delivered"],
        ["shipment", "erp", "delivered"],
        ["shipment", "finance", "delivered"],
    ]
    api = (await gut.admin("GET", "/v1/trace", params={"key": key})).json()
    events = await page.locator(".timeline li").evaluate_all(
        "items => items.map(i => [i.dataset.event, i.dataset.interface, i.dataset.target])"
    )
    assert events == [[e["event"], e["interface"], e.get("target", "")] for e in api["events"]]
    assert ["parked", "sales-order", "mes"] in events
    assert events[-1] == ["delivered", "sales-order", "mes"]  # the replay came last


async def test_an_operator_works_the_dashboard(
    page: Any, traffic: Any, target: TargetServer, mode: str
) -> None:
    gut, found = traffic
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("pageerror", lambda error: errors.append(str(error)))

    await sign_in(page, gut)
    await check_tiles(page, gut)
    await replay(page, gut, found["urgent"])
    await correct(page, gut, target, found["normal"])
    await discard(page, gut, found["unknown"])
    await trace(page, gut, found["urgent"]["key"])

    ARTIFACTS.mkdir(exist_ok=True)
    name = "dashboard.png" if mode == "embedded" else f"dashboard-{mode}.png"
    await page.screenshot(path=str(ARTIFACTS / name), full_page=True)
    await reopen(page, gut)
    assert errors == []
    assert not [url for url in requests if ADMIN_KEY in url]
    assert all(url.startswith(gut.url) for url in requests)  # nothing from elsewhere


def assets_client() -> httpx.AsyncClient:
    app = FastAPI()
    errors.install(app)
    app.include_router(dashboard_router())
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw")


async def test_assets_are_compressed_and_revalidated_by_etag() -> None:
    async with assets_client() as client:
        page = await client.get("/dashboard", headers={"Accept-Encoding": "gzip"})
        assert page.status_code == 200
        assert page.headers["content-encoding"] == "gzip"
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert b"dashboard/main.js" in page.content  # httpx decoded the gzip
        script = await client.get("/dashboard/main.js", headers={"Accept-Encoding": "identity"})
        assert script.headers["content-type"].startswith("text/javascript")
        assert "content-encoding" not in script.headers
        etag = script.headers["etag"]
        again = await client.get("/dashboard/main.js", headers={"If-None-Match": etag})
        assert (again.status_code, again.content) == (304, b"")
        stale = await client.get("/dashboard/main.js", headers={"If-None-Match": '"old"'})
        assert stale.status_code == 200
        probe = await client.head("/dashboard")
        assert probe.status_code == 200
        assert probe.headers["etag"] == page.headers["etag"]
        missing = await client.get("/dashboard/index.html")
        assert missing.json()["error"]["code"] == "not_found"
        assert (await client.get("/dashboard/router.py")).status_code == 404


async def test_page_weight_stays_small() -> None:
    """What one page load fetches, as sent (gzip): every file of the dashboard and one of
    its two catalogues (a wall screen may sit on a slow network)."""
    names = sorted(name for name in load_assets() if name != "i18n/en.json")
    assert {"actions.js", "api.js", "audit.js", "audit.css", "charts.js"} <= set(names)
    assert "i18n/zh.json" in names
    sent = 0
    async with assets_client() as client:
        for name in names:
            path = "/dashboard" if name == "index.html" else f"/dashboard/{name}"
            response = await client.get(path, headers={"Accept-Encoding": "gzip"})
            assert response.status_code == 200, name
            sent += response.num_bytes_downloaded
    # 40,000 held the page without the parallel-run section (39.8 kB gzip at the merge);
    # the section adds shadow.js and the shadow.* words (3.6 kB gzip); the value page adds
    # value.js (fetched only when the page is opened) and the value.* words (3.2 kB gzip)
    assert sent < 48_000


async def test_the_dashboard_shows_what_waits_behind_a_parked_update(
    page: Any, make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    """shipment -> erp is ordered by order number: the ERP refuses one order's PARTIAL
    update (parked), its SHIPPED update waits; the tile and the trace say behind what."""
    order = "SO-20261124-0005"
    target.answer = lambda got: 400 if got.json().get("Status") == "PARTIAL" else None
    urls = {f"{system}_URL": target.url for system in ("MES", "ERP", "WMS")}
    env = {"ERP_API_KEY": ERP_KEY, "WMS_API_KEY": WMS_KEY, "DROP_DIR": str(tmp_path / "drop")}
    env.update(urls)
    gut = await make_gateway(demo_config_dir(), env=env, config_watch=False)
    row = {"order_no": order, "ship_date": "2026-11-27 08:10", "carrier": "SF Express",
           "tracking_no": "SF5550000001", "status": "P"}  # fmt: skip
    partial = await send(gut, "shipment", row, WMS_KEY, {"erp": "parked"})
    shipped = await send(
        gut, "shipment", {**row, "status": "S"}, WMS_KEY, {"erp": "pending", "finance": "delivered"}
    )
    [head] = partial["deliveries"]

    await sign_in(page, gut)
    tile = page.locator('[id="shipment/erp"]')
    await tile.locator('[data-field="blocked"][data-value="1"]').wait_for()
    blocker = tile.locator(f'.blocked-by li[data-delivery="{head["id"]}"]')
    assert await blocker.get_attribute("data-key") == order
    assert "1 waiting behind parked delivery" in str(await blocker.text_content())
    holds = page.locator(f'#parked tr[data-delivery="{head["id"]}"] .holding')
    assert await holds.get_attribute("data-blocking") == "1"

    await page.fill("#trace-key", order)
    await page.press("#trace-key", "Enter")
    waiting = page.locator('.trace-deliveries tbody tr[data-target="erp"][data-status="pending"]')
    shown = str(await waiting.locator(".ordering").text_content())
    assert f"blocked by parked delivery {head['id']} (message {partial['id']})" in shown
    [erp] = [d for d in shipped["deliveries"] if d["target"] == "erp"]
    assert erp["blocked_by"]["delivery_id"] == head["id"]
