"""JSON as the gateway writes it: orjson, with Decimals written exactly (never via float)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson

__all__ = ["dumps", "json_default", "loads"]


def json_default(value: Any) -> Any:
    """For ``orjson.dumps(body, default=json_default)``: mapped bodies may hold Decimals
    (exact quantities), written exactly, never rounded through a float."""
    if isinstance(value, Decimal):
        return orjson.Fragment(str(value))
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(value: Any) -> bytes:
    """``value`` as compact UTF-8 JSON, the way the gateway sends and stores bodies."""
    return orjson.dumps(value, default=json_default)


def loads(data: bytes | str) -> Any:
    """The JSON document in ``data`` (orjson.JSONDecodeError, a ValueError, if it is not)."""
    return orjson.loads(data)
