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
from datetime import date, datetime
from typing import Any

from esb.errors import MappingError
from esb.mapping.letters import (
    SLOT,
    START,
    WIDTHS,
    Reader,
    Writer,
    field_regex,
    format_field,
    reader,
    writer,
)

ISO = "iso"


class PatternError(MappingError):
    """A pattern uses a letter or a width we do not support."""


DATE_LETTERS = frozenset("yMdE")
# Fixed-width numbers in this order read straight into datetime(...): the common patterns.
_NATURAL = (("y", 4), ("M", 2), ("d", 2), ("H", 2), ("m", 2), ("s", 2))
_ISO_DATE = "yyyy-MM-dd"


def _isoformat(value: date) -> str:
    return value.isoformat()


def _literal(text: str) -> Writer:
    return lambda value: text


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
            if end - pos not in WIDTHS.get(char, ()):
                raise PatternError(_unsupported(char, end - pos))
            tokens.append((char, end - pos))
            pos = end
        else:
            tokens.append(char)
            pos += 1
    return tokens


def _unsupported(letter: str, count: int) -> str:
    if letter not in WIDTHS:
        return (
            f"pattern letter {letter!r} is not supported (letters: y M d E H h m s S a X x Z;"
            " put other text in quotes, e.g. 'T')"
        )
    return f"{letter * count}: use {' or '.join(letter * n for n in WIDTHS[letter][:4])}"


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
        slots = list(START)
        try:
            for (slot, read), raw in zip(self.readers, match.groups(), strict=True):
                slots[slot] = read(raw)
        except ValueError:  # an offset such as +99:00
            return None
        return _assemble(slots, self.letters)

    def write(self, value: date) -> str:
        return self.writer()(value)

    def writer(self) -> Callable[[date], str]:
        """The fastest writer for this pattern: ISO ones use the built-in isoformat."""
        if self.regex is None:
            return _isoformat
        if self.text == _ISO_DATE:
            return date.isoformat  # the date part, also of a datetime
        template = _template(self.text)
        if template is not None:
            return template.format  # one C call instead of a join of pieces
        pieces = tuple(_literal(w) if isinstance(w, str) else w for w in self.writers)
        return lambda value: "".join([piece(value) for piece in pieces])


def _template(text: str) -> str | None:
    """A ``str.format`` template for a pattern of plain numbers (``yyyyMMdd``,
    ``dd.MM.yyyy HH:mm:ss``), or None when a letter needs more (names, offsets)."""
    parts = []
    for token in tokenize(text):
        if isinstance(token, str):
            parts.append(token.replace("{", "{{").replace("}", "}}"))
        elif (field := format_field(*token)) is not None:
            parts.append(field)
        else:
            return None
    return "".join(parts)


def compile_pattern(text: str) -> DatePattern:
    """Compile ``text``; raise PatternError naming the offending letter."""
    if text == ISO:
        return DatePattern(text, frozenset(), None, (), ())
    if not text:
        raise PatternError("the pattern is empty")
    tokens = tokenize(text)
    regex = "".join(re.escape(t) if isinstance(t, str) else field_regex(*t) for t in tokens)
    fields = [t for t in tokens if not isinstance(t, str)]
    letters = frozenset(f[0] for f in fields)
    if "h" in letters and "a" not in letters:
        raise PatternError("h (hour 1-12) needs a (AM/PM); use H for hours 0-23")
    readers = tuple((SLOT[letter], reader(letter, count)) for letter, count in fields)
    writers = tuple(t if isinstance(t, str) else writer(*t) for t in tokens)
    natural = len(fields) >= 3 and tuple(fields) == _NATURAL[: len(fields)]
    compiled = re.compile(regex, re.IGNORECASE)
    return DatePattern(text, letters, compiled, readers, writers, natural)
