"""The expression language: JMESPath plus our functions, checked when compiled."""

from __future__ import annotations

from typing import Any

import pytest

from esb.errors import MappingError
from esb.mapping import ExpressionError, compile_expression
from esb.mapping.functions import CUSTOM, MappingFunctions


def search(text: str, data: Any = None) -> Any:
    return compile_expression(text).search(data if data is not None else {})


def test_routing_conditions_and_business_keys() -> None:
    when = compile_expression("OrderType == '02'")
    assert when.search({"OrderType": "02"}) is True
    assert when.search({"OrderType": "01"}) is False
    key = compile_expression("OrderNo")
    assert key.is_path
    assert key.search({"OrderNo": "SO-1"}) == "SO-1"
    assert key.search([]) is None
    assert not compile_expression("Lines[?Qty > `1`]").is_path


@pytest.mark.parametrize(
    ("text", "data", "expected"),
    [
        ("upper(a)", {"a": "ab"}, "AB"),
        ("lower(a)", {"a": "AB"}, "ab"),
        ("trim(a)", {"a": " x "}, "x"),
        ("upper(missing)", {}, None),
        ("concat(a, '-', n, '-', missing)", {"a": "x", "n": 2.0}, "x-2-"),
        ("pad_left(n, `6`, '0')", {"n": 10}, "000010"),
        ("pad_right(a, `4`, '.')", {"a": "ab"}, "ab.."),
        ("pad_left(missing, `6`, '0')", {}, None),
        ("substring(a, `1`, `2`)", {"a": "abcd"}, "bc"),
        ("replace(a, '-', '')", {"a": "SO-1-2"}, "SO12"),
        ("add(a, b)", {"a": "0.1", "b": 0.2}, 0.3),
        ("subtract(a, b)", {"a": 5, "b": "2"}, 3),
        ("multiply(a, b)", {"a": "2.5", "b": "12.50"}, 31.25),
        ("divide(a, b)", {"a": 1, "b": 8}, 0.125),
        ("multiply(missing, `10`)", {}, None),
        ("round(a, `2`)", {"a": "2.345"}, 2.35),
        ("round(a, `0`)", {"a": 2.5}, 3),
        ("if_else(a == 'x', `1`, `2`)", {"a": "x"}, 1),
        ("if_else(a, 'yes', 'no')", {"a": 0}, "yes"),
        ("if_else(a, 'yes', 'no')", {"a": ""}, "no"),
        ("not_null(a, b)", {"b": 1}, 1),
        ("length(Lines)", {"Lines": [1, 2]}, 2),
        ("join(',', Lines[].Sku)", {"Lines": [{"Sku": "A"}, {"Sku": "B"}]}, "A,B"),
    ],
)
def test_functions(text: str, data: Any, expected: Any) -> None:
    result = search(text, data)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the expression is empty"),
        ("a ==", "bad expression 'a ==': the expression is incomplete"),
        ("a.", "bad expression 'a.': the expression is incomplete"),
        ("a ! b", "bad expression 'a ! b': unexpected '!' at character 3"),
        ("`{", "bad expression '`{': Unclosed ` delimiter at character 1"),
        ("eval(a)", "unknown function eval(); see docs/mappings.md for the list"),
        ("upper(a, b)", "upper() takes 1 argument(s), 2 given"),
        ("concat()", "concat() takes at least 1 argument(s), 0 given"),
        ("root(a)", "root() takes 0 argument(s), 1 given"),
    ],
)
def test_compile_errors_are_one_line(text: str, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(text)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("text", "data", "message"),
    [
        ("divide(a, `0`)", {"a": 1}, "divide(): division by zero"),
        ("pad_left(a, `-1`, '0')", {"a": "x"}, "pad_left(): width must be between 0 and 1000"),
        ("pad_left(a, `3`, 'ab')", {"a": "x"}, "pad_left(): the fill must be one character"),
        ("add(a, `1`)", {"a": "1,5"}, "add() expects a number or decimal text, got '1,5'"),
        ("upper(a)", {"a": 1}, "upper() expects text, got 1"),
        ("concat(a)", {"a": [1]}, "concat() expects text or a number, got [1]"),
        ("round(a, `2`)", {"a": "1e30"}, "round() expects a number or decimal text"),
        ("abs(a)", {"a": "x"}, "In function abs(), invalid type"),
    ],
)
def test_run_time_failures_are_mapping_errors(text: str, data: Any, message: str) -> None:
    with pytest.raises(MappingError) as caught:
        search(text, data)
    assert message in str(caught.value)
    assert str(caught.value).startswith(f"expression {text!r}: ")


def test_root_and_message_outside_a_mapping() -> None:
    assert search("root().a", {"a": 1}) == 1
    assert search("message()") == {}


def test_every_custom_function_is_registered_and_nothing_else_is_new() -> None:
    table = MappingFunctions.FUNCTION_TABLE
    assert set(CUSTOM) <= set(table)
    builtin = {
        "abs",
        "avg",
        "ceil",
        "contains",
        "ends_with",
        "floor",
        "join",
        "keys",
        "length",
        "map",
        "max",
        "max_by",
        "merge",
        "min",
        "min_by",
        "not_null",
        "reverse",
        "sort",
        "sort_by",
        "starts_with",
        "sum",
        "to_array",
        "to_number",
        "to_string",
        "type",
        "values",
    }
    assert set(table) == builtin | set(CUSTOM)
