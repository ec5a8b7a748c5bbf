"""A load generator that behaves like a careful sender: unique orders, resend until accepted.

It records which orders got a 2xx (accepted). Loss is counted against that set at
the target; a resend after a timeout must come back with the same message id.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx


@dataclass
class LoadResult:
    accepted: dict[str, str] = field(default_factory=dict)  # order number -> message id
    refused: int = 0  # answers that were not 2xx (503 while the database was cut, ...)
    errors: int = 0  # connection errors (the gateway was down)
    id_changed: list[str] = field(default_factory=list)  # a resend got a different id


async def send_orders(
    url: str,
    key: str,
    orders: list[str],
    *,
    concurrency: int = 32,
    on_progress: Callable[[int], None] | None = None,
    deadline_s: float = 120.0,
) -> LoadResult:
    result = LoadResult()
    queue: asyncio.Queue[str] = asyncio.Queue()
    for order in orders:
        queue.put_nowait(order)
    headers = {"Authorization": f"Bearer {key}"}
    limits = httpx.Limits(max_connections=concurrency)

    async def sender(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            order = queue.get_nowait()
            first_id: str | None = None
            while True:
                try:
                    response = await client.post(
                        url, json={"OrderNo": order, "Lines": []}, headers=headers
                    )
                except httpx.TransportError:
                    result.errors += 1
                    await asyncio.sleep(0.05)
                    continue
                if response.status_code in (200, 202):
                    message_id = response.json()["id"]
                    if first_id is not None and message_id != first_id:
                        result.id_changed.append(order)
                    first_id = message_id
                    result.accepted[order] = message_id
                    if on_progress is not None:
                        on_progress(len(result.accepted))
                    break
                result.refused += 1
                await asyncio.sleep(0.05)

    async with httpx.AsyncClient(timeout=5, limits=limits) as client:
        await asyncio.wait_for(
            asyncio.gather(*(sender(client) for _ in range(concurrency))), deadline_s
        )
    return result
