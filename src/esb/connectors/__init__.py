"""The connector plugin API: a config model, a constructor and ``deliver(request) -> Outcome``.

A connector registers its class by name in the ``esb.connectors`` entry-point group
(the built-in ones too), so a third-party connector is exactly as first-class as ours.
"""

from esb.connectors.base import (
    Connector,
    ConnectorConfig,
    ConnectorContext,
    Delivered,
    DeliveryRequest,
    Outcome,
    Park,
    RetryLater,
    json_default,
)
from esb.connectors.inbound import (
    HttpInbound,
    InboundConfig,
    InboundContext,
    InboundSource,
    SourceContext,
)
from esb.connectors.registry import ConnectorRegistry, load_registry

__all__ = [
    "Connector",
    "ConnectorConfig",
    "ConnectorContext",
    "ConnectorRegistry",
    "Delivered",
    "DeliveryRequest",
    "HttpInbound",
    "InboundConfig",
    "InboundContext",
    "InboundSource",
    "Outcome",
    "Park",
    "RetryLater",
    "SourceContext",
    "json_default",
    "load_registry",
]
