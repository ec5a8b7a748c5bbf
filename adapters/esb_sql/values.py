"""A database row as a JSON document: exact numbers, times with their offset, nothing guessed.

DECIMAL columns become JSON numbers without a float's rounding surprise: whole values are
integers, others a float only when that float reads back as the very same decimal (up to
15 significant digits, e.g. DECIMAL(12,3)); a longer one is refused, naming the column,
rather than silently rounded. ``DATETIME``/``TIMESTAMP`` values without a zone are read
in the interface's zone and written as ISO 8601 with the offset (``+08:00``).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Any

__all__ = ["MAX_INT", "MIN_INT", "RowRefused", "document", "documents", "json_value"]

MAX_INT = 2**63 - 1
MIN_INT = -(2**63)


@dataclass(frozen=True)
class RowRefused(Exception):
    """A column whose value no JSON document can hold exactly (the row is flagged failed)."""

    column: str
    reason: str

    def __str__(self) -> str:
        return f"{self.column}: {self.reason}"


#: Digits a float keeps of any decimal (C's ``DBL_DIG``): one of at most this many reads
#: back unchanged, so it needs no check (a fifth of the time of reading it back).
_DBL_DIG = 15


def _decimal(value: Decimal) -> int | float:
    if not value.is_finite():
        raise ValueError(f"{value} is not a number JSON can hold")
    approximate = float(value)
    if approximate.is_integer() and value == value.to_integral_value():
        whole = int(value)
        if MIN_INT <= whole <= MAX_INT:
            return whole
        raise ValueError(f"{value} is beyond a 64-bit integer")
    text = str(value)
    if len(text) <= _DBL_DIG and "E" not in text:  # at most 15 digits: the float is exact
        return approximate
    if Decimal(repr(approximate)) != value:  # a longer one, read back from the float
        raise ValueError(
            f"{value} has more digits than a JSON number keeps exactly; cast it to text "
            "in the query to receive it as a string"
        )
    return approximate


_OFFSETS: dict[timedelta | None, str] = {}


def _offset_text(offset: timedelta | None) -> str:
    """``+08:00`` as ``isoformat`` writes an offset (seconds only when there are some)."""
    text = _OFFSETS.get(offset)
    if text is None:
        text = ""
        if offset is not None:
            seconds = int(offset.total_seconds())
            hours, rest = divmod(abs(seconds), 3600)
            text = f"{'-' if seconds < 0 else '+'}{hours:02d}:{rest // 60:02d}"
            text += f":{rest % 60:02d}" if rest % 60 else ""
        _OFFSETS[offset] = text
    return text


def _duration(value: timedelta) -> str:
    """A MySQL ``TIME`` (the driver gives a timedelta) as ``HH:MM:SS``, negative allowed."""
    total = int(value.total_seconds())
    sign, total = ("-", -total) if total < 0 else ("", total)
    hours, rest = divmod(total, 3600)
    return f"{sign}{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"


def _local_time(value: datetime, zone: tzinfo) -> str:
    """A time without zone, read in ``zone``: its text and the zone's offset (a third of
    ``isoformat``'s time with the zone attached)."""
    return value.isoformat() + _offset_text(zone.utcoffset(value))


def json_value(value: Any, zone: tzinfo) -> Any:
    """``value`` as JSON holds it; ValueError (saying why) for what it cannot hold exactly."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        if MIN_INT <= value <= MAX_INT:
            return value
        raise ValueError(f"{value} is beyond a 64-bit integer")
    if isinstance(value, Decimal):
        return _decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value} is not a number JSON can hold")
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return _local_time(value, zone)
        return value.astimezone(zone).isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return _duration(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError("binary data that is not UTF-8 text; leave it out") from None
    if isinstance(value, list | tuple):
        return [json_value(item, zone) for item in value]
    if isinstance(value, dict):
        return {str(k): json_value(v, zone) for k, v in value.items()}
    raise ValueError(f"a {type(value).__name__} value, which JSON cannot hold")


def document(row: Mapping[str, Any], zone: tzinfo, leave_out: Iterable[str] = ()) -> dict[str, Any]:
    """The row as a document keyed by column name, without the write-back columns (they
    change as the gateway works, and a row read again must be the same document)."""
    made = documents(list(row), [tuple(row.values())], zone, leave_out)[0]
    if isinstance(made, RowRefused):
        raise made
    return made


def documents(
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    zone: tzinfo,
    leave_out: Iterable[str] = (),
) -> list[dict[str, Any] | RowRefused]:
    """``document`` for a page of rows as the driver gives them (tuples in ``columns``'
    order): a document or the column refused, for each row. Text, NULL and 64-bit
    integers, most of a staging table, are taken as they are without a call; decimals
    and times without zone, most of the rest, without ``json_value``'s type tests."""
    skipped = {name.lower() for name in leave_out}
    kept = [(place, name) for place, name in enumerate(columns) if name.lower() not in skipped]
    made: list[dict[str, Any] | RowRefused] = []
    for row in rows:
        fields: dict[str, Any] = {}
        try:
            for place, name in kept:
                value = row[place]
                kind = type(value)
                if kind is str or value is None or (kind is int and MIN_INT <= value <= MAX_INT):
                    fields[name] = value
                elif kind is Decimal:
                    fields[name] = _decimal(value)
                elif kind is datetime and value.tzinfo is None:
                    fields[name] = _local_time(value, zone)
                else:
                    fields[name] = json_value(value, zone)
        except ValueError as exc:
            made.append(RowRefused(name, str(exc)))
            continue
        made.append(fields)
    return made
