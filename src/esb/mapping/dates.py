"""``date:`` and ``datetime:`` rules: read with one pattern, write with another, across time zones.

Every check that can be made without data is made at load time: a bad pattern,
an unknown zone, or writing an offset for values that carry none. At run time a
value that does not match is a ``Fault`` (or passes unchanged with
``invalid: pass``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from esb.mapping.faults import Fault, show
from esb.mapping.letters import parse_offset
from esb.mapping.patterns import DATE_LETTERS, DatePattern, PatternError, compile_pattern
from esb.mapping.problems import RuleError

_OFFSET = re.compile(r"[+-][0-9]{2}(?::?[0-9]{2})?|Z")

Converter = Callable[[Any], Any]


def parse_zone(name: str) -> tzinfo:
    """An IANA zone (``Asia/Shanghai``), ``UTC``, or a fixed offset (``+08:00``)."""
    if _OFFSET.fullmatch(name):
        return parse_offset(name)
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError, OSError) as exc:
        raise ValueError(
            f"unknown time zone {name!r}: use an IANA name such as Asia/Shanghai, or +08:00"
        ) from exc


def _pattern(text: str, loc: tuple[str, str]) -> DatePattern:
    try:
        return compile_pattern(text)
    except PatternError as exc:
        raise RuleError(loc, f"bad pattern {text!r}: {exc}") from exc


def _zone(name: str | None, loc: tuple[str, str]) -> tzinfo | None:
    if name is None:
        return None
    try:
        return parse_zone(name)
    except ValueError as exc:
        raise RuleError(loc, str(exc)) from exc


def _check_full_date(pattern: DatePattern, loc: tuple[str, str]) -> None:
    if not pattern.is_iso and not {"y", "M", "d"} <= pattern.letters:
        raise RuleError(loc, f"{pattern.text!r} must contain year (yyyy), month (MM), day (dd)")


def _as_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # 20261205 sent as a number
    return None


def date_converter(source: str, target: str, invalid: str) -> Converter:
    """A calendar date rewritten from ``source`` to ``target`` pattern."""
    reader = _pattern(source, ("date", "from"))
    writer = _pattern(target, ("date", "to"))
    for pattern, key in ((reader, "from"), (writer, "to")):
        if pattern.letters - DATE_LETTERS:
            raise RuleError(("date", key), "date: has no time of day; use datetime: for times")
    _check_full_date(reader, ("date", "from"))
    passthrough, write = invalid == "pass", writer.writer()

    def convert(value: Any) -> Any:
        text = _as_text(value)
        moment = None if text is None else _read_date(reader, text)
        if moment is None:
            if passthrough:
                return value
            raise Fault(f"{show(value)} is not a real date written {source}")
        return write(moment)

    return remembered(_natural_date(reader, writer, convert) if reader.natural else convert)


#: distinct texts a date converter keeps the result of; past it, it starts again
REMEMBERED = 4096
_UNSEEN = object()


def remembered(convert: Converter) -> Converter:
    """``convert`` that keeps the result of each text it converted: a document's dates
    are mostly a few values (today's, the delivery's), and the same ones come again in
    the next document (the peers' order: thirteen dates, ten different). A value it
    refuses is not kept: the next one gets the same fault. Only text is kept (an int's
    hash equals an equal float's)."""
    seen: dict[str, Any] = {}

    def convert_remembered(value: Any) -> Any:
        if type(value) is not str:
            return convert(value)
        found = seen.get(value, _UNSEEN)
        if found is _UNSEEN:
            found = convert(value)
            if len(seen) >= REMEMBERED:
                seen.clear()
            seen[value] = found
        return found

    return convert_remembered


def _natural_date(reader: DatePattern, writer: DatePattern, general: Converter) -> Converter:
    """yyyyMMdd-like patterns: one match, three ints; anything unusual takes the general path."""
    assert reader.regex is not None  # natural patterns are never iso
    match_text, write = reader.regex.fullmatch, writer.writer()

    def convert(value: Any) -> Any:
        if type(value) is str and (match := match_text(value)) is not None:
            try:
                return write(date(*map(int, match.groups())))
            except ValueError:
                pass
        return general(value)

    return convert


def _read_date(reader: DatePattern, text: str) -> date | None:
    if reader.is_iso:
        try:
            return date.fromisoformat(text)
        except ValueError:
            return None
    moment = reader.read(text)
    return None if moment is None else moment.date()


def _check_zones(
    reader: DatePattern, writer: DatePattern, zone: str | None, to_zone: str | None
) -> None:
    if zone is not None and reader.has_offset:
        raise RuleError(
            ("datetime", "zone"),
            "the from pattern reads an offset; zone: is for values without one",
        )
    aware = reader.has_offset or reader.is_iso or zone is not None
    if to_zone is not None and not aware:
        raise RuleError(
            ("datetime", "to_zone"),
            "the values read carry no time zone: add zone: (e.g. Asia/Shanghai)",
        )
    if writer.has_offset and not aware:
        raise RuleError(
            ("datetime", "to"),
            "writes an offset, but the values read carry none: add zone: (e.g. Asia/Shanghai)",
        )


def datetime_converter(
    source: str, target: str, zone: str | None, to_zone: str | None, invalid: str
) -> Converter:
    """A moment read with ``source`` (in ``zone`` if it has no offset), written with ``target``."""
    reader = _pattern(source, ("datetime", "from"))
    writer = _pattern(target, ("datetime", "to"))
    _check_full_date(reader, ("datetime", "from"))
    _check_zones(reader, writer, zone, to_zone)
    local, wanted = _zone(zone, ("datetime", "zone")), _zone(to_zone, ("datetime", "to_zone"))
    passthrough = invalid == "pass"
    write = writer.writer()

    def convert(value: Any) -> Any:
        text = _as_text(value)
        moment = None if text is None else reader.read(text)
        if moment is None:
            if passthrough:
                return value
            raise Fault(f"{show(value)} is not a date and time written {source}")
        return write(_shift(moment, local, wanted, writer))

    return remembered(convert)


def _shift(
    moment: datetime, local: tzinfo | None, wanted: tzinfo | None, writer: DatePattern
) -> datetime:
    if moment.tzinfo is None and local is not None:
        moment = moment.replace(tzinfo=local)
    if moment.tzinfo is None and (wanted is not None or writer.has_offset):
        raise Fault(f"{moment.isoformat()} has no time zone offset")
    if wanted is None:
        return moment
    try:
        return moment.astimezone(wanted)
    except (OverflowError, ValueError) as exc:
        raise Fault(f"{moment.isoformat()} cannot be shown in {wanted}") from exc
