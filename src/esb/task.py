"""A delivery task: what the relay hands a worker (over RabbitMQ or in process)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson


@dataclass(frozen=True)
class DeliveryTask:
    outbox_id: int
    delivery_id: UUID
    message_id: UUID
    interface: str
    target: str
    message_type: str
    business_key: str | None
    attempt: int  # this attempt's number over the delivery's life
    round_attempt: int  # its number since the last replay (drives the retry budget)
    received_at: datetime
    content_type: str
    body: Any  # the source body, parsed when JSON
    corrected: Any = None  # an operator's corrected target body: sent as is, no mapping
    redelivered: bool = False  # the broker hands it out again (no outcome was recorded)

    def encode(self) -> bytes:
        """The broker envelope; a JSON body travels as-is, without a parse/serialise round."""
        return orjson.dumps(
            {
                "outbox_id": self.outbox_id,
                "delivery_id": str(self.delivery_id),
                "message_id": str(self.message_id),
                "interface": self.interface,
                "target": self.target,
                "message_type": self.message_type,
                "business_key": self.business_key,
                "attempt": self.attempt,
                "round_attempt": self.round_attempt,
                "received_at": self.received_at.isoformat(),
                "content_type": self.content_type,
                "body": self.body,
                "corrected": self.corrected,
            }
        )

    @classmethod
    def decode(cls, raw: bytes, *, redelivered: bool = False) -> DeliveryTask:
        data = orjson.loads(raw)
        return cls(
            outbox_id=int(data["outbox_id"]),
            delivery_id=UUID(data["delivery_id"]),
            message_id=UUID(data["message_id"]),
            interface=data["interface"],
            target=data["target"],
            message_type=data["message_type"],
            business_key=data["business_key"],
            attempt=int(data["attempt"]),
            round_attempt=int(data["round_attempt"]),
            received_at=datetime.fromisoformat(data["received_at"]),
            content_type=data["content_type"],
            body=data["body"],
            corrected=data.get("corrected"),
            redelivered=redelivered,
        )


def stored_body(content_type: str, text: str, *, verbatim: bool) -> Any:
    """A stored body (text) for a task: JSON parsed for the mapping, or embedded verbatim
    in a broker envelope (``verbatim``: no parse/serialise round); other bodies stay text."""
    if "json" not in content_type:
        return text
    return orjson.Fragment(text) if verbatim else orjson.loads(text)


def stored_json(text: str | None, *, verbatim: bool) -> Any:
    """A stored JSON value (an operator's corrected body), like ``stored_body``."""
    if not text:
        return None
    return orjson.Fragment(text) if verbatim else orjson.loads(text)
