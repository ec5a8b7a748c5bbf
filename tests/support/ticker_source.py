"""An inbound source written as a third party writes one: it imports nothing of the
gateway but :mod:`esb.sdk`.

It takes ``count`` numbered documents in, one every ``every``, remembering in its
state how far it got, so a restarted gateway goes on after the last one instead of
starting over; it runs in one process at a time (``run_exclusive``).
"""

from __future__ import annotations

import asyncio
from typing import ClassVar, Literal

from pydantic import Field

from esb.sdk import Duration, InboundConfig, SourceContext, StoreUnavailable

CURSOR = "cursor"


class TickerConfig(InboundConfig):
    kind: Literal["ticker"] = "ticker"
    count: int = Field(ge=0, description="documents to take in, numbered from 0")
    every: Duration = Field(default=0.0, description="pause between two documents")


class TickerSource:
    kind: ClassVar[str] = "ticker"
    Config: ClassVar[type[InboundConfig]] = TickerConfig

    def __init__(self, config: TickerConfig, context: SourceContext) -> None:
        self.config = config
        self.context = context

    async def run(self) -> None:
        await self.context.state.run_exclusive(self._tick)

    async def _tick(self) -> None:
        state = self.context.state
        n = int(await state.get(CURSOR) or 0)
        while n < self.config.count:
            document = {"id": f"T-{n}", "n": n, "at": self.context.clock.now().isoformat()}
            try:
                await self.context.accept(document, idempotency_key=f"ticker:{n}")
            except StoreUnavailable:
                await asyncio.sleep(1.0)  # the database is away: the same document again
                continue
            n += 1
            await state.put(CURSOR, n)
            self.context.log.info("tick taken in", n=n)
            await asyncio.sleep(self.config.every)

    async def aclose(self) -> None:
        """Nothing is held between ticks."""
