"""The contract every connector keeps, whoever wrote it: one test body, run per harness.

Delivered when the target takes it; ``RetryLater`` when the failure may clear;
``Park`` when it will not; ``RetryLater`` within the connector's own timeout when the
target hangs; every attempt of a message carries the same idempotency key; a secret
never shows; the options are strict, round-trip and are documented; nothing is left
open after ``aclose``; ``deliver`` never raises for any of it. Use it as::

    class TestEcho(ConnectorContract):
        harness = EchoHarness
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import pytest

from esb.connectors import ConnectorRegistry
from esb.sdk import Connector, Delivered, Outcome, Park, RetryLater
from esb.testing.checks import check_options_documented, check_round_trip, check_secret_hidden
from esb.testing.harness import ConnectorHarness, delivery_request
from esb.testing.leaks import capture_logs, open_fds

__all__ = ["ConnectorContract"]

SUITE_GUARD_S = 20.0  # the test's own limit: far above any timeout a connector is given
T = TypeVar("T")


def run(harness: ConnectorHarness, scenario: Callable[[], Awaitable[T]]) -> T:
    """Start the harness, play ``scenario`` on a fresh event loop, stop the harness."""

    async def whole() -> T:
        await harness.start()
        try:
            async with asyncio.timeout(2 * SUITE_GUARD_S):
                return await scenario()
        finally:
            await harness.stop()

    return asyncio.run(whole())


def build(
    registry: ConnectorRegistry, harness: ConnectorHarness, timeout: float = 5.0
) -> Connector:
    assert harness.kind in registry.classes, (
        f"no connector {harness.kind!r} in the esb.connectors entry points (installed: "
        f"{sorted(registry.classes)}); is the plugin installed (pip install -e .)?"
    )
    config = registry.connector_config(harness.kind, harness.options(timeout))
    return registry.build(config, harness.context)


async def deliver_once(connector: Connector, harness: ConnectorHarness) -> Outcome:
    request = delivery_request(harness.body(), harness.context.target)
    try:
        async with asyncio.timeout(SUITE_GUARD_S):
            return await connector.deliver(request)
    finally:
        await connector.aclose()


class ConnectorContract:
    """Subclass as ``Test<Name>`` and set ``harness``; pytest runs every test here."""

    harness: ClassVar[type[ConnectorHarness]]

    def made(self, tmp_path: Path) -> ConnectorHarness:
        return self.harness(tmp_path)

    def test_the_kind_is_its_entry_point_name(
        self, esb_registry: ConnectorRegistry, tmp_path: Path
    ) -> None:
        kind = self.harness.kind
        build(esb_registry, self.made(tmp_path))
        schema = esb_registry.configs[kind].model_json_schema()
        assert schema["properties"]["kind"]["const"] == kind

    def test_unknown_options_are_refused(
        self, esb_registry: ConnectorRegistry, tmp_path: Path
    ) -> None:
        options = {**self.made(tmp_path).options(1.0), "no_such_option": 1}
        with pytest.raises(ValueError, match="Extra inputs are not permitted"):
            esb_registry.connector_config(self.harness.kind, options)

    def test_options_round_trip_through_the_schema(
        self, esb_registry: ConnectorRegistry, tmp_path: Path
    ) -> None:
        model = esb_registry.configs[self.harness.kind]
        check_round_trip(model, self.made(tmp_path).options(5.0))

    def test_every_option_is_documented(self, esb_registry: ConnectorRegistry) -> None:
        model = esb_registry.configs[self.harness.kind]
        check_options_documented(model, self.harness.readme, f"connector {self.harness.kind}")

    def test_delivered(self, esb_registry: ConnectorRegistry, tmp_path: Path) -> None:
        harness = self.made(tmp_path)

        async def scenario() -> tuple[Outcome, int]:
            await harness.succeed()
            connector = build(esb_registry, harness)
            request = delivery_request(harness.body(), harness.context.target)
            outcome = await connector.deliver(request)
            await connector.aclose()
            return outcome, harness.seen(request)

        outcome, seen = run(harness, scenario)
        assert isinstance(outcome, Delivered), outcome
        assert seen == 1

    def test_transient_failure_is_retried_later(
        self, esb_registry: ConnectorRegistry, tmp_path: Path
    ) -> None:
        outcome = self._outcome_when(esb_registry, tmp_path, "fail_transiently")
        assert isinstance(outcome, RetryLater), outcome
        assert outcome.reason

    def test_permanent_failure_is_parked(
        self, esb_registry: ConnectorRegistry, tmp_path: Path
    ) -> None:
        outcome = self._outcome_when(esb_registry, tmp_path, "fail_permanently")
        assert isinstance(outcome, Park), outcome
        assert outcome.reason

    def test_a_hanging_target_is_retried_later_within_the_connector_timeout(
        self, esb_registry: ConnectorRegistry, tmp_path: Path
    ) -> None:
        harness = self.made(tmp_path)

        async def scenario() -> tuple[Outcome, float]:
            await harness.hang()
            started = time.monotonic()
            outcome = await deliver_once(build(esb_registry, harness, timeout=0.5), harness)
            return outcome, time.monotonic() - started

        outcome, elapsed = run(harness, scenario)
        assert isinstance(outcome, RetryLater), outcome
        assert 0.4 < elapsed < 1.5, f"gave up after {elapsed:.2f}s, configured 0.5s"

    def test_recovers_once_the_target_does(
        self, esb_registry: ConnectorRegistry, tmp_path: Path
    ) -> None:
        harness = self.made(tmp_path)

        async def scenario() -> tuple[Outcome, Outcome, int]:
            connector = build(esb_registry, harness)
            await harness.fail_transiently()
            failed = await connector.deliver(
                delivery_request(harness.body(), harness.context.target)
            )
            await harness.succeed()
            request = delivery_request(harness.body(), harness.context.target)
            outcome = await connector.deliver(request)
            await connector.aclose()
            return failed, outcome, harness.seen(request)

        failed, outcome, seen = run(harness, scenario)
        assert isinstance(failed, RetryLater), failed
        assert isinstance(outcome, Delivered), outcome
        assert seen == 1

    def test_every_attempt_carries_the_same_idempotency_key(
        self, esb_registry: ConnectorRegistry, tmp_path: Path
    ) -> None:
        harness = self.made(tmp_path)

        async def scenario() -> tuple[list[Outcome], int, int]:
            await harness.succeed()
            connector = build(esb_registry, harness)
            first = delivery_request(harness.body(), harness.context.target)
            retry = dataclasses.replace(first, attempt=2)
            other = delivery_request(harness.body(), harness.context.target)
            outcomes = [await connector.deliver(r) for r in (first, retry, other)]
            await connector.aclose()
            return outcomes, harness.seen(first), harness.seen(other)

        outcomes, first, other = run(harness, scenario)
        assert all(isinstance(o, Delivered) for o in outcomes), outcomes
        if self.harness.keyed:
            assert (first, other) == (2, 1), "the target got both attempts under one key"
        else:
            assert first == 1, "a target without keys holds one copy of a repeated message"

    def test_a_secret_never_shows(
        self,
        esb_registry: ConnectorRegistry,
        tmp_path: Path,
        capfd: pytest.CaptureFixture[str],
    ) -> None:
        secret = self.harness.secret
        if secret is None:
            pytest.skip(f"{self.harness.__name__} names no secret (ConnectorHarness.secret)")
        shown: list[str] = []
        with capture_logs() as logs:
            for way in ("succeed", "fail_transiently", "fail_permanently", "hang"):
                shown.append(repr(self._outcome_when(esb_registry, tmp_path / way, way, 0.3)))
        config = esb_registry.connector_config(self.harness.kind, self.made(tmp_path).options(1.0))
        check_secret_hidden(secret, config, [*shown, logs.text, *capfd.readouterr()])

    def test_aclose_releases_every_handle(
        self, esb_registry: ConnectorRegistry, tmp_path: Path
    ) -> None:
        harness = self.made(tmp_path)

        async def scenario() -> tuple[int, int]:
            before = open_fds()
            connector = build(esb_registry, harness)
            await harness.succeed()
            for _ in range(3):
                await connector.deliver(delivery_request(harness.body(), harness.context.target))
            await connector.aclose()
            for _ in range(150):  # the server's end of a closed connection closes soon after
                if open_fds() <= before:
                    break
                await asyncio.sleep(0.02)
            return before, open_fds()

        before, after = run(harness, scenario)
        assert after <= before, f"{after - before} handles still open after aclose"

    def _outcome_when(
        self, registry: ConnectorRegistry, tmp_path: Path, way: str, timeout: float = 5.0
    ) -> Outcome:
        tmp_path.mkdir(parents=True, exist_ok=True)
        harness = self.made(tmp_path)

        async def scenario() -> Outcome:
            make_it: Callable[[], Awaitable[Any]] = getattr(harness, way)
            await make_it()
            return await deliver_once(build(registry, harness, timeout), harness)

        return run(harness, scenario)
