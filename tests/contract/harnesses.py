"""How the contract suite drives each connector kind against its real target.

A harness starts the target (a real HTTP or SOAP server, a real folder), gives the
connector options that point at it, and can make it succeed, fail transiently, fail
permanently or hang. To put a new connector through the suite, write one more
harness and add it to ``HARNESSES``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar, Protocol
from uuid import uuid4

import orjson

from esb.connectors import ConnectorContext, DeliveryRequest
from tests.support.soap_server import SoapServer
from tests.support.target import TargetServer

SCENARIO = Path(__file__).resolve().parents[1] / "data" / "scenario"


def new_request(target: str, body: Any) -> DeliveryRequest:
    return DeliveryRequest(uuid4(), uuid4(), "contract", target, "order", "SO-1", 1, body)


class Harness(Protocol):
    kind: ClassVar[str]
    context: ConnectorContext

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def options(self, timeout: float) -> dict[str, Any]:
        """Connector options pointing at the target; every wait bounded by ``timeout``."""

    def request(self) -> DeliveryRequest:
        """A delivery whose body this target accepts."""

    async def succeed(self) -> None: ...

    async def fail_transiently(self) -> None: ...

    async def fail_permanently(self) -> None: ...

    async def hang(self) -> None:
        """Make the target take far longer than any timeout the suite configures."""

    def seen(self, request: DeliveryRequest) -> int:
        """How many times the target got ``request``."""


class RestHarness:
    kind: ClassVar[str] = "rest"

    def __init__(self, tmp_path: Path) -> None:
        self.server = TargetServer()
        self.context = ConnectorContext(tmp_path, "mes", "contract")

    async def start(self) -> None:
        await self.server.start()

    async def stop(self) -> None:
        await self.server.stop()

    def options(self, timeout: float) -> dict[str, Any]:
        url = f"{self.server.url}/api/work-orders"
        return {"kind": "rest", "url": url, "timeout": {"connect": timeout, "total": timeout}}

    def request(self) -> DeliveryRequest:
        return new_request("mes", {"orderNo": "SO-1", "quantity": Decimal("2.50")})

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


class SoapHarness:
    kind: ClassVar[str] = "soap"

    def __init__(self, tmp_path: Path) -> None:
        self.server = SoapServer()
        self.context = ConnectorContext(SCENARIO, "wms", "contract")

    async def start(self) -> None:
        await self.server.start()

    async def stop(self) -> None:
        await self.server.stop()

    def options(self, timeout: float) -> dict[str, Any]:
        return {
            "kind": "soap",
            "wsdl": "wsdl/wms_pick.wsdl",
            "operation": "CreatePickRequest",
            "address": self.server.address,
            "timeout": {"connect": timeout, "total": timeout},
        }

    def request(self) -> DeliveryRequest:
        line = {"Sku": "SKU1001", "Qty": 40, "Uom": "EA"}
        body = {"OrderNo": "SO-1", "CustomerCode": "CUST-02", "Priority": 1,
                "RequiredDate": "2026-11-26", "Lines": {"Line": [line]}}  # fmt: skip
        return new_request("wms", body)

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


class FileHarness:
    """A drop folder. Transient: the folder is gone (a share not mounted). Permanent: the
    file exists with other content. Hang: the file is a FIFO, whose open blocks like a
    hung network share until the harness lets it go."""

    kind: ClassVar[str] = "file"

    def __init__(self, tmp_path: Path) -> None:
        self.context = ConnectorContext(tmp_path, "finance", "contract")
        self.folder = tmp_path / "drop"
        self.path = self.folder / "INV-SO-1.json"

    async def start(self) -> None:
        self.folder.mkdir()

    async def stop(self) -> None:
        if self.path.is_fifo():
            with contextlib.suppress(OSError):  # ENXIO: nobody is blocked on it
                os.close(os.open(self.path, os.O_WRONLY | os.O_NONBLOCK))

    def options(self, timeout: float) -> dict[str, Any]:
        return {"kind": "file", "folder": "drop", "filename": "INV-{OrderNo}.json",
                "on_collision": "error", "create_folder": False, "timeout": timeout}  # fmt: skip

    def request(self) -> DeliveryRequest:
        return new_request("finance", {"OrderNo": "SO-1", "FDate": "2026-11-25", "n": 1})

    async def succeed(self) -> None:
        self.folder.mkdir(exist_ok=True)

    async def fail_transiently(self) -> None:
        shutil.rmtree(self.folder)

    async def fail_permanently(self) -> None:
        self.path.write_text('{"OrderNo": "someone else"}\n')

    async def hang(self) -> None:
        os.mkfifo(self.path)

    def seen(self, request: DeliveryRequest) -> int:
        if not self.path.is_file():
            return 0
        return int(orjson.loads(self.path.read_bytes()) == request.body)


HARNESSES: dict[str, type[Any]] = {h.kind: h for h in (RestHarness, SoapHarness, FileHarness)}
