"""``ExecuteBillQuery`` for the Kingdee stand-in: bills a test puts, read back as rows.

The call's parameters are ``{"data": {"FormId", "FieldKeys", "FilterString",
"OrderString", "TopRowCount", "StartRow", "Limit"}}`` (or the older ``{"parameters":
["<data as JSON text>"]}``); the answer is a list of rows, each the values of
``FieldKeys`` in order. The FilterString understood is the SQL-like subset the
``kingdee-poll`` source and a user's simple filter write: comparisons ``Field op literal``
(op one of ``= <> > >= < <=``; a literal is ``'text'``, with ``''`` for a quote, or a
number) joined by ``AND`` and ``OR`` (``AND`` binds closer), grouped in parentheses.
Anything else is refused as Kingdee refuses SQL it cannot run. A time literal compares
with a time value as a time, a number with a number as a number, anything else as text.
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

__all__ = ["MAX_LIMIT", "BillQuery", "QueryError"]

#: Rows one call answers at most (Kingdee's own cap on ``Limit``).
MAX_LIMIT = 2000
_TOKEN = re.compile(
    r"\s*(?:(?P<open>\()|(?P<close>\))|(?P<op>>=|<=|<>|=|>|<)|'(?P<text>(?:[^']|'')*)'"
    r"|(?P<number>-?\d+(?:\.\d+)?)(?![\w.])|(?P<word>[A-Za-z_][\w.]*))"
)
_ORDER = re.compile(r"^([A-Za-z_][\w.]*)(?:\s+(ASC|DESC))?$", re.IGNORECASE)
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq, "<>": operator.ne, ">": operator.gt,
    ">=": operator.ge, "<": operator.lt, "<=": operator.le,
}  # fmt: skip
#: A parsed FilterString: ``("cmp", field, op, literal)``, ``("and"|"or", [parts])``.
Condition = tuple[Any, ...]


class QueryError(Exception):
    """What Kingdee says when it cannot run a query (answered as an operation result)."""


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _tokens(text: str) -> list[tuple[str, Any]]:
    found, at = [], 0
    while at < len(text.rstrip()):
        match = _TOKEN.match(text, at)
        if match is None or match.end() == at:
            raise QueryError(f"过滤条件语法错误：{text[at:].strip()}")  # noqa: RUF001
        kind = match.lastgroup
        assert kind is not None
        value: Any = match.group(kind)
        if kind == "text":
            value = value.replace("''", "'")
        elif kind == "number":
            value = float(value) if "." in value else int(value)
        elif kind == "word" and value.upper() in ("AND", "OR"):
            kind, value = value.upper(), None
        found.append((kind, value))
        at = match.end()
    return found


class _Parser:
    """``or := and (OR and)*``, ``and := part (AND part)*``, ``part := ( or ) | cmp``."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.at = 0

    def parse(self) -> Condition | None:
        if not self.tokens:
            return None
        found = self._either()
        if self.at != len(self.tokens):
            self._refuse()
        return found

    def _refuse(self) -> None:
        raise QueryError(f"过滤条件语法错误：{self.text.strip()}")  # noqa: RUF001

    def _next(self, kind: str) -> Any:
        if self.at >= len(self.tokens) or self.tokens[self.at][0] != kind:
            self._refuse()
        self.at += 1
        return self.tokens[self.at - 1][1]

    def _peek(self) -> str | None:
        return self.tokens[self.at][0] if self.at < len(self.tokens) else None

    def _either(self) -> Condition:
        parts = [self._both()]
        while self._peek() == "OR":
            self.at += 1
            parts.append(self._both())
        return parts[0] if len(parts) == 1 else ("or", parts)

    def _both(self) -> Condition:
        parts = [self._part()]
        while self._peek() == "AND":
            self.at += 1
            parts.append(self._part())
        return parts[0] if len(parts) == 1 else ("and", parts)

    def _part(self) -> Condition:
        if self._peek() == "open":
            self.at += 1
            inner = self._either()
            self._next("close")
            return inner
        name = self._next("word")
        op = self._next("op")
        if self._peek() not in ("text", "number"):
            self._refuse()
        self.at += 1
        return ("cmp", name, op, self.tokens[self.at - 1][1])


def _compare(value: Any, op: str, literal: Any) -> bool:
    if value is None:
        return False  # SQL: a comparison with NULL is not true
    when, then = _time(value), _time(literal)
    if when is not None and then is not None:
        return _OPS[op](when, then)
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if number and isinstance(literal, int | float):
        return _OPS[op](value, literal)
    return _OPS[op](str(value), str(literal))


def _holds(bill: dict[str, Any], condition: Condition | None) -> bool:
    if condition is None:
        return True
    if condition[0] == "and":
        return all(_holds(bill, part) for part in condition[1])
    if condition[0] == "or":
        return any(_holds(bill, part) for part in condition[1])
    _, name, op, literal = condition
    return _compare(bill.get(name), op, literal)


def _fields(condition: Condition | None) -> list[str]:
    if condition is None:
        return []
    if condition[0] in ("and", "or"):
        return [name for part in condition[1] for name in _fields(part)]
    return [condition[1]]


def _sort_key(value: Any) -> tuple[bool, float, str]:
    """Nulls first, numbers by value, the rest as text (one column holds one kind)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (value is not None, float(value), "")
    return (value is not None, 0.0, "" if value is None else str(value))


def _bill_key(name: str, bill: dict[str, Any]) -> tuple[bool, float, str]:
    return _sort_key(bill.get(name))


def _sort(bills: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    ordered = list(bills)
    items = [i.strip() for i in text.split(",") if i.strip()]
    for item in reversed(items):  # stable sorts, the last key first
        match = _ORDER.match(item)
        if match is None:
            raise QueryError(f"排序条件语法错误：{item}")  # noqa: RUF001
        name, way = match.group(1), (match.group(2) or "ASC").upper()
        ordered.sort(key=functools.partial(_bill_key, name), reverse=way == "DESC")
    return ordered


def _data(body: dict[str, Any]) -> dict[str, Any]:
    data = body.get("data")
    if "parameters" in body:
        parameters = body["parameters"]
        data = parameters[0] if isinstance(parameters, list) and parameters else None
    if isinstance(data, str):
        try:
            data = orjson.loads(data)
        except orjson.JSONDecodeError:
            data = None
    if not isinstance(data, dict):
        raise QueryError("缺少参数 data")
    return data


def _count(data: dict[str, Any], name: str) -> int:
    value = data.get(name, 0)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise QueryError(f"参数{name}必须是非负整数")
    return value


@dataclass
class BillQuery:
    """The bills of each form (field key -> value), and the data of every query asked."""

    bills: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    queries: list[dict[str, Any]] = field(default_factory=list)

    def put_bill(self, form_id: str, fields: dict[str, Any], key: str = "FBillNo") -> None:
        """Add a bill, or replace the one with the same ``key`` value (a change)."""
        bills = self.bills.setdefault(form_id, [])
        bills[:] = [b for b in bills if b.get(key) != fields.get(key)] + [dict(fields)]

    def run(self, body: dict[str, Any]) -> list[list[Any]]:
        """The rows a call asks for; QueryError saying why not."""
        data = _data(body)
        self.queries.append(data)
        form_id, keys = data.get("FormId"), data.get("FieldKeys")
        if not isinstance(form_id, str) or not form_id:
            raise QueryError("缺少参数 FormId")
        if not isinstance(keys, str) or not keys.strip():
            raise QueryError("缺少参数 FieldKeys")
        names = [k.strip() for k in keys.split(",")]
        bills = self.bills.get(form_id, [])
        known = {k for b in bills for k in b}
        conditions = _Parser(str(data.get("FilterString") or "")).parse()
        unknown = [n for n in [*names, *_fields(conditions)] if bills and n not in known]
        if unknown:
            raise QueryError(f"字段“{unknown[0]}”在表单{form_id}中不存在")
        found = _sort(
            [b for b in bills if _holds(b, conditions)], str(data.get("OrderString") or "")
        )
        top, start, limit = (_count(data, n) for n in ("TopRowCount", "StartRow", "Limit"))
        if top:
            found = found[:top]
        found = found[start : start + min(limit or MAX_LIMIT, MAX_LIMIT)]
        return [[b.get(n) for n in names] for b in found]
