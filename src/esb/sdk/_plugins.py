"""What a plugin is: a config model, a constructor, and one small protocol.

A connector (outbound) is built as ``Cls(config, ConnectorContext)`` and called with
``deliver(request) -> Outcome``. An inbound source is built as
``Cls(config, SourceContext)`` and runs until cancelled, handing every document to
``context.accept``; one that answers HTTP itself (a SOAP endpoint) also has
``handle(request)``, served at ``POST /inbound/{interface}/{kind}``. Both register by
name in an entry-point group (``esb.connectors``, ``esb.inbound``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, runtime_checkable
from uuid import UUID

import structlog

from esb.batching import answers
from esb.config.types import StrictModel
from esb.sdk._clock import Clock, SystemClock
from esb.sdk._outcomes import DeliveryRequest, Outcome
from esb.sdk._schedule import DEFAULT_ZONE, Job, OnRun, Schedule, run_on_schedule
from esb.sdk._state import MemoryStateStore, StateStore

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

__all__ = [
    "Accept",
    "AcceptMany",
    "Accepted",
    "Connector",
    "ConnectorConfig",
    "ConnectorContext",
    "HttpInbound",
    "IdempotencyCheck",
    "InboundConfig",
    "InboundSource",
    "KeyCheck",
    "MessageOutcome",
    "OutcomeLookup",
    "SourceContext",
]


class ConnectorConfig(StrictModel):
    """Base of every connector's options. ``kind`` is the connector's entry-point name: the
    registry fills it in, a subclass does not write it."""

    kind: str = ""


@dataclass(frozen=True)
class ConnectorContext:
    """What a connector may know about its surroundings when it is built."""

    config_dir: Path
    target: str
    interface: str


@runtime_checkable
class Connector(Protocol):
    """What the worker calls. ``deliver`` never raises for a target's failure: it returns it."""

    Config: ClassVar[type[ConnectorConfig]]

    async def deliver(self, request: DeliveryRequest) -> Outcome: ...

    async def aclose(self) -> None: ...


class InboundConfig(StrictModel):
    """Base of every inbound source's options. ``kind`` is the source's entry-point name:
    the registry fills it in, a subclass does not write it."""

    kind: str = ""


class Accepted(Protocol):
    """The pipeline's answer to ``accept``: the message's id; ``created`` False for a repeat
    (the first message's id is given then)."""

    @property
    def message_id(self) -> UUID: ...

    @property
    def created(self) -> bool: ...


#: ``accept(document, text=None, idempotency_key=None) -> Accepted``: the interface's
#: schema, the door's limits, routing and one transaction, exactly as for HTTP. Raises
#: ValidationFailed (or another 4xx error: the document's fault) or StoreUnavailable.
Accept = Callable[..., Awaitable[Accepted]]
#: ``accept_many([(document, idempotency_key), ...])``: ``accept`` for a batch, one answer
#: per document in order, each an ``Accepted`` or the exception ``accept`` would raise.
AcceptMany = Callable[[Sequence[tuple[Any, "str | None"]]], Awaitable[list["Accepted | Exception"]]]
#: The system a caller's key belongs to, or None (a constant-time check).
KeyCheck = Callable[[str], "str | None"]
#: An ``Idempotency-Key`` header as the pipeline keys it (None: none sent), or
#: ValidationFailed naming the header.
IdempotencyCheck = Callable[["str | None"], "str | None"]


#: What became of an accepted message, as its source may ask: ``waiting`` (a target
#: still has to get it), ``delivered`` (every target has it, or it went to none),
#: ``parked`` (a delivery failed for good and waits for an operator), ``discarded`` (an
#: operator gave a delivery up, or a later document for its key replaced it).
MessageState = Literal["waiting", "delivered", "parked", "discarded"]


@dataclass(frozen=True)
class MessageOutcome:
    """One accepted message's state across all its targets, with the reason when it is
    parked or discarded (the delivery's last error, e.g. the unknown cross-reference code)."""

    state: MessageState
    reason: str | None = None


#: ``outcomes(idempotency_keys) -> {key: MessageOutcome}``: what became of the messages
#: this source accepted under those keys (as given to ``accept``); a key the gateway does
#: not know is left out. Batched indexed lookups: ask for hundreds of keys at once.
OutcomeLookup = Callable[[Sequence[str]], Awaitable[dict[str, MessageOutcome]]]


def _no_keys(key: str) -> str | None:
    return None


async def _no_outcomes(keys: Sequence[str]) -> dict[str, MessageOutcome]:
    return {}


@dataclass(frozen=True)
class SourceContext:
    """All an inbound source may use of the gateway: its interface, folders, the way in
    (``accept``), caller checks, its own durable ``state``, a ``clock``, a ``log``, the
    factory's ``time_zone``, ``every`` (work on a schedule, in one process) and
    ``outcomes``: what became of the messages it accepted (a staging table writes it back)."""

    interface: str
    source_system: str
    message_type: str
    config_dir: Path
    data_dir: Path
    accept: Accept
    check_idempotency_key: IdempotencyCheck
    authenticate: KeyCheck = _no_keys
    state: StateStore = field(default_factory=MemoryStateStore)
    clock: Clock = field(default_factory=SystemClock)
    log: Any = field(default_factory=lambda: structlog.get_logger("esb.inbound"))
    outcomes: OutcomeLookup = _no_outcomes
    #: the factory's time zone (IANA name): the default zone of times without one
    time_zone: str = DEFAULT_ZONE
    #: told of every scheduled run (the gateway counts them in ``/metrics``)
    on_run: OnRun | None = None
    #: the gateway's batch way in (see ``accept_many``); None: ``accept`` once per document
    accept_batch: AcceptMany | None = None

    async def accept_many(
        self, documents: Sequence[tuple[Any, str | None]]
    ) -> list[Accepted | Exception]:
        """``accept`` for many documents at once, answered in order: each an ``Accepted`` or
        the exception ``accept`` would have raised for it (one bad document fails alone).
        A source holding a page of rows uses this: the gateway checks and stores them as
        one batch, several times cheaper per document than one ``accept`` each."""
        if self.accept_batch is not None:
            return await self.accept_batch(documents)
        return await answers([self.accept(doc, idempotency_key=key) for doc, key in documents])

    async def every(self, schedule: Schedule | str, work: Job, *, name: str = "poll") -> None:
        """Run ``work`` on ``schedule`` until cancelled: in one gateway process at a time (this
        holds the ``state`` lease: do not wrap it in ``state.run_exclusive``), never two runs
        at once (a tick that falls during a run is skipped and counted), each run's start,
        duration, rows and error kept in ``state`` under ``schedule/<name>`` for the health
        report. An exception from ``work`` is that run's error; the schedule goes on."""
        parsed = (
            schedule if isinstance(schedule, Schedule) else Schedule.parse(schedule, self.time_zone)
        )
        await run_on_schedule(
            self.state,
            self.clock,
            parsed,
            work,
            name=name,
            on_run=self.on_run,
            log_to=self.log,
        )


@runtime_checkable
class InboundSource(Protocol):
    Config: ClassVar[type[InboundConfig]]

    async def run(self) -> None:
        """Take documents in until cancelled; never raise for a bad document."""

    async def aclose(self) -> None: ...


@runtime_checkable
class HttpInbound(Protocol):
    """A source that answers its callers itself (e.g. a SOAP endpoint)."""

    async def handle(self, request: Request) -> Response: ...
