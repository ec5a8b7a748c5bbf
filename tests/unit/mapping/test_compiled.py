"""Compiled expressions give exactly what the JMESPath interpreter gives."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import jmespath
from hypothesis import given, settings
from hypothesis import strategies as st
from jmespath.visitor import Options, TreeInterpreter

from esb.mapping.compiled import compile_tree
from esb.mapping.functions import MappingFunctions

FUNCTIONS = MappingFunctions()
INTERPRETER = TreeInterpreter(Options(custom_functions=FUNCTIONS))

EXPRESSIONS = [
    "a",
    "a.b",
    "a.b.c",
    "a[0]",
    "a[-1].b",
    "`1`",
    "'x'",
    "@",
    "a | b",
    "[a, b, c]",
    "a == b",
    "a != b",
    "a < b",
    "a <= `2`",
    "a > 'm'",
    "a >= b",
    "a && b",
    "a || b",
    "!a",
    "!`0`",
    "a == `true`",
    "a == `1`",
    "a == `0`",
    "`false` == `0`",
    "pad_left(multiply(a, `10`), `6`, '0')",
    "concat(a, '-', b)",
    "upper(a)",
    "if_else(a == 'x', b, c)",
    "add(a, `1`)",
    "subtract(a, b)",
    "length(a)",  # JMESPath's own, with typed arguments: checked per call
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from(["", "x", "m", "abc"]),
    st.floats(-2, 2, allow_nan=False),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["a", "b", "c"]), inner, max_size=3),
    ),
    max_leaves=8,
)
documents = st.dictionaries(st.sampled_from(["a", "b", "c"]), values, max_size=3)


def outcome(run: Any, data: Any) -> tuple[str, Any]:
    try:
        return ("value", run(data))
    except Exception as exc:  # the two must fail the same way, too
        return ("error", type(exc).__name__)


def test_every_listed_expression_compiles() -> None:
    for text in EXPRESSIONS:
        assert compile_tree(jmespath.compile(text).parsed, FUNCTIONS) is not None, text


def test_unsupported_trees_are_left_to_the_interpreter() -> None:
    assert compile_tree(jmespath.compile("a[*].b").parsed, FUNCTIONS) is None
    assert compile_tree(jmespath.compile("a[?b > `1`]").parsed, FUNCTIONS) is None


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(EXPRESSIONS), documents)
def test_same_result_as_the_interpreter(text: str, data: dict[str, Any]) -> None:
    parsed = jmespath.compile(text).parsed
    compiled = compile_tree(parsed, FUNCTIONS)
    assert compiled is not None
    assert outcome(compiled, data) == outcome(lambda d: INTERPRETER.visit(parsed, d), data)


@given(
    a=st.integers(-(2**70), 2**70),
    b=st.integers(-(2**70), 2**70),
    name=st.sampled_from(["add", "subtract", "multiply"]),
)
def test_whole_numbers_give_what_the_decimal_path_gives(a: int, b: int, name: str) -> None:
    """Two ints skip the Decimal round trip; the result is the same value and type."""
    fast = FUNCTIONS.call_function(name, [a, b])
    slow = FUNCTIONS.call_function(name, [Decimal(a), Decimal(b)])
    assert (type(fast), fast) == (type(slow), slow)
