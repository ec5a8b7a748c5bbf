"""The core's side of inbound sources: their entry-point group and the check of a class.

What a source is (``InboundSource``, ``InboundConfig``, ``SourceContext``,
``HttpInbound``) is the public SDK's (:mod:`esb.sdk`), named here too for the core.
``InboundContext`` is ``SourceContext`` under its former name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from esb.sdk._plugins import Accept, HttpInbound, InboundConfig, InboundSource, SourceContext

__all__ = [
    "INBOUND_GROUP",
    "Accept",
    "HttpInbound",
    "InboundClasses",
    "InboundConfig",
    "InboundContext",
    "InboundSource",
    "SourceContext",
    "check_inbound",
]

INBOUND_GROUP = "esb.inbound"
InboundContext = SourceContext


def check_inbound(kind: str, cls: Any) -> None:
    config = getattr(cls, "Config", None)
    if not (isinstance(config, type) and issubclass(config, InboundConfig)):
        raise TypeError(f"inbound source {kind!r}: {cls!r} has no Config model")
    if getattr(cls, "kind", None) != kind:
        raise TypeError(f"inbound source {kind!r}: class says kind={getattr(cls, 'kind', None)!r}")


InboundClasses = Mapping[str, type[Any]]
