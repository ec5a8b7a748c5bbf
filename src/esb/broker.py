"""RabbitMQ: topology, confirmed publishing and consuming, with aio-pika errors translated here.

Topology (all durable, declared by the gateway on start):
    exchange  <prefix>.deliveries   direct; routing key ``<interface>.<target>``
    queue     <prefix>.delivery.<interface>.<target>   quorum (or classic), dead-letters to
    exchange  <prefix>.dead -> queue <prefix>.dead     poison messages, never silently dropped
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import aio_pika
import aiormq
import aiormq.abc
import structlog
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustConnection,
)

from esb import failover
from esb.errors import BrokerUnavailable
from esb.settings import broker_urls

log = structlog.get_logger(__name__)

Route = tuple[str, str]  # (interface, target)
Handler = Callable[[AbstractIncomingMessage], Awaitable[None]]

PERSISTENT = 2  # AMQP delivery mode: written to disk by the broker

#: A message redelivered this often (crashing workers) is dead-lettered, not looped forever.
DELIVERY_LIMIT = 50


@dataclass(frozen=True)
class Outgoing:
    route: Route
    body: bytes
    message_id: str


class Broker:
    def __init__(self, url: str, *, prefix: str, queue_type: str, publish_timeout: float) -> None:
        self.url = url
        self.prefix = prefix
        self.queue_type = queue_type
        self.publish_timeout = publish_timeout
        self._connection: AbstractRobustConnection | None = None
        self._publish_channel: AbstractChannel | None = None
        self._exchange: AbstractExchange | None = None
        self._declared: set[Route] = set()
        self._lock = asyncio.Lock()
        self._consumers: list[tuple[AbstractQueue, str]] = []

    @property
    def connected(self) -> bool:
        """A connection is open; it may be reconnecting by itself right now."""
        return (
            self._connection is not None
            and self._exchange is not None
            and not self._connection.is_closed
        )

    @property
    def link_up(self) -> bool:
        """Connected at this moment, not waiting for a reconnect."""
        return self.connected and self._connection_or_raise().connected.is_set()

    async def link_restored(self) -> None:
        """Return once the connection is up (at once, unless it is reconnecting)."""
        await self._connection_or_raise().connected.wait()

    # -- names ---------------------------------------------------------------------------
    @property
    def exchange_name(self) -> str:
        return f"{self.prefix}.deliveries"

    def queue_name(self, route: Route) -> str:
        return f"{self.prefix}.delivery.{route[0]}.{route[1]}"

    @staticmethod
    def routing_key(route: Route) -> str:
        return f"{route[0]}.{route[1]}"

    # -- connection ----------------------------------------------------------------------
    async def connect(self) -> None:
        """Open a robust connection (it reconnects and re-declares by itself), to the first
        node of the URL list that answers (``esb.failover``)."""
        try:
            connection = await failover.connect(
                broker_urls(self.url), timeout=self.publish_timeout, name="esb"
            )
            self._connection = connection
            try:
                await self._open_publish_channel()
            except BaseException:
                self._connection = None
                await connection.close()
                raise
        except (aiormq.exceptions.AMQPError, OSError, TimeoutError) as exc:
            raise BrokerUnavailable(f"cannot connect to RabbitMQ: {exc!r}") from exc

    async def _open_publish_channel(self) -> None:
        """A publishing channel with confirms; the exchanges and the dead-letter queue
        declared on it (a robust channel declares them again after a reconnect)."""
        channel = await self._connection_or_raise().channel(
            publisher_confirms=True, on_return_raises=True
        )
        exchange = await channel.declare_exchange(
            self.exchange_name, aio_pika.ExchangeType.DIRECT, durable=True
        )
        dead = await channel.declare_exchange(
            f"{self.prefix}.dead", aio_pika.ExchangeType.FANOUT, durable=True
        )
        dead_queue = await channel.declare_queue(
            f"{self.prefix}.dead", durable=True, arguments=self._queue_args(dead=False)
        )
        await dead_queue.bind(dead)
        self._publish_channel, self._exchange = channel, exchange
        self._declared.clear()  # the routes' queues are declared on the new channel too

    async def _replace_publish_channel(self) -> None:
        """A channel that had a publish refused gets replaced.

        RabbitMQ (3.10) keeps refusing every publish of a channel that first published to
        a quorum queue while the queue had no leader (its node just died), even after a
        new leader is elected; a new channel publishes to the new leader at once. The
        refused rows stay in the outbox and go out again on the new channel."""
        old = self._publish_channel
        try:
            await self._open_publish_channel()
        except (aiormq.exceptions.AMQPError, OSError, TimeoutError, RuntimeError) as exc:
            log.warning("cannot open a new publish channel yet", error=repr(exc))
            return
        if old is not None:
            with contextlib.suppress(aiormq.exceptions.AMQPError, OSError, RuntimeError):
                await old.close()

    def _queue_args(self, *, dead: bool = True) -> dict[str, Any]:
        args: dict[str, Any] = {"x-queue-type": self.queue_type}
        if dead:
            args["x-dead-letter-exchange"] = f"{self.prefix}.dead"
            if self.queue_type == "quorum":
                args["x-delivery-limit"] = DELIVERY_LIMIT
        return args

    async def declare(self, routes: Iterable[Route]) -> None:
        """Declare the queue of every route (idempotent; new routes after a reload too)."""
        async with self._lock:
            for route in routes:
                if route in self._declared:
                    continue
                try:
                    queue = await self._channel().declare_queue(
                        self.queue_name(route), durable=True, arguments=self._queue_args()
                    )
                    await queue.bind(self.exchange_name, self.routing_key(route))
                except (aiormq.exceptions.AMQPError, OSError, TimeoutError) as exc:
                    raise BrokerUnavailable(
                        f"cannot declare {self.queue_name(route)}: {exc!r}"
                    ) from exc
                self._declared.add(route)

    def _channel(self) -> AbstractChannel:
        if self._publish_channel is None:
            raise BrokerUnavailable("broker not connected")
        return self._publish_channel

    # -- publishing ----------------------------------------------------------------------
    async def _publish_one(self, channel: aiormq.abc.AbstractChannel, item: Outgoing) -> None:
        """Persistent, ``mandatory`` (a return is an error), confirmed. Straight on the AMQP
        channel: aio-pika's Message object cost more CPU than the publish itself."""
        properties = aiormq.spec.Basic.Properties(
            content_type="application/json", delivery_mode=PERSISTENT, message_id=item.message_id
        )
        confirmation = await channel.basic_publish(
            item.body,
            exchange=self.exchange_name,
            routing_key=self.routing_key(item.route),
            properties=properties,
            mandatory=True,
            timeout=self.publish_timeout,
        )
        if not isinstance(confirmation, aiormq.spec.Basic.Ack):
            raise BrokerUnavailable(f"publish not confirmed: {confirmation!r}")

    async def publish_many(self, items: Sequence[Outgoing]) -> list[BaseException | None]:
        """Publish all at once and await every confirm; one result (None = confirmed) each."""
        if self._exchange is None:
            raise BrokerUnavailable("broker not connected")
        try:
            channel = await self._channel().get_underlay_channel()
        except (aiormq.exceptions.AMQPError, RuntimeError, ConnectionError) as exc:
            raise BrokerUnavailable(f"publish channel unavailable: {exc!r}") from exc
        results = await asyncio.gather(
            *(self._publish_one(channel, i) for i in items), return_exceptions=True
        )
        out: list[BaseException | None] = []
        for item, result in zip(items, results, strict=True):
            if isinstance(result, BaseException):
                log.warning("publish not confirmed", route=item.route, error=repr(result))
                if isinstance(result, asyncio.CancelledError):
                    raise result
                out.append(result)
            else:
                out.append(None)
        if any(isinstance(r, aiormq.exceptions.DeliveryError) for r in out):
            async with self._lock:
                await self._replace_publish_channel()
        return out

    # -- consuming -----------------------------------------------------------------------
    async def consume(self, routes: Iterable[Route], handler: Handler, prefetch: int) -> None:
        """Consume every route's queue on one channel with a bounded prefetch, manual acks."""
        if self._connection is None:
            raise BrokerUnavailable("broker not connected")
        try:
            channel = await self._connection.channel()
            await channel.set_qos(prefetch_count=prefetch)
            for route in routes:
                queue: AbstractQueue = await channel.declare_queue(
                    self.queue_name(route), durable=True, arguments=self._queue_args()
                )
                tag = await queue.consume(handler, no_ack=False)
                self._consumers.append((queue, tag))
        except (aiormq.exceptions.AMQPError, OSError, TimeoutError) as exc:
            raise BrokerUnavailable(f"cannot consume: {exc!r}") from exc

    async def queue_depth(self, route: Route) -> int:
        """Messages ready in a route's queue (0 when the queue does not exist yet); bounded
        by the publish timeout, as a connection that is reconnecting would wait for it."""
        try:
            async with asyncio.timeout(self.publish_timeout):
                channel = await self._connection_or_raise().channel()
                try:
                    queue = await channel.declare_queue(self.queue_name(route), passive=True)
                    return int(queue.declaration_result.message_count or 0)
                finally:
                    await channel.close()
        except aiormq.exceptions.ChannelNotFoundEntity:
            return 0
        except (aiormq.exceptions.AMQPError, OSError, TimeoutError) as exc:
            raise BrokerUnavailable(f"cannot inspect {self.queue_name(route)}: {exc!r}") from exc

    def _connection_or_raise(self) -> AbstractRobustConnection:
        if self._connection is None:
            raise BrokerUnavailable("broker not connected")
        return self._connection

    async def stop_consuming(self, timeout_s: float = 2.0) -> None:
        """Take no new messages; those in flight can still be acknowledged.

        While the broker is away there is nothing to cancel (its consumers went with the
        connection), and a cancel would wait for the reconnect: a stop must not.
        """
        consumers, self._consumers = self._consumers, []
        if not self.link_up:
            return
        for queue, tag in consumers:
            with contextlib.suppress(
                aiormq.exceptions.AMQPError, RuntimeError, ConnectionError, TimeoutError
            ):
                async with asyncio.timeout(timeout_s):
                    await queue.cancel(tag)

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()
            self._connection = None
