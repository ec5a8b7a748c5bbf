"""The ``rest`` connector through the shipped contract suite, against a real HTTP server."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from esb.sdk import DeliveryRequest
from esb.testing import ConnectorContract, ConnectorHarness, TargetServer


class RestHarness(ConnectorHarness):
    kind: ClassVar[str] = "rest"
    secret: ClassVar[str | None] = "s3cret-bearer-token-4711"

    def __init__(self, tmp_path: Path) -> None:
        super().__init__(tmp_path)
        self.server = TargetServer()

    async def start(self) -> None:
        await self.server.start()

    async def stop(self) -> None:
        await self.server.stop()

    def options(self, timeout: float) -> dict[str, Any]:
        return {
            "url": f"{self.server.url}/api/work-orders",
            "auth": {"type": "bearer", "token": self.secret},
            "timeout": {"connect": timeout, "total": timeout},
        }

    async def succeed(self) -> None:
        self.server.default_status = 200

    async def fail_transiently(self) -> None:
        self.server.default_status = 503

    async def fail_permanently(self) -> None:
        self.server.default_status = 400

    async def hang(self) -> None:
        self.server.delay_s = 2.0  # the server waits this out when it stops: keep it short

    def seen(self, request: DeliveryRequest) -> int:
        return self.server.idempotency_keys().count(request.idempotency_key)


class TestRestContract(ConnectorContract):
    harness = RestHarness
