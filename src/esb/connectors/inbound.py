"""The core's side of inbound sources: their entry-point group.

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
]

INBOUND_GROUP = "esb.inbound"
InboundContext = SourceContext


InboundClasses = Mapping[str, type[Any]]
