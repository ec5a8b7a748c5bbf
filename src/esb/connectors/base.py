"""Types every connector shares: its config base, the request it gets, the outcome it returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable
from uuid import UUID

import orjson

from esb.config.types import StrictModel


def json_default(value: Any) -> Any:
    """For ``orjson.dumps(body, default=json_default)``: mapped bodies may hold Decimals
    (exact quantities), written exactly, never rounded through a float."""
    if isinstance(value, Decimal):
        return orjson.Fragment(str(value))
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


class ConnectorConfig(StrictModel):
    """Base of every connector's options; subclasses add ``kind: Literal["name"]``."""

    kind: str


@dataclass(frozen=True)
class ConnectorContext:
    """What a connector may know about its surroundings when it is built."""

    config_dir: Path
    target: str
    interface: str


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
    status_code: int | None = None
    detail: dict[str, Any] | None = field(default=None)


@dataclass(frozen=True)
class RetryLater:
    reason: str
    status_code: int | None = None
    retry_after: float | None = None


@dataclass(frozen=True)
class Park:
    reason: str
    status_code: int | None = None


Outcome = Delivered | RetryLater | Park


@runtime_checkable
class Connector(Protocol):
    """What the worker calls. ``deliver`` never raises for a target's failure: it returns it."""

    kind: ClassVar[str]
    Config: ClassVar[type[ConnectorConfig]]

    async def deliver(self, request: DeliveryRequest) -> Outcome: ...

    async def aclose(self) -> None: ...
