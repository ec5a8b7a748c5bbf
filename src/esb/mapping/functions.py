"""The functions our expressions add to JMESPath's own: text, padding, arithmetic, root, message.

They follow one rule: given ``null`` where a value is needed, they return
``null``, so a missing source field leads to an omitted target field instead of
a made-up value (``concat`` is the exception: ``null`` counts as empty text).
Arithmetic accepts numbers and decimal text (``"12.50"``) and computes exactly
in decimal; ``round`` rounds half up, as invoices do.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from jmespath import functions

from esb.errors import MappingError
from esb.limits import MAX_INT, MIN_INT

_ANY: Any = {"types": []}  # we check types ourselves to give null-in, null-out
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_MAX_WIDTH = 1000

#: (root body, message metadata) of the mapping being run, for root() and message().
SCOPE: ContextVar[tuple[Any, Mapping[str, Any]] | None] = ContextVar(
    "esb_mapping_scope", default=None
)


class FunctionFailed(MappingError):
    """A function got an argument it cannot use; the message names the function."""


@contextmanager
def scope(root: Any, message: Mapping[str, Any]) -> Iterator[None]:
    token = SCOPE.set((root, message))
    try:
        yield
    finally:
        SCOPE.reset(token)


def text_of(value: Any, function: str) -> str:
    """Text and numbers as text (``30.0`` -> ``"30"``); anything else is refused."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise FunctionFailed(f"{function}() expects text or a number, got {value!r}")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return format(value, "f") if isinstance(value, Decimal) else str(value)


def _decimal(value: Any, function: str) -> Decimal:
    if isinstance(value, Decimal) and value.is_finite():
        return value
    if isinstance(value, str) and _DECIMAL.fullmatch(value.strip()):
        return Decimal(value.strip())
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, float) and math.isfinite(value):
        return Decimal(repr(value))
    raise FunctionFailed(f"{function}() expects a number or decimal text, got {value!r}")


def _whole(value: Any, function: str, what: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise FunctionFailed(f"{function}(): {what} must be a whole number, got {value!r}")


def _number(value: Decimal) -> int | float | Decimal:
    """Decimal results as JSON numbers: whole ones as int while they fit 64 bits (what JSON
    encoders and targets hold); bigger whole ones stay exact decimals."""
    if value == value.to_integral_value():
        if value.adjusted() < 20 and MIN_INT <= (whole := int(value)) <= MAX_INT:
            return whole
        return value
    return float(value)


def _fits(value: int) -> bool:
    """A whole result within 64 bits is what ``_number`` gives too (a bigger one goes
    through Decimal, whose context rounds it)."""
    return MIN_INT <= value <= MAX_INT


def _arith(a: Any, b: Any, name: str) -> tuple[Decimal, Decimal] | None:
    if a is None or b is None:
        return None
    return _decimal(a, name), _decimal(b, name)


def _width(width: Any, char: Any, function: str) -> tuple[int, str]:
    size = _whole(width, function, "width")
    if not 0 <= size <= _MAX_WIDTH:
        raise FunctionFailed(f"{function}(): width must be between 0 and {_MAX_WIDTH}")
    if not isinstance(char, str) or len(char) != 1:
        raise FunctionFailed(f"{function}(): the fill must be one character, got {char!r}")
    return size, char


def _text_or_none(value: Any, function: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise FunctionFailed(f"{function}() expects text, got {value!r}")
    return value


class MappingFunctions(functions.Functions):
    """JMESPath's built-in functions plus ours; nothing here can reach Python or the system."""

    @functions.signature(_ANY)
    def _func_upper(self, value: Any) -> Any:
        text = _text_or_none(value, "upper")
        return None if text is None else text.upper()

    @functions.signature(_ANY)
    def _func_lower(self, value: Any) -> Any:
        text = _text_or_none(value, "lower")
        return None if text is None else text.lower()

    @functions.signature(_ANY)
    def _func_trim(self, value: Any) -> Any:
        text = _text_or_none(value, "trim")
        return None if text is None else text.strip()

    @functions.signature({"types": [], "variadic": True})
    def _func_concat(self, *values: Any) -> Any:
        return "".join("" if v is None else text_of(v, "concat") for v in values)

    @functions.signature(_ANY, _ANY, _ANY)
    def _func_pad_left(self, value: Any, width: Any, char: Any) -> Any:
        size, fill = _width(width, char, "pad_left")
        return None if value is None else text_of(value, "pad_left").rjust(size, fill)

    @functions.signature(_ANY, _ANY, _ANY)
    def _func_pad_right(self, value: Any, width: Any, char: Any) -> Any:
        size, fill = _width(width, char, "pad_right")
        return None if value is None else text_of(value, "pad_right").ljust(size, fill)

    @functions.signature(_ANY, _ANY, _ANY)
    def _func_substring(self, value: Any, start: Any, length: Any) -> Any:
        first = _whole(start, "substring", "start")
        size = _whole(length, "substring", "length")
        if first < 0 or size < 0:
            raise FunctionFailed("substring(): start and length cannot be negative")
        text = _text_or_none(value, "substring")
        return None if text is None else text[first : first + size]

    @functions.signature(_ANY, _ANY, _ANY)
    def _func_replace(self, value: Any, old: Any, new: Any) -> Any:
        text = _text_or_none(value, "replace")
        if not isinstance(old, str) or not old or not isinstance(new, str):
            raise FunctionFailed("replace(): old must be non-empty text and new text")
        return None if text is None else text.replace(old, new)

    @functions.signature(_ANY, _ANY)
    def _func_add(self, a: Any, b: Any) -> Any:
        if type(a) is int and type(b) is int and _fits(whole := a + b):
            return whole  # exact already: no Decimal round trip
        pair = _arith(a, b, "add")
        return None if pair is None else _number(pair[0] + pair[1])

    @functions.signature(_ANY, _ANY)
    def _func_subtract(self, a: Any, b: Any) -> Any:
        if type(a) is int and type(b) is int and _fits(whole := a - b):
            return whole  # exact already: no Decimal round trip
        pair = _arith(a, b, "subtract")
        return None if pair is None else _number(pair[0] - pair[1])

    @functions.signature(_ANY, _ANY)
    def _func_multiply(self, a: Any, b: Any) -> Any:
        if type(a) is int and type(b) is int and _fits(whole := a * b):
            return whole  # exact already: no Decimal round trip
        pair = _arith(a, b, "multiply")
        return None if pair is None else _number(pair[0] * pair[1])

    @functions.signature(_ANY, _ANY)
    def _func_divide(self, a: Any, b: Any) -> Any:
        pair = _arith(a, b, "divide")
        if pair is not None and not pair[1]:
            raise FunctionFailed("divide(): division by zero")
        return None if pair is None else _number(pair[0] / pair[1])

    @functions.signature(_ANY, _ANY)
    def _func_round(self, value: Any, digits: Any) -> Any:
        places = _whole(digits, "round", "digits")
        if not 0 <= places <= 20:
            raise FunctionFailed("round(): digits must be between 0 and 20")
        if value is None:
            return None
        exact = _decimal(value, "round").quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
        return _number(exact)

    @functions.signature(_ANY, _ANY, _ANY)
    def _func_if_else(self, condition: Any, then: Any, otherwise: Any) -> Any:
        return then if truthy(condition) else otherwise

    @functions.signature()
    def _func_root(self) -> Any:
        return _scope("root")[0]

    @functions.signature()
    def _func_message(self) -> Any:
        return dict(_scope("message")[1])


def _scope(function: str) -> tuple[Any, Mapping[str, Any]]:
    current = SCOPE.get()
    if current is None:
        raise FunctionFailed(f"{function}() is only available while a message is mapped")
    return current


def truthy(value: Any) -> bool:
    """JMESPath truth: false, null, empty text, empty list and empty object are false; 0 is true."""
    if value is None or value is False:
        return False
    if isinstance(value, str | list | dict):
        return len(value) > 0
    return True


CUSTOM = (
    "upper",
    "lower",
    "trim",
    "concat",
    "pad_left",
    "pad_right",
    "substring",
    "replace",
    "add",
    "subtract",
    "multiply",
    "divide",
    "round",
    "if_else",
    "root",
    "message",
)
