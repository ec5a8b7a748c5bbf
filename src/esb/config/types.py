"""Shared configuration fragments, defined once and reused by interfaces and connectors."""

from __future__ import annotations

import base64
import re
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    SecretStr,
    WithJsonSchema,
    model_validator,
)

from esb.configfile.models import NAME_PATTERN as NAME_PATTERN  # re-exported: its old home
from esb.configfile.models import StrictModel as StrictModel

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


def parse_duration(value: Any) -> float:
    """``"500ms"``, ``"30s"``, ``"2m"``, ``"1h"``, ``"1d"`` or a number of seconds -> seconds."""
    if isinstance(value, bool):
        raise ValueError("a duration is a number of seconds or text like '30s', '2m', '1h'")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (match := _DURATION.match(value)):
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    else:
        raise ValueError(f"{value!r} is not a duration: write e.g. 500ms, 30s, 2m, 1h or 1d")
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    return seconds


def known_zone(name: str) -> str:
    """An IANA time-zone name this machine knows (ValueError naming it otherwise)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r}: use an IANA name such as Asia/Shanghai"
        ) from None
    return name


#: A time-zone option (``Asia/Shanghai``), refused at load time when the machine has no such zone.
TimeZoneName = Annotated[str, AfterValidator(known_zone)]


Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0},
                {"type": "string", "pattern": _DURATION.pattern},
            ],
            "description": "seconds, or text such as 500ms, 30s, 2m, 1h, 1d",
        }
    ),
]


class Timeouts(StrictModel):
    connect: Duration = Field(default=5.0, description="time to open the connection")
    total: Duration = Field(default=30.0, description="time for the whole call")


class RetryPolicy(StrictModel):
    """Backoff for transient failures; after the last attempt the delivery is parked."""

    schedule: list[Duration] = Field(
        default=[1, 5, 30, 120, 600, 1800, 3600, 7200, 14400],
        min_length=1,
        description="wait before attempt 2, 3, ...; the last step repeats up to max_attempts",
    )
    max_attempts: int | None = Field(
        default=None, ge=1, description="attempts before parking; default: len(schedule) + 1"
    )
    jitter: float = Field(default=0.1, ge=0, le=1, description="+/- share of each wait")

    @model_validator(mode="after")
    def _check(self) -> RetryPolicy:
        if self.max_attempts is not None and self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        return self

    @property
    def attempts(self) -> int:
        return self.max_attempts if self.max_attempts is not None else len(self.schedule) + 1

    def delay_before(self, attempt: int) -> float:
        """Seconds to wait before ``attempt`` (2, 3, ...), without jitter."""
        return self.schedule[min(attempt - 2, len(self.schedule) - 1)]


class HealthThresholds(StrictModel):
    """When the report (and alerts) call an interface's target degraded or failing."""

    degraded_below: float = Field(default=0.95, ge=0, le=1, description="success rate")
    failing_below: float = Field(default=0.5, ge=0, le=1, description="success rate")
    failing_after: int = Field(default=3, ge=1, description="consecutive failed attempts")
    backlog_above: int | None = Field(default=None, ge=0, description="pending -> degraded")
    oldest_pending_above: Duration = Field(default=300.0, description="pending age -> degraded")


class BasicAuth(StrictModel):
    type: Literal["basic"]
    username: str
    password: SecretStr


class BearerAuth(StrictModel):
    type: Literal["bearer"]
    token: SecretStr


class HeaderAuth(StrictModel):
    """A static key in a header of your choice, e.g. ``X-Api-Key``."""

    type: Literal["header"]
    name: str
    value: SecretStr


Auth = Annotated[BasicAuth | BearerAuth | HeaderAuth, Field(discriminator="type")]


def auth_headers(auth: BasicAuth | BearerAuth | HeaderAuth | None) -> dict[str, str]:
    """The HTTP headers that carry ``auth`` (every HTTP-speaking connector uses this)."""
    if auth is None:
        return {}
    if isinstance(auth, BasicAuth):
        raw = f"{auth.username}:{auth.password.get_secret_value()}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode()}
    if isinstance(auth, BearerAuth):
        return {"Authorization": "Bearer " + auth.token.get_secret_value()}
    return {auth.name: auth.value.get_secret_value()}


#: ``enabled:`` of an optional block: true, false, or text such as ``${MES_DB_URL:+true}``
#: (empty while the variable is unset: the block is then left out, see esb.configfile).
Switch = Annotated[
    bool,
    WithJsonSchema(
        {
            "anyOf": [{"type": "boolean"}, {"type": "string"}],
            "description": "false (or empty, as ${MES_DB_URL:+true} is while the variable is "
            "unset): left out, and its ${VARS} need not be set",
        }
    ),
]
