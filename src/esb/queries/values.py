"""A query parameter's text from the URL, read as its declared type.

Every value is bound to the statement by the driver, never written into the SQL, so
``'; DROP TABLE x; --`` is only a string that matches no row. A value that does not
read as its type is refused with 422 naming the parameter.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from esb.config.queries import QueryParameter
from esb.limits import text_problem

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}
_INT_RANGE = 2**63


class ParameterError(ValueError):
    def __init__(self, name: str, message: str) -> None:
        self.name = name
        self.message = message
        super().__init__(f"{name}: {message}")


def _integer(name: str, text: str) -> int:
    try:
        value = int(text.strip(), 10)
    except ValueError:
        raise ParameterError(name, "must be a whole number") from None
    if not -_INT_RANGE <= value < _INT_RANGE:
        raise ParameterError(name, "is out of range for a whole number")
    return value


def _number(name: str, text: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise ParameterError(name, "must be a number, e.g. 12.5") from None
    if not value.is_finite() or not math.isfinite(float(value)):
        raise ParameterError(name, "must be a finite number")
    return value


def _datetime(name: str, text: str, zone: ZoneInfo) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ParameterError(
            name, "must be a date and time in ISO 8601, e.g. 2026-11-25T14:30:00+08:00"
        ) from None
    if value.tzinfo is not None:  # compared with the database's local DATETIMEs
        value = value.astimezone(zone).replace(tzinfo=None)
    return value


def read_value(
    name: str, parameter: QueryParameter, text: str, zone: ZoneInfo | None = None
) -> Any:
    """``text`` as ``parameter``'s type; ParameterError naming ``name`` if it is not."""
    if (problem := text_problem(text, parameter.max_length)) is not None:
        raise ParameterError(name, problem)
    kind = parameter.type
    if kind == "string":
        return text
    if kind == "integer":
        return _integer(name, text)
    if kind == "number":
        return _number(name, text)
    if kind == "boolean":
        word = text.strip().lower()
        if word in _TRUE | _FALSE:
            return word in _TRUE
        raise ParameterError(name, "must be true or false")
    if kind == "date":
        try:
            return date.fromisoformat(text.strip())
        except ValueError:
            raise ParameterError(name, "must be a date in ISO 8601, e.g. 2026-11-25") from None
    return _datetime(name, text, zone or ZoneInfo("Asia/Shanghai"))


def read_parameters(
    declared: dict[str, QueryParameter], given: list[tuple[str, str]], zone: ZoneInfo
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The bound values, and every (parameter, problem): unknown, repeated, missing or
    not of its type. All problems are found in one pass."""
    values: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    seen: set[str] = set()
    for name, text in given:
        if name not in declared:
            known = ", ".join(sorted(declared)) or "none"
            problems.append((name, f"unknown parameter (this query takes: {known})"))
            continue
        if name in seen:
            problems.append((name, "given more than once"))
            continue
        seen.add(name)
        try:
            values[name] = read_value(name, declared[name], text, zone)
        except ParameterError as exc:
            problems.append((name, exc.message))
    for name, parameter in declared.items():
        if name in seen:
            continue
        if parameter.is_required:
            problems.append((name, "missing (required)"))
        elif parameter.default is None:
            values[name] = None
        else:
            values[name] = read_value(name, parameter, str(parameter.default), zone)
    return values, problems
