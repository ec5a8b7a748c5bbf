"""Every process of a gateway reloads a changed configuration; the audit log holds one
entry per change. Production: two ``esb serve`` sharing a port on one PostgreSQL;
embedded: ``esb serve`` and ``esb worker`` on one SQLite file."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from esb.store.config_state import Entry, record_change, record_refusal
from esb.store.engine import create_engine
from esb.store.tables import audit_log
from tests.integration.test_config_audit import factory, interfaces
from tests.integration.test_faults import env_for
from tests.integration.test_serve_processes import wait_serving
from tests.support.gateway import ADMIN_KEY
from tests.support.process import GatewayProcess
from tests.support.serving import free_port
from tests.support.target import TargetServer

WROTE = "configuration change recorded in the audit log"
FOUND = "configuration change already in (another process was first) the audit log"


def processes(mode: str, settings: dict[str, Any], config: Path, logs: Path) -> list[Any]:
    env = {**env_for(settings, config), "ESB_LOG_LEVEL": "INFO"}
    if mode == "production":
        port = free_port()
        return [
            GatewayProcess(env, port, logs / f"serve-{n}.log", ("--reuse-port",)) for n in (1, 2)
        ]
    api = GatewayProcess(env, free_port(), logs / "serve.log", ("--no-relay", "--no-worker"))
    port = free_port()
    worker_env = {**env, "ESB_METRICS_PORT": str(port)}
    return [api, GatewayProcess(worker_env, port, logs / "worker.log", command="worker")]


async def handled(process: GatewayProcess, count: int) -> None:
    """Until ``process`` has recorded, or found recorded, ``count`` changes."""
    for _ in range(300):
        text = process.log_path.read_text(errors="replace")
        if text.count(WROTE) + text.count(FOUND) >= count:
            return
        assert process.proc is not None
        assert process.proc.poll() is None, process.tail()
        await asyncio.sleep(0.1)
    raise AssertionError(f"{count} changes not handled:\n{process.tail()}")


async def config_entries(url: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(timeout=10) as client:
        answer = await client.get(
            f"{url}/v1/audit?action=config", headers={"Authorization": f"Bearer {ADMIN_KEY}"}
        )
    assert answer.status_code == 200, answer.text
    return list(answer.json()["entries"])


async def test_two_processes_record_each_change_once(
    mode: str, mode_settings: dict[str, Any], target: TargetServer, tmp_path: Path
) -> None:
    folder = factory(tmp_path / "cfg", target.url)
    started = processes(mode, mode_settings, folder, tmp_path)
    try:
        for process in started:
            process.start()
            await wait_serving(process)  # this process itself: two may share one port
        changes = [
            interfaces(target.url, "/api/v2/work-orders"),  # a change
            interfaces(target.url),  # and back: a change again, not the same one
            interfaces(target.url).replace("kind: rest", "kind: rets"),  # refused
        ]
        for count, text in enumerate(changes, start=1):
            (folder / "interfaces.yaml").write_text(text)
            for process in started:
                await handled(process, count)
        logs = [p.log_path.read_text() for p in started]
        assert sum(log.count(WROTE) for log in logs) == 3  # one process wrote each change...
        assert sum(log.count(FOUND) for log in logs) == 3  # ...the other found it there
        found = await config_entries(started[0].url)
    finally:
        for process in started:
            process.stop()
    assert [e["action"] for e in found] == ["config.refused", "config.reload", "config.reload"]
    url = "interfaces.sales-order.targets.mes.connector.url"
    assert [e["after"]["values"][url] for e in found[1:]] == [
        f"{target.url}/api/work-orders",
        f"{target.url}/api/v2/work-orders",
    ]
    assert found[1]["after"]["config"] == found[2]["before"]["config"]


@pytest.mark.parametrize("rounds", [20])
async def test_processes_racing_on_the_same_change_write_one_entry(
    make_gateway, target: TargetServer, tmp_path: Path, rounds: int
) -> None:
    """Four engines (four processes' connections) record the same changes at once."""
    gut = await make_gateway(factory(tmp_path / "cfg", target.url), config_watch=False)
    engines = [create_engine(gut.settings) for _ in range(4)]
    entry = Entry("config.reload", "test", "", {}, {})
    try:
        for n in range(rounds):
            digest = f"{n:064x}"
            wrote = await asyncio.gather(
                *(record_change(e, digest, {}, lambda _: entry) for e in engines)
            )
            assert sorted(wrote) == [False, False, False, True], n
            refused = await asyncio.gather(
                *(record_refusal(e, digest, "f" * 64, entry) for e in engines)
            )
            assert sorted(refused) == [False, False, False, True], n
        async with engines[0].connect() as conn:
            written = (await conn.execute(select(func.count()).select_from(audit_log))).scalar()
        assert written == 2 * rounds
    finally:
        for engine in engines:
            await engine.dispose()
