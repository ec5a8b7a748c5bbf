"""Helpers for flow-control tests: a systems.yaml with a ``flow:`` section, counts at the target."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.gateway import ERP_KEY, MES_KEY
from tests.support.target import TargetServer


def systems_with_flow(flow: str) -> str:
    """systems.yaml where ``mes`` (the target of ``rest_interface``) has ``flow``."""
    indented = "\n".join("      " + line for line in flow.strip().splitlines())
    return f"""
systems:
  erp: {{api_key: "{ERP_KEY}"}}
  mes:
    api_key: "{MES_KEY}"
    flow:
{indented}
  wms: {{}}
  finance: {{}}
"""


async def send_orders(url: str, orders: list[str], parallel: int = 10) -> list[str]:
    """POST the orders (``parallel`` at a time); the message ids in order."""
    ids: dict[str, str] = {}
    limit = asyncio.Semaphore(parallel)
    async with httpx.AsyncClient(timeout=30) as client:

        async def one(order: str) -> None:
            async with limit:
                response = await client.post(
                    f"{url}/v1/messages/sales_order",
                    json={"OrderNo": order},
                    headers={"Authorization": f"Bearer {ERP_KEY}"},
                )
                assert response.status_code == 202, response.text
                ids[order] = response.json()["id"]

        await asyncio.gather(*(one(o) for o in orders))
    return [ids[o] for o in orders]


def delivered_orders(target: TargetServer) -> list[str]:
    """Orders the target answered 200, in the order it got them."""
    return [r.json()["OrderNo"] for r in target.received if r.status == 200]


async def wait_orders(target: TargetServer, count: int, timeout: float) -> float:
    """Wait until ``count`` different orders were answered 200; the monotonic time then."""
    deadline = time.monotonic() + timeout
    while len(set(delivered_orders(target))) < count:
        assert time.monotonic() < deadline, (
            f"{len(set(delivered_orders(target)))} of {count} delivered after {timeout} s"
        )
        await asyncio.sleep(0.05)
    return time.monotonic()


async def attempt_counts(engine: AsyncEngine) -> dict[str, Any]:
    """What the store recorded: attempts and round attempts of all deliveries, attempt rows,
    and those of them that never reached the target (no connection)."""
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT count(*) AS deliveries, sum(attempts) AS attempts, "
                    "sum(round_attempts) AS rounds, max(attempts) AS most FROM deliveries"
                )
            )
        ).one()
        recorded = await conn.scalar(text("SELECT count(*) FROM attempts"))
        # a connect that timed out (a busy machine): an attempt the target never saw
        unreached = await conn.scalar(
            text("SELECT count(*) FROM attempts WHERE error LIKE 'no connection within %'")
        )
    return {**row._asdict(), "attempt_rows": recorded, "unreached": unreached}


def most_in_window(times: list[float], window: float) -> int:
    """The most arrivals within any span of ``window`` seconds."""
    times = sorted(times)
    best, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best
