"""Several `esb serve` processes on one port (production mode): `--reuse-port`.

With a shared port, `/readyz` may be answered by any of the processes: a test that
waits for one process to be ready must see that process itself listening (it listens
only once started). Waiting on `/readyz` alone let the first test stop the only
serving process while the second was still starting (connection refused, seen on a
busy machine).
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.multiprocess import MultiProcessCollector

from tests.integration.test_faults import env_for
from tests.integration.test_metrics import samples
from tests.support.gateway import ERP_KEY, rest_interface, write_config
from tests.support.process import GatewayProcess
from tests.support.serving import free_port
from tests.support.target import TargetServer

ACCEPTED = ("esb_messages_accepted_total", (("interface", "sales-order"),))
DELIVERED = (
    "esb_attempts_total",
    (("interface", "sales-order"), ("outcome", "delivered"), ("target", "mes")),
)


def listening(pid: int, port: int) -> bool:
    """Whether process ``pid`` holds a listening TCP socket on ``port`` (Linux /proc)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            link = os.readlink(fd)
        except OSError:
            continue  # closed meanwhile
        if link.startswith("socket:["):
            inodes.add(link[len("socket:[") : -1])
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port and inode in inodes:
                return True
    return False


async def wait_serving(process: GatewayProcess, timeout: float = 60.0) -> None:
    """This very process listens (it does once started) and the gateway answers ready."""
    assert process.proc is not None
    port = int(process.url.rsplit(":", 1)[1])
    deadline = time.monotonic() + timeout
    while not listening(process.proc.pid, port):
        assert process.proc.poll() is None, process.tail()
        assert time.monotonic() < deadline, f"not listening after {timeout} s:\n{process.tail()}"
        await asyncio.sleep(0.1)
    await process.wait_ready(timeout)


async def wait_delivered(target: TargetServer, count: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(target.bodies()) >= count:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.3)  # a duplicate would arrive now


def production(pg_clean: str, rabbit_url: str, tmp_path: Path) -> dict[str, Any]:
    return {
        "data_dir": tmp_path / "var",
        "database_url": pg_clean,
        "broker_url": rabbit_url,
        "broker_prefix": f"esbtest-{uuid.uuid4().hex[:10]}",
    }


async def send_on_fresh_connections(url: str, orders: list[str]) -> None:
    """One connection per order, so the kernel spreads them over the listening processes."""
    for order in orders:
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.post(
                f"{url}/v1/messages/sales_order",
                json={"OrderNo": order},
                headers={"Authorization": f"Bearer {ERP_KEY}"},
            )
            assert response.status_code == 202, response.text


async def test_two_processes_share_the_port_and_deliver_everything_once(
    pg_clean: str, rabbit_url: str, target: TargetServer, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "config", rest_interface(target.url))
    env, port = env_for(production(pg_clean, rabbit_url, tmp_path), config), free_port()
    first = GatewayProcess(env, port, tmp_path / "first.log", ("--reuse-port",))
    second = GatewayProcess(env, port, tmp_path / "second.log", ("--reuse-port",))
    try:
        first.start()
        await wait_serving(first)
        second.start()  # without SO_REUSEPORT this one would fail to bind and exit
        await wait_serving(second)
        orders = [f"RP-{n:03}" for n in range(60)]
        await send_on_fresh_connections(first.url, orders[:40])
        # stopped from a thread: the target runs on this event loop and must answer meanwhile
        await asyncio.to_thread(first.stop)  # the second process alone serves the port now
        await send_on_fresh_connections(second.url, orders[40:])
        await wait_delivered(target, len(orders))
        received = sorted(body["OrderNo"] for body in target.bodies())
        assert received == orders  # every order once, whichever process took it
    finally:
        first.stop()
        second.stop()


def accepted_by_each_process(folder: Path) -> dict[int, float]:
    """What each process counted itself, read from its own file in the shared folder."""
    counted = {}
    for path in folder.glob("counter_*.db"):
        families = MultiProcessCollector.merge([str(path)])
        counted[int(path.stem.split("_")[1])] = sum(
            s.value for f in families for s in f.samples if s.name == ACCEPTED[0]
        )
    return counted


async def scrape(url: str) -> dict[Any, float]:
    async with httpx.AsyncClient(timeout=10) as client:  # a fresh connection: any process
        return samples((await client.get(f"{url}/metrics")).text)


async def test_metrics_of_processes_sharing_a_port_add_up(
    pg_clean: str, rabbit_url: str, target: TargetServer, tmp_path: Path
) -> None:
    """Every scrape, whichever process answers, reports the whole group's counters."""
    config = write_config(tmp_path / "config", rest_interface(target.url))
    env, port = env_for(production(pg_clean, rabbit_url, tmp_path), config), free_port()
    processes = [
        GatewayProcess(env, port, tmp_path / f"api-{n}.log", ("--reuse-port",)) for n in (1, 2)
    ]
    try:
        for process in processes:
            process.start()
            await wait_serving(process)
        orders = [f"MP-{n:03}" for n in range(40)]
        await send_on_fresh_connections(processes[0].url, orders)
        await wait_delivered(target, len(orders))
        counted = accepted_by_each_process(tmp_path / "var" / "metrics")
        pids = {p.proc.pid for p in processes if p.proc is not None}
        assert set(counted) == pids, counted
        assert all(counted.values()), counted  # both processes took orders
        deadline = time.monotonic() + 30  # the last outcomes are recorded after the call
        while (await scrape(processes[0].url)).get(DELIVERED) != len(orders):
            assert time.monotonic() < deadline, await scrape(processes[0].url)
            await asyncio.sleep(0.2)
        for _ in range(20):
            got = await scrape(processes[0].url)
            assert (got[ACCEPTED], got[DELIVERED]) == (len(orders), len(orders))
    finally:
        for process in processes:
            process.stop()
    print(f"\nMETRICS accepted per process: {counted}; every scrape: {len(orders)}")


def test_embedded_mode_refuses_reuse_port(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from esb.cli import app

    config = write_config(tmp_path / "config", rest_interface("http://127.0.0.1:9"))
    result = CliRunner().invoke(
        app,
        ["serve", "--reuse-port"],
        env={"ESB_CONFIG": str(config), "ESB_DATA_DIR": str(tmp_path / "var"), "ESB_LANG": "en"},
    )
    assert result.exit_code == 2
    assert "--reuse-port needs production mode" in result.output
