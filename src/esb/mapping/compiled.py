"""JMESPath syntax trees compiled into Python closures, once, for the common node kinds.

The interpreter walks the tree on every evaluation; a mapping that computes a value
per order line pays that walk thousands of times. The closures here do the same
work with the interpreter's exact semantics (field on a non-object is null, ordering
only between numbers or strings, JMESPath truthiness, ``!0`` is false) and call the
same function table. A tree with any other node kind returns None: the caller keeps
using the interpreter for it.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from numbers import Number
from typing import Any

from jmespath.functions import Functions

Run = Callable[[Any], Any]
Compiler = Callable[[dict[str, Any], Functions], Run | None]
ORDERING = {"lt": operator.lt, "gt": operator.gt, "lte": operator.le, "gte": operator.ge}


class _Unsupported(Exception):
    """A node kind this module does not compile."""


def _number(x: Any) -> bool:
    return isinstance(x, Number) and not isinstance(x, bool)


def _equal(x: Any, y: Any) -> bool:
    if (_number(x) and x in (0, 1) and isinstance(y, bool)) or (
        _number(y) and y in (0, 1) and isinstance(x, bool)
    ):
        return False
    return bool(x == y)


def is_false(value: Any) -> bool:
    return value == "" or value == [] or value == {} or value is None or value is False


def _field(node: dict[str, Any], _: Functions) -> Run:
    name = node["value"]
    return lambda value: value.get(name) if isinstance(value, dict) else None


def _chain(node: dict[str, Any], functions: Functions) -> Run:
    steps = [build(child, functions) for child in node["children"]]

    def run(value: Any) -> Any:
        for step in steps:
            value = step(value)
        return value

    return run


def _index(node: dict[str, Any], _: Functions) -> Run:
    at = node["value"]

    def run(value: Any) -> Any:
        if not isinstance(value, list):
            return None
        try:
            return value[at]
        except IndexError:
            return None

    return run


def _literal(node: dict[str, Any], _: Functions) -> Run:
    constant = node["value"]
    return lambda value: constant


def _function(node: dict[str, Any], functions: Functions) -> Run:
    name = node["value"]
    args = [build(child, functions) for child in node["children"]]
    spec = functions.FUNCTION_TABLE.get(name)
    if spec is None or any(part.get("types") for part in spec["signature"]):
        call = functions.call_function  # typed arguments: JMESPath checks them
        return lambda value: call(name, [arg(value) for arg in args])
    # every argument may be of any type (our own functions): nothing to check per call
    # (the count was checked at compile time), so the method is called directly
    method = spec["function"].__get__(functions)
    if len(args) == 1:
        (only,) = args
        return lambda value: method(only(value))
    if len(args) == 2:
        first, second = args
        return lambda value: method(first(value), second(value))
    return lambda value: method(*[arg(value) for arg in args])


def _comparator(node: dict[str, Any], functions: Functions) -> Run:
    left, right = (build(child, functions) for child in node["children"])
    op = node["value"]
    if op == "eq":
        return lambda value: _equal(left(value), right(value))
    if op == "ne":
        return lambda value: not _equal(left(value), right(value))
    compare = ORDERING[op]

    def ordered(value: Any) -> Any:
        a, b = left(value), right(value)
        comparable = (_number(a) or isinstance(a, str)) and (_number(b) or isinstance(b, str))
        return compare(a, b) if comparable else None

    return ordered


def _logical(node: dict[str, Any], functions: Functions) -> Run:
    first, second = (build(child, functions) for child in node["children"])
    if node["type"] == "and_expression":
        return lambda value: m if is_false(m := first(value)) else second(value)
    return lambda value: second(value) if is_false(m := first(value)) else m


def _not(node: dict[str, Any], functions: Functions) -> Run:
    inner = build(node["children"][0], functions)

    def run(value: Any) -> bool:
        result = inner(value)
        return False if _number(result) and result == 0 else not result

    return run


def _select_list(node: dict[str, Any], functions: Functions) -> Run:
    items = [build(child, functions) for child in node["children"]]
    return lambda value: None if value is None else [item(value) for item in items]


COMPILERS: dict[str, Callable[[dict[str, Any], Functions], Run]] = {
    "field": _field,
    "subexpression": _chain,
    "index_expression": _chain,
    "pipe": _chain,
    "index": _index,
    "literal": _literal,
    "current": lambda node, functions: lambda value: value,
    "function_expression": _function,
    "comparator": _comparator,
    "and_expression": _logical,
    "or_expression": _logical,
    "not_expression": _not,
    "multi_select_list": _select_list,
}


def build(node: dict[str, Any], functions: Functions) -> Run:
    compiler = COMPILERS.get(node["type"])
    if compiler is None:
        raise _Unsupported(node["type"])
    return compiler(node, functions)


def compile_tree(tree: dict[str, Any], functions: Functions) -> Run | None:
    """Closures for ``tree``, or None when it holds a node kind left to the interpreter."""
    try:
        return build(tree, functions)
    except _Unsupported:
        return None
