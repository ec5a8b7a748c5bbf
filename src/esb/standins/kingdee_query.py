"""``ExecuteBillQuery`` for the Kingdee stand-in: bills a test puts, read back as rows.

The call's parameters are ``{"data": {"FormId", "FieldKeys", "FilterString",
"OrderString", "TopRowCount", "StartRow", "Limit"}}`` (or the older ``{"parameters":
["<data as JSON text>"]}``); the answer is a list of rows, each the values of
``FieldKeys`` in order. The FilterString understood is a conjunction of comparisons,
``Field op 'literal'`` (op one of ``= <> > >= < <=``, each comparison or group in
parentheses or not, joined by ``AND``): the form the ``kingdee-poll`` source writes and a
user's simple filter. Anything else is refused as Kingdee refuses SQL it cannot run.
A time literal compares with a time value as a time, everything else as text.
"""

from __future__ import annotations

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
_TERM = re.compile(r"^\(?\s*([A-Za-z_][\w.]*)\s*(>=|<=|<>|=|>|<)\s*'([^']*)'\s*\)?$")
_AND = re.compile(r"\s+AND\s+", re.IGNORECASE)
_ORDER = re.compile(r"^([A-Za-z_][\w.]*)(?:\s+(ASC|DESC))?$", re.IGNORECASE)
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq, "<>": operator.ne, ">": operator.gt,
    ">=": operator.ge, "<": operator.lt, "<=": operator.le,
}  # fmt: skip
Condition = tuple[str, Callable[[Any, Any], bool], str]


class QueryError(Exception):
    """What Kingdee says when it cannot run a query (answered as an operation result)."""


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _conditions(text: str) -> list[Condition]:
    if not text.strip():
        return []
    found = []
    for term in _AND.split(text.strip()):
        match = _TERM.match(term.strip())
        if match is None:
            raise QueryError(f"过滤条件语法错误：{term.strip()}")  # noqa: RUF001
        name, op, literal = match.groups()
        found.append((name, _OPS[op], literal))
    return found


def _holds(bill: dict[str, Any], conditions: list[Condition]) -> bool:
    for name, compare, literal in conditions:
        value = bill.get(name)
        if value is None:
            return False  # SQL: a comparison with NULL is not true
        when, then = _time(value), _time(literal)
        if not (compare(when, then) if when and then else compare(str(value), literal)):
            return False
    return True


def _sort(bills: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    ordered = list(bills)
    items = [i.strip() for i in text.split(",") if i.strip()]
    for item in reversed(items):  # stable sorts, the last key first
        match = _ORDER.match(item)
        if match is None:
            raise QueryError(f"排序条件语法错误：{item}")  # noqa: RUF001
        name, way = match.group(1), (match.group(2) or "ASC").upper()
        ordered.sort(
            key=lambda b: (b.get(name) is not None, str(b.get(name) or "")), reverse=way == "DESC"
        )
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
        conditions = _conditions(str(data.get("FilterString") or ""))
        unknown = [n for n in [*names, *(c[0] for c in conditions)] if bills and n not in known]
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
