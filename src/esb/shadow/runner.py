"""The shadows' work beside a live delivery: map with the shadow's mapping, compare with what
the live path sent, send to the test endpoint if there is one, record.

It runs in the background, after the live path has its body: the live call does not wait
for it, and nothing it does (a mapping that fails or raises, a test endpoint that is
down, a database that refuses the record) reaches the live delivery; it is recorded or
logged. A process with no shadow for a route pays one dictionary lookup per delivery.
At most ``limit`` comparisons wait at once: past that one is skipped (and logged) rather
than let a slow test endpoint pile up memory.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import structlog

from esb.batching import GroupCommit
from esb.config.gateway import GatewayConfig
from esb.config.shadow import Shadow
from esb.connectors import json_default
from esb.deliverer import message_facts
from esb.errors import MappingError
from esb.live import LiveConfig
from esb.mapping import MappingContext
from esb.metrics import Metrics
from esb.shadow.compare import Outcome, Verdict, failed, judge
from esb.shadow.sending import Senders
from esb.store.engine import utcnow
from esb.store.shadow import ComparisonRecord
from esb.task import DeliveryTask
from esb.xref import XrefCache

log = structlog.get_logger(__name__)

#: Comparisons waiting at once, at most (each holds two bodies).
LIMIT = 256


def _json(value: Any) -> bytes | None:
    try:
        return orjson.dumps(value, default=json_default)
    except TypeError:  # orjson.JSONEncodeError too: a value no JSON holds (beyond 64 bits)
        return None


def _detail(verdict: Verdict) -> str | None:
    if verdict.outcome == Outcome.FAILED:
        return None if verdict.error is None else orjson.dumps({"error": verdict.error}).decode()
    if not verdict.differences:
        return None
    encoded = _json({"differences": list(verdict.differences)})
    return None if encoded is None else encoded.decode()


class ShadowRunner:
    def __init__(
        self,
        live: LiveConfig,
        xref: XrefCache,
        recorder: GroupCommit[ComparisonRecord, None],
        metrics: Metrics,
        time_zone: str,
        limit: int = LIMIT,
    ) -> None:
        self.live = live
        self.xref = xref
        self.recorder = recorder
        self.metrics = metrics
        self.zone = ZoneInfo(time_zone)
        self.limit = limit
        self.senders = Senders(live)
        self.running: set[asyncio.Task[None]] = set()
        self.skipped = 0  # comparisons not made because too many were waiting

    def observe(self, task: DeliveryTask, live_body: Any) -> None:
        """The live path mapped ``task`` into ``live_body``: run its shadows beside it."""
        config = self.live.config
        shadows = config.watching.get((task.interface, task.target))
        if not shadows or task.corrected is not None:  # an operator's body: no mapping's
            return
        if len(self.running) >= self.limit:
            self.skipped += 1
            log.warning("shadow comparison skipped: too many waiting", limit=self.limit)
            return
        job = asyncio.create_task(self._run(config, shadows, task, live_body), name="shadow")
        self.running.add(job)
        job.add_done_callback(self.running.discard)

    async def _run(
        self, config: GatewayConfig, shadows: tuple[Shadow, ...], task: DeliveryTask, live: Any
    ) -> None:
        for shadow in shadows:
            try:
                await self._one(config, shadow, task, live)
            except Exception:  # the live delivery never hears of it; the log does
                log.exception("shadow comparison not recorded", shadow=shadow.name)

    def _output(self, config: GatewayConfig, shadow: Shadow, task: DeliveryTask) -> Any:
        if shadow.mapping is None:
            return task.body
        facts = {**message_facts(task), "target": shadow.name}
        return config.mappings.get(shadow.mapping)(task.body, MappingContext(self.xref, facts))

    async def _one(
        self, config: GatewayConfig, shadow: Shadow, task: DeliveryTask, live: Any
    ) -> None:
        output, encoded, sent = None, None, None
        try:
            output = self._output(config, shadow, task)
            encoded = _json(output)
            verdict = (
                failed("the output cannot be written as JSON (a value beyond 64 bits?)")
                if encoded is None
                else judge(live, output, shadow.masks)
            )
        except MappingError as exc:
            verdict = failed(f"mapping: {exc}")
        except Exception as exc:  # a mapping that raised what it should not
            verdict = failed(f"mapping failed: {type(exc).__name__}: {exc}")
        if shadow.send is not None and encoded is not None:
            sent = await self.senders.send(shadow, task, output, encoded)
        await self.recorder.submit(self._record(shadow, task, verdict, sent, utcnow()))
        self.metrics.shadow_comparisons.labels(*shadow.route, verdict.outcome.value).inc()

    def _record(
        self, shadow: Shadow, task: DeliveryTask, verdict: Verdict, sent: str | None, at: datetime
    ) -> ComparisonRecord:
        return ComparisonRecord(
            delivery_id=task.delivery_id,
            interface=shadow.interface,
            target=shadow.name,
            day=at.astimezone(self.zone).date().isoformat(),
            compared_at=at,
            outcome=verdict.outcome.value,
            fields=verdict.fields,
            detail=_detail(verdict),
            sent=sent,
        )

    async def drain(self, grace_s: float = 10.0) -> None:
        """Let the comparisons under way finish (at stop, after the workers stopped)."""
        if self.running:
            await asyncio.wait(self.running, timeout=grace_s)
        for job in list(self.running):
            job.cancel()
        await self.senders.aclose()
