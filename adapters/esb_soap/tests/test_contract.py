"""The ``soap`` connector through the shipped contract suite, against a real SOAP server."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import httpx

from esb.sdk import ConnectorContext, DeliveryRequest, InboundSource, SourceContext
from esb.testing import (
    ConnectorContract,
    ConnectorHarness,
    Reply,
    Served,
    SourceContract,
    SourceHarness,
    StandInGateway,
    serve_source,
)
from esb_soap.answer import SOAP11
from tests.support.soap_server import SoapServer

from .conftest import SCENARIO

README = Path(__file__).resolve().parents[1] / "README.md"
DATA = Path(__file__).resolve().parent / "data"


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


WMS_KEY = "wms-contract-key-never-shown"
SHIPMENT_NS = "http://wms.demo-factory.example/shipment"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"


def shipment(number: int) -> dict[str, str]:
    return {"order_no": f"SO-{number}", "ship_date": "2026-11-25 09:30", "carrier": "顺丰速运",
            "tracking_no": f"SF{number:010d}", "status": "S"}  # fmt: skip


def shipment_envelope(number: int) -> bytes:
    security = (
        f'<soap:Header><wsse:Security xmlns:wsse="{WSSE}"><wsse:UsernameToken>'
        f"<wsse:Username>wms</wsse:Username><wsse:Password>{WMS_KEY}</wsse:Password>"
        "</wsse:UsernameToken></wsse:Security></soap:Header>"
    )
    fields = "".join(f"<s:{k}>{v}</s:{k}>" for k, v in shipment(number).items())
    return (
        f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{SOAP11}" '
        f'xmlns:s="{SHIPMENT_NS}">{security}<soap:Body><s:ReportShipment>{fields}'
        "</s:ReportShipment></soap:Body></soap:Envelope>"
    ).encode()


class SoapEndpointHarness(SourceHarness):
    """Plays the WMS calling its WebService: real envelopes over a real socket. Taken in:
    the operation's response; refused: a Client fault; the store down: a Server fault
    with Retry-After, and the WMS sends the envelope again."""

    kind: ClassVar[str] = "soap"
    readme: ClassVar[Path | None] = README
    secret: ClassVar[str | None] = WMS_KEY
    source_system: ClassVar[str] = "wms"
    message_type: ClassVar[str] = "shipment"
    served: Served | None = None

    def options(self, timeout: float) -> dict[str, Any]:
        response = {"MessageId": "message_id", "Duplicate": "duplicate"}
        return {"wsdl": "wms_shipment.wsdl", "operation": "ReportShipment", "response": response}

    @property
    def config_dir(self) -> Path:
        return DATA

    def context(self, gateway: StandInGateway) -> SourceContext:
        gateway.keys[WMS_KEY] = "wms"
        return super().context(gateway)

    def body(self, number: int) -> Any:
        return shipment(number)

    async def offer(self, source: InboundSource, number: int) -> Reply:
        if self.served is None:
            self.served = await serve_source(source)  # type: ignore[arg-type]
        headers = {"Content-Type": "text/xml; charset=utf-8",
                   "SOAPAction": f'"{SHIPMENT_NS}/ReportShipment"'}  # fmt: skip
        async with httpx.AsyncClient(timeout=10) as client:
            answer = await client.post(
                f"{self.served.url}/", content=shipment_envelope(number), headers=headers
            )
        if answer.status_code == 200:
            return "accepted"
        assert answer.status_code == 500, (answer.status_code, answer.text)
        return "retry" if "retry-after" in answer.headers else "refused"

    async def stop(self) -> None:
        if self.served is not None:
            await self.served.stop()


class TestSoapEndpointContract(SourceContract):
    harness = SoapEndpointHarness
