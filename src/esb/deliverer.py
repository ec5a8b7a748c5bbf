"""One attempt, start to finish: prepare the body, call the connector, decide, record.

The decision is explicit: delivered, retry later (at a time from the interface's
backoff schedule), or park (with the reason). Nothing sleeps here; a retry is a
row in the outbox with ``available_at`` in the future, so it survives restarts.
"""

from __future__ import annotations

import asyncio
import random
import time
from datetime import timedelta
from typing import Any

import orjson
import structlog

from esb.batching import GroupCommit
from esb.config.types import RetryPolicy
from esb.connectors import (
    Connector,
    Delivered,
    DeliveryRequest,
    Outcome,
    Park,
    RetryLater,
    json_default,
)
from esb.errors import MappingError, XrefMissing
from esb.live import LiveConfig
from esb.logs import delivery_context
from esb.mapping import MappingContext
from esb.metrics import Metrics
from esb.status import AttemptOutcome
from esb.store.engine import utcnow
from esb.store.outcomes import AttemptRecord
from esb.task import DeliveryTask
from esb.xref import XrefCache

log = structlog.get_logger(__name__)

#: Guard above a connector's own timeouts, in case a connector forgets one.
CALL_GUARD_S = 300.0


def retry_delay(policy: RetryPolicy, next_attempt: int, retry_after: float | None) -> float:
    """The wait before ``next_attempt``, with jitter; a target's Retry-After is a floor."""
    delay = policy.delay_before(next_attempt)
    delay *= 1 + random.uniform(-policy.jitter, policy.jitter)
    if retry_after is not None:
        delay = max(delay, min(retry_after, 24 * 3600.0))
    return max(delay, 0.0)


def decide(
    task: DeliveryTask, outcome: Outcome, policy: RetryPolicy
) -> tuple[AttemptOutcome, str | None, float | None]:
    """(what happened, error text, seconds until the next attempt)."""
    if isinstance(outcome, Delivered):
        return AttemptOutcome.DELIVERED, None, None
    if isinstance(outcome, Park):
        return AttemptOutcome.PARKED, outcome.reason, None
    if task.round_attempt >= policy.attempts:
        reason = f"retries exhausted after {task.round_attempt} attempts: {outcome.reason}"
        return AttemptOutcome.PARKED, reason, None
    delay = retry_delay(policy, task.round_attempt + 1, outcome.retry_after)
    return AttemptOutcome.RETRY, outcome.reason, delay


def message_facts(task: DeliveryTask) -> dict[str, Any]:
    """What a mapping may read about the message itself (besides its body)."""
    return {
        "id": str(task.message_id),
        "key": task.business_key,
        "type": task.message_type,
        "interface": task.interface,
        "target": task.target,
        "received_at": task.received_at.isoformat(),
    }


class Deliverer:
    def __init__(
        self,
        live: LiveConfig,
        recorder: GroupCommit[AttemptRecord, None],
        xref: XrefCache,
        metrics: Metrics,
    ) -> None:
        self.live = live
        self.recorder = recorder
        self.xref = xref
        self.metrics = metrics

    def _map(self, task: DeliveryTask) -> Any:
        """The target body: an operator's correction, else the interface's mapping for this
        target, else the body as it came."""
        if task.corrected is not None:
            return task.corrected
        config = self.live.config
        spec = config.interfaces[task.interface].targets[task.target]
        if spec.mapping is None:
            return task.body
        context = MappingContext(xref=self.xref, message=message_facts(task))
        return config.mappings.get(spec.mapping)(task.body, context)

    async def prepare(self, task: DeliveryTask) -> Any:
        """Map; a missing cross-reference is checked once against the database before it
        parks, so an entry added a moment ago (then a replay) is never refused by a cache."""
        try:
            return self._map(task)
        except XrefMissing as exc:
            if exc.domain not in await self.xref.refresh():
                raise
        return self._map(task)

    async def _attempt(self, task: DeliveryTask) -> tuple[Outcome, Any]:
        route = (task.interface, task.target)
        connector = self.live.snapshot.connectors.get(route)
        if connector is None or task.interface not in self.live.config.interfaces:
            return Park(f"target {task.target!r} of {task.interface!r} is not configured"), None
        try:
            body = await self.prepare(task)
        except MappingError as exc:
            return Park(f"mapping: {exc}"), None
        return await call_connector(connector, task, body), body

    def _policy(self, task: DeliveryTask) -> RetryPolicy:
        interface = self.live.config.interfaces.get(task.interface)
        if interface is None or task.target not in interface.targets:
            return RetryPolicy()
        return interface.target_retry(task.target)

    async def handle(self, task: DeliveryTask, *, close_claim: bool = False) -> AttemptOutcome:
        """Attempt ``task`` and return once the outcome is committed; every log line meanwhile
        (the connector's too) carries the message, delivery, interface and target."""
        with delivery_context(
            message_id=str(task.message_id),
            delivery_id=str(task.delivery_id),
            interface=task.interface,
            target=task.target,
        ):
            return await self._handle(task, close_claim)

    async def _handle(self, task: DeliveryTask, close_claim: bool) -> AttemptOutcome:
        started = utcnow()
        t0 = time.perf_counter()
        outcome, body = await self._attempt(task)
        duration_ms = (time.perf_counter() - t0) * 1000.0
        kind, error, delay = decide(task, outcome, self._policy(task))
        finished = utcnow()
        record = AttemptRecord(
            delivery_id=task.delivery_id,
            interface=task.interface,
            target=task.target,
            number=task.attempt,
            started_at=started,
            duration_ms=round(duration_ms, 3),
            outcome=kind,
            status_code=outcome.status_code,
            error=error,
            detail=outcome.detail if isinstance(outcome, Delivered) else None,
            next_attempt_at=finished + timedelta(seconds=delay) if delay is not None else None,
            end_to_end_ms=(
                (finished - task.received_at).total_seconds() * 1000.0
                if kind == AttemptOutcome.DELIVERED
                else None
            ),
            outbox_id=task.outbox_id if close_claim else None,
            sent_body=None if body is None else orjson.dumps(body, default=json_default).decode(),
        )
        await self.recorder.submit(record)
        end_to_end = None if record.end_to_end_ms is None else record.end_to_end_ms / 1000.0
        self.metrics.attempt(task.interface, task.target, kind, duration_ms / 1000.0, end_to_end)
        # one line per failure at INFO; successes only at DEBUG (a line each costs CPU)
        emit = log.debug if kind == AttemptOutcome.DELIVERED else log.info
        emit(
            "attempt",
            attempt=task.attempt,
            outcome=kind.value,
            status_code=outcome.status_code,
            duration_ms=record.duration_ms,
            error=error,
        )
        return kind


async def call_connector(
    connector: Connector, task: DeliveryTask, body: Any, guard_s: float = CALL_GUARD_S
) -> Outcome:
    """One call; a connector that raises or never answers becomes a retry, never a loss."""
    request = DeliveryRequest(
        message_id=task.message_id,
        delivery_id=task.delivery_id,
        interface=task.interface,
        target=task.target,
        message_type=task.message_type,
        business_key=task.business_key,
        attempt=task.attempt,
        body=body,
    )
    try:
        async with asyncio.timeout(guard_s):  # unlike wait_for, no task per call
            return await connector.deliver(request)
    except TimeoutError:
        return RetryLater(f"connector gave no answer within {guard_s:g}s")
    except Exception as exc:  # a connector bug: recorded and retried, never lost
        log.exception("connector raised", target=task.target)
        return RetryLater(f"connector error: {type(exc).__name__}: {exc}")
