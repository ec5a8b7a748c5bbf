"""The ``yonyou`` connector through the shipped contract suite, both flavours, against the
Yonyou stand-in on a real socket."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from esb.sdk import DeliveryRequest
from esb.testing import ConnectorContract, ConnectorHarness
from esb.testing.yonyou import YonyouServer
from esb_yonyou.tests.conftest import u8_options, yonbip_options

README = Path(__file__).resolve().parents[1] / "README.md"


class _YonyouHarness(ConnectorHarness):
    kind: ClassVar[str] = "yonyou"
    secret: ClassVar[str | None] = "yonyou-app-secret-4711"
    readme: ClassVar[Path | None] = README

    def __init__(self, tmp_path: Path) -> None:
        super().__init__(tmp_path)
        self.server = YonyouServer(app_secret=self.secret or "", processing_polls=1)

    async def start(self) -> None:
        await self.server.start()

    async def stop(self) -> None:
        await self.server.stop()

    def body(self) -> Any:
        return {"saleorder": {"code": "SO-1", "entry": [{"inventorycode": "A001", "qty": 2.5}]}}

    async def succeed(self) -> None:
        self.server.fail_status = None
        self.server.write_error = None

    async def fail_transiently(self) -> None:
        self.server.fail_status = 503

    async def fail_permanently(self) -> None:
        self.server.write_error = ("90002", "客户编码 C001 不存在")

    async def hang(self) -> None:
        self.server.delay_s = 2.0  # waited out when the stand-in stops: keep it short

    def seen(self, request: DeliveryRequest) -> int:
        return self.server.seen(request.idempotency_key)


class U8Harness(_YonyouHarness):
    def options(self, timeout: float) -> dict[str, Any]:
        return u8_options(self.server, timeout={"connect": timeout, "total": timeout})


class YonBipHarness(_YonyouHarness):
    def options(self, timeout: float) -> dict[str, Any]:
        return yonbip_options(self.server, timeout={"connect": timeout, "total": timeout})


class TestYonyouU8Contract(ConnectorContract):
    harness = U8Harness


class TestYonyouYonBipContract(ConnectorContract):
    harness = YonBipHarness
