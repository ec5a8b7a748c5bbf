"""The door limits: what the store and the pipeline can hold, named by field."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from esb.errors import ValidationFailed
from esb.ingress import _by_value, canonical_hash
from esb.limits import (
    MAX_DEPTH,
    check_document,
    check_text,
    clean_text,
    document_problems,
    text_problem,
)


def nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth - 1):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"OrderNo": "SO\x00"}, "OrderNo", "NUL"),
        ({"Lines": [{"Qty": "1"}, {"Material": "M\x00"}]}, "Lines[1].Material", "NUL"),
        ({"a": {"b\x00c": 1}}, "a.b\\u0000c", "NUL"),
        ({"n": 2**64}, "n", "64-bit"),
        ({"n": -(2**63) - 1}, "n", "64-bit"),
        ({"n": 1e20}, "n", "64-bit"),
        ({"n": -1e19}, "n", "64-bit"),
        ({"deep": nested(MAX_DEPTH + 1)}, "deep" + "[0]" * (MAX_DEPTH - 1), "nested deeper"),
    ],
)
def test_each_value_the_pipeline_cannot_hold_is_named(body: Any, field: str, words: str) -> None:
    problems = document_problems(body)
    assert [p.field for p in problems] == [field]
    assert words in problems[0].message
    with pytest.raises(ValidationFailed) as refused:
        check_document(body)
    assert refused.value.code == "unstorable_value"
    assert refused.value.field == field


@pytest.mark.parametrize(
    "body",
    [
        {"n": 2**64 - 1, "m": -(2**63), "f": 1.5e19, "s": "订单 😀", "t": True, "z": None},
        {"deep": nested(MAX_DEPTH)},  # 64 levels of objects and arrays
        [],
        "text",
    ],
)
def test_values_within_the_limits_pass(body: Any) -> None:
    assert document_problems(body) == []
    orjson.dumps(body)  # and the encoder holds them


def test_a_hostile_document_costs_bounded_work_to_describe() -> None:
    body = {f"k{n}": "\x00" for n in range(10_000)}
    assert len(document_problems(body)) == 20


def test_a_very_deep_document_does_not_exhaust_the_stack() -> None:
    assert document_problems(nested(100_000))[0].message.startswith("is nested deeper")


@pytest.mark.parametrize(
    ("value", "limit", "words"),
    [("a\x00b", None, "NUL"), ("x" * 201, 200, "longer than 200"), ("\ud800", None, "surrogate")],
)
def test_text_problems(value: str, limit: int | None, words: str) -> None:
    assert words in (text_problem(value, limit) or "")
    with pytest.raises(ValidationFailed) as refused:
        check_text("reason", value, limit)
    assert refused.value.field == "reason"


def test_clean_text_can_always_be_stored() -> None:
    assert clean_text("a\x00b\ud800c") == "a\ufffdb?c"
    assert clean_text("订单") == "订单"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=20,
)


@given(json_values)
def test_the_canonical_hash_ignores_key_order_spacing_and_number_spelling(body: Any) -> None:
    def spelled(value: Any) -> Any:  # keys reversed, whole numbers written as floats
        if isinstance(value, dict):
            return {k: spelled(v) for k, v in reversed(list(value.items()))}
        if isinstance(value, list):
            return [spelled(v) for v in value]
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**53:
            return float(value)
        return value

    reparsed = orjson.loads(orjson.dumps(spelled(body), option=orjson.OPT_INDENT_2))
    assert canonical_hash(reparsed) == canonical_hash(body)


@given(json_values, json_values)
def test_different_documents_hash_differently(a: Any, b: Any) -> None:
    if orjson.dumps(a, option=orjson.OPT_SORT_KEYS) != orjson.dumps(b, option=orjson.OPT_SORT_KEYS):
        assert canonical_hash(a) != canonical_hash(b)


def test_integers_beyond_doubles_hash_by_their_exact_value() -> None:
    assert canonical_hash({"n": 2**63 + 1}) != canonical_hash({"n": 2**63})
    assert canonical_hash({"n": 10}) == canonical_hash({"n": 10.0})


#: Numbers as a sender may spell them: whole floats, exponents, long fractions, huge values.
spelled_numbers = st.sampled_from(
    [
        "10.0",
        "-0.0",
        "1e3",
        "1.5E1",
        "2.50",
        "0.1",
        "123456789.1234567",
        "1234567890123456.5",
        "99999999999999.9",
        "1.0000000000000000001",
        "18446744073709551616",
        "1e400",
        "7",
    ]
)
json_texts = st.recursive(
    st.sampled_from(["null", "true", '"a"', '"\\u0000"', '"x\\u0000"', '"e5"', '"{["'])
    | spelled_numbers
    | st.integers(-(2**70), 2**70).map(str)
    | st.floats(allow_nan=False, allow_infinity=False).map(repr),
    lambda children: (
        st.lists(children, max_size=4).map(lambda xs: "[" + ",".join(xs) + "]")
        | st.lists(
            st.tuples(st.sampled_from(['"k"', '"b"', '"\\u0000"']), children), max_size=3
        ).map(lambda kv: "{" + ",".join(f"{k}:{v}" for k, v in kv) + "}")
    ),
    max_leaves=25,
)


@settings(max_examples=500)
@given(json_texts)
@example("[18446744073709551616]")
@example("[-9223372036854775809]")
@example('{"a":[1e3, 10.0, 1234567890123456.5]}')
@example("[1.00000000000000001]")
@example("[12345678901234567.5]")
@example('["\\u0000"]')
def test_the_quick_passes_never_change_an_answer(text: str) -> None:
    """The passes that spare the common document the field paths and the copy are only
    shortcuts: a document is refused exactly when the walk names a problem, and hashes
    as its rewrite by value does."""
    try:
        body = orjson.loads(text)
    except orjson.JSONDecodeError:
        return  # refused before either check
    problems = document_problems(body)
    if problems:
        with pytest.raises(ValidationFailed) as refused:
            check_document(body)
        assert refused.value.problems == problems
    else:
        check_document(body)
    if not problems:
        by_value = orjson.dumps(_by_value(body), option=orjson.OPT_SORT_KEYS)
        assert canonical_hash(body) == "sha256:" + hashlib.sha256(by_value).hexdigest()


def test_nesting_one_level_too_deep_is_refused() -> None:
    check_document(nested(MAX_DEPTH + 1))  # MAX_DEPTH lists around a leaf
    with pytest.raises(ValidationFailed):
        check_document(nested(MAX_DEPTH + 2))
