"""The public SDK for plugins: the only part of ``esb`` a connector or source imports.

Everything named here is stable for plugins; the rest of ``esb`` is the gateway's own
and may change. A plugin is a config model, a constructor and one protocol:

- **connector** (outbound, entry-point group ``esb.connectors``), a ``Connector``:
  ``Cls(config: ConnectorConfig, context: ConnectorContext)`` with
  ``async deliver(request: DeliveryRequest) -> Outcome`` (``Delivered``, ``RetryLater``
  or ``Park``) and ``async aclose()``. A target's failure is returned, never raised.
- **inbound source** (``esb.inbound``): ``Cls(config: InboundConfig, context: SourceContext)``
  with ``async run()`` (until cancelled) and ``async aclose()``: an ``InboundSource``;
  an ``HttpInbound`` also has ``async handle(request) -> Response``, served at
  ``POST /inbound/{interface}/{kind}``.

``SourceContext`` is all a source sees of the gateway: ``accept(document,
idempotency_key=...)`` (an ``Accept``, answering ``Accepted``; ``accept_many``, an
``AcceptMany``, takes a page of documents at once), ``authenticate(key)`` (a
``KeyCheck``: the caller's system or None), ``check_idempotency_key(header)`` (an
``IdempotencyCheck``), its durable ``state`` (a ``StateStore``: key -> JSON value, with
a lease so one process at a time runs the source, ``state.run_exclusive(work)``;
``MemoryStateStore`` stands in for the database in tests), a ``clock`` (a ``Clock``;
``SystemClock``), a ``log``, the factory's ``time_zone`` and ``every(schedule, work)``:
work on a ``Schedule`` (parsed from a ``ScheduleText`` such as ``5m`` or ``0 2 * * *``) in
one gateway process at a time, each ``Run`` recorded for the health report.
``async_database_url`` turns a plain ``mysql://``/``postgresql://`` URL into the
SQLAlchemy asyncio one, so users never name drivers.
``outcomes(idempotency_keys)`` (an ``OutcomeLookup``) tells what became of the messages
a source accepted, each a ``MessageOutcome``: waiting, delivered, parked or discarded,
with the reason (a staging table writes it back).

Config types: ``StrictModel`` (unknown keys refused), ``Duration`` and
``parse_duration``, ``Timeouts``, ``TimeZoneName`` (an IANA zone, checked),
``RetryPolicy``, ``Auth`` (``BasicAuth``, ``BearerAuth``, ``HeaderAuth``) with
``auth_headers``. Errors: ``EsbError``, the root;
``PluginError``, the base of a plugin's own exceptions; ``ConfigError``;
``ValidationFailed`` listing ``FieldProblem``s; ``Unauthenticated``, ``Forbidden``,
``PayloadTooLarge``; ``StoreUnavailable`` (try again later). Helpers: safe XML
(:mod:`esb.sdk.xml`: ``xml.parse``, ``xml.check_shape``, ``xml.to_data``), bounded body
reading (``read_body``), JSON (``dumps``, ``loads``, ``json_default``), text bounded for
messages (``shorten``, ``more``, ``MAX_SHOWN``, ``MAX_LISTED``), the nesting a document
may have (``MAX_DEPTH``) and README option tables (``options_table``).
"""

from esb.config.types import (
    Auth,
    BasicAuth,
    BearerAuth,
    Duration,
    HeaderAuth,
    RetryPolicy,
    StrictModel,
    Timeouts,
    TimeZoneName,
    auth_headers,
    parse_duration,
)
from esb.limits import MAX_DEPTH
from esb.sdk import xml
from esb.sdk._body import read_body
from esb.sdk._clock import Clock, SystemClock
from esb.sdk._databases import async_database_url
from esb.sdk._errors import (
    ConfigError,
    EsbError,
    FieldProblem,
    Forbidden,
    PayloadTooLarge,
    PluginError,
    StoreUnavailable,
    Unauthenticated,
    ValidationFailed,
)
from esb.sdk._json import dumps, json_default, loads
from esb.sdk._options import options_table
from esb.sdk._outcomes import Delivered, DeliveryRequest, Outcome, Park, RetryLater
from esb.sdk._plugins import (
    Accept,
    Accepted,
    AcceptMany,
    Connector,
    ConnectorConfig,
    ConnectorContext,
    HttpInbound,
    IdempotencyCheck,
    InboundConfig,
    InboundSource,
    KeyCheck,
    MessageOutcome,
    OutcomeLookup,
    SourceContext,
)
from esb.sdk._schedule import Run, Schedule, ScheduleText
from esb.sdk._state import MemoryStateStore, StateStore
from esb.sdk._text import MAX_LISTED, MAX_SHOWN, more, shorten

__all__ = [
    "MAX_DEPTH",
    "MAX_LISTED",
    "MAX_SHOWN",
    "Accept",
    "AcceptMany",
    "Accepted",
    "Auth",
    "BasicAuth",
    "BearerAuth",
    "Clock",
    "ConfigError",
    "Connector",
    "ConnectorConfig",
    "ConnectorContext",
    "Delivered",
    "DeliveryRequest",
    "Duration",
    "EsbError",
    "FieldProblem",
    "Forbidden",
    "HeaderAuth",
    "HttpInbound",
    "IdempotencyCheck",
    "InboundConfig",
    "InboundSource",
    "KeyCheck",
    "MemoryStateStore",
    "MessageOutcome",
    "Outcome",
    "OutcomeLookup",
    "Park",
    "PayloadTooLarge",
    "PluginError",
    "RetryLater",
    "RetryPolicy",
    "Run",
    "Schedule",
    "ScheduleText",
    "SourceContext",
    "StateStore",
    "StoreUnavailable",
    "StrictModel",
    "SystemClock",
    "TimeZoneName",
    "Timeouts",
    "Unauthenticated",
    "ValidationFailed",
    "async_database_url",
    "auth_headers",
    "dumps",
    "json_default",
    "loads",
    "more",
    "options_table",
    "parse_duration",
    "read_body",
    "shorten",
    "xml",
]
