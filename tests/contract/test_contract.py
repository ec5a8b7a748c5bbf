"""The contract every connector keeps, whoever wrote it: one test body, run per harness.

Delivered when the target takes it; ``RetryLater`` when the failure may clear;
``Park`` when it will not; ``RetryLater`` within the connector's own timeout when the
target hangs; nothing left open after ``aclose``; ``deliver`` never raises for any of it.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from esb.connectors import Connector, ConnectorRegistry, Delivered, Park, RetryLater
from tests.contract.harnesses import Harness

SUITE_GUARD_S = 20.0  # the test's own limit: far above any timeout a connector is given


def build(registry: ConnectorRegistry, harness: Harness, timeout: float = 5.0) -> Connector:
    config = registry.classes[harness.kind].Config.model_validate(harness.options(timeout))
    return registry.build(config, harness.context)


async def deliver_once(connector: Connector, harness: Harness) -> object:
    request = harness.request()
    try:
        async with asyncio.timeout(SUITE_GUARD_S):
            return await connector.deliver(request)
    finally:
        await connector.aclose()


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd" if Path("/proc/self/fd").is_dir() else "/dev/fd"))


def test_the_kind_is_registered_through_its_entry_point(
    registry: ConnectorRegistry, harness: Harness
) -> None:
    cls = registry.classes[harness.kind]
    assert cls.kind == harness.kind
    assert cls.Config.model_json_schema()["properties"]["kind"]["const"] == harness.kind


def test_unknown_options_are_refused(registry: ConnectorRegistry, harness: Harness) -> None:
    with pytest.raises(ValueError, match="Extra inputs are not permitted"):
        registry.classes[harness.kind].Config.model_validate(
            {**harness.options(1.0), "no_such_option": 1}
        )


async def test_delivered(registry: ConnectorRegistry, harness: Harness) -> None:
    await harness.succeed()
    connector = build(registry, harness)
    request = harness.request()
    outcome = await connector.deliver(request)
    await connector.aclose()
    assert isinstance(outcome, Delivered), outcome
    assert harness.seen(request) == 1


async def test_transient_failure_is_retried_later(
    registry: ConnectorRegistry, harness: Harness
) -> None:
    await harness.fail_transiently()
    outcome = await deliver_once(build(registry, harness), harness)
    assert isinstance(outcome, RetryLater), outcome
    assert outcome.reason


async def test_permanent_failure_is_parked(registry: ConnectorRegistry, harness: Harness) -> None:
    await harness.fail_permanently()
    outcome = await deliver_once(build(registry, harness), harness)
    assert isinstance(outcome, Park), outcome
    assert outcome.reason


async def test_a_hanging_target_is_retried_later_within_the_connector_timeout(
    registry: ConnectorRegistry, harness: Harness
) -> None:
    await harness.hang()
    started = time.monotonic()
    outcome = await deliver_once(build(registry, harness, timeout=0.5), harness)
    elapsed = time.monotonic() - started
    assert isinstance(outcome, RetryLater), outcome
    assert 0.4 < elapsed < 1.5, f"gave up after {elapsed:.2f}s, configured 0.5s"


async def test_recovers_once_the_target_does(registry: ConnectorRegistry, harness: Harness) -> None:
    connector = build(registry, harness)
    await harness.fail_transiently()
    assert isinstance(await connector.deliver(harness.request()), RetryLater)
    await harness.succeed()
    request = harness.request()
    outcome = await connector.deliver(request)
    await connector.aclose()
    assert isinstance(outcome, Delivered), outcome
    assert harness.seen(request) == 1


async def test_aclose_releases_every_handle(registry: ConnectorRegistry, harness: Harness) -> None:
    before = open_fds()
    connector = build(registry, harness)
    await harness.succeed()
    for _ in range(3):
        await connector.deliver(harness.request())
    await connector.aclose()
    for _ in range(150):  # the server's end of a closed connection closes soon after
        if open_fds() <= before:
            break
        await asyncio.sleep(0.02)
    assert open_fds() <= before
