"""Fault tests that count (Jepsen style): kill, restart and cut under load, then count.

Every order has a unique number; the target records what it received. After the
fault, every order that got a 2xx must reach the target (lost = 0). Duplicates are
allowed by at-least-once, are reported, and must carry the same Idempotency-Key.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.gateway import ADMIN_KEY, ERP_KEY, rest_interface, write_config
from tests.support.load import LoadResult, send_orders
from tests.support.process import GatewayProcess
from tests.support.rabbit_cluster import RabbitNode, own_cluster
from tests.support.serving import free_port
from tests.support.target import TargetServer
from tests.support.tcpproxy import TcpProxy

pytestmark = pytest.mark.fault
MESSAGES = 1200
FAST_RETRY = "[" + ", ".join(["0.2s"] * 20) + "]"


def env_for(settings: dict[str, Any], config: Path) -> dict[str, str]:
    env = {
        "ESB_CONFIG": str(config),
        "ESB_ADMIN_KEY": ADMIN_KEY,
        "ESB_LOG_LEVEL": "WARNING",
        "ESB_POLL_INTERVAL": "0.05",
    }
    for key in ("data_dir", "database_url", "broker_url", "broker_prefix"):
        if key in settings:
            env[f"ESB_{key.upper()}"] = str(settings[key])
    return env


async def wait_all_delivered(target: TargetServer, accepted: set[str], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if accepted <= {b["OrderNo"] for b in target.bodies()}:
            await asyncio.sleep(0.5)  # let stragglers (duplicates) arrive before counting
            return
        await asyncio.sleep(0.2)


def count(target: TargetServer, load: LoadResult, label: str) -> dict[str, int]:
    keys_by_order: dict[str, set[str]] = defaultdict(set)
    copies: dict[str, int] = defaultdict(int)
    for received in target.received:
        order = received.json()["OrderNo"]
        copies[order] += 1
        keys_by_order[order].add(received.headers["idempotency-key"])
    accepted = set(load.accepted)
    counts = {
        "accepted": len(accepted),
        "delivered_unique": len(accepted & set(copies)),
        "lost": len(accepted - set(copies)),
        "duplicates": sum(n - 1 for n in copies.values()),
        "connection_errors": load.errors,
        "refused": load.refused,
    }
    print(f"\nFAULT {label}: {counts}")  # the counts go into the closing note
    assert counts["lost"] == 0, sorted(accepted - set(copies))[:10]
    assert load.id_changed == []  # a resend never created a second message
    assert all(len(keys) == 1 for keys in keys_by_order.values())  # same key on every copy
    return counts


def orders(tag: str) -> list[str]:
    run = uuid.uuid4().hex[:6]
    return [f"SO-{tag}-{run}-{n:05d}" for n in range(MESSAGES)]


async def test_sigkill_under_load_loses_nothing(
    mode_settings: dict[str, Any], mode: str, target: TargetServer, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "cfg", rest_interface(target.url, schedule=FAST_RETRY))
    gateway = GatewayProcess(env_for(mode_settings, config), free_port(), tmp_path / "gw.log")
    gateway.start()
    await gateway.wait_ready()
    killed = asyncio.Event()

    def progress(accepted: int) -> None:
        if accepted >= MESSAGES // 3 and not killed.is_set():
            killed.set()
            gateway.kill()
            gateway.start()  # a supervisor restarts it; senders resend until accepted

    try:
        load = await send_orders(
            f"{gateway.url}/v1/messages/sales_order", ERP_KEY, orders("KILL"), on_progress=progress
        )
        assert killed.is_set()
        await wait_all_delivered(target, set(load.accepted))
        counts = count(target, load, f"SIGKILL ({mode})")
        assert counts["connection_errors"] > 0  # the kill really hit senders mid-stream
    finally:
        gateway.stop()


@pytest.fixture
async def own_rabbit(tmp_path: Path) -> AsyncIterator[RabbitNode]:
    """A RabbitMQ node of the test's own: stopping the machine's node would cut every other
    test running beside this one."""
    with own_cluster(tmp_path / "rabbitmq", size=1) as cluster:
        await cluster.start()
        yield cluster.nodes[0]


@pytest.mark.parametrize("mode", ["production"], indirect=True)
async def test_rabbitmq_restart_mid_stream_loses_nothing(
    mode_settings: dict[str, Any], target: TargetServer, tmp_path: Path, own_rabbit: RabbitNode
) -> None:
    config = write_config(tmp_path / "cfg", rest_interface(target.url, schedule=FAST_RETRY))
    settings = {**mode_settings, "broker_url": own_rabbit.url}
    gateway = GatewayProcess(env_for(settings, config), free_port(), tmp_path / "gw.log")
    gateway.start()
    await gateway.wait_ready()
    restarted = asyncio.Event()

    async def restart_broker() -> None:
        await target.wait_received(MESSAGES // 4)
        await asyncio.to_thread(own_rabbit.ctl, "stop_app")
        await asyncio.sleep(1.0)
        await asyncio.to_thread(own_rabbit.ctl, "start_app")
        restarted.set()

    try:
        chaos = asyncio.create_task(restart_broker())
        load = await send_orders(f"{gateway.url}/v1/messages/sales_order", ERP_KEY, orders("RMQ"))
        await asyncio.wait_for(chaos, 120)
        await wait_all_delivered(target, set(load.accepted), timeout=120)
        count(target, load, "RabbitMQ stop_app/start_app (production)")
    finally:
        gateway.stop()


@pytest.mark.parametrize("mode", ["production"], indirect=True)
async def test_database_cut_mid_stream_loses_nothing(
    mode_settings: dict[str, Any], target: TargetServer, tmp_path: Path
) -> None:
    proxy = await TcpProxy("127.0.0.1", 5432).start()
    settings = {
        **mode_settings,
        "database_url": mode_settings["database_url"].replace(
            "127.0.0.1:5432", f"127.0.0.1:{proxy.port}"
        ),
    }
    config = write_config(tmp_path / "cfg", rest_interface(target.url, schedule=FAST_RETRY))
    env = {**env_for(settings, config), "ESB_DB_TIMEOUT": "1"}
    gateway = GatewayProcess(env, free_port(), tmp_path / "gw.log")
    gateway.start()
    await gateway.wait_ready()

    async def cut_database() -> None:
        await target.wait_received(MESSAGES // 4)
        await proxy.cut()
        await asyncio.sleep(2.0)
        await proxy.restore()

    try:
        chaos = asyncio.create_task(cut_database())
        load = await send_orders(f"{gateway.url}/v1/messages/sales_order", ERP_KEY, orders("DBCUT"))
        await chaos
        await wait_all_delivered(target, set(load.accepted), timeout=120)
        counts = count(target, load, "database connection cut for 2 s (production)")
        assert counts["refused"] > 0  # 503s were answered while the database was away
    finally:
        gateway.stop()
        await proxy.cut()
