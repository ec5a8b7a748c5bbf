"""Flow control of a system we call (``flow:`` in systems.yaml): a concurrency cap, a rate
and a circuit breaker, shared by every worker of every process.

Per system rather than per interface: an ERP that bans a caller does not care which
interface the calls came from. No ``flow:`` section means no limit and no breaker.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, WithJsonSchema

from esb.config.types import Duration, StrictModel

_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*(s|sec|second|m|min|minute|h|hour)\s*$")
_PER = {"s": 1.0, "sec": 1.0, "second": 1.0, "m": 60.0, "min": 60.0, "minute": 60.0}
_PER |= {"h": 3600.0, "hour": 3600.0}


def parse_rate(value: Any) -> float:
    """``"20/s"``, ``"600/min"``, ``"1000/h"`` -> calls per second (greater than 0)."""
    match = _RATE.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"{value!r} is not a rate: write e.g. 20/s, 600/min or 1000/h")
    per_second = float(match.group(1)) / _PER[match.group(2)]
    if per_second <= 0:
        raise ValueError("a rate must be more than 0 calls")
    return per_second


Rate = Annotated[
    float,
    BeforeValidator(parse_rate),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": _RATE.pattern,
            "description": "calls per second, minute or hour: 20/s, 600/min, 1000/h",
        }
    ),
]


class BreakerConfig(StrictModel):
    """Stop calling a system that keeps failing; one probe call after ``cool_down``."""

    failures: int = Field(
        default=5, ge=1, description="consecutive transient failures that open the breaker"
    )
    ratio: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="also open when this share of the calls in `window` failed transiently "
        "(counted once the window holds at least `failures` calls)",
    )
    window: Duration = Field(default=60.0, gt=0, description="the span `ratio` looks back over")
    cool_down: Duration = Field(
        default=30.0, gt=0, description="how long it stays open before one probe call"
    )


class FlowConfig(StrictModel):
    """How hard the gateway may push a system; every field is optional (no limit)."""

    max_in_flight: int | None = Field(
        default=None, ge=1, description="calls at the same time, across all workers and processes"
    )
    rate: Rate | None = Field(
        default=None, description="calls per second or minute, across all processes: 20/s, 600/min"
    )
    breaker: BreakerConfig | None = Field(
        default=None, description="circuit breaker; none: the system is always called"
    )
