"""The inbound plugin API, as the core names it (its types are :mod:`esb.sdk`'s).

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
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from esb.sdk._plugins import HttpInbound, InboundConfig, InboundSource

__all__ = [
    "INBOUND_GROUP",
    "Accept",
    "HttpInbound",
    "InboundConfig",
    "InboundContext",
    "InboundSource",
    "check_inbound",
]

INBOUND_GROUP = "esb.inbound"

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


def check_inbound(kind: str, cls: Any) -> None:
    config = getattr(cls, "Config", None)
    if not (isinstance(config, type) and issubclass(config, InboundConfig)):
        raise TypeError(f"inbound source {kind!r}: {cls!r} has no Config model")
    if getattr(cls, "kind", None) != kind:
        raise TypeError(f"inbound source {kind!r}: class says kind={getattr(cls, 'kind', None)!r}")


InboundClasses = Mapping[str, type[Any]]
