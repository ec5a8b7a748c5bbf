"""The gateway's one error tree. Behaviour lives on the class.

    EsbError
    ├── ConfigError                 a YAML file is wrong (file, line, key)
    │   └── SettingsError           an ESB_* environment variable is wrong (names it)
    ├── RequestError                refused at the door; ``http_status`` + ``code``
    │   ├── Unauthenticated         401
    │   ├── Forbidden               403
    │   ├── PayloadTooLarge         413
    │   ├── UnsupportedMediaType    415
    │   └── ValidationFailed        422 (every offending field)
    ├── NotFound                    no such message, delivery, mapping, entity ...
    ├── Conflict                    the thing's state does not allow the action
    ├── StoreUnavailable            the database cannot be reached (503, try again)
    ├── StoreRefused                the database refused a value of this data (422, never retried)
    ├── BrokerUnavailable           RabbitMQ cannot be reached or refused a publish
    ├── QueryError                  a named query could not run (esb.queries)
    │   ├── QueryDatabaseUnavailable  its database cannot be reached (503, try again)
    │   ├── QueryTimedOut           stopped by its statement timeout (504)
    │   └── QueryFailed             the database refused the query itself (502)
    ├── MappingError                the mapping cannot produce a target body (names the path)
    │   └── XrefMissing             master data has no entry for a code
    └── PluginError                 base of a connector's or source's own errors (esb.sdk)

A door refusal carries its HTTP status and code, and so do the store's two errors
(every door, HTTP or SOAP, answers them alike). The domain's ``NotFound``,
``Conflict`` and ``BrokerUnavailable`` carry none: the HTTP edge (``esb.api.errors``)
maps them to 404, 409 and 503. A delivery's failures are outcomes (``Delivered``,
``RetryLater``, ``Park``), not exceptions. Foreign exceptions (SQLAlchemy, aio-pika,
httpx ...) are translated at the edge with ``raise ... from exc``; nothing above the
edge catches a library's error.
"""

from __future__ import annotations

from dataclasses import dataclass


class EsbError(Exception):
    """Root of every error the gateway raises on purpose."""


class ConfigError(EsbError):
    """A configuration file is invalid; the message is ``file:line: key: problem``."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class SettingsError(ConfigError):
    """An ESB_* variable is wrong; each problem names the variable and what to do."""


@dataclass(frozen=True)
class FieldProblem:
    """One offending field of a refused body: a dotted path such as ``Lines[1].Qty``."""

    field: str
    message: str


class RequestError(EsbError):
    """Refused at the door (HTTP, SOAP, file drop): the caller's request is at fault."""

    http_status = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.message = message
        self.field = field
        super().__init__(message)

    def body(self) -> dict[str, object]:
        error: dict[str, object] = {"code": self.code, "message": self.message}
        if self.field is not None:
            error["field"] = self.field
        return {"error": error}


class Unauthenticated(RequestError):
    http_status = 401
    code = "unauthenticated"


class Forbidden(RequestError):
    http_status = 403
    code = "forbidden"


class PayloadTooLarge(RequestError):
    http_status = 413
    code = "payload_too_large"


class UnsupportedMediaType(RequestError):
    http_status = 415
    code = "unsupported_media_type"


class ValidationFailed(RequestError):
    http_status = 422
    code = "validation_failed"

    def __init__(self, problems: list[FieldProblem], *, code: str | None = None) -> None:
        self.problems = problems
        if code is not None:
            self.code = code
        first = problems[0] if problems else FieldProblem("", "invalid")
        summary = "; ".join(f"{p.field or '(body)'}: {p.message}" for p in problems)
        super().__init__(summary, field=first.field or None)

    def body(self) -> dict[str, object]:
        body = super().body()
        error = body["error"]
        assert isinstance(error, dict)
        error["errors"] = [{"field": p.field, "message": p.message} for p in self.problems]
        return body


class NotFound(EsbError):
    """The thing asked for does not exist (or the caller may not see it)."""


class Conflict(EsbError):
    """The thing exists, but its state does not allow the action (the message says why)."""


class StoreUnavailable(EsbError):
    """The database did not answer; the caller may try again."""

    http_status = 503
    code = "store_unavailable"


class StoreRefused(EsbError):
    """The database refused a value (too long, NUL, out of range): the data is at fault,
    not the database, so sending it again cannot help. The door checks (esb.limits)
    should have refused it first; this is the store's own last line."""

    http_status = 422
    code = "unstorable_value"


class BrokerUnavailable(EsbError):
    """RabbitMQ is down, timed out, or returned an unroutable publish; try again."""


class QueryError(EsbError):
    """A named query could not run; none is the caller's data at fault (that is a 422
    before the query runs), so each has its own 5xx status and code."""

    http_status = 502
    code = "query_failed"


class QueryDatabaseUnavailable(QueryError):
    """The query's database cannot be reached (or all its connections are busy)."""

    http_status = 503
    code = "query_database_unavailable"


class QueryTimedOut(QueryError):
    """The database stopped the query at its statement timeout."""

    http_status = 504
    code = "statement_timeout"


class QueryFailed(QueryError):
    """The database refused the query (a missing table, a column renamed...): the
    integration team's to fix in queries.yaml."""


class PluginError(EsbError):
    """Base of the errors a plugin (connector or inbound source) raises on purpose."""


class MappingError(EsbError):
    """The mapping failed on this message; ``path`` names the source or target field.
    The data is at fault, so sending it again cannot help: the delivery parks."""

    retryable = False

    def __init__(self, message: str, *, path: str = "") -> None:
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


class XrefMissing(MappingError):
    """A cross-reference lookup found no entry: names domain, systems and code."""

    def __init__(
        self, domain: str, from_system: str, to_system: str, code: str, *, path: str = ""
    ) -> None:
        self.domain = domain
        self.from_system = from_system
        self.to_system = to_system
        self.code = code
        message = (
            f"xref {domain}: no {to_system} code for {from_system} code {code!r} "
            f"(add it with PUT /v1/xref/{domain}/... or esb xref import, then replay)"
        )
        super().__init__(message, path=path)
