"""The parallel runs in a gateway process: the part that keeps the promotions applied, and
what the API may do with them.

Every process (API, relay, worker) applies the promotions kept in the store on top of the
files: when it starts, after every configuration reload, and when it sees them change
(it looks every ``ESB_SHADOW_REFRESH`` seconds, only while the files declare a shadow).
A promotion made through this process's API applies here at once, elsewhere within
that interval. The part starts right after the store, so the pipeline and the doors
start on the promoted configuration, and stops right before it, after the workers: the
comparisons under way are finished and recorded.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from esb.batching import GroupCommit
from esb.config.gateway import GatewayConfig
from esb.errors import StoreUnavailable
from esb.live import LiveConfig
from esb.metrics import Metrics
from esb.runtime.part import Health
from esb.shadow import actions
from esb.shadow.actions import find
from esb.shadow.overlay import apply
from esb.shadow.runner import ShadowRunner
from esb.shadow.status import shadow_status, today_only
from esb.store.shadow import ComparisonRecord, Promotion, promotions
from esb.store.shadow_read import latest

log = structlog.get_logger(__name__)


class ShadowPart:
    name = "shadow"

    def __init__(
        self,
        live: LiveConfig,
        engine: AsyncEngine,
        reader: AsyncEngine,
        runner: ShadowRunner,
        recorder: GroupCommit[ComparisonRecord, None],
        metrics: Metrics,
    ) -> None:
        self.live = live
        self.engine = engine
        #: reads (the promotions, every few seconds; the numbers people look at): embedded,
        #: a read-only connection beside the writer, so they never hold up an accept
        self.reader = reader
        self.runner = runner
        self.recorder = recorder
        self.metrics = metrics
        self.promotions: list[Promotion] = []

    def _overlay(self, base: GatewayConfig) -> GatewayConfig:
        return apply(base, self.promotions) if base.shadows else base

    async def start(self) -> None:
        self.live.overlay = self._overlay
        self.live.on_reloaded.append(self._reloaded)
        await self.refresh(force=True)

    async def _reloaded(self, _: GatewayConfig) -> None:
        """A reload may declare a shadow promoted earlier: read the promotions now."""
        try:
            await self.refresh(force=True)
        except StoreUnavailable as exc:  # the next look applies them
            log.warning("promotions not read after the reload", error=str(exc))

    async def refresh(self, *, force: bool = False) -> bool:
        """Read the promotions; if they changed (or ``force``), apply them. True if applied.
        Without a declared shadow nothing is read."""
        if not self.live.base.shadows:
            self._show()
            return False
        found = await promotions(self.reader)
        if found == self.promotions and not force:
            return False
        self.promotions = found
        self.live.reshape()
        self._show()
        log.info("shadow promotions applied", promoted=[p.target for p in found if p.promoted])
        return True

    def _show(self) -> None:
        """``esb_shadow_promoted``: what this process applies now, per declared shadow."""
        self.metrics.shadow_promoted.clear()
        for shadow in self.live.config.shadows:
            self.metrics.shadow_promoted.labels(*shadow.route).set(1 if shadow.promoted else 0)

    async def watch_forever(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.refresh()
            except StoreUnavailable as exc:  # the database is away: look again later
                log.warning("promotions not read", error=str(exc))

    async def stop(self) -> None:
        await self.runner.drain()
        await self.recorder.aclose()

    async def health(self) -> Health:
        return None


class Shadows:
    """What the API may do with the parallel runs: read them, promote, roll back."""

    def __init__(self, part: ShadowPart, time_zone: str) -> None:
        self._part = part
        self._zone = time_zone

    async def status(self, days: int) -> dict[str, Any]:
        return await shadow_status(self._part.reader, self._part.live.config, self._zone, days)

    async def today(self) -> list[dict[str, Any]]:
        """The report's part: each shadow with today's numbers (no history)."""
        config = self._part.live.config
        if not config.shadows:
            return []
        found = await shadow_status(self._part.reader, config, self._zone, 1, stale=False)
        return today_only(found)

    async def latest(
        self, route: tuple[str, str], outcome: str, day: str | None, limit: int
    ) -> list[dict[str, Any]]:
        find(self._part.live.config, *route)  # NotFound for a shadow nobody declared
        return await latest(self._part.reader, route, outcome, day, limit)

    async def promote(self, route: tuple[str, str], actor: str, reason: str) -> dict[str, Any]:
        done = await actions.promote(self._part.engine, self._part.live.base, route, actor, reason)
        await self._part.refresh()  # here at once; the other processes within their interval
        return done

    async def rollback(self, route: tuple[str, str], actor: str, reason: str) -> dict[str, Any]:
        done = await actions.rollback(self._part.engine, self._part.live.base, route, actor, reason)
        await self._part.refresh()
        return done
