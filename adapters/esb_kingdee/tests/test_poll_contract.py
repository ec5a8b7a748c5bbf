"""The ``kingdee-poll`` source through the shipped contract suite, against the K/3 Cloud
stand-in served on a real socket.

The suite assumes a caller who offers a document; Kingdee has none, so the harness plays
the finance department: offering document ``n`` is saving bill ``n`` (changed at minute
``n``), and the next pull reads it. Offering the same document again is an operator
resetting the watermark: the bill is read again, unchanged, and must carry the same key.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any, ClassVar

from esb.sdk import InboundSource
from esb.standins.kingdee import KingdeeStandIn
from esb.testing import Reply, SourceContract, SourceHarness
from esb.testing.served import Served
from esb_kingdee.poll import WATERMARK

README = Path(__file__).parents[1] / "README.md"
ACCT, USER, FORM = "6512a0b7e4c3f1", "esb", "SAL_SaleOrder"
ANSWERS: dict[str, Reply] = {"accept": "accepted", "refuse": "refused", "unavailable": "retry"}


class KingdeePollHarness(SourceHarness):
    kind: ClassVar[str] = "kingdee-poll"
    readme: ClassVar[Path | None] = README
    secret: ClassVar[str | None] = "k3-poll-pa55word-never-shown"
    source_system: ClassVar[str] = "finance"
    message_type: ClassVar[str] = "sales_order"

    def __init__(self, tmp_path: Path) -> None:
        super().__init__(tmp_path)
        assert self.secret is not None
        self.kingdee = KingdeeStandIn(users={(ACCT, USER): self.secret})
        self.served: Served | None = None
        self.saved: set[int] = set()

    async def start(self) -> None:
        self.served = await Served(self.kingdee.app()).start()

    async def stop(self) -> None:
        if self.served is not None:
            await self.served.stop()

    def options(self, timeout: float) -> dict[str, Any]:
        url = self.served.url if self.served is not None else "http://127.0.0.1:9"
        return {
            "url": f"{url}/k3cloud", "acct_id": ACCT, "username": USER, "password": self.secret,
            "form_id": FORM, "field_keys": ["FBillNo", "FModifyDate", "FQty"],
            "interval": "0.1s", "page_size": 10, "time_zone": "Asia/Shanghai",
            "timeout": {"connect": timeout, "total": timeout},
        }  # fmt: skip

    def body(self, number: int) -> Any:
        at = f"2026-11-25T10:{number:02d}:00"
        return {"FBillNo": f"XSDD{number:04d}", "FModifyDate": at, "FQty": number + 0.5}

    async def offer(self, source: InboundSource, number: int) -> Reply:
        calls = len(self.gateway.offered)
        again = number in self.saved
        self.kingdee.query.put_bill(FORM, self.body(number))
        self.saved.add(number)
        reset_at = 0.0
        while True:
            for offered in self.gateway.offered[calls:]:
                if offered.body == self.body(number):
                    return ANSWERS.get(offered.answer, "retry")
            if again and time.monotonic() - reset_at > 0.5:  # the pull may be saving it
                await self.gateway.state.delete(WATERMARK)
                reset_at = time.monotonic()
            await asyncio.sleep(0.02)


class TestKingdeePollContract(SourceContract):
    harness = KingdeePollHarness
