"""Load by business key, and the Jepsen-style count of what a target received from it.

Each key gets a sequence of updates (``Seq`` 1, 2, ...), sent one after the other: the
next only once the previous was accepted, so the accepted order of a key is its ``Seq``
order. They come in bursts, so a key's next update is often on its way while the one
before is still in the pipeline. Every document carries its own ``Idempotency-Key``,
and a resend after a connection error or a refusal reuses it. The target records (key,
seq, the gateway's idempotency key, arrival time); the count says what was lost, what
arrived twice (with the first copy's idempotency key) and which keys arrived out of
order.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import Response

from esb.testing.target import TargetServer

Doc = tuple[str, int]  # (business key, sequence number)


@dataclass
class KeyedLoad:
    """What the senders saw: the accepted order of every key and when each was accepted."""

    accepted: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    accepted_at: dict[Doc, float] = field(default_factory=dict)
    refused: int = 0  # answers that were not 2xx
    errors: int = 0  # connection errors
    id_changed: list[Doc] = field(default_factory=list)  # a resend got another message id

    @property
    def count(self) -> int:
        return len(self.accepted_at)


@dataclass
class TimedTarget(TargetServer):
    """The test's target system: records every request with its arrival time."""

    arrivals: list[float] = field(default_factory=list)

    async def _handle(self, request: Request) -> Response:
        self.arrivals.append(time.monotonic())
        return await super()._handle(request)

    def records(self) -> list[tuple[Doc, str, float]]:
        """((key, seq), idempotency key, arrival) for every request, in arrival order."""
        out = []
        for received, at in zip(self.received, self.arrivals, strict=True):
            body = received.json()
            doc = (str(body["OrderNo"]), int(body["Seq"]))
            out.append((doc, received.headers.get("idempotency-key", ""), at))
        return out


async def send_keyed(
    url: str,
    api_key: str,
    keys: list[str],
    *,
    updates: int,
    burst: int,
    clients: int,
    seconds: float,
    run: str,
) -> KeyedLoad:
    """``updates`` documents per key from ``clients`` senders over ``seconds``. Each sender
    owns its keys, so a key's updates go out in order; they come in bursts of ``burst``
    back-to-back updates (a work order that moves through several states at once), the
    bursts spread evenly over the time."""
    load = KeyedLoad()
    headers = {"Authorization": f"Bearer {api_key}"}
    start = time.monotonic()

    async def sender(owned: list[str]) -> None:
        bursts = [
            [(key, seq) for seq in range(first, min(first + burst, updates + 1))]
            for first in range(1, updates + 1, burst)
            for key in owned
        ]
        interval = seconds / max(len(bursts), 1)
        async with httpx.AsyncClient(timeout=10, headers=headers) as client:
            for number, docs in enumerate(bursts):
                pause = start + number * interval - time.monotonic()
                if pause > 0:
                    await asyncio.sleep(pause)  # pacing: the load's rate, not a wait for an event
                for doc in docs:
                    await _send_until_accepted(client, url, doc, run, load)

    await asyncio.gather(*(sender(keys[n::clients]) for n in range(clients)))
    return load


async def _send_until_accepted(
    client: httpx.AsyncClient, url: str, doc: Doc, run: str, load: KeyedLoad
) -> None:
    key, seq = doc
    body: dict[str, Any] = {"OrderNo": key, "Seq": seq}
    idempotency = {"Idempotency-Key": f"{run}-{key}-{seq}"}
    first_id: str | None = None
    while True:
        try:
            response = await client.post(url, json=body, headers=idempotency)
        except httpx.TransportError:
            load.errors += 1
            await asyncio.sleep(0.05)
            continue
        if response.status_code in (200, 202):
            message_id = response.json()["id"]
            if first_id is not None and message_id != first_id:
                load.id_changed.append(doc)
            load.accepted[key].append(seq)
            load.accepted_at[doc] = time.monotonic()
            return
        load.refused += 1
        await asyncio.sleep(0.05)


@dataclass
class Tally:
    accepted: int
    delivered: int
    lost: list[Doc]
    duplicates: list[tuple[Doc, str]]  # (document, the first copy's idempotency key)
    keys_changed: list[Doc]  # a copy came with another idempotency key than the first
    out_of_order: list[str]  # keys whose first arrivals differ from their accepted order

    def summary(self) -> dict[str, int]:
        return {
            "accepted": self.accepted,
            "delivered": self.delivered,
            "lost": len(self.lost),
            "duplicates": len(self.duplicates),
            "order_violations": len(self.out_of_order),
        }


def tally(load: KeyedLoad, records: list[tuple[Doc, str, float]]) -> Tally:
    first_key: dict[Doc, str] = {}
    duplicates: list[tuple[Doc, str]] = []
    changed: list[Doc] = []
    arrived: dict[str, list[int]] = defaultdict(list)  # a key's first arrivals, in order
    for doc, idempotency, _ in records:
        if doc in first_key:
            duplicates.append((doc, first_key[doc]))
            if idempotency != first_key[doc]:
                changed.append(doc)
            continue
        first_key[doc] = idempotency
        arrived[doc[0]].append(doc[1])
    accepted = set(load.accepted_at)
    return Tally(
        accepted=len(accepted),
        delivered=len(accepted & set(first_key)),
        lost=sorted(accepted - set(first_key)),
        duplicates=duplicates,
        keys_changed=changed,
        out_of_order=sorted(k for k, seqs in load.accepted.items() if arrived.get(k) != seqs),
    )


def first_arrival_after(load: KeyedLoad, records: list[tuple[Doc, str, float]], t: float) -> float:
    """When the first document accepted after ``t`` reached the target (inf: none did)."""
    return min(
        (at for doc, _, at in records if load.accepted_at.get(doc, 0.0) > t), default=float("inf")
    )
