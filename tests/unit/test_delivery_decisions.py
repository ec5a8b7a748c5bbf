"""Outcome -> next state: delivered, retry at a time from the schedule, or park."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import ClassVar
from uuid import uuid4

from hypothesis import given
from hypothesis import strategies as st

from esb.config.types import RetryPolicy, parse_duration
from esb.connectors import ConnectorConfig, Delivered, DeliveryRequest, Outcome, Park, RetryLater
from esb.deliverer import call_connector, decide, retry_delay
from esb.status import AttemptOutcome
from esb.task import DeliveryTask
from esb_rest.connector import classify as rest_classify


def task(round_attempt: int) -> DeliveryTask:
    return DeliveryTask(
        1,
        uuid4(),
        uuid4(),
        "i",
        "t",
        "m",
        None,
        round_attempt,
        round_attempt,
        datetime.now(UTC),
        "application/json",
        {},
    )


POLICY = RetryPolicy(schedule=[1, 10, 100], jitter=0)


def test_delivered_and_parked_are_final() -> None:
    assert decide(task(1), Delivered(200), POLICY) == (AttemptOutcome.DELIVERED, None, None)
    assert decide(task(1), Park("HTTP 400"), POLICY) == (AttemptOutcome.PARKED, "HTTP 400", None)


def test_retry_follows_the_schedule_then_parks() -> None:
    waits = [decide(task(n), RetryLater("503"), POLICY)[2] for n in (1, 2, 3)]
    assert waits == [1, 10, 100]
    kind, reason, _ = decide(task(4), RetryLater("HTTP 503"), POLICY)
    assert kind == AttemptOutcome.PARKED
    assert reason == "retries exhausted after 4 attempts: HTTP 503"


def test_retry_after_is_a_floor() -> None:
    assert retry_delay(POLICY, 2, retry_after=30.0) == 30.0
    assert retry_delay(POLICY, 2, retry_after=0.5) == 1.0


@given(st.integers(min_value=2, max_value=50), st.floats(min_value=0, max_value=1))
def test_jitter_stays_within_its_share(attempt: int, jitter: float) -> None:
    policy = RetryPolicy(schedule=[5, 50], jitter=jitter)
    base = policy.delay_before(attempt)
    assert (
        base * (1 - jitter) - 1e-9
        <= retry_delay(policy, attempt, None)
        <= base * (1 + jitter) + 1e-9
    )


def test_duration_text() -> None:
    assert [parse_duration(v) for v in ("250ms", "3s", "2m", "1.5h", "1d", 7)] == [
        0.25,
        3.0,
        120.0,
        5400.0,
        86400.0,
        7.0,
    ]


def classify(status: int, headers: dict[str, str] | None = None):
    return rest_classify(status, headers or {}, "why")


def test_rest_status_classification() -> None:
    assert isinstance(classify(201), Delivered)
    for transient in (408, 425, 429, 500, 502, 503, 504):
        assert isinstance(classify(transient), RetryLater), transient
    for permanent in (301, 400, 401, 404, 409, 422):
        assert isinstance(classify(permanent), Park), permanent
    limited = classify(429, {"Retry-After": "17"})
    assert isinstance(limited, RetryLater)
    assert limited.retry_after == 17.0


class SilentConnector:
    """A connector bug: its call never returns (no timeout of its own)."""

    kind: ClassVar[str] = "silent"
    Config: ClassVar[type[ConnectorConfig]] = ConnectorConfig

    async def deliver(self, request: DeliveryRequest) -> Outcome:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def aclose(self) -> None:
        pass


async def test_a_connector_that_never_answers_is_retried_not_waited_for() -> None:
    outcome = await call_connector(SilentConnector(), task(1), {"OrderNo": "SO-1"}, guard_s=0.05)
    assert isinstance(outcome, RetryLater)
    assert outcome.reason == "connector gave no answer within 0.05s"
