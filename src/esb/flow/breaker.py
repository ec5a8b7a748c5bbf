"""What a call's outcome does to the circuit breaker: the count of failures, opening it
(a run of failures or a failure ratio), closing it after a successful probe; each
opening and closing is an alert event, in English and Chinese."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import orjson
import structlog
from sqlalchemy.ext.asyncio import AsyncConnection

from esb.config.flow import BreakerConfig
from esb.config.gateway import GatewayConfig
from esb.store import breaker as store
from esb.store.engine import utcnow

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Why:
    """Why the breaker moved, in both languages (an alert shows both)."""

    en: str
    zh: str

    def text(self) -> str:
        return orjson.dumps({"en": self.en, "zh": self.zh}).decode()


def system_pairs(config: GatewayConfig, system: str) -> list[tuple[str, str]]:
    """The interface/target pairs that call ``system`` (whose attempts the ratio counts)."""
    return [
        (name, target)
        for name, interface in config.interfaces.items()
        for target in interface.targets
        if interface.target_system(target) == system
    ]


async def count_outcome(
    conn: AsyncConnection,
    breaker: BreakerConfig,
    system: str,
    lease: str,
    failed: bool,
    pairs: list[tuple[str, str]],
) -> None:
    """Count one call's outcome (``lease``: the call's, which may be the probe)."""
    now_at = utcnow()
    if not failed:
        if await store.record_success(conn, system, lease, now_at):
            probe = Why("the probe call succeeded", "试探调用成功")
            await store.event(conn, system, "breaker_closed", now_at, probe.text())
            log.warning("breaker closed", system=system)
        return
    reopen_at = now_at.timestamp() + breaker.cool_down
    failures = await store.record_failure(conn, system, lease, reopen_at)
    why = await _why_open(conn, breaker, failures, pairs, now_at)
    if why is not None and await store.open_breaker(conn, system, reopen_at, now_at, why.text()):
        log.warning("breaker opened", system=system, why=why.en)


async def _why_open(
    conn: AsyncConnection,
    breaker: BreakerConfig,
    failures: int,
    pairs: list[tuple[str, str]],
    now_at: datetime,
) -> Why | None:
    """Why the breaker should open now, or None (the ratio is read only when it matters)."""
    if failures >= breaker.failures:
        return Why(f"{failures} consecutive transient failures", f"连续 {failures} 次暂时性失败")
    if breaker.ratio is None:
        return None
    since = now_at - timedelta(seconds=breaker.window)
    calls, bad = await store.failure_ratio(conn, pairs, since)
    if calls < breaker.failures or bad / calls < breaker.ratio:
        return None
    window = f"{breaker.window:g}"
    return Why(
        f"{bad} of {calls} calls failed in the last {window} s",
        f"最近 {window} 秒内 {calls} 次调用中 {bad} 次失败",
    )
