"""Ordering per key holds under faults: 200 keys x 10 updates, random transient failures at
the target, one update parked then replayed, and processes killed with SIGKILL while
deliveries are under way (production: API, two relays and two workers as separate
processes, workers killed and restarted; embedded: the one process killed and restarted).

For every key, the target's first successful receipt of each update (the target drops
repeats by idempotency key, as a real one should) is in acceptance order, and no update
of a key reaches the target before the one accepted before it has succeeded.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx

from esb.testing.target import Received
from tests.integration.test_faults import env_for
from tests.support.gateway import ADMIN_KEY, ERP_KEY, write_config
from tests.support.process import GatewayProcess
from tests.support.serving import free_port
from tests.support.target import TargetServer

KEYS, UPDATES = 200, 10
PARKED = ("K-007", 3)  # refused with 400 the first time: parks, holds K-007 back
FAILURE_RATE = 0.15


def config_yaml(url: str) -> str:
    return f"""
interfaces:
  status-update:
    source: erp
    message_type: status_update
    key: OrderNo
    retry: {{schedule: [0.05s, 0.1s, 0.2s], max_attempts: 100, jitter: 0}}
    targets:
      mes:
        ordering: key
        connector: {{kind: rest, url: "{url}/status", timeout: {{connect: 2s, total: 10s}}}}
"""


class StrictTarget:
    """Answers the gateway: random 503s, one 400; records first successes per idempotency
    key, and every receipt, to check the order afterwards."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.succeeded: dict[str, list[int]] = defaultdict(list)  # key -> steps, first success
        self.seen_ok: set[str] = set()  # idempotency keys answered 200
        self.violations: list[str] = []
        #: the parked update is refused until the operator's replay: were it refused only
        #: once, a worker killed between that answer and its record would call again and
        #: get through, and nothing would be parked
        self.refusing = True

    def answer(self, got: Received) -> int:
        body = got.json()
        key, step = body["OrderNo"], int(body["Step"])
        done = self.succeeded[key]
        if step > 0 and (step - 1) not in done and step not in done:
            self.violations.append(f"{key} step {step} arrived before step {step - 1} succeeded")
        if (key, step) == PARKED and self.refusing:
            return 400
        if self.random.random() < FAILURE_RATE:
            return 503
        idempotency = got.headers.get("idempotency-key", "")
        if idempotency not in self.seen_ok:  # a repeat is dropped, as a real target does
            self.seen_ok.add(idempotency)
            done.append(step)
        return 200


async def send_all(url: str) -> None:
    """Update n of every key, then update n+1: acceptance order per key is step order."""
    limit = asyncio.Semaphore(16)
    async with httpx.AsyncClient(timeout=30) as client:

        async def one(key: int, step: int) -> None:
            async with limit:
                response = await client.post(
                    f"{url}/v1/messages/status_update",
                    json={"OrderNo": f"K-{key:03}", "Step": step},
                    headers={"Authorization": f"Bearer {ERP_KEY}"},
                )
                assert response.status_code == 202, response.text

        for step in range(UPDATES):
            await asyncio.gather(*(one(k, step) for k in range(KEYS)))


async def admin(url: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
    async with httpx.AsyncClient(timeout=30) as client:
        headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
        return await client.request(method, f"{url}{path}", headers=headers, **kwargs)


async def wait_until(check: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = await check()
        if found:
            return found
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


async def parked_delivery(url: str) -> str | None:
    response = await admin(url, "GET", "/v1/messages", params={"status": "parked"})
    found = response.json()["messages"]
    return str(found[0]["deliveries"][0]["id"]) if found else None


def total(strict: StrictTarget) -> int:
    return sum(len(steps) for steps in strict.succeeded.values())


async def kill_and_restart(processes: list[GatewayProcess], rounds: int, seed: int) -> None:
    """SIGKILL one of ``processes`` at random moments, starting it again at once."""
    chooser = random.Random(seed)
    for _ in range(rounds):
        await asyncio.sleep(chooser.uniform(0.5, 1.5))
        victim = chooser.choice(processes)
        await asyncio.to_thread(victim.kill)
        victim.start()


def check(strict: StrictTarget) -> None:
    assert strict.violations == []
    expected = list(range(UPDATES))
    wrong = {k: v for k, v in strict.succeeded.items() if v != expected}
    assert wrong == {}
    assert len(strict.succeeded) == KEYS


async def run_embedded(env: dict[str, str], tmp_path: Path, strict: StrictTarget) -> None:
    gateway = GatewayProcess(env, free_port(), tmp_path / "gw.log")
    gateway.start()
    try:
        await gateway.wait_ready()
        await send_all(gateway.url)
        for _ in range(3):  # killed while deliveries are under way, started again
            goal = min(total(strict) + 150, KEYS * UPDATES - KEYS)
            await wait_until(lambda g=goal: _at_least(strict, g), 60, "progress before a kill")
            await asyncio.to_thread(gateway.kill)
            gateway.start()
            await gateway.wait_ready()
        await replay_parked(gateway.url, strict)
        await wait_until(lambda: _at_least(strict, KEYS * UPDATES), 90, "every update")
    finally:
        await asyncio.to_thread(gateway.stop)


async def _at_least(strict: StrictTarget, count: int) -> bool:
    return total(strict) >= count


async def replay_parked(url: str, strict: StrictTarget) -> None:
    """The parked update holds its key back until an operator replays it."""
    head = await wait_until(lambda: parked_delivery(url), 60, "the parked update")
    key, step = PARKED
    await wait_until(
        lambda: _others_done(strict, key), 90, "every other key delivered while one is held"
    )
    assert strict.succeeded[key] == list(range(step))  # nothing after the parked one
    strict.refusing = False  # the cause was fixed at the target
    response = await admin(url, "POST", f"/v1/deliveries/{head}/replay", json={"reason": "ok"})
    assert response.status_code == 200, response.text


async def _others_done(strict: StrictTarget, held: str) -> bool:
    others = [k for k in strict.succeeded if k != held]
    return len(others) == KEYS - 1 and all(len(strict.succeeded[k]) == UPDATES for k in others)


async def run_production(env: dict[str, str], tmp_path: Path, strict: StrictTarget) -> None:
    api = GatewayProcess(env, free_port(), tmp_path / "api.log", ("--no-worker", "--no-relay"))
    parts = [
        GatewayProcess(env, free_port(), tmp_path / f"{cmd}-{n}.log", command=cmd)
        for cmd in ("relay", "worker")
        for n in (1, 2)
    ]
    workers = [p for p in parts if p.command == "worker"]
    api.start()
    for part in parts:
        part.start()
    try:
        await api.wait_ready()
        killing = asyncio.create_task(kill_and_restart(workers, 4, seed=11))
        await send_all(api.url)  # workers die while documents still come in
        await killing
        await replay_parked(api.url, strict)
        await wait_until(lambda: _at_least(strict, KEYS * UPDATES), 90, "every update")
    finally:
        for process in [api, *parts]:
            await asyncio.to_thread(process.stop)


async def test_every_key_is_received_in_acceptance_order_under_faults(
    mode: str, mode_settings: dict[str, Any], target: TargetServer, tmp_path: Path
) -> None:
    strict = StrictTarget(seed=7)
    target.answer = strict.answer
    config = write_config(tmp_path / "cfg", config_yaml(target.url))
    # the consistency check runs meanwhile: it must not release a waiting update early
    env = {
        **env_for(mode_settings, config),
        "ESB_RECONCILE_EVERY": "3",
        "ESB_RECONCILE_STUCK_AFTER": "10",
    }
    if mode == "embedded":
        await run_embedded(env, tmp_path, strict)
    else:
        await run_production(env, tmp_path, strict)
    check(strict)
