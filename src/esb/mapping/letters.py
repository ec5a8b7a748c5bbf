"""What each pattern letter reads and writes: its regular expression, reader and writer.

Java/ICU letters (``yyyy``, ``MM``, ``dd``, ``HH``, ``XXX``...); digits are ASCII,
month and day names English. ``patterns`` puts them together.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, timedelta, timezone
from typing import Any

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
Writer = Callable[[Any], str]
Reader = Callable[[str], Any]


def _names(names: tuple[str, ...], short: bool) -> str:
    return "|".join(n[:3] if short else n for n in names)


def _offset_regex(letter: str, count: int) -> str:
    body = {1: "[+-][0-9]{2}(?:[0-9]{2})?", 2: "[+-][0-9]{4}", 3: "[+-][0-9]{2}:[0-9]{2}"}
    core = body[min(count, 3)] if letter in "Xx" else "[+-][0-9]{4}"
    return f"(Z|{core})" if letter == "X" else f"({core})"


def field_regex(letter: str, count: int) -> str:
    if letter in "MEa" and (letter == "a" or count >= 3):
        names = {"M": _names(MONTHS, count == 3), "E": _names(DAYS, count == 3), "a": "AM|PM"}
        return f"({names[letter]})"
    if letter in "XxZ":
        return _offset_regex(letter, count)
    if letter == "y":
        return {1: "([0-9]{1,4})", 2: "([0-9]{2})", 4: "([0-9]{4})"}[count]
    if letter == "S":
        return f"([0-9]{{{count}}})"
    return "([0-9]{2})" if count == 2 else "([0-9]{1,2})"


WIDTHS = {
    "y": (1, 2, 4),
    "M": (1, 2, 3, 4),
    "d": (1, 2),
    "H": (1, 2),
    "h": (1, 2),
    "m": (1, 2),
    "s": (1, 2),
    "S": tuple(range(1, 10)),
    "a": (1,),
    "E": (3, 4),
    "X": (1, 2, 3),
    "x": (1, 2, 3),
    "Z": (1, 2, 3),
}


def _offset_text(value: Any, letter: str, count: int) -> str:
    offset = value.utcoffset() or timedelta(0)
    if letter == "X" and not offset:
        return "Z"
    minutes = int(offset.total_seconds()) // 60
    sign, minutes = ("-", -minutes) if minutes < 0 else ("+", minutes)
    hours, mins = divmod(minutes, 60)
    if letter == "Z" or count == 2:
        return f"{sign}{hours:02d}{mins:02d}"
    if count == 1:
        return f"{sign}{hours:02d}" + (f"{mins:02d}" if mins else "")
    return f"{sign}{hours:02d}:{mins:02d}"


#: The letters written as a plain number of an attribute: (attribute, format by count).
_NUMBERS = {"d": "day", "H": "hour", "m": "minute", "s": "second", "M": "month"}


def format_field(letter: str, count: int) -> str | None:
    """The ``str.format`` field writing ``letter`` repeated ``count`` times exactly as
    ``writer`` does, or None for a letter that needs more than formatting a number."""
    if letter == "y" and count in (1, 4):
        return "{0.year}" if count == 1 else "{0.year:04d}"
    if letter in _NUMBERS and count <= 2:
        return f"{{0.{_NUMBERS[letter]}:{'02d' if count == 2 else 'd'}}}"
    return None


def writer(letter: str, count: int) -> Writer:
    pad = "02d" if count == 2 else "d"
    simple: dict[str, Writer] = {
        "d": lambda v: format(v.day, pad),
        "H": lambda v: format(v.hour, pad),
        "h": lambda v: format((v.hour - 1) % 12 + 1, pad),
        "m": lambda v: format(v.minute, pad),
        "s": lambda v: format(v.second, pad),
        "a": lambda v: "AM" if v.hour < 12 else "PM",
        "S": lambda v: f"{v.microsecond:06d}{'0' * 3}"[:count],
        "E": lambda v: DAYS[v.weekday()][: 3 if count == 3 else None],
    }
    if letter in simple:
        return simple[letter]
    if letter == "y":
        return {
            1: lambda v: str(v.year),
            2: lambda v: f"{v.year % 100:02d}",
            4: lambda v: f"{v.year:04d}",
        }[count]
    if letter == "M":
        if count >= 3:
            return lambda v: MONTHS[v.month - 1][: 3 if count == 3 else None]
        return lambda v: format(v.month, pad)
    return lambda v: _offset_text(v, letter, count)


# where each letter lands: year, month, day, hour, minute, second, microsecond, zone, pm, weekday
SLOT = {
    "y": 0,
    "M": 1,
    "d": 2,
    "H": 3,
    "h": 3,
    "m": 4,
    "s": 5,
    "S": 6,
    "X": 7,
    "x": 7,
    "Z": 7,
    "a": 8,
    "E": 9,
}
START = (1, 1, 1, 0, 0, 0, 0, None, None, None)


def _name_reader(names: tuple[str, ...], short: bool) -> Reader:
    index = {(n[:3] if short else n).lower(): i for i, n in enumerate(names)}
    return lambda raw: index[raw.lower()] + 1


def reader(letter: str, count: int) -> Reader:
    if letter == "y" and count == 2:
        return lambda raw: 2000 + int(raw)
    if letter == "M" and count >= 3:
        return _name_reader(MONTHS, count == 3)
    if letter == "E":
        return _name_reader(DAYS, count == 3)
    if letter == "S":
        return lambda raw: int(raw[:6].ljust(6, "0"))
    if letter in "XxZ":
        return parse_offset
    if letter == "a":
        return lambda raw: raw.upper() == "PM"
    return int


def parse_offset(text: str) -> timezone:
    """``Z``, ``+08``, ``+0800`` or ``+08:00`` as a fixed time zone."""
    if text.upper() == "Z":
        return UTC
    digits = text[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + int(digits[2:4] or "0")
    if minutes >= 24 * 60:
        raise ValueError(f"offset {text} is out of range")
    return timezone(timedelta(minutes=-minutes if text[0] == "-" else minutes))
