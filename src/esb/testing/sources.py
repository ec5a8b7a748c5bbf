"""The contract every inbound source keeps, whoever wrote it: one test body, run per harness.

The source runs as the gateway runs it (``run()`` until cancelled) against a stand-in
gateway whose ``accept`` takes a document in, refuses it, finds the store down or hangs.
The harness plays the source's callers. A document taken in reaches ``accept`` with its
body; the same document always carries the same idempotency key; a refused one is
reported and the source goes on; a store outage loses nothing; a secret never shows;
``run`` and ``aclose`` let go promptly even while a document hangs; nothing is left
open. Use it as::

    class TestTicketDrop(SourceContract):
        harness = TicketDropHarness
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

import pytest

from esb.connectors import ConnectorRegistry
from esb.sdk import InboundSource
from esb.testing.checks import check_options_documented, check_round_trip, check_secret_hidden
from esb.testing.harness import Reply, SourceHarness
from esb.testing.leaks import capture_logs, open_fds
from esb.testing.standin import StandInGateway

__all__ = ["SourceContract"]

SUITE_GUARD_S = 20.0
STOP_WITHIN_S = 2.0
T = TypeVar("T")
Scenario = Callable[[InboundSource, StandInGateway], Awaitable[T]]


async def _stop(task: asyncio.Task[None], source: InboundSource) -> float:
    """Cancel ``run`` and close the source; the seconds it took. A ``run`` that ended by
    itself is a failure: a source runs until it is cancelled."""
    started = time.monotonic()
    if task.done():
        task.result()
        raise AssertionError("run() returned by itself; a source runs until cancelled")
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await source.aclose()
    return time.monotonic() - started


@dataclass
class Run(Generic[T]):
    """What a scenario returned, what the gateway got, and how the source let go."""

    result: T
    gateway: StandInGateway
    stopped_in: float  # seconds that cancelling run() and aclose() took
    fds: tuple[int, int]  # handles open before the harness started, and after all stopped

    def bodies(self) -> list[Any]:
        return [o.body for o in self.gateway.accepted()]


async def _settled_fds(before: int) -> int:
    for _ in range(150):  # the far end of a closed connection closes soon after
        if open_fds() <= before:
            break
        await asyncio.sleep(0.02)
    return open_fds()


def run_source(
    registry: ConnectorRegistry, harness: SourceHarness, scenario: Scenario[T], timeout: float = 5.0
) -> Run[T]:
    """Build and run the source against a stand-in gateway and play ``scenario``."""
    assert harness.kind in registry.inbound, (
        f"no source {harness.kind!r} in the esb.inbound entry points (installed: "
        f"{sorted(registry.inbound)}); is the plugin installed (pip install -e .)?"
    )

    async def whole() -> Run[T]:
        before = open_fds()  # the harness may serve the source: its handles count too
        await harness.start()
        gateway = StandInGateway()
        try:
            config = registry.source_config(harness.kind, harness.options(timeout))
            source = registry.build_inbound(config, harness.context(gateway))
            task = asyncio.create_task(source.run(), name=f"contract-{harness.kind}")
            try:
                async with asyncio.timeout(SUITE_GUARD_S):
                    result = await scenario(source, gateway)
            finally:
                stopped_in = await _stop(task, source)
        finally:
            gateway.release()
            await harness.stop()
        return Run(result, gateway, stopped_in, (before, await _settled_fds(before)))

    return asyncio.run(whole())


class SourceContract:
    """Subclass as ``Test<Name>`` and set ``harness``; pytest runs every test here."""

    harness: ClassVar[type[SourceHarness]]

    def made(self, tmp_path: Path) -> SourceHarness:
        return self.harness(tmp_path)

    def test_the_kind_is_its_entry_point_name(self, esb_registry: ConnectorRegistry) -> None:
        kind = self.harness.kind
        assert kind in esb_registry.inbound, f"no source {kind!r} in the esb.inbound entry points"
        schema = esb_registry.inbound_configs[kind].model_json_schema()
        assert schema["properties"]["kind"]["const"] == kind

    def test_unknown_options_are_refused(
        self, esb_registry: ConnectorRegistry, tmp_path: Path
    ) -> None:
        options = {**self.made(tmp_path).options(1.0), "no_such_option": 1}
        with pytest.raises(ValueError, match="Extra inputs are not permitted"):
            esb_registry.source_config(self.harness.kind, options)

    def test_options_round_trip_through_the_schema(
        self, esb_registry: ConnectorRegistry, tmp_path: Path
    ) -> None:
        model = esb_registry.inbound_configs[self.harness.kind]
        check_round_trip(model, self.made(tmp_path).options(5.0))

    def test_every_option_is_documented(self, esb_registry: ConnectorRegistry) -> None:
        model = esb_registry.inbound_configs[self.harness.kind]
        check_options_documented(model, self.harness.readme, f"source {self.harness.kind}")

    def test_a_document_reaches_the_gateway_with_its_body(
        self, esb_registry: ConnectorRegistry, tmp_path: Path
    ) -> None:
        harness = self.made(tmp_path)

        async def scenario(source: InboundSource, gateway: StandInGateway) -> Reply:
            return await harness.offer(source, 1)

        run = run_source(esb_registry, harness, scenario)
        assert run.result == "accepted"
        assert run.bodies() == [harness.body(1)]

    def test_the_same_document_carries_the_same_idempotency_key(
        self, esb_registry: ConnectorRegistry, tmp_path: Path
    ) -> None:
        harness = self.made(tmp_path)

        async def scenario(source: InboundSource, gateway: StandInGateway) -> list[Reply]:
            return [await harness.offer(source, n) for n in (1, 1, 2)]

        run = run_source(esb_registry, harness, scenario)
        assert run.result == ["accepted"] * 3
        offered = run.gateway.accepted()
        first = {o.idempotency_key for o in offered if o.body == harness.body(1)}
        other = {o.idempotency_key for o in offered if o.body == harness.body(2)}
        assert len(first) == 1, f"one document, several keys: {first}"
        assert len(other) == 1
        assert first != other, "two documents, one key"

    def test_a_refused_document_is_reported_and_the_source_goes_on(
        self, esb_registry: ConnectorRegistry, tmp_path: Path
    ) -> None:
        harness = self.made(tmp_path)

        async def scenario(source: InboundSource, gateway: StandInGateway) -> list[Reply]:
            gateway.mode = "refuse"
            refused = await harness.offer(source, 1)
            gateway.mode = "accept"
            return [refused, await harness.offer(source, 2)]

        run = run_source(esb_registry, harness, scenario)
        assert run.result == ["refused", "accepted"]
        assert run.bodies() == [harness.body(2)]

    def test_a_store_outage_loses_nothing(
        self, esb_registry: ConnectorRegistry, tmp_path: Path
    ) -> None:
        harness = self.made(tmp_path)

        async def scenario(source: InboundSource, gateway: StandInGateway) -> list[Reply]:
            gateway.mode = "unavailable"
            failed = await harness.offer(source, 1)
            gateway.mode = "accept"
            return [failed, await harness.again(source, 1)]

        run = run_source(esb_registry, harness, scenario)
        assert run.result == ["retry", "accepted"]
        assert run.bodies() == [harness.body(1)]

    def test_stops_promptly_while_a_document_hangs(
        self, esb_registry: ConnectorRegistry, tmp_path: Path
    ) -> None:
        harness = self.made(tmp_path)

        async def scenario(source: InboundSource, gateway: StandInGateway) -> None:
            gateway.mode = "hang"
            offer = asyncio.create_task(harness.offer(source, 1))
            await gateway.wait_offered(1, SUITE_GUARD_S / 2)
            offer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await offer

        stopped_in = run_source(esb_registry, harness, scenario).stopped_in
        assert stopped_in < STOP_WITHIN_S, f"run() and aclose() took {stopped_in:.2f}s to stop"

    def test_a_secret_never_shows(
        self,
        esb_registry: ConnectorRegistry,
        tmp_path: Path,
        capfd: pytest.CaptureFixture[str],
    ) -> None:
        secret = self.harness.secret
        if secret is None:
            pytest.skip(f"{self.harness.__name__} names no secret (SourceHarness.secret)")
        harness = self.made(tmp_path)

        async def scenario(source: InboundSource, gateway: StandInGateway) -> list[Reply]:
            replies = []
            for n, mode in enumerate(("accept", "refuse", "unavailable"), 1):
                gateway.mode = mode  # type: ignore[assignment]
                replies.append(await harness.offer(source, n))
            return replies

        with capture_logs() as logs:
            run = run_source(esb_registry, harness, scenario)
        config = esb_registry.source_config(self.harness.kind, harness.options(1.0))
        shown = [repr(run.result), repr(run.gateway.offered), logs.text, *capfd.readouterr()]
        check_secret_hidden(secret, config, shown)

    def test_aclose_releases_every_handle(
        self, esb_registry: ConnectorRegistry, tmp_path: Path
    ) -> None:
        harness = self.made(tmp_path)

        async def scenario(source: InboundSource, gateway: StandInGateway) -> list[Reply]:
            return [await harness.offer(source, n) for n in (1, 2, 3)]

        run = run_source(esb_registry, harness, scenario)
        assert run.result == ["accepted"] * 3
        before, after = run.fds
        assert after <= before, f"{after - before} handles still open after aclose"
