"""Date and time patterns in the Java/ICU letters integration people already know.

``yyyyMMdd``, ``yyyy-MM-dd HH:mm``, ``yyyy-MM-dd'T'HH:mm:ssXXX``... A pattern is
compiled once into a regular expression (for reading) and a list of small
writers (for writing). Digits are ASCII only; month and day names are English.
``iso`` stands for ISO 8601 in both directions.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
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
ISO = "iso"

Writer = Callable[[Any], str]


class PatternError(ValueError):
    """A pattern uses a letter or a width we do not support."""


def _names(names: tuple[str, ...], short: bool) -> str:
    return "|".join(n[:3] if short else n for n in names)


def _offset_regex(letter: str, count: int) -> str:
    body = {1: "[+-][0-9]{2}(?:[0-9]{2})?", 2: "[+-][0-9]{4}", 3: "[+-][0-9]{2}:[0-9]{2}"}
    core = body[min(count, 3)] if letter in "Xx" else "[+-][0-9]{4}"
    return f"(Z|{core})" if letter == "X" else f"({core})"


def _field_regex(letter: str, count: int) -> str:
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


_WIDTHS = {
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
DATE_LETTERS = frozenset("yMdE")
# Fixed-width numbers in this order read straight into datetime(...): the common patterns.
_NATURAL = (("y", 4), ("M", 2), ("d", 2), ("H", 2), ("m", 2), ("s", 2))
_ISO_DATE = "yyyy-MM-dd"
#: datetime(year, month, day[, hour, minute, second]) taking the numbers of a natural pattern.
_from_numbers: Callable[..., datetime] = datetime


def _quoted(pattern: str, pos: int) -> tuple[str, int]:
    """The text of ``'...'`` at ``pos`` (``''`` stands for one quote) and where it ends."""
    start = pos
    if pattern.startswith("''", start):
        return "'", start + 2
    out, start = "", start + 1
    while True:
        end = pattern.find("'", start)
        if end < 0:
            raise PatternError("a quote ' is not closed")
        out += pattern[start:end]
        if not pattern.startswith("''", end):
            return out, end + 1
        out, start = out + "'", end + 2


def tokenize(pattern: str) -> list[tuple[str, int] | str]:
    """Runs of one letter become ``(letter, count)``; ``'quoted'`` text and symbols stay text."""
    tokens: list[tuple[str, int] | str] = []
    pos = 0
    while pos < len(pattern):
        char = pattern[pos]
        if char == "'":
            text, pos = _quoted(pattern, pos)
            tokens.append(text)
        elif char.isascii() and char.isalpha():
            end = pos
            while end < len(pattern) and pattern[end] == char:
                end += 1
            if end - pos not in _WIDTHS.get(char, ()):
                raise PatternError(_unsupported(char, end - pos))
            tokens.append((char, end - pos))
            pos = end
        else:
            tokens.append(char)
            pos += 1
    return tokens


def _unsupported(letter: str, count: int) -> str:
    if letter not in _WIDTHS:
        return (
            f"pattern letter {letter!r} is not supported (letters: y M d E H h m s S a X x Z;"
            " put other text in quotes, e.g. 'T')"
        )
    return f"{letter * count}: use {' or '.join(letter * n for n in _WIDTHS[letter][:4])}"


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


def _writer(letter: str, count: int) -> Writer:
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
_SLOT = {
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
_START = (1, 1, 1, 0, 0, 0, 0, None, None, None)
Reader = Callable[[str], Any]


def _name_reader(names: tuple[str, ...], short: bool) -> Reader:
    index = {(n[:3] if short else n).lower(): i for i, n in enumerate(names)}
    return lambda raw: index[raw.lower()] + 1


def _reader(letter: str, count: int) -> Reader:
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


def _assemble(slots: list[Any], letters: frozenset[str]) -> datetime | None:
    year, month, day, hour, minute, second, micro, zone, pm, weekday = slots
    if "h" in letters:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if pm else 0)
    try:
        value = datetime(year, month, day, hour, minute, second, micro, tzinfo=zone)
    except ValueError:
        return None
    if weekday is not None and value.isoweekday() != weekday:
        return None
    return value


@dataclass(frozen=True)
class DatePattern:
    """A compiled pattern: ``read`` text into a datetime, ``write`` a date or datetime."""

    text: str
    letters: frozenset[str]
    regex: re.Pattern[str] | None
    readers: tuple[tuple[int, Reader], ...]
    writers: tuple[Writer | str, ...]
    natural: bool = False

    @property
    def is_iso(self) -> bool:
        return self.regex is None

    @property
    def has_offset(self) -> bool:
        return bool(self.letters & set("XxZ"))

    @property
    def has_time(self) -> bool:
        return bool(self.letters - DATE_LETTERS)

    def read(self, text: str) -> datetime | None:
        """The moment ``text`` names, or None when it does not match or is no real date."""
        if self.regex is None:
            try:
                return datetime.fromisoformat(text)
            except ValueError:
                return None
        match = self.regex.fullmatch(text)
        if match is None:
            return None
        if self.natural:
            try:
                return _from_numbers(*map(int, match.groups()))
            except ValueError:
                return None
        slots = list(_START)
        try:
            for (slot, read), raw in zip(self.readers, match.groups(), strict=True):
                slots[slot] = read(raw)
        except ValueError:  # an offset such as +99:00
            return None
        return _assemble(slots, self.letters)

    def write(self, value: date) -> str:
        if self.regex is None:
            return value.isoformat()
        if self.text == _ISO_DATE:
            return date.isoformat(value)  # the date part, also of a datetime
        return "".join([w if isinstance(w, str) else w(value) for w in self.writers])


def compile_pattern(text: str) -> DatePattern:
    """Compile ``text``; raise PatternError naming the offending letter."""
    if text == ISO:
        return DatePattern(text, frozenset(), None, (), ())
    if not text:
        raise PatternError("the pattern is empty")
    tokens = tokenize(text)
    regex = "".join(re.escape(t) if isinstance(t, str) else _field_regex(*t) for t in tokens)
    fields = [t for t in tokens if not isinstance(t, str)]
    letters = frozenset(f[0] for f in fields)
    if "h" in letters and "a" not in letters:
        raise PatternError("h (hour 1-12) needs a (AM/PM); use H for hours 0-23")
    readers = tuple((_SLOT[letter], _reader(letter, count)) for letter, count in fields)
    writers = tuple(t if isinstance(t, str) else _writer(*t) for t in tokens)
    natural = len(fields) >= 3 and tuple(fields) == _NATURAL[: len(fields)]
    compiled = re.compile(regex, re.IGNORECASE)
    return DatePattern(text, letters, compiled, readers, writers, natural)


def parse_offset(text: str) -> timezone:
    """``Z``, ``+08``, ``+0800`` or ``+08:00`` as a fixed time zone."""
    if text.upper() == "Z":
        return UTC
    digits = text[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + int(digits[2:4] or "0")
    if minutes >= 24 * 60:
        raise ValueError(f"offset {text} is out of range")
    return timezone(timedelta(minutes=-minutes if text[0] == "-" else minutes))
