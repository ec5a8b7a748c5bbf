"""The relay: outbox rows -> RabbitMQ (production) or -> in-process workers (embedded).

Rows are claimed by status with ``FOR UPDATE SKIP LOCKED`` inside one transaction,
published with confirms, and marked sent only after the confirm; several relays can
run side by side. A row whose delivery is no longer pending is dropped, not sent.
"""

from __future__ import annotations

import asyncio
import contextlib
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import structlog
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from esb.broker import Broker, Outgoing
from esb.errors import BrokerUnavailable, StoreUnavailable
from esb.status import OutboxStatus
from esb.store.engine import transaction, utcnow
from esb.store.outbox import claim_due, is_live, mark, to_task
from esb.task import DeliveryTask

log = structlog.get_logger(__name__)


class Relay(ABC):
    """Shared loop: relay a batch, and when the outbox is drained wait for a wake-up or a tick."""

    def __init__(self, engine: AsyncEngine, *, batch: int, poll_interval: float) -> None:
        self.engine = engine
        self.batch = batch
        self.poll_interval = poll_interval
        self.wakeup = asyncio.Event()
        self.stopping = False

    def request_stop(self) -> None:
        """Finish the batch in hand, then return from ``run``.

        Cancelling mid-batch would roll back the "sent" marks of rows RabbitMQ already
        confirmed, and whichever relay runs next would publish them a second time.
        """
        self.stopping = True
        self.wakeup.set()

    @abstractmethod
    async def relay_once(self) -> int:
        """Move one batch; return how many rows were handled."""

    async def run(self) -> None:
        backoff = 0.1
        while not self.stopping:
            # cleared before looking, not after: a wake-up for a row committed while this
            # batch was read (and not in it) makes the next look start at once, instead
            # of being erased and the row waiting for the poll tick
            self.wakeup.clear()
            try:
                moved = await self.relay_once()
                backoff = 0.1
            except (StoreUnavailable, BrokerUnavailable) as exc:
                if self.stopping:
                    return
                log.warning("relay waiting for a service", error=str(exc), retry_in=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            if moved < self.batch and not self.stopping:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wakeup.wait(), self.poll_interval)


class BrokerRelay(Relay):
    def __init__(self, engine: AsyncEngine, broker: Broker, *, batch: int, poll_interval: float):
        super().__init__(engine, batch=batch, poll_interval=poll_interval)
        self.broker = broker

    async def relay_once(self) -> int:
        now = utcnow()
        async with transaction(self.engine) as conn:
            rows = await claim_due(conn, self.batch, now)
            if not rows:
                return 0
            live = [r for r in rows if is_live(r)]
            await mark(
                conn, [r.outbox_id for r in rows if not is_live(r)], OutboxStatus.DROPPED, now
            )
            await self.broker.declare({(r.interface, r.target) for r in live})
            results = await self.broker.publish_many([self._outgoing(r) for r in live])
            sent = [r.outbox_id for r, error in zip(live, results, strict=True) if error is None]
            await mark(conn, sent, OutboxStatus.SENT, utcnow())
        if len(sent) < len(live):
            raise BrokerUnavailable(
                f"{len(live) - len(sent)} of {len(live)} publishes not confirmed"
            )
        return len(rows)

    @staticmethod
    def _outgoing(row: Row[Any]) -> Outgoing:
        task = to_task(row, verbatim=True)
        return Outgoing(
            (row.interface, row.target), task.encode(), f"{row.delivery_id}:{row.outbox_id}"
        )


class LocalRelay(Relay):
    """Embedded mode: the database is the queue; claimed rows go to an in-process queue."""

    def __init__(
        self,
        engine: AsyncEngine,
        queue: asyncio.Queue[DeliveryTask],
        *,
        capacity: int,
        batch: int,
        poll_interval: float,
    ):
        super().__init__(engine, batch=batch, poll_interval=poll_interval)
        #: unbounded; ``capacity`` is what the relay and the accepts fill it up to. The
        #: relay counts its room before it waits for the writer, and accepts may hand
        #: theirs meanwhile: the queue then holds up to twice ``capacity`` for a moment,
        #: where a bounded queue would refuse (``QueueFull``) tasks whose rows are claimed
        self.queue = queue
        self.capacity = capacity
        #: the last look found the queue full: the workers wake the relay when it has room
        self.waiting_for_room = False
        #: room promised to accepts that hand their deliveries straight to the workers
        self.reserved = 0

    def room(self) -> int:
        return self.capacity - self.queue.qsize() - self.reserved

    def reserve(self, wanted: int) -> int:
        """Room in the queue for an accept's new deliveries (``accept.Workers``)."""
        taken = max(0, min(wanted, self.room()))
        self.reserved += taken
        return taken

    def hand(self, tasks: Sequence[DeliveryTask], reserved: int) -> None:
        """The accept committed: its claimed deliveries join the queue, in the room kept."""
        self.reserved -= reserved
        for task in tasks:
            self.queue.put_nowait(task)

    async def relay_once(self) -> int:
        # not reserved: holding the room while waiting for the writer would send every
        # accept meanwhile to the relay (no room), and the relay would claim per message
        room = min(self.batch, self.room())
        self.waiting_for_room = room <= 0
        if room <= 0:
            return 0
        now = utcnow()
        async with transaction(self.engine) as conn:
            rows: Sequence[Row[Any]] = await claim_due(conn, room, now)
            live = [r for r in rows if is_live(r)]
            await mark(
                conn, [r.outbox_id for r in rows if not is_live(r)], OutboxStatus.DROPPED, now
            )
            await mark(conn, [r.outbox_id for r in live], OutboxStatus.CLAIMED, now)
        for row in live:
            self.queue.put_nowait(to_task(row, verbatim=False))
        return len(rows) if len(rows) < room else self.batch
