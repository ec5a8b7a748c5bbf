"""Screenshots of the dashboard for the docs, in Chinese and English, from a real gateway.

Starts the demo factory (``esb serve`` with no settings, in a scratch folder), sends a few
orders so the board has data (one refused by the MES and parked, one that the master data
lacks, one retried), signs in and saves PNGs next to this file::

    .venv/bin/python docs/images/screenshots.py                 # dashboard-zh.png, dashboard-en.png
    .venv/bin/python docs/images/screenshots.py --section parked-title --section trace
        # also dashboard-zh-trace.png ...: one PNG per element id, its <section> whole

Needs the dev extra (Playwright) and Debian's Chromium with fonts-noto-cjk, as the
browser tests do (``ESB_TEST_CHROMIUM`` points at another Chromium).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import socket
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
INPUTS = HERE.parents[1] / "tests" / "data" / "scenario" / "inputs"
ERP = {"Authorization": "Bearer demo-erp-key"}
WMS = {"Authorization": "Bearer demo-wms-key"}
LANGUAGES = ("zh", "en")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def demo_gateway(folder: Path) -> AsyncIterator[tuple[str, str]]:
    """``esb serve`` on the demo factory in ``folder``; yields its URL and admin key."""
    port, key = free_port(), secrets.token_urlsafe(24)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ESB_", "ALERT_"))}
    env |= {"ESB_PORT": str(port), "ESB_ADMIN_KEY": key, "ESB_TIME_ZONE": "Asia/Shanghai"}
    log = (folder / "gateway.log").open("wb")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "esb", "serve", cwd=folder, env=env, stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(timeout=2) as client:
            for _ in range(300):
                if proc.returncode is not None:
                    raise SystemExit(f"esb serve stopped: see {folder / 'gateway.log'}")
                try:
                    if (await client.get(f"{url}/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise SystemExit("esb serve did not become ready in 30 s")
        yield url, key
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 20)
        log.close()


def order(name: str, number: str) -> dict[str, Any]:
    body = json.loads((INPUTS / f"{name}.json").read_text(encoding="utf-8"))
    body["OrderNo"] = number
    return dict(body)


async def send_traffic(url: str, key: str) -> str:
    """A few orders: delivered, retried, parked (MES refused), parked (no master data);
    shipments of three of them. Returns the order number to trace."""
    admin = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:

        async def send(body: dict[str, Any]) -> str:
            answer = await client.post("/v1/messages/sales_order", json=body, headers=ERP)
            answer.raise_for_status()
            return str(answer.json()["id"])

        ids = [await send(order("sales_order_normal", f"SO-20261124-{n:04d}")) for n in (1, 2, 3)]
        await client.post("/demo/mes/fail", params={"status": "503", "times": "2"})
        ids.append(await send(order("sales_order_urgent", "SO-20261124-0004")))
        await client.post("/demo/mes/fail", params={"status": "400", "times": "1"})
        ids.append(await send(order("sales_order_normal", "SO-20261124-0005")))
        ids.append(await send(order("sales_order_unknown_customer", "SO-20261124-0006")))
        for n, status in ((1, "S"), (2, "S"), (3, "P")):  # the WMS ships two and a half
            shipment = {"order_no": f"SO-20261124-{n:04d}", "ship_date": "2026-11-25 09:30",
                        "carrier": "SF Express", "tracking_no": f"SF12345678{n:02d}",
                        "status": status}  # fmt: skip
            answer = await client.post("/v1/messages/shipment", json=shipment, headers=WMS)
            answer.raise_for_status()
            ids.append(str(answer.json()["id"]))
        for _ in range(300):  # until every delivery has ended (delivered or parked)
            found = [(await client.get(f"/v1/messages/{i}", headers=admin)).json() for i in ids]
            if all(d["status"] != "pending" for m in found for d in m["deliveries"]):
                break
            await asyncio.sleep(0.1)
    return "SO-20261124-0004"


def chromium() -> str:
    found = os.environ.get("ESB_TEST_CHROMIUM") or shutil.which("chromium")
    if not found:
        raise SystemExit("Chromium is missing: apt-get install chromium fonts-noto-cjk")
    return found


async def shoot(
    url: str, key: str, traced: str, out: Path, sections: list[str], size: tuple[int, int]
) -> list[Path]:
    from playwright.async_api import TimeoutError as PlaywrightTimeout
    from playwright.async_api import async_playwright

    saved: list[Path] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium(), args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        for lang in LANGUAGES:
            context = await browser.new_context(
                viewport={"width": size[0], "height": size[1]},
                locale="zh-CN" if lang == "zh" else "en-GB",
            )
            page = await context.new_page()
            await page.add_init_script(f"localStorage.setItem('esb.language', '{lang}')")
            await page.goto(f"{url}/dashboard")
            await page.fill("#admin-key", key)
            await page.press("#admin-key", "Enter")
            await page.locator("#legend li").first.wait_for()
            await page.locator("#parked tbody tr").first.wait_for()
            await page.fill("#trace-key", traced)
            await page.press("#trace-key", "Enter")
            await page.locator("#trace .timeline li").first.wait_for()
            await page.evaluate("document.activeElement.blur(); window.scrollTo(0, 0)")
            path = out / f"dashboard-{lang}.png"
            await page.screenshot(path=str(path))
            saved.append(path)
            for element in sections:
                part = page.locator(f"section:has(#{element}), #{element}").first
                try:  # a section may draw once its data is in
                    await part.wait_for(state="visible", timeout=10_000)
                except PlaywrightTimeout:  # e.g. flow control with no flow configured
                    print(f"skipped {element} ({lang}): not shown on this board")
                    continue
                await part.scroll_into_view_if_needed()
                path = out / f"dashboard-{lang}-{element}.png"
                await part.screenshot(path=str(path))
                saved.append(path)
            await context.close()
        await browser.close()
    return saved


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=HERE, help="folder for the PNGs")
    parser.add_argument(
        "--section",
        action="append",
        default=[],
        help="also save the <section> holding this element id (repeatable), e.g. trace",
    )
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=900)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="esb-screenshots-") as scratch:
        async with demo_gateway(Path(scratch)) as (url, key):
            traced = await send_traffic(url, key)
            saved = await shoot(url, key, traced, args.out, args.section, (args.width, args.height))
    for path in saved:
        print(f"wrote {path} ({path.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    asyncio.run(main())
