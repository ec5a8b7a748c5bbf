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
from typing import Any, Protocol

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
from esb.errors import MappingError, StoreRefused, StoreUnavailable, XrefMissing
from esb.flow import FREE, FlowGate
from esb.limits import clean_text
from esb.live import LiveConfig
from esb.logs import delivery_context
from esb.mapping import MappingContext
from esb.metrics import Metrics
from esb.status import AttemptOutcome
from esb.store.claims import Claim, ClaimState
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


#: Hand-outs without a recorded outcome (crashes, failed records) before a delivery is
#: parked instead of being tried again: a poison message must not loop or hold others up.
MAX_REDELIVERIES = 5
#: Error text kept per attempt: enough to diagnose, bounded whatever a target answers.
MAX_ERROR_TEXT = 4000


def _stored_text(text: str | None) -> str | None:
    return None if text is None else clean_text(text)[:MAX_ERROR_TEXT]


def _json(value: Any) -> bytes | None:
    """``value`` as JSON, or None if no JSON can hold it."""
    try:
        return orjson.dumps(value, default=json_default)
    except TypeError:  # orjson.JSONEncodeError too: a value no JSON can hold
        return None


def _encoded(value: Any) -> str | None:
    """JSON text of ``value`` for the store, or None if it cannot be encoded."""
    encoded = None if value is None else _json(value)
    return None if encoded is None else encoded.decode()


class Observer(Protocol):
    """Something that runs beside a delivery once its body is mapped: the shadows."""

    def observe(self, task: DeliveryTask, live_body: Any) -> None: ...


class Deliverer:
    def __init__(
        self,
        live: LiveConfig,
        recorder: GroupCommit[AttemptRecord, None],
        claims: GroupCommit[Claim, ClaimState],
        xref: XrefCache,
        metrics: Metrics,
        flow: FlowGate | None = None,
        shadow: Observer | None = None,
    ) -> None:
        self.live = live
        self.recorder = recorder
        self.claims = claims
        self.xref = xref
        self.metrics = metrics
        self.flow = flow
        #: the parallel runs beside this target's deliveries (esb.shadow.runner)
        self.shadow = shadow

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

    async def _attempt(self, task: DeliveryTask) -> tuple[Outcome, str | None]:
        """Map, encode, call: any failure on the way is an outcome (never an exception).
        Returns the outcome and the mapped body as JSON text: encoded once, the same
        bytes are handed to the connector and recorded as sent."""
        route = (task.interface, task.target)
        connector = self.live.snapshot.connectors.get(route)
        if connector is None or task.interface not in self.live.config.interfaces:
            return Park(f"target {task.target!r} of {task.interface!r} is not configured"), None
        try:
            body = await self.prepare(task)
        except MappingError as exc:
            return Park(f"mapping: {exc}"), None
        except StoreUnavailable as exc:  # master data could not be re-checked: not its fault
            return RetryLater(f"mapping: master data could not be checked: {exc}"), None
        except Exception as exc:  # a mapping that raised what it should not: parked, not looped
            log.exception("mapping raised")
            return Park(f"mapping failed: {type(exc).__name__}: {exc}"), None
        sent = None if body is None else _json(body)
        if sent is None:
            return Park("the mapped body cannot be written as JSON (a value beyond 64 bits?)"), None
        if self.shadow is not None:
            self.shadow.observe(task, body)  # in the background; never raises
        return await call_connector(connector, task, body, sent), sent.decode()

    def _policy(self, task: DeliveryTask) -> RetryPolicy:
        interface = self.live.config.interfaces.get(task.interface)
        if interface is None or task.target not in interface.targets:
            return RetryPolicy()
        return interface.target_retry(task.target)

    async def handle(
        self, task: DeliveryTask, *, close_claim: bool = False
    ) -> AttemptOutcome | None:
        """Attempt ``task`` and return once the outcome is committed (None: not sent, the
        delivery is no longer pending, or flow control deferred it: committed, no attempt);
        every log line meanwhile (the connector's too) carries the message, delivery,
        interface and target."""
        with delivery_context(
            message_id=str(task.message_id),
            delivery_id=str(task.delivery_id),
            interface=task.interface,
            target=task.target,
        ):
            claim = Claim(
                task.delivery_id, task.redelivered, task.outbox_id if close_claim else None
            )
            state = await self.claims.submit(claim)
            if not state.pending:  # discarded, parked or delivered meanwhile: never sent
                log.info("not sent: the delivery is no longer pending")
                return None
            admission = FREE
            if self.flow is not None:
                found = await self.flow.admit(task, task.outbox_id if close_claim else None)
                if found is None:  # deferred by flow control: no attempt, back in the outbox
                    return None
                admission = found
            called = failed = False
            try:
                outcome, called, failed = await self._handle(task, close_claim, state.redeliveries)
                return outcome
            finally:
                if self.flow is not None:
                    await self.flow.finish(admission, called=called, failed=failed)

    async def _handle(
        self, task: DeliveryTask, close_claim: bool, redeliveries: int
    ) -> tuple[AttemptOutcome, bool, bool]:
        """Attempt and record: (the recorded outcome, whether the target was called,
        whether the call failed transiently: what flow control's breaker counts)."""
        started = utcnow()
        t0 = time.perf_counter()
        if redeliveries >= MAX_REDELIVERIES:
            outcome: Outcome = Park(
                f"handed to a worker {redeliveries} times without a recorded outcome; parked "
                "so that it cannot hold up other messages (the gateway log says why)"
            )
            sent = None
        else:
            outcome, sent = await self._attempt(task)
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
            error=_stored_text(error),
            detail=_encoded(outcome.detail) if isinstance(outcome, Delivered) else None,
            next_attempt_at=finished + timedelta(seconds=delay) if delay is not None else None,
            end_to_end_ms=(
                (finished - task.received_at).total_seconds() * 1000.0
                if kind == AttemptOutcome.DELIVERED
                else None
            ),
            outbox_id=task.outbox_id if close_claim else None,
            sent_body=sent,
        )
        record = await self._record(record)
        end_to_end = None if record.end_to_end_ms is None else record.end_to_end_ms / 1000.0
        self.metrics.attempt(
            task.interface, task.target, record.outcome, duration_ms / 1000.0, end_to_end
        )
        # one line per failure at INFO; successes only at DEBUG (a line each costs CPU)
        emit = log.debug if record.outcome == AttemptOutcome.DELIVERED else log.info
        emit(
            "attempt",
            attempt=task.attempt,
            outcome=record.outcome.value,
            status_code=outcome.status_code,
            duration_ms=record.duration_ms,
            error=record.error,
        )
        return record.outcome, sent is not None, isinstance(outcome, RetryLater)

    async def _record(self, record: AttemptRecord) -> AttemptRecord:
        """Commit ``record``; if the database refuses it (a value it cannot hold), park the
        delivery with a record that holds nothing but the reason."""
        try:
            await self.recorder.submit(record)
            return record
        except StoreRefused as exc:
            log.error("outcome refused by the database; parking the delivery", error=str(exc))
            parked = record.parked(
                _stored_text(f"the {record.outcome.value} outcome could not be recorded: {exc}")
                or ""
            )
            await self.recorder.submit(parked)
            return parked


async def call_connector(
    connector: Connector,
    task: DeliveryTask,
    body: Any,
    encoded: bytes | None = None,
    guard_s: float = CALL_GUARD_S,
) -> Outcome:
    """One call; a connector that never answers is retried later, one that raises (a failure
    it did not classify, such as a body its protocol cannot carry) is parked."""
    request = DeliveryRequest(
        message_id=task.message_id,
        delivery_id=task.delivery_id,
        interface=task.interface,
        target=task.target,
        message_type=task.message_type,
        business_key=task.business_key,
        attempt=task.attempt,
        body=body,
        encoded=encoded,
    )
    try:
        async with asyncio.timeout(guard_s):  # unlike wait_for, no task per call
            return await connector.deliver(request)
    except TimeoutError:
        return RetryLater(f"connector gave no answer within {guard_s:g}s")
    except Exception as exc:  # outside the connector's own classification: parked, not looped
        log.exception("connector raised", target=task.target)
        return Park(f"connector error: {type(exc).__name__}: {exc}")
