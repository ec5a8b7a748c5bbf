"""The ``kingdee`` connector through the shipped contract suite, against the K/3 Cloud stand-in
served on a real socket."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar
from uuid import uuid4

from esb.sdk import DeliveryRequest
from esb.standins.kingdee import KingdeeStandIn
from esb.testing import ConnectorContract, ConnectorHarness
from esb.testing.served import Served

README = Path(__file__).parents[1] / "README.md"
ACCT, USER = "6512a0b7e4c3f1", "esb"


def model(bill_no: str, material: str = "1.01.001") -> dict[str, Any]:
    return {
        "FBillNo": bill_no,
        "FBillType": {"FNUMBER": "SCRKD01_SYS"},
        "FDate": "2026-11-25",
        "FStockOrgId": {"FNumber": "100"},
        "FEntity": [{"FMaterialId": {"FNumber": material}, "FRealQty": 2.5}],
    }


class KingdeeHarness(ConnectorHarness):
    kind: ClassVar[str] = "kingdee"
    secret: ClassVar[str | None] = "k3-pa55word-never-shown"
    readme: ClassVar[Path | None] = README
    keyed: ClassVar[bool] = False  # Kingdee keeps one bill per bill number, no key header

    def __init__(self, tmp_path: Path) -> None:
        super().__init__(tmp_path)
        assert self.secret is not None
        self.kingdee = KingdeeStandIn(users={(ACCT, USER): self.secret})
        self.served: Served | None = None

    async def start(self) -> None:
        self.served = await Served(self.kingdee.app()).start()

    async def stop(self) -> None:
        if self.served is not None:
            await self.served.stop()

    def options(self, timeout: float) -> dict[str, Any]:
        # options are also read before start (checks of the model alone)
        url = self.served.url if self.served is not None else "http://127.0.0.1:9"
        return {
            "url": f"{url}/k3cloud",
            "acct_id": ACCT,
            "username": USER,
            "password": self.secret,
            "form_id": "PRD_INSTOCK",
            "timeout": {"connect": timeout, "total": timeout},
        }

    def body(self) -> Any:
        return model(f"MES-CPL-{uuid4().hex[:8]}")

    async def succeed(self) -> None:
        self.kingdee.stop_failing()

    async def fail_transiently(self) -> None:
        self.kingdee.fail_next(100, 503)

    async def fail_permanently(self) -> None:
        self.kingdee.unknown_materials.add("1.01.001")

    async def hang(self) -> None:
        self.kingdee.delay_s = 2.0  # the server waits this out when it stops: keep it short

    def seen(self, request: DeliveryRequest) -> int:
        number = request.body["FBillNo"]
        return sum(1 for d in self.kingdee.documents if d.number == number)


class TestKingdeeContract(ConnectorContract):
    harness = KingdeeHarness
