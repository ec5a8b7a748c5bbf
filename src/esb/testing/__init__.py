"""The contract suite for connectors and inbound sources, shipped for plugin authors.

A plugin's own tests write a harness (how to start its counterpart and make it succeed,
fail or hang) and subclass the contract with it::

    from esb.testing import ConnectorContract, ConnectorHarness

    class EchoHarness(ConnectorHarness): ...

    class TestEcho(ConnectorContract):
        harness = EchoHarness

The fixtures come from the pytest plugin this package registers (``pytest11``).
Installed with ``pip install esb-gateway[testing]``.
"""

import pytest

# The suites' assertions are rewritten like a test's own (readable failures).
pytest.register_assert_rewrite(
    "esb.testing.checks", "esb.testing.connectors", "esb.testing.sources"
)

from esb.connectors import ConnectorRegistry  # noqa: E402
from esb.testing.connectors import ConnectorContract  # noqa: E402
from esb.testing.harness import (  # noqa: E402
    ConnectorHarness,
    Reply,
    SourceHarness,
    delivery_request,
)
from esb.testing.list_api import ListApiServer, Pulled  # noqa: E402
from esb.testing.served import Served, serve_source  # noqa: E402
from esb.testing.sources import SourceContract  # noqa: E402
from esb.testing.standin import Offered, StandInGateway  # noqa: E402
from esb.testing.target import Received, TargetServer  # noqa: E402

__all__ = [
    "ConnectorContract",
    "ConnectorHarness",
    "ConnectorRegistry",
    "ListApiServer",
    "Offered",
    "Pulled",
    "Received",
    "Reply",
    "Served",
    "SourceContract",
    "SourceHarness",
    "StandInGateway",
    "TargetServer",
    "delivery_request",
    "serve_source",
]
