"""Types every connector shares, defined in the public SDK (:mod:`esb.sdk`) and named
here for the core, which has always found them in ``esb.connectors``."""

from esb.sdk._json import json_default
from esb.sdk._outcomes import Delivered, DeliveryRequest, Outcome, Park, RetryLater
from esb.sdk._plugins import Connector, ConnectorConfig, ConnectorContext

__all__ = [
    "Connector",
    "ConnectorConfig",
    "ConnectorContext",
    "Delivered",
    "DeliveryRequest",
    "Outcome",
    "Park",
    "RetryLater",
    "json_default",
]
