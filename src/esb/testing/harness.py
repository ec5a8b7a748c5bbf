"""What a plugin author writes to put a connector or a source through the contract suite.

A harness starts the plugin's real counterpart (an HTTP server, a folder, a SOAP
service), gives the options that point at it, and can make it succeed, fail for a
while, fail for good or hang. The suite (:mod:`esb.testing.connectors`,
:mod:`esb.testing.sources`) does the rest, the same way for every plugin.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal
from uuid import UUID, uuid4

from esb.sdk import ConnectorContext, DeliveryRequest, InboundSource, SourceContext
from esb.testing.standin import StandInGateway

__all__ = ["ConnectorHarness", "Reply", "SourceHarness", "delivery_request"]

#: What a source's caller was told: taken in, refused for good, or "send again later".
Reply = Literal["accepted", "refused", "retry"]


def delivery_request(
    body: Any, target: str = "target", *, message_id: UUID | None = None, attempt: int = 1
) -> DeliveryRequest:
    """A delivery of ``body`` as the worker would make it (same ``message_id``: same key)."""
    message_id = message_id or uuid4()
    return DeliveryRequest(message_id, uuid4(), "contract", target, "order", "SO-1", attempt, body)


class _Harness:
    kind: ClassVar[str]
    """The entry-point name the plugin is registered under."""
    secret: ClassVar[str | None] = None
    """A value of ``options()`` (a password, a token) that must never show in a log line,
    an outcome, an error or the config's repr."""
    readme: ClassVar[Path | None] = None
    """A Markdown file that embeds the options table (``python -m esb.testing.table``)."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path

    @property
    def config_dir(self) -> Path:
        """The configuration folder relative paths in ``options()`` are read from."""
        return self.tmp_path

    async def start(self) -> None:
        """Start the counterpart (a server, a folder); called before every test."""

    async def stop(self) -> None:
        """Stop it, letting go of anything ``hang`` holds; called after every test."""


class ConnectorHarness(_Harness):
    """Drives one connector against its real target."""

    keyed: ClassVar[bool] = True
    """True: the target is given the idempotency key (a header, a field). False: the
    target is idempotent by itself (e.g. a file named by the business key)."""

    @property
    def context(self) -> ConnectorContext:
        return ConnectorContext(self.config_dir, "target", "contract")

    def options(self, timeout: float) -> dict[str, Any]:
        """Options pointing at the target, every wait bounded by ``timeout`` seconds
        (``kind`` may be left out)."""
        raise NotImplementedError

    def body(self) -> Any:
        """A body the target accepts."""
        return {"orderNo": "SO-1", "quantity": "2.50"}

    async def succeed(self) -> None:
        raise NotImplementedError

    async def fail_transiently(self) -> None:
        """A failure that may clear: the target is down, busy, unreachable."""
        raise NotImplementedError

    async def fail_permanently(self) -> None:
        """A failure no retry fixes: the target refuses this message."""
        raise NotImplementedError

    async def hang(self) -> None:
        """The target takes far longer than any timeout the suite gives (until ``stop``)."""
        raise NotImplementedError

    def seen(self, request: DeliveryRequest) -> int:
        """How often the target got ``request``: told apart by its idempotency key when
        ``keyed``, else by its effect (0 or 1)."""
        raise NotImplementedError


class SourceHarness(_Harness):
    """Plays a source's callers: hands it documents the way they do, reads their answer."""

    interface: ClassVar[str] = "contract"
    gateway: StandInGateway  # what the suite built the source with (set by ``context``)
    source_system: ClassVar[str] = "erp"
    message_type: ClassVar[str] = "order"

    def options(self, timeout: float) -> dict[str, Any]:
        """The source's options (``kind`` may be left out); waits bounded by ``timeout``."""
        raise NotImplementedError

    def context(self, gateway: StandInGateway) -> SourceContext:
        """What the source is built with: the stand-in gateway's ``accept`` and names."""
        self.gateway = gateway
        names = (self.interface, self.source_system, self.message_type)
        return gateway.context(*names, self.config_dir)

    def body(self, number: int) -> Any:
        """The body the gateway should get for document ``number``."""
        raise NotImplementedError

    async def offer(self, source: InboundSource, number: int) -> Reply:
        """Hand document ``number`` to the running ``source`` as a caller does; what the
        caller was told once the source answered."""
        raise NotImplementedError

    async def again(self, source: InboundSource, number: int) -> Reply:
        """After ``retry``: what happens next (by default the caller sends it again; a
        source that keeps the document, such as a folder, just takes it later)."""
        return await self.offer(source, number)
