"""Workers: take delivery tasks (from RabbitMQ or the in-process queue) and run them.

Broker mode acknowledges a message only after its outcome is committed, so a worker
killed mid-call leaves the message to be redelivered (at least once; the target gets
the same Idempotency-Key). Prefetch bounds how many are in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Coroutine
from typing import Any

import aiormq
import structlog
from aio_pika.abc import AbstractIncomingMessage

from esb.broker import Broker, Route
from esb.deliverer import Deliverer
from esb.relay import LocalRelay
from esb.store.outbox import return_claim
from esb.task import DeliveryTask

log = structlog.get_logger(__name__)

#: A delivery whose outcome could not be recorded is offered again after this long.
RETURN_DELAY_S = 1.0


class TaskSet:
    """Tracks running tasks so shutdown can wait for them."""

    def __init__(self) -> None:
        self.tasks: set[asyncio.Task[None]] = set()

    def spawn(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        task = asyncio.create_task(coro, name=name)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def drain(self, grace_s: float) -> None:
        if self.tasks:
            await asyncio.wait(self.tasks, timeout=grace_s)
        for task in list(self.tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


class BrokerWorker:
    def __init__(self, broker: Broker, deliverer: Deliverer, routes: list[Route], prefetch: int):
        self.broker = broker
        self.deliverer = deliverer
        self.routes = routes
        self.prefetch = prefetch
        self.running = TaskSet()
        self.started = False

    async def start(self) -> None:
        await self.broker.declare(self.routes)
        await self.broker.consume(self.routes, self._on_message, self.prefetch)
        self.started = True

    async def add_routes(self, routes: list[Route]) -> None:
        """A reload added interfaces or targets: consume their queues too."""
        self.routes.extend(routes)
        if routes and self.started:
            await self.broker.declare(routes)
            await self.broker.consume(routes, self._on_message, self.prefetch)

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        self.running.spawn(self._process(message), name=f"deliver-{message.message_id}")

    async def _process(self, message: AbstractIncomingMessage) -> None:
        try:
            task = DeliveryTask.decode(message.body, redelivered=bool(message.redelivered))
        except (ValueError, KeyError, TypeError) as exc:
            log.error("undecodable delivery message dead-lettered", error=repr(exc))
            await self._settle(message.reject(requeue=False))
            return
        try:
            await self.deliverer.handle(task)
        except Exception:  # counted as a redelivery when it comes back; parked past the bound
            log.exception(
                "delivery not recorded; message returned to the queue",
                delivery_id=str(task.delivery_id),
            )
            await asyncio.sleep(RETURN_DELAY_S)
            await self._settle(message.nack(requeue=True))
            return
        await self._settle(message.ack())

    @staticmethod
    async def _settle(action: Awaitable[Any]) -> None:
        """Ack/nack; if the channel died meanwhile the broker redelivers (at least once)."""
        try:
            await action
        except (aiormq.exceptions.AMQPError, RuntimeError, ConnectionError) as exc:
            log.warning("could not settle message; it will be redelivered", error=repr(exc))

    async def stop(self, grace_s: float = 10.0) -> None:
        await self.broker.stop_consuming()
        await self.running.drain(grace_s)


class LocalWorker:
    """Embedded mode: a fixed pool of coroutines draining the in-process queue."""

    def __init__(
        self,
        queue: asyncio.Queue[DeliveryTask],
        deliverer: Deliverer,
        relay: LocalRelay,
        concurrency: int,
    ):
        self.queue = queue
        self.deliverer = deliverer
        self.relay = relay
        self.concurrency = concurrency
        self.loops = TaskSet()
        self.inflight = TaskSet()

    async def start(self) -> None:
        for n in range(self.concurrency):
            self.loops.spawn(self._loop(), name=f"local-worker-{n}")

    async def _handle(self, task: DeliveryTask) -> None:
        try:
            await self.deliverer.handle(task, close_claim=True)
        except Exception:  # offered again later, counted; parked past the bound
            log.exception("delivery not recorded", delivery_id=str(task.delivery_id))
            try:
                await return_claim(self.relay.engine, task.outbox_id, RETURN_DELAY_S)
            except Exception:  # the database is away: the next start puts it back
                log.exception("claim not returned", delivery_id=str(task.delivery_id))

    async def _loop(self) -> None:
        while True:
            task = await self.queue.get()
            await asyncio.shield(self.inflight.spawn(self._handle(task), name="local-deliver"))
            # only a relay that stopped for a full queue needs waking: waking it after
            # every task cost an empty claim transaction per message on SQLite's one
            # connection (new rows wake it themselves)
            if self.relay.waiting_for_room and self.queue.qsize() < self.relay.capacity // 2:
                self.relay.waiting_for_room = False
                self.relay.wakeup.set()

    async def stop(self, grace_s: float = 10.0) -> None:
        """Stop taking tasks and let running attempts finish; queued ones wait for restart."""
        await self.loops.drain(0)
        await self.inflight.drain(grace_s)
