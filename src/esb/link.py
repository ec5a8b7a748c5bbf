"""The link to RabbitMQ: connect in the background with bounded backoff, and let a caller
that needs the broker wait for it only so long.

Once connected, aio-pika's robust connection reconnects by itself; until then the link
retries here (tenacity): each attempt bounded by ``attempt_timeout``, the pause between
attempts growing to ``MAX_PAUSE_S`` with jitter. It never gives up on its own — the
relay must resume when RabbitMQ is back, and the API keeps accepting into the outbox
meanwhile — but nobody waits on it unbounded: ``ready(within)`` raises
``BrokerUnavailable`` (503 at the HTTP edge) when the broker is not there in time.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import structlog
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    wait_exponential,
    wait_random,
)

from esb.broker import Broker, Route
from esb.errors import BrokerUnavailable

log = structlog.get_logger(__name__)

FIRST_PAUSE_S = 0.2
MAX_PAUSE_S = 5.0
JITTER_S = 0.2  # several processes do not knock on a restarted broker in step
PAUSES = wait_exponential(multiplier=FIRST_PAUSE_S, max=MAX_PAUSE_S) + wait_random(0, JITTER_S)


def _waiting(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome is not None else None
    pause = state.next_action.sleep if state.next_action is not None else None
    log.warning(
        "waiting for RabbitMQ", error=str(error), attempt=state.attempt_number, retry_in=pause
    )


class BrokerLink:
    """A part of the gateway: ``start`` connects in the background, ``stop`` closes."""

    name = "broker"

    def __init__(
        self, broker: Broker, routes: Callable[[], list[Route]], *, attempt_timeout: float
    ) -> None:
        self.broker = broker
        self.routes = routes
        self.attempt_timeout = attempt_timeout
        self.up = asyncio.Event()  # connected once; the robust connection does the rest
        self.last_error: str | None = None
        self._connecting: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._connecting is None and not self.up.is_set():
            self._connecting = asyncio.create_task(self._connect(), name="broker-link")

    async def _connect(self) -> None:
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(BrokerUnavailable),
            wait=wait_exponential(multiplier=FIRST_PAUSE_S, max=MAX_PAUSE_S)
            + wait_random(0, JITTER_S),
            before_sleep=_waiting,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                await self._attempt()
        self.last_error = None
        self.up.set()
        log.info("connected to RabbitMQ")

    async def _attempt(self) -> None:
        try:
            async with asyncio.timeout(self.attempt_timeout):
                if not self.broker.connected:
                    await self.broker.connect()
                await self.broker.declare(self.routes())
        except TimeoutError as exc:
            self.last_error = f"no answer within {self.attempt_timeout:g}s"
            raise BrokerUnavailable(f"RabbitMQ: {self.last_error}") from exc
        except BrokerUnavailable as exc:
            self.last_error = str(exc)
            raise

    async def ready(self, within: float) -> Broker:
        """The broker, connected and up; ``BrokerUnavailable`` if not within ``within`` s."""
        await self.start()
        try:
            async with asyncio.timeout(within):
                await self.up.wait()
                await self.broker.link_restored()
        except TimeoutError:
            why = self.last_error or "reconnecting"
            raise BrokerUnavailable(f"RabbitMQ not reachable within {within:g}s: {why}") from None
        return self.broker

    async def health(self) -> str:
        return "ok" if self.broker.link_up else "unavailable"

    async def stop(self) -> None:
        if self._connecting is not None:
            self._connecting.cancel()
            with contextlib.suppress(asyncio.CancelledError, BrokerUnavailable):
                await self._connecting
            self._connecting = None
        await self.broker.close()
