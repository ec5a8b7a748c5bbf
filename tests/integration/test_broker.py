"""The broker edge: confirmed, persistent, and an unroutable publish is an error."""

from __future__ import annotations

import uuid

import aio_pika
import aiormq
import pytest

from esb.broker import Broker, Outgoing


@pytest.fixture
async def broker(rabbit_url: str):
    b = Broker(
        rabbit_url, prefix=f"esbtest-{uuid.uuid4().hex[:8]}", queue_type="quorum", publish_timeout=5
    )
    await b.connect()
    yield b
    connection = await aio_pika.connect(rabbit_url)
    async with connection:
        channel = await connection.channel()
        for name in (b.queue_name(("i", "t")), f"{b.prefix}.dead"):
            await channel.queue_delete(name)
        for name in (b.exchange_name, f"{b.prefix}.dead"):
            await channel.exchange_delete(name)
    await b.close()


async def test_unroutable_publish_is_an_error_and_routable_is_confirmed(broker: Broker) -> None:
    [unroutable] = await broker.publish_many([Outgoing(("i", "t"), b"{}", "m-1")])
    assert isinstance(unroutable, aiormq.exceptions.PublishError)  # no queue bound yet

    await broker.declare([("i", "t")])
    results = await broker.publish_many(
        [Outgoing(("i", "t"), b'{"n": %d}' % n, f"m-{n}") for n in range(20)]
    )
    assert results == [None] * 20
    assert await broker.queue_depth(("i", "t")) == 20

    connection = await aio_pika.connect(broker.url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(broker.queue_name(("i", "t")), passive=True)
        message = await queue.get(no_ack=True)
        assert message.message_id == "m-0"
        assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
        assert message.content_type == "application/json"
