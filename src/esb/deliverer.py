"""One attempt, start to finish: prepare the body, call the connector, decide, record.

The decision is explicit: delivered, retry later (at a time from the interface's
backoff schedule), or park (with the reason). Nothing sleeps here; a retry is a
row in the outbox with ``available_at`` in the future, so it survives restarts.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import structlog

from esb.batching import GroupCommit
from esb.config.types import RetryPolicy
from esb.connectors import Delivered, DeliveryRequest, Outcome, Park, RetryLater
from esb.errors import MappingError
from esb.live import LiveConfig
from esb.status import AttemptOutcome
from esb.store.engine import utcnow
from esb.store.outcomes import AttemptRecord
from esb.task import DeliveryTask

log = structlog.get_logger(__name__)

#: Prepares the target body from the task (the mapping step); raises MappingError.
BodyPreparer = Callable[[DeliveryTask], Any]

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


class Deliverer:
    def __init__(
        self,
        live: LiveConfig,
        recorder: GroupCommit[AttemptRecord, None],
        prepare: BodyPreparer | None = None,
    ) -> None:
        self.live = live
        self.recorder = recorder
        self.prepare = prepare or (lambda task: task.body)

    async def _attempt(self, task: DeliveryTask) -> Outcome:
        connector = self.live.snapshot.connectors.get((task.interface, task.target))
        if connector is None:
            return Park(f"target {task.target!r} of interface {task.interface!r} is not configured")
        try:
            body = self.prepare(task)
        except MappingError as exc:
            return Park(f"mapping: {exc}")
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
            return await asyncio.wait_for(connector.deliver(request), CALL_GUARD_S)
        except TimeoutError:
            return RetryLater(f"connector gave no answer within {CALL_GUARD_S:.0f}s")
        except Exception as exc:  # a connector bug: recorded and retried, never lost
            log.exception("connector raised", target=task.target)
            return RetryLater(f"connector error: {type(exc).__name__}: {exc}")

    def _policy(self, task: DeliveryTask) -> RetryPolicy:
        interface = self.live.config.interfaces.get(task.interface)
        if interface is None or task.target not in interface.targets:
            return RetryPolicy()
        return interface.target_retry(task.target)

    async def handle(self, task: DeliveryTask, *, close_claim: bool = False) -> AttemptOutcome:
        """Attempt ``task`` and return once the outcome is committed."""
        started = utcnow()
        t0 = time.perf_counter()
        outcome = await self._attempt(task)
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
        )
        await self.recorder.submit(record)
        log.info(
            "attempt",
            message_id=str(task.message_id),
            delivery_id=str(task.delivery_id),
            interface=task.interface,
            target=task.target,
            attempt=task.attempt,
            outcome=kind.value,
            status_code=outcome.status_code,
            duration_ms=record.duration_ms,
            error=error,
        )
        return kind
