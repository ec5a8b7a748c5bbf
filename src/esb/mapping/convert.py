"""``type:`` conversions. Every failure is a ``Fault`` naming the value, never a bare ValueError.

Text is read leniently where systems differ (surrounding blanks, ``"40.0"`` as a
whole number) and strictly where a guess would corrupt data (``"1_000"``,
``"NaN"``, ``true`` as a number). Huge exponents are refused before they can
turn into a gigantic integer.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from esb.limits import MAX_INT, MIN_INT
from esb.mapping.faults import Fault, show

_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_MAX_DIGITS = 1000  # 1e999999999 must not become a billion-digit integer
_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0"})

Converter = Callable[[Any], Any]


def _finite_decimal(value: Any, what: str) -> Decimal:
    """A Decimal from JSON-ish input, refusing NaN, infinities and absurd magnitudes."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise Fault(f"{show(value)} is not {what}")
    if isinstance(value, str):
        text = value.strip()
        if not _DECIMAL.fullmatch(text):
            raise Fault(f"{show(value)} is not {what}")
        number = Decimal(text)
    else:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not number.is_finite() or number.adjusted() > _MAX_DIGITS:
        raise Fault(f"{show(value)} is out of range")
    return number


def to_string(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float | Decimal):
        number = _finite_decimal(value, "a number")
        if number == number.to_integral_value():
            number = number.normalize()  # 120.0 -> "120", as a person would write it
        return format(number, "f")
    raise Fault(f"{show(value)} cannot be written as text")


def _ascii_digits(text: str) -> bool:
    return text.isdigit() and text.isascii() and len(text) <= _MAX_DIGITS


def _int64(value: Any, number: int) -> int:
    """``number`` if JSON encoders and targets can hold it (64 bits), else a Fault."""
    if MIN_INT <= number <= MAX_INT:
        return number
    raise Fault(f"{show(value)} is beyond the 64-bit integer range")


def to_int(value: Any) -> int:
    if type(value) is int or (isinstance(value, int) and not isinstance(value, bool)):
        return _int64(value, value)
    if isinstance(value, str) and _ascii_digits(value):
        return _int64(value, int(value))
    if isinstance(value, str) and _INTEGER.fullmatch(text := value.strip()):
        if len(text) > _MAX_DIGITS:
            raise Fault(f"{show(value)} is out of range")
        return _int64(value, int(text))
    number = _finite_decimal(value, "a whole number")
    if number != number.to_integral_value():
        raise Fault(f"{show(value)} is not a whole number")
    if number.adjusted() > 20:
        raise Fault(f"{show(value)} is beyond the 64-bit integer range")
    return _int64(value, int(number))


def _float(text: str) -> float | None:
    """float() of ASCII text without underscores: exactly decimal notation, or None."""
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _whole(text: str) -> int | Decimal:
    """Whole-number text as an int while it fits 64 bits, else as an exact decimal."""
    number = int(text)
    return number if MIN_INT <= number <= MAX_INT else Decimal(number)


def to_number(value: Any) -> int | float | Decimal:
    """A JSON number: whole-number text stays an int (an exact decimal beyond 64 bits),
    other text becomes a float."""
    if type(value) is str and value.isascii():  # the common case first: "120", "2.5"
        if value.isdigit() and len(value) <= _MAX_DIGITS:
            return _whole(value)
        if "_" not in value and (quick := _float(value)) is not None:
            whole = quick.is_integer() and value.strip().lstrip("+-").isdigit()
            return _whole(value) if whole else quick  # "-3" stays whole, "1e3" is a float
    if isinstance(value, int) and not isinstance(value, bool):
        return value if MIN_INT <= value <= MAX_INT else Decimal(value)
    if isinstance(value, float) and math.isfinite(value):
        return value
    if isinstance(value, str) and _INTEGER.fullmatch(text := value.strip()):
        if len(text) > _MAX_DIGITS:
            raise Fault(f"{show(value)} is out of range")
        return _whole(text)
    number = _finite_decimal(value, "a number")
    result = float(number)
    if not math.isfinite(result):
        raise Fault(f"{show(value)} is out of range")
    return result


def to_decimal(value: Any) -> Decimal:
    if isinstance(value, Decimal) and value.is_finite():
        return value
    return _finite_decimal(value, "a decimal number")


def to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return value == 1
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    raise Fault(f"{show(value)} is not true or false")


CONVERTERS: dict[str, Converter] = {
    "string": to_string,
    "int": to_int,
    "number": to_number,
    "decimal": to_decimal,
    "bool": to_bool,
}
