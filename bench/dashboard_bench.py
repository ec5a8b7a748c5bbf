"""How heavy is the dashboard and how fast does it first show its tiles, in headless Chromium?

Starts ``esb serve`` on the demo factory (its own /demo stand-ins as MES, ERP and WMS)
in a fresh data folder, sends real traffic (orders, some refused and retried, some
parked, shipments), then loads /dashboard --runs times in a fresh browser context
(empty cache) and --runs times reloaded (warm cache: ETag revalidation), and prints
the medians. Needs Debian's Chromium (apt-get install chromium) and Playwright.

    .venv/bin/python bench/dashboard_bench.py --orders 300 --runs 9
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Browser, Page, async_playwright

ROOT = Path(__file__).resolve().parents[1]
INPUTS = ROOT / "tests" / "data" / "scenario" / "inputs"
RESULTS = ROOT / "bench" / "results"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Read in the page once the tiles are there: navigation, paints, the dashboard's own
# mark, and every resource (the page's files and its API calls) with its bytes.
MEASURE = """async () => {
  const painted = await new Promise(resolve => {
    new PerformanceObserver(list => resolve(list.getEntries()))
      .observe({type: "element", buffered: true});
    setTimeout(() => resolve([]), 2000);
  });
  const tilePaints = painted.filter(e => e.identifier === "tile").map(e => e.renderTime);
  const nav = performance.getEntriesByType("navigation")[0];
  const paint = Object.fromEntries(performance.getEntriesByType("paint")
    .map(p => [p.name, p.startTime]));
  const tiles = performance.getEntriesByName("esb:tiles")[0];
  const routes = performance.getEntriesByName("esb:routes")[0];
  const resources = [nav, ...performance.getEntriesByType("resource")].map(r => ({
    url: r.name, transfer: r.transferSize, body: r.encodedBodySize, decoded: r.decodedBodySize,
    start: r.startTime, end: r.responseEnd}));
  return {fcp: paint["first-contentful-paint"], tiles: tiles && tiles.startTime,
          routes: routes && routes.startTime,
          tiles_painted: tilePaints.length ? Math.min(...tilePaints) : null,
          dom_ready: nav.domContentLoadedEventEnd, load: nav.loadEventEnd, resources};
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_gateway(data_dir: Path, port: int, admin_key: str) -> subprocess.Popen[bytes]:
    base = f"http://127.0.0.1:{port}/demo"
    env = {
        **os.environ,
        "ESB_DATA_DIR": str(data_dir),
        "ESB_PORT": str(port),
        "ESB_ADMIN_KEY": admin_key,
        "ESB_LOG_LEVEL": "warning",
        "MES_URL": f"{base}/mes",
        "ERP_URL": f"{base}/erp",
        "WMS_URL": base,
        "DROP_DIR": str(data_dir / "drop"),
    }
    env.pop("ESB_CONFIG", None)
    esb = Path(sys.executable).with_name("esb")
    log = (data_dir / "gateway.log").open("wb")
    return subprocess.Popen([str(esb), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)


async def wait_ready(client: httpx.AsyncClient, url: str) -> None:
    for _ in range(300):
        try:
            if (await client.get(f"{url}/readyz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise SystemExit("the gateway did not become ready (see gateway.log in the data folder)")


def orders(count: int) -> list[dict[str, Any]]:
    """Normal and urgent orders with unique numbers; every 15th has an unknown customer."""
    kinds = ["sales_order_normal", "sales_order_urgent", "sales_order_sample"]
    made = []
    for n in range(count):
        name = "sales_order_unknown_customer" if n % 15 == 14 else kinds[n % 3]
        body = json.loads((INPUTS / f"{name}.json").read_text(encoding="utf-8"))
        body["OrderNo"] = f"SO-BENCH-{n:05d}"
        made.append(body)
    return made


async def send_traffic(client: httpx.AsyncClient, url: str, count: int) -> None:
    erp = {"Authorization": "Bearer demo-erp-key"}
    wms = {"Authorization": "Bearer demo-wms-key"}
    await client.post(f"{url}/demo/mes/fail", params={"status": 503, "times": 5})
    for order in orders(count):
        response = await client.post(f"{url}/v1/messages/sales_order", json=order, headers=erp)
        response.raise_for_status()
        if order["OrderNo"].endswith("0"):
            row = {
                "order_no": order["OrderNo"],
                "ship_date": "2026-11-25 09:30",
                "carrier": "SF",
                "tracking_no": "SF1",
                "status": "S",
            }
            await client.post(f"{url}/v1/messages/shipment", json=row, headers=wms)


async def settle(client: httpx.AsyncClient, url: str, admin_key: str) -> dict[str, Any]:
    """Wait until nothing is pending but the retries the demo's 503s scheduled."""
    headers = {"Authorization": f"Bearer {admin_key}"}
    for _ in range(200):
        report = (await client.get(f"{url}/v1/report", headers=headers)).json()
        if sum(r["pending"] for r in report["interfaces"]) <= 5:
            return dict(report)
        await asyncio.sleep(0.1)
    return dict(report)


API_CALLS = {
    "report": "/v1/report?window=15m",
    "parked": "/v1/messages?status=parked&limit=100",
    "series": "/v1/report/series?window=1h&step=1m",
    "routes": "/v1/routes?window=15m",
}


async def api_times(client: httpx.AsyncClient, url: str, admin_key: str) -> dict[str, float]:
    """Each call the page makes, alone: median of 5 (what the page cannot be faster than)."""
    headers = {"Authorization": f"Bearer {admin_key}"}
    times = {}
    for name, path in API_CALLS.items():
        taken = []
        for _ in range(5):
            t0 = time.perf_counter()
            (await client.get(url + path, headers=headers)).raise_for_status()
            taken.append((time.perf_counter() - t0) * 1000)
        times[name] = statistics.median(taken)
    return times


async def load(page: Page, url: str, reload: bool) -> dict[str, Any]:
    if reload:
        await page.reload()
    else:
        await page.goto(f"{url}/dashboard")
    await page.wait_for_function("() => performance.getEntriesByName('esb:tiles').length > 0")
    await page.locator("#parked tbody tr").first.wait_for()
    await page.wait_for_function("() => performance.getEntriesByName('esb:routes').length > 0")
    await page.wait_for_load_state("load")
    return dict(await page.evaluate(MEASURE))


async def measure(browser: Browser, url: str, admin_key: str, runs: int) -> dict[str, Any]:
    cold, warm = [], []
    for _ in range(runs):
        context = await browser.new_context(viewport={"width": 1920, "height": 1080})
        await context.add_init_script(f"sessionStorage.setItem('esb.adminKey', {admin_key!r})")
        page = await context.new_page()
        cold.append(await load(page, url, reload=False))
        warm.append(await load(page, url, reload=True))
        await context.close()
    return {"cold": cold, "warm": warm}


def weight(sample: dict[str, Any]) -> dict[str, int]:
    files = [r for r in sample["resources"] if "/v1/" not in r["url"]]
    data = [r for r in sample["resources"] if "/v1/" in r["url"]]
    return {
        "requests": len(sample["resources"]),
        "files_sent": sum(r["transfer"] for r in files),
        "files_body": sum(r["body"] for r in files),
        "files_decoded": sum(r["decoded"] for r in files),
        "data_sent": sum(r["transfer"] for r in data),
    }


def median(samples: list[dict[str, Any]], key: str) -> float:
    return statistics.median(s[key] for s in samples)


def table(result: dict[str, Any], orders_sent: int, runs: int) -> str:
    cold, warm = result["cold"], result["warm"]
    w, ww = weight(cold[0]), weight(warm[0])
    rows = [
        ("tiles painted (first render with data)", "tiles_painted"),
        ("tiles in the page (the dashboard's mark)", "tiles"),
        ("route map in the page (its mark)", "routes"),
        ("first contentful paint", "fcp"),
        ("DOMContentLoaded", "dom_ready"),
        ("load event", "load"),
    ]
    lines = [
        f"Dashboard, {orders_sent} orders sent, median of {runs} loads (ms):",
        "",
        "| | cold cache | warm cache (ETag, 304) |",
        "|---|---:|---:|",
        *[f"| {label} | {median(cold, k):.0f} | {median(warm, k):.0f} |" for label, k in rows],
        f"| requests | {w['requests']} | {ww['requests']} |",
        f"| page files sent (bytes, gzip, with headers) | {w['files_sent']} | {ww['files_sent']} |",
        f"| page files, bodies gzip / decoded (bytes) | {w['files_body']} / {w['files_decoded']}"
        " | |",
        f"| API data sent (bytes) | {w['data_sent']} | {ww['data_sent']} |",
        "",
        "The API calls alone (median of 5, ms): "
        + ", ".join(f"{name} {ms:.0f}" for name, ms in result["api_ms"].items()),
    ]
    return "\n".join(lines)


async def main(args: argparse.Namespace) -> None:
    chromium = args.chromium or shutil.which("chromium")
    if not chromium:
        raise SystemExit("Chromium is not installed: apt-get install chromium")
    data_dir = Path(tempfile.mkdtemp(prefix="esb-dashboard-bench-"))
    port, admin_key = free_port(), secrets.token_hex(16)
    url = f"http://127.0.0.1:{port}"
    gateway = start_gateway(data_dir, port, admin_key)
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            await wait_ready(client, url)
            await send_traffic(client, url, args.orders)
            await settle(client, url, admin_key)
            alone = await api_times(client, url, admin_key)
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=chromium, args=ARGS)
            result = {**await measure(browser, url, admin_key, args.runs), "api_ms": alone}
            await browser.close()
    finally:
        gateway.send_signal(signal.SIGTERM)
        gateway.wait(timeout=30)
        shutil.rmtree(data_dir, ignore_errors=True)
    print(table(result, args.orders, args.runs))
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"dashboard-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(result, indent=1))
    print(f"\nevery sample: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=300, help="sales orders sent first")
    parser.add_argument("--runs", type=int, default=9, help="loads measured (cold and warm)")
    parser.add_argument("--chromium", help="Chromium binary (default: chromium on PATH)")
    asyncio.run(main(parser.parse_args()))
