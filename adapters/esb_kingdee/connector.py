"""The ``kingdee`` connector: each message is one bill ``Save``d into K/3 Cloud.

The mapped document **is** the bill's ``Model`` (the form id is an option), and it must
carry its bill number (``bill_no_field``, ``FBillNo``): the same message always makes the
same number, so a ``Save`` repeated after a lost answer meets "单据编号…已存在" and the
delivery counts as done, with no second bill. A bill found existing is looked at
(``View``) and, where this connector submits or audits, taken the rest of the way.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import httpx

from esb.sdk import (
    ConnectorConfig,
    ConnectorContext,
    Delivered,
    DeliveryRequest,
    Outcome,
    Park,
    RetryLater,
)
from esb_kingdee.answers import Answer
from esb_kingdee.client import KingdeeClient, Refused, Transient
from esb_kingdee.config import KingdeeConfig

__all__ = ["KingdeeConnector"]

# FDocumentStatus: Z draft (暂存), A created, B submitted (审核中), C audited, D re-audit.
NOT_SUBMITTED = frozenset({"Z", "A", "D"})
AUDITED = "C"


class KingdeeConnector:
    Config: ClassVar[type[ConnectorConfig]] = KingdeeConfig

    def __init__(self, config: KingdeeConfig, context: ConnectorContext) -> None:
        self.config = config
        self.context = context
        self.client = KingdeeClient(config)

    async def deliver(self, request: DeliveryRequest) -> Outcome:
        model = request.body
        field = self.config.bill_no_field
        if not isinstance(model, dict):
            return Park(
                f"the mapped document is the Kingdee Model and must be a JSON object, "
                f"not {type(model).__name__}"
            )
        bill_no = model.get(field)
        if not isinstance(bill_no, str) or not bill_no.strip():
            return Park(
                f"the Model has no bill number in {field}: the mapping must set it from the "
                "message, so that a repeated Save cannot make a second bill"
            )
        total = self.config.timeout.total
        try:
            async with asyncio.timeout(total):
                return await self._save(model, bill_no)
        except TimeoutError:
            return RetryLater(f"Kingdee did not answer within {total:g}s")
        except Transient as exc:
            return RetryLater(exc.reason, exc.status)
        except Refused as exc:
            return Park(exc.reason, exc.status)
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            return Park(f"invalid Kingdee URL: {exc}")
        except httpx.TransportError as exc:
            return RetryLater(f"{type(exc).__name__}: {exc}")

    async def _save(self, model: dict[str, Any], bill_no: str) -> Outcome:
        c = self.config
        data = {"Model": model, "IsAutoSubmitAndAudit": c.auto_submit_and_audit}
        answer = await self.client.call("Save", c.form_id, data)
        if answer.ok:
            entity = answer.entities[0] if answer.entities else {}
            detail = {"form_id": c.form_id, "id": entity.get("Id"), "number": bill_no}
            if c.submit:
                await self._step("Submit", bill_no)
            if c.audit:
                await self._step("Audit", bill_no)
            return Delivered(200, detail)
        if answer.only_bill_exists(bill_no, c.bill_no_field):
            return await self._existing(bill_no)
        return Park(f"Kingdee refused {c.form_id} {bill_no}: {answer.reason()}")

    async def _existing(self, bill_no: str) -> Outcome:
        """An earlier Save of this bill went through (its answer was lost): finish it."""
        c = self.config
        detail: dict[str, Any] = {"form_id": c.form_id, "number": bill_no, "already_saved": True}
        view = await self.client.call("View", c.form_id, {"Number": bill_no})
        result = view.result if view.ok and isinstance(view.result, dict) else {}
        status = result.get("DocumentStatus")
        detail.update(id=result.get("Id"), status=status)
        if not isinstance(status, str):
            if c.auto_submit_and_audit or c.submit:
                return Park(
                    f"{c.form_id} {bill_no} already exists in Kingdee, but its state could not "
                    f"be read (View: {view.reason() if not view.ok else 'no DocumentStatus'})"
                )
            return Delivered(200, detail)
        wants_submit = c.auto_submit_and_audit or c.submit
        wants_audit = c.auto_submit_and_audit or c.audit
        if wants_submit and status in NOT_SUBMITTED:
            await self._step("Submit", bill_no)
            status = "B"
        if wants_audit and status != AUDITED:
            await self._step("Audit", bill_no)
        return Delivered(200, detail)

    async def _step(self, operation: str, bill_no: str) -> Answer:
        answer = await self.client.call(operation, self.config.form_id, {"Numbers": [bill_no]})
        if not answer.ok:
            raise Refused(
                f"Kingdee saved {self.config.form_id} {bill_no} but refused to {operation} it: "
                f"{answer.reason()} (fix it in Kingdee or here and replay: the replay finishes it)"
            )
        return answer

    async def aclose(self) -> None:
        await self.client.aclose()
