"""What a connector is asked to do and what it answers: one request, one explicit outcome."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import orjson

from esb.sdk._json import json_default

__all__ = ["Delivered", "DeliveryRequest", "Outcome", "Park", "RetryLater"]


@dataclass(frozen=True)
class DeliveryRequest:
    """One attempt to hand one message to one target."""

    message_id: UUID
    delivery_id: UUID
    interface: str
    target: str
    message_type: str
    business_key: str | None
    attempt: int
    body: Any
    #: ``body`` as JSON, serialised once by the gateway: what it records as sent.
    encoded: bytes | None = None

    def body_json(self) -> bytes:
        """The body as JSON bytes: send these, and the target gets what the gateway
        recorded (a request built without them, as in a test, serialises here)."""
        if self.encoded is not None:
            return self.encoded
        return orjson.dumps(self.body, default=json_default)

    @property
    def idempotency_key(self) -> str:
        """Stable across attempts and replays, so a target can drop repeats."""
        return f"{self.message_id}:{self.target}"


@dataclass(frozen=True)
class Delivered:
    """The target took the message; ``detail`` is kept with the attempt (e.g. its reply)."""

    status_code: int | None = None
    detail: dict[str, Any] | None = field(default=None)


@dataclass(frozen=True)
class RetryLater:
    """A failure that may pass (timeout, 5xx, 429): tried again on the interface's schedule,
    or after ``retry_after`` seconds when the target said so."""

    reason: str
    status_code: int | None = None
    retry_after: float | None = None


@dataclass(frozen=True)
class Park:
    """A failure that sending again cannot fix (4xx, a SOAP Client fault): an operator decides."""

    reason: str
    status_code: int | None = None


Outcome = Delivered | RetryLater | Park
