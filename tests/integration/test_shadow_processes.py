"""A promotion reaches every gateway process (PostgreSQL + RabbitMQ): the API and relay in
this process, the workers in two ``esb worker`` processes. Promoted through the admin API,
rolled back with ``esb shadow rollback``: each worker says through its own /metrics what
it applies, and then every delivery, whichever worker made it, uses that mapping."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.integration.test_flow_processes import Workers
from tests.support.cli import esb
from tests.support.shadow import IGNORE, candidate_config, order, send_all, wait_compared
from tests.support.target import TargetServer

pytestmark = pytest.mark.parametrize("mode", ["production"], indirect=True)


async def wait_applied(workers: Workers, value: float, timeout: float = 30.0) -> None:
    """Every worker process reports ``esb_shadow_promoted`` = ``value`` for mes."""
    deadline = time.monotonic() + timeout
    while True:
        seen = await workers.counted("esb_shadow_promoted", ("target", "mes"))
        if seen == [value] * len(seen):
            return
        assert time.monotonic() < deadline, f"workers apply {seen}, not {value}"
        await asyncio.sleep(0.1)


async def deliver_urgent(gut, target: TargetServer, numbers: range) -> set[str]:
    """Send urgent orders, wait until delivered; the priorities the target got for them."""
    for message_id in await send_all(gut, [order(n, urgent=True) for n in numbers]):
        await gut.wait_status(message_id, "delivered", timeout=30)
    wanted = {f"SO-{n:04d}" for n in numbers}
    return {b["priority"] for b in target.bodies() if b["workOrderNo"] in wanted}


async def test_promotion_and_rollback_reach_every_worker_process(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    shadow = f"{{mapping: order-to-mes-v2, ignore: {IGNORE}}}"
    gut = await make_gateway(candidate_config(tmp_path / "cfg", target.url, shadow), start=False)
    await gut.start(relay=True, worker=False)
    workers = Workers(gut, tmp_path, ESB_SHADOW_REFRESH="0.2")
    try:
        workers.start()
        workers.start()
        await workers.wait_consumers(2)
        await wait_applied(workers, 0.0)
        assert await deliver_urgent(gut, target, range(0, 10)) == {"URGENT"}
        await wait_compared(gut, 10)  # the workers compared; the API process reads it

        action = {"reason": "parallel run clean", "operator": "wang.fang"}
        promoted = await gut.admin("POST", "/v1/shadow/sales-order/mes/promote", json=action)
        assert promoted.status_code == 200, promoted.text
        await wait_applied(workers, 1.0)
        assert await deliver_urgent(gut, target, range(10, 30)) == {"RUSH"}

        env = {
            "ESB_CONFIG": str(gut.settings.config),
            "ESB_DATABASE_URL": gut.settings.database_url or "",
            "ESB_DATA_DIR": str(tmp_path / "var"),
        }
        rolled = esb(
            "shadow", "rollback", "sales-order", "mes", "--reason", "MES 拒收", "--operator",
            "li.wei", env=env,
        )  # fmt: skip
        assert rolled.returncode == 0, rolled.stderr
        assert "order-to-mes" in rolled.stdout
        await wait_applied(workers, 0.0)
        assert await deliver_urgent(gut, target, range(30, 50)) == {"URGENT"}
        each = await workers.delivered_by_each()
    finally:
        workers.stop()
    assert all(each), each  # both worker processes delivered
    trail = (await gut.admin("GET", "/v1/audit?action=shadow")).json()["entries"]
    assert [(e["action"], e["actor"]) for e in trail] == [
        ("shadow.rollback", "cli:li.wei"),
        ("shadow.promote", "admin:wang.fang"),
    ]
    listed = esb("shadow", "list", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    assert '"state": "shadow"' in listed.stdout
