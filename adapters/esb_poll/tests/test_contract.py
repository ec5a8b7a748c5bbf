"""The ``rest-poll`` source through the shipped contract suite, against a real HTTP API.

The harness plays an ERP whose list API hands out what was queued since its last
answer: offering document ``n`` queues it, and the source's next pull takes it in.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, ClassVar

import orjson

from esb.sdk import InboundSource
from esb.testing import ListApiServer, Pulled, Reply, SourceContract, SourceHarness

README = Path(__file__).resolve().parents[1] / "README.md"
ANSWERS: dict[str, Reply] = {"accept": "accepted", "refuse": "refused", "unavailable": "retry"}


class RestPollHarness(SourceHarness):
    kind: ClassVar[str] = "rest-poll"
    readme: ClassVar[Path | None] = README
    secret: ClassVar[str | None] = "erp-pull-token-never-shown"
    source_system: ClassVar[str] = "erp"
    message_type: ClassVar[str] = "customer"

    def __init__(self, tmp_path: Path) -> None:
        super().__init__(tmp_path)
        self.api = ListApiServer(answer=self._serve)
        self.queued: list[dict[str, Any]] = []

    def _serve(self, pulled: Pulled) -> tuple[int, bytes]:
        if pulled.headers.get("authorization") != f"Bearer {self.secret}":
            return 401, b'{"error": "no token"}'
        items, self.queued = self.queued, []
        return 200, orjson.dumps({"items": items, "next_page": None})

    async def start(self) -> None:
        await self.api.start()

    async def stop(self) -> None:
        await self.api.stop()

    def options(self, timeout: float) -> dict[str, Any]:
        return {
            "url": f"{self.api.url}/api/customers",
            "interval": "0.1s",
            "key": "code",
            "auth": {"type": "bearer", "token": self.secret},
            "timeout": {"connect": timeout, "total": timeout},
        }

    def body(self, number: int) -> Any:
        return {
            "code": f"C{number:04d}",
            "name": f"客户 {number}",
            "updated_at": f"2026-11-{number:02d}T08:00:00+08:00",
        }

    async def offer(self, source: InboundSource, number: int) -> Reply:
        calls = len(self.gateway.offered)
        self.queued.append(self.body(number))
        while True:
            for offered in self.gateway.offered[calls:]:
                if offered.body == self.body(number):
                    return ANSWERS.get(offered.answer, "retry")
            await asyncio.sleep(0.02)


class TestRestPollContract(SourceContract):
    harness = RestPollHarness
