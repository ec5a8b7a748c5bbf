"""The example plugin through esb's contract suite: two harnesses, and the suite does the rest."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import httpx
import orjson

from esb.sdk import DeliveryRequest, InboundSource
from esb.testing import (
    ConnectorContract,
    ConnectorHarness,
    Reply,
    Served,
    SourceContract,
    SourceHarness,
    TargetServer,
    serve_source,
)

README = Path(__file__).resolve().parents[1] / "README.md"


class ChatHarness(ConnectorHarness):
    """A real HTTP server plays the chat robot."""

    kind: ClassVar[str] = "example-chat"
    secret: ClassVar[str | None] = "robot-token-never-shown"
    readme: ClassVar[Path | None] = README

    def __init__(self, tmp_path: Path) -> None:
        super().__init__(tmp_path)
        self.robot = TargetServer()

    async def start(self) -> None:
        await self.robot.start()

    async def stop(self) -> None:
        await self.robot.stop()

    def options(self, timeout: float) -> dict[str, Any]:
        return {"url": f"{self.robot.url}/robot/send", "token": self.secret, "timeout": timeout}

    async def succeed(self) -> None:
        self.robot.default_status = 200

    async def fail_transiently(self) -> None:
        self.robot.default_status = 503

    async def fail_permanently(self) -> None:
        self.robot.default_status = 400

    async def hang(self) -> None:
        self.robot.delay_s = 2.0  # the server waits this out when it stops: keep it short

    def seen(self, request: DeliveryRequest) -> int:
        return self.robot.idempotency_keys().count(request.idempotency_key)


REPLIES: dict[int, Reply] = {200: "accepted", 422: "refused", 503: "retry"}


class WebhookHarness(SourceHarness):
    """Plays a caller: POSTs each document to the source served on a real socket."""

    kind: ClassVar[str] = "example-webhook"
    secret: ClassVar[str | None] = "caller-token-never-shown"
    readme: ClassVar[Path | None] = README
    server: Served | None = None

    def options(self, timeout: float) -> dict[str, Any]:
        return {"token": self.secret}

    def body(self, number: int) -> Any:
        return {"orderNo": f"SO-{number}", "qty": number}

    async def offer(self, source: InboundSource, number: int) -> Reply:
        if self.server is None:
            self.server = await serve_source(source)  # type: ignore[arg-type]
        headers = {"Authorization": f"Bearer {self.secret}"}
        async with httpx.AsyncClient(timeout=10) as client:
            answer = await client.post(
                f"{self.server.url}/", content=orjson.dumps(self.body(number)), headers=headers
            )
        assert answer.status_code in REPLIES, (answer.status_code, answer.text)
        return REPLIES[answer.status_code]

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop()


class TestChat(ConnectorContract):
    harness = ChatHarness


class TestWebhook(SourceContract):
    harness = WebhookHarness
