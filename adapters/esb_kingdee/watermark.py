"""Where the next ``kingdee-poll`` pull starts: the latest change time read, and the rows
already read at exactly that time.

Kingdee stamps a bill's change time (``FModifyDate``) in the site's local time, without
an offset, to the millisecond at best; many bills may share one stamp (a batch audit).
So a pull asks for ``>=`` the watermark, never ``>``, and skips the rows it already read
at the watermark itself (``seen``): a row changed in the same second as the last one read
is not lost, and an unchanged row is not taken in again. Everything here is pure.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

__all__ = ["Boundary", "after_string", "filter_string", "literal", "row_key", "site_time"]

#: Longest idempotency key written as it is (a longer one is hashed).
MAX_KEY = 150


def site_time(value: Any, zone: tzinfo) -> datetime | None:
    """A time as the site writes it, naive in the site's zone (one with an offset is
    moved into ``zone``); None for null. ValueError when it is no time."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is no time")
    text = value.strip()
    moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    if moment.tzinfo is not None:
        moment = moment.astimezone(zone).replace(tzinfo=None)
    return moment


def filter_text(moment: datetime) -> str:
    """A time as FilterString takes it: ``2026-11-25 10:00:00`` (``.123`` when it has
    milliseconds; finer parts are dropped, which only lowers a ``>=`` bound)."""
    spec = "milliseconds" if moment.microsecond else "seconds"
    return moment.isoformat(sep=" ", timespec=spec)


def filter_string(field: str, since: datetime | None, extra: str | None) -> str:
    """``FModifyDate >= '...'``, after the user's own filter (ANDed) if there is one."""
    parts = [f"({extra})"] if extra else []
    if since is not None:
        parts.append(f"{field} >= '{filter_text(since)}'")
    return " AND ".join(parts)


def literal(value: Any) -> str:
    """A value as a FilterString literal: a number as it is, text in quotes (``''`` for
    a quote). ValueError for anything else (a key field without a value)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{value!r} cannot be compared in a FilterString")
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return str(value)


def after_string(
    field: str, moment: datetime, keys: list[str], values: list[Any], extra: str | None
) -> str:
    """The rows after the one at (``moment``, ``values``) in the order (``field``, *keys*):
    the next page asked by where the last one ended, not by an offset, so a bill that
    changes while a pull pages (and so leaves its place) cannot make the next page skip
    an unread one. ValueError when a key value cannot be written as a literal."""
    later = f"{keys[-1]} > {literal(values[-1])}"
    for key, value in zip(reversed(keys[:-1]), reversed(values[:-1]), strict=True):
        later = f"{key} > {literal(value)} OR ({key} = {literal(value)} AND ({later}))"
    at = f"'{filter_text(moment)}'"
    after = f"({field} > {at} OR ({field} = {at} AND ({later})))"
    return f"({extra}) AND {after}" if extra else after


def row_key(form_id: str, names: Iterable[Any], moment: datetime | None, zone: tzinfo) -> str:
    """``kingdee-poll:<form>:<key values>@<change time in UTC>``: the same row unchanged
    is the same message, its next change another one."""
    who = "/".join("" if v is None else str(v) for v in names)
    version = moment.replace(tzinfo=zone).astimezone(UTC).isoformat() if moment is not None else "-"
    key = f"kingdee-poll:{form_id}:{who}@{version}"
    if len(key) <= MAX_KEY:
        return key
    return f"kingdee-poll:{form_id}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"


@dataclass(frozen=True)
class Boundary:
    """The latest change time read (naive, site time) and the keys of the rows read at it."""

    value: datetime | None = None
    seen: frozenset[str] = frozenset()

    @classmethod
    def load(cls, stored: Any, start: str | None, zone: tzinfo) -> Boundary:
        """From the state store (``{"value", "seen"}``); ``start`` when there is none."""
        if isinstance(stored, dict) and isinstance(stored.get("value"), str):
            seen = stored.get("seen")
            keys = frozenset(str(k) for k in seen) if isinstance(seen, list) else frozenset()
            return cls(datetime.fromisoformat(stored["value"]), keys)
        return cls(site_time(start, zone) if start else None)

    def dump(self) -> dict[str, Any] | None:
        if self.value is None:
            return None
        return {"value": filter_text(self.value), "seen": sorted(self.seen)}

    def advance(self, rows: Iterable[tuple[datetime | None, str]]) -> Boundary:
        """After ``rows`` (change time, key) were taken in: the latest time among them and
        the watermark, and every key read at that time."""
        value, seen = self.value, set(self.seen)
        for moment, key in rows:
            if moment is None or (value is not None and moment < value):
                continue
            if value is None or moment > value:
                value, seen = moment, set()
            seen.add(key)
        return Boundary(value, frozenset(seen))
