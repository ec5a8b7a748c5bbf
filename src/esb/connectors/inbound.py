"""The inbound plugin API: a source that takes messages in (file drop, SOAP endpoint...).

An inbound source is a config model, a constructor and ``run()``; it hands every
document to ``context.accept`` (the same checks, routing and transaction as HTTP).
Sources that answer HTTP themselves (a SOAP endpoint) also implement ``handle``;
the gateway serves them at ``POST /inbound/{interface}/{kind}``. Registered by name
in the ``esb.inbound`` entry-point group, built-ins included.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import Response

from esb.config.types import StrictModel

INBOUND_GROUP = "esb.inbound"


class InboundConfig(StrictModel):
    """Base of every inbound source's options; subclasses add ``kind: Literal["name"]``."""

    kind: str


#: ``accept(body, text=None, idempotency_key=None) -> Accepted``; raises ValidationFailed
#: (a refused document, naming its fields) or StoreUnavailable (try again later).
Accept = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class InboundContext:
    interface: str
    source_system: str
    message_type: str
    config_dir: Path
    data_dir: Path
    accept: Accept
    engine: AsyncEngine  # for the source's own bookkeeping (e.g. the inbound_files ledger)


@runtime_checkable
class InboundSource(Protocol):
    kind: ClassVar[str]
    Config: ClassVar[type[InboundConfig]]

    async def run(self) -> None:
        """Take documents in until cancelled; never raise for a bad document."""

    async def aclose(self) -> None: ...


@runtime_checkable
class HttpInbound(Protocol):
    """A source that answers its callers itself (e.g. a SOAP endpoint)."""

    async def handle(self, request: Request) -> Response: ...


def check_inbound(kind: str, cls: Any) -> None:
    config = getattr(cls, "Config", None)
    if not (isinstance(config, type) and issubclass(config, InboundConfig)):
        raise TypeError(f"inbound source {kind!r}: {cls!r} has no Config model")
    if getattr(cls, "kind", None) != kind:
        raise TypeError(f"inbound source {kind!r}: class says kind={getattr(cls, 'kind', None)!r}")


InboundClasses = Mapping[str, type[Any]]
