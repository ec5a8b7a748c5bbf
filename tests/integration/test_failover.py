"""ESB_BROKER_URL listing several nodes: a node that does not answer is skipped on
connect, and a connection lost with its node reconnects to the next one.

Two TCP proxies in front of the test's RabbitMQ stand for two nodes of a cluster (the
whole cluster, killed nodes and all, is tests/integration/test_cluster.py).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aio_pika
import pytest
from yarl import URL

from esb.broker import Broker, Outgoing
from tests.support.serving import free_port
from tests.support.tcpproxy import TcpProxy

ROUTE = ("i", "t")


@pytest.fixture
async def nodes(rabbit_url: str) -> AsyncIterator[tuple[TcpProxy, TcpProxy]]:
    url = URL(rabbit_url)
    first = await TcpProxy(url.host or "127.0.0.1", url.port or 5672).start()
    second = await TcpProxy(url.host or "127.0.0.1", url.port or 5672).start()
    yield first, second
    await first.cut()
    await second.cut()


async def delete_topology(rabbit_url: str, broker: Broker) -> None:
    connection = await aio_pika.connect(rabbit_url)
    async with connection:
        channel = await connection.channel()
        for name in (broker.queue_name(ROUTE), f"{broker.prefix}.dead"):
            await channel.queue_delete(name)
        for name in (broker.exchange_name, f"{broker.prefix}.dead"):
            await channel.exchange_delete(name)


async def test_a_silent_node_is_skipped_and_a_lost_one_is_left_for_the_next(
    rabbit_url: str, nodes: tuple[TcpProxy, TcpProxy]
) -> None:
    first, second = nodes
    silent = free_port()  # nothing listens there: a node that is down
    urls = ",".join(
        f"amqp://guest:guest@127.0.0.1:{port}/" for port in (silent, first.port, second.port)
    )
    broker = Broker(
        urls, prefix=f"esbtest-{uuid.uuid4().hex[:8]}", queue_type="quorum", publish_timeout=5
    )
    reconnected = asyncio.Event()
    try:
        await broker.connect()  # the silent node refused: the first proxy took it
        assert first._writers
        assert not second._writers
        await broker.declare([ROUTE])
        assert await broker.publish_many([Outgoing(ROUTE, b"{}", "m-1")]) == [None]

        connection: Any = broker._connection
        connection.reconnect_callbacks.add(lambda *_: reconnected.set())
        await first.cut()  # its node is gone for good: the next in the list takes over
        await asyncio.wait_for(reconnected.wait(), 30)
        assert second._writers
        assert await broker.publish_many([Outgoing(ROUTE, b"{}", "m-2")]) == [None]
        assert await broker.queue_depth(ROUTE) == 2
    finally:
        await broker.close()
        await delete_topology(rabbit_url, broker)
