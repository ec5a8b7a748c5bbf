"""Scale-out on a real RabbitMQ cluster, counted Jepsen-style.

Three RabbitMQ nodes of our own on loopback (quorum queues), two API processes on one
port (``--reuse-port``), two relays and two workers on one PostgreSQL, and a target
that records every request. Under a minute of keyed load (a few hundred business
keys, a sequence of updates each) the node leading the queue is SIGKILLed and later
restarted, then a worker and a relay are SIGKILLed (and restarted, as a supervisor
would). Afterwards: nothing accepted is lost, duplicates are counted and each named
with its first copy's idempotency key, and the order per key is measured (asserted
with ``ordering: key``).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from tests.integration.test_serve_processes import wait_serving
from tests.support.gateway import ADMIN_KEY, ERP_KEY, write_config
from tests.support.keyed_load import KeyedLoad, TimedTarget, first_arrival_after, send_keyed, tally
from tests.support.process import GatewayProcess
from tests.support.rabbit_cluster import RabbitCluster, RabbitNode, own_cluster
from tests.support.serving import free_port

pytestmark = pytest.mark.cluster

ORDERED = True  # the interface orders by key: no key may end out of order
KEYS = 300
UPDATES = 10  # per key: 3,000 documents
BURST = 5  # a key's updates come 5 at a time, back-to-back
CLIENTS = 12
LOAD_S = 60.0
NODE_DOWN_S = 12.0  # how long the killed RabbitMQ node stays away, load going on
INTERFACE, TARGET = "status-update", "mes"


def interface_yaml(url: str) -> str:
    ordering = "        ordering: key\n" if ORDERED else ""
    return f"""
interfaces:
  {INTERFACE}:
    source: erp
    message_type: status_update
    key: OrderNo
    retry: {{schedule: [0.2s, 0.5s, 1s, 2s, 2s, 2s, 2s, 2s], jitter: 0}}
    targets:
      {TARGET}:
        connector: {{kind: rest, url: "{url}/updates", timeout: {{connect: 1s, total: 5s}}}}
{ordering}"""


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[RabbitCluster]:
    with own_cluster(tmp_path / "rabbitmq") as cluster:
        yield cluster


@pytest.fixture
async def timed_target() -> AsyncIterator[TimedTarget]:
    server = await TimedTarget().start()
    yield server
    await server.stop()


def probed(env: dict[str, str], log: Path, command: str) -> GatewayProcess:
    """A relay or worker answering /readyz on its own port (ESB_METRICS_PORT)."""
    port = free_port()
    return GatewayProcess({**env, "ESB_METRICS_PORT": str(port)}, port, log, command=command)


class Topology:
    """2 API processes on one port, 2 relays, 2 workers: one environment, own logs."""

    def __init__(self, env: dict[str, str], folder: Path) -> None:
        port = free_port()
        self.api = [
            GatewayProcess(
                env, port, folder / f"api{n}.log", ("--no-worker", "--no-relay", "--reuse-port")
            )
            for n in (1, 2)
        ]
        self.relays = [probed(env, folder / f"relay{n}.log", "relay") for n in (1, 2)]
        self.workers = [probed(env, folder / f"worker{n}.log", "worker") for n in (1, 2)]
        self.url = self.api[0].url

    @property
    def all(self) -> list[GatewayProcess]:
        return [*self.api, *self.relays, *self.workers]

    async def start(self) -> None:
        for process in self.all:
            process.start()
        for process in self.api:
            await wait_serving(process)
        for process in [*self.relays, *self.workers]:
            await process.wait_ready(60)  # its /readyz: database and RabbitMQ ok

    def stop(self) -> None:
        for process in self.all:
            process.stop()


def environment(config: Path, database: str, cluster: RabbitCluster, data: Path) -> dict[str, str]:
    return {
        "ESB_CONFIG": str(config),
        "ESB_ADMIN_KEY": ADMIN_KEY,
        "ESB_DATABASE_URL": database,
        "ESB_BROKER_URL": cluster.urls,
        "ESB_BROKER_PREFIX": f"esbcluster-{uuid.uuid4().hex[:8]}",
        "ESB_DATA_DIR": str(data),
        "ESB_POLL_INTERVAL": "0.05",
        "ESB_PUBLISH_TIMEOUT": "5",
        "ESB_LOG_LEVEL": "INFO",
        "ESB_CONFIG_WATCH": "false",
    }


async def restart(process: GatewayProcess) -> None:
    """A supervisor's restart after a SIGKILL."""
    process.start()
    await process.wait_ready(60)


async def chaos(
    cluster: RabbitCluster, topology: Topology, target: TimedTarget, queue: str
) -> dict[str, Any]:
    """Kill the queue's leader node under load, bring it back; then a worker, then a relay."""
    await target.wait_received(300)  # load is flowing through the pipeline
    leader = await asyncio.to_thread(cluster.leader, queue)
    killed_at = time.monotonic()
    await asyncio.to_thread(leader.kill)
    successor = await new_leader(cluster, queue, leader)
    elected_s = time.monotonic() - killed_at
    await asyncio.sleep(NODE_DOWN_S - elected_s)  # the node stays dead while load goes on
    await asyncio.to_thread(leader.start)
    await cluster.wait_running(len(cluster.nodes))
    rejoined_s = time.monotonic() - killed_at
    for process in (topology.workers[0], topology.relays[0]):
        # the survivor carries on alone (bounded by the whole load, should it be over by now)
        seen = min(len(target.received) + 200, KEYS * UPDATES)
        await asyncio.to_thread(process.kill)
        await target.wait_received(seen)
        await restart(process)
    return {
        "leader": leader.name,
        "successor": successor.name,
        "killed_at": killed_at,
        "elected_s": round(elected_s, 1),
        "rejoined_s": round(rejoined_s, 1),
    }


async def new_leader(cluster: RabbitCluster, queue: str, old: RabbitNode) -> RabbitNode:
    """The node that leads ``queue`` once ``old`` is gone."""
    deadline = time.monotonic() + NODE_DOWN_S
    while True:
        try:
            leader = await asyncio.to_thread(cluster.leader, queue)
        except (AssertionError, RuntimeError):  # no leader yet, or the node asked is busy
            leader = old
        if leader is not old:
            return leader
        assert time.monotonic() < deadline, f"{queue}: no new leader after {NODE_DOWN_S} s"
        await asyncio.sleep(0.2)


async def drained(
    cluster: RabbitCluster, target: TimedTarget, load: KeyedLoad, database: str, queue: str
) -> None:
    """Everything accepted arrived, no outbox row waits and the queue is empty (no copy
    is still on its way to be counted)."""
    deadline = time.monotonic() + 120
    conn = await asyncpg.connect(database)
    try:
        while True:
            arrived = {doc for doc, _, _ in target.records()}
            if set(load.accepted_at) <= arrived:
                waiting = await conn.fetchval(
                    "SELECT count(*) FROM outbox WHERE status = 'pending'"
                )
                if waiting == 0 and await asyncio.to_thread(cluster.messages, queue) == 0:
                    return
            if time.monotonic() > deadline:
                return  # counted as lost below, with the documents named
            await asyncio.sleep(0.5)
    finally:
        await conn.close()


async def test_a_cluster_loses_nothing_when_a_node_a_worker_and_a_relay_die(
    cluster: RabbitCluster, timed_target: TimedTarget, pg_clean: str, tmp_path: Path
) -> None:
    await cluster.start()
    config = write_config(tmp_path / "config", interface_yaml(timed_target.url))
    env = environment(config, pg_clean, cluster, tmp_path / "var")
    topology = Topology(env, tmp_path)
    queue = f"{env['ESB_BROKER_PREFIX']}.delivery.{INTERFACE}.{TARGET}"
    run = uuid.uuid4().hex[:6]
    keys = [f"WO-{n:04d}" for n in range(KEYS)]
    faults: asyncio.Task[dict[str, Any]] | None = None
    try:
        await topology.start()
        faults = asyncio.create_task(chaos(cluster, topology, timed_target, queue))
        load = await send_keyed(
            f"{topology.url}/v1/messages/status_update",
            ERP_KEY,
            keys,
            updates=UPDATES,
            burst=BURST,
            clients=CLIENTS,
            seconds=LOAD_S,
            run=run,
        )
        fault = await asyncio.wait_for(faults, 120)
        await drained(cluster, timed_target, load, pg_clean, queue)
        records = timed_target.records()
        counts = tally(load, records)
        recovered = first_arrival_after(load, records, fault["killed_at"]) - fault["killed_at"]
        print(
            f"\nCLUSTER (3 RabbitMQ nodes, 2 API, 2 relays, 2 workers; ordering: key "
            f"{'on' if ORDERED else 'off'}): {counts.summary()}, refused {load.refused}, "
            f"connection errors {load.errors}; leader {fault['leader']} killed, "
            f"{fault['successor']} leads after {fault['elected_s']} s, the killed node is back "
            f"in the cluster after {fault['rejoined_s']} s; first delivery of a document accepted "
            f"after the kill {recovered:.1f} s after it; duplicates (document, first "
            f"idempotency key): {counts.duplicates[:20]}"
        )
        assert counts.accepted == KEYS * UPDATES
        assert recovered < NODE_DOWN_S  # delivering again while the killed node was away
        assert counts.lost == [], counts.lost[:20]
        assert counts.keys_changed == []  # every copy carries the first copy's key
        assert load.id_changed == []  # a resend never created a second message
        if ORDERED:
            assert counts.out_of_order == [], counts.out_of_order[:20]
    finally:
        if faults is not None:
            faults.cancel()  # a load that failed leaves it waiting
        await asyncio.to_thread(topology.stop)  # the target answers on this loop meanwhile
