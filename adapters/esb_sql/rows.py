"""A mapped document as one row of the target table, each value read as its column's type.

The table is read from the database once (SQLAlchemy reflection), so a value that
cannot be a column's type, or a key that is no column, is parked naming the column
before anything is sent; the database's own checks (NOT NULL, CHECK, foreign keys)
are the last word. A nested object or list is written as its JSON text.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Column, Table

from esb.sdk import dumps


class RowProblem(ValueError):
    """A value the column cannot hold: the delivery parks with this reason."""

    def __init__(self, column: str, message: str) -> None:
        self.column = column
        super().__init__(f"column {column}: {message}")


def field_value(document: Mapping[str, Any], path: str) -> Any:
    """``a.b`` in ``{"a": {"b": 1}}``; None when any step is missing."""
    value: Any = document
    for step in path.split("."):
        if not isinstance(value, Mapping) or step not in value:
            return None
        value = value[step]
    return value


def _python_type(column: Column[Any]) -> type | None:
    try:
        found: type = column.type.python_type
    except NotImplementedError:
        return None
    return found


def _datetime(column: Column[Any], value: Any, zone: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise RowProblem(column.name, f"{value!r} is not an ISO 8601 date and time") from None
    else:
        raise RowProblem(column.name, f"{type(value).__name__} is not a date and time")
    with_zone = bool(getattr(column.type, "timezone", False))
    if with_zone:
        return moment if moment.tzinfo else moment.replace(tzinfo=zone)
    return moment.astimezone(zone).replace(tzinfo=None) if moment.tzinfo else moment


def _number(column: Column[Any], value: Any, kind: type) -> Any:
    if isinstance(value, bool) and kind is not bool:
        raise RowProblem(column.name, "true/false is not a number")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise RowProblem(column.name, f"{value!r} is not a number") from None
    if not number.is_finite():
        raise RowProblem(column.name, f"{value!r} is not a finite number")
    if kind is int:
        if number != number.to_integral_value():
            raise RowProblem(column.name, f"{value!r} is not a whole number")
        return int(number)
    return float(number) if kind is float else number


def _boolean(column: Column[Any], value: Any) -> bool:
    if isinstance(value, bool):
        return value
    words = {"true": True, "1": True, "false": False, "0": False}
    found = words.get(str(value).strip().lower())
    if found is None:
        raise RowProblem(column.name, f"{value!r} is not true or false")
    return found


def column_value(column: Column[Any], value: Any, zone: ZoneInfo) -> Any:
    """``value`` as ``column`` holds it; RowProblem naming the column if it cannot be."""
    if value is None:
        return None
    if isinstance(value, Mapping | list):
        value = dumps(value).decode("utf-8")
    kind = _python_type(column)
    if kind is None:
        return value
    if kind is datetime:
        return _datetime(column, value, zone)
    if kind is date:
        if isinstance(value, str):
            try:
                return date.fromisoformat(value[:10])
            except ValueError:
                raise RowProblem(column.name, f"{value!r} is not an ISO 8601 date") from None
        raise RowProblem(column.name, f"{type(value).__name__} is not a date")
    if kind is bool:
        return _boolean(column, value)
    if kind in (int, float, Decimal):
        return _number(column, value, kind)
    if kind is str:
        text = value if isinstance(value, str) else str(value)
        length = getattr(column.type, "length", None)
        if length is not None and len(text) > length:
            raise RowProblem(column.name, f"{len(text)} characters, the column holds {length}")
        return text
    return value


def row_of(
    document: Any,
    table: Table,
    columns: Mapping[str, str] | None,
    id_column: str,
    zone: ZoneInfo,
) -> dict[str, Any]:
    """The row to write (without the message id); RowProblem for what cannot be one."""
    if not isinstance(document, Mapping):
        raise RowProblem("(document)", "the mapped document must be a JSON object")
    wanted = (
        {column: field_value(document, path) for column, path in columns.items()}
        if columns is not None
        else dict(document)
    )
    row: dict[str, Any] = {}
    for name, value in wanted.items():
        if name == id_column:
            raise RowProblem(name, "holds the message id: the document may not set it")
        if name not in table.c:
            raise RowProblem(name, f"table {table.fullname} has no such column")
        row[name] = column_value(table.c[name], value, zone)
    return row
