"""The test endpoints of parallel runs (``shadow.send``): one connector per shadow, built
the first time it sends and again when its settings change, closed at stop.

What a test endpoint answers is recorded with the comparison; it is never retried and
never parks anything.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from typing import Any

import structlog

from esb.config.shadow import Route, Shadow
from esb.connectors import Connector, ConnectorContext, Delivered, Outcome
from esb.deliverer import call_connector
from esb.live import LiveConfig
from esb.task import DeliveryTask

log = structlog.get_logger(__name__)

#: A test endpoint that never answers is given up on after this long (seconds).
SEND_GUARD_S = 60.0


def described(outcome: Outcome) -> str:
    """The test endpoint's answer as the comparison keeps it."""
    if isinstance(outcome, Delivered):
        return "delivered"
    status = f" ({outcome.status_code})" if outcome.status_code else ""
    return f"not delivered{status}: {outcome.reason}"


class Senders:
    def __init__(self, live: LiveConfig) -> None:
        self.live = live
        self._built: dict[Route, tuple[Any, Connector]] = {}
        self._retired: list[Connector] = []  # settings changed: closed at stop (a send may
        # still be using one)

    def _connector(self, shadow: Shadow) -> Connector:
        settings = shadow.send
        assert settings is not None  # only a shadow with a test endpoint sends
        found = self._built.get(shadow.route)
        if found is not None and found[0] == settings:
            return found[1]
        config = self.live.config
        context = ConnectorContext(config.folder, target=shadow.name, interface=shadow.interface)
        connector = self.live.registry.build(settings, context)  # never the gateway's data
        self._built[shadow.route] = (settings, connector)
        if found is not None:
            self._retired.append(found[1])
        return connector

    async def send(self, shadow: Shadow, task: DeliveryTask, body: Any, encoded: bytes) -> str:
        """Send the shadow's output to its test endpoint; what happened, in words."""
        try:
            connector = self._connector(shadow)
        except Exception as exc:  # a test endpoint that cannot be built fails alone
            return f"not sent: the test endpoint cannot be built: {type(exc).__name__}: {exc}"
        request = replace(task, target=shadow.name)
        outcome = await call_connector(connector, request, body, encoded, SEND_GUARD_S)
        return described(outcome)

    async def aclose(self) -> None:
        built, self._built = self._built, {}
        retired, self._retired = self._retired, []
        for connector in [c for _, c in built.values()] + retired:
            with contextlib.suppress(Exception):
                await connector.aclose()
