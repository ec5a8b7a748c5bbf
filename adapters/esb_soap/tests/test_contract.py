"""The ``soap`` connector through the shipped contract suite, against a real SOAP server."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from esb.connectors import ConnectorContext, DeliveryRequest
from esb.testing import ConnectorContract, ConnectorHarness
from tests.support.soap_server import SoapServer

from .conftest import SCENARIO

README = Path(__file__).resolve().parents[1] / "README.md"


class SoapHarness(ConnectorHarness):
    kind: ClassVar[str] = "soap"
    readme: ClassVar[Path | None] = README
    secret: ClassVar[str | None] = "s3cret-wsse-password-4711"

    def __init__(self, tmp_path: Path) -> None:
        super().__init__(tmp_path)
        self.server = SoapServer()

    @property
    def context(self) -> ConnectorContext:
        return ConnectorContext(SCENARIO, "wms", "contract")

    async def start(self) -> None:
        await self.server.start()

    async def stop(self) -> None:
        await self.server.stop()

    def options(self, timeout: float) -> dict[str, Any]:
        return {
            "wsdl": "wsdl/wms_pick.wsdl",
            "operation": "CreatePickRequest",
            "address": self.server.address,
            "wsse": {"username": "gateway", "password": self.secret},
            "timeout": {"connect": timeout, "total": timeout},
        }

    def body(self) -> Any:
        line = {"Sku": "SKU1001", "Qty": 40, "Uom": "EA"}
        return {"OrderNo": "SO-1", "CustomerCode": "CUST-02", "Priority": 1,
                "RequiredDate": "2026-11-26", "Lines": {"Line": [line]}}  # fmt: skip

    async def succeed(self) -> None:
        self.server.default = "ok"

    async def fail_transiently(self) -> None:
        self.server.default = "server_fault"

    async def fail_permanently(self) -> None:
        self.server.default = "client_fault"

    async def hang(self) -> None:
        self.server.delay_s = 60.0  # let go as soon as the server stops

    def seen(self, request: DeliveryRequest) -> int:
        keys = [r.headers.get("idempotency-key") for r in self.server.received]
        return keys.count(request.idempotency_key)


class TestSoapContract(ConnectorContract):
    harness = SoapHarness
