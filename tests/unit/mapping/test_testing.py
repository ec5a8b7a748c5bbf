"""run_mapping_test: JSON values compared by value, every difference on its own line."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from esb.mapping import run_mapping_test
from esb.mapping.testing import compare, same_value
from tests.unit.mapping.helpers import CTX, compile_fields


@pytest.mark.parametrize(
    ("left", "right", "same"),
    [
        (120, 120.0, True),
        (2.5, Decimal("2.5"), True),
        (0.1, Decimal("0.1"), True),
        (1, True, False),
        (0, False, False),
        ("1", 1, False),
        (None, None, True),
        ("a", "a", True),
    ],
)
def test_scalars_compare_as_json_values(left: Any, right: Any, same: bool) -> None:
    assert same_value(left, right) is same
    assert same_value(right, left) is same


def test_key_order_is_free_list_order_is_not() -> None:
    assert compare({"a": 1, "b": [1, 2]}, {"b": [1, 2.0], "a": 1}) == []
    assert [d.path for d in compare({"b": [1, 2]}, {"b": [2, 1]})] == ["b[0]", "b[1]"]


def test_diff_text_lists_each_field(tmp_path: Path) -> None:
    mapping = compile_fields(tmp_path, '"no": N\nitems: {each: L, fields: {q: Q}}\nx: X\n')
    expected = {"no": "1", "items": [{"q": 2.5}, {"q": 1}], "missing": "m"}
    result = run_mapping_test(mapping, {"N": "2", "L": [{"Q": "2.5"}], "X": 0}, expected, CTX)
    assert not result.ok
    assert result.diff_text() == "\n".join(
        [
            "m: 5 differences",
            '  no: expected "1", got "2"',
            '  items[0].q: expected 2.5, got "2.5"',
            '  items[1]: missing (expected {"q": 1})',
            '  missing: missing (expected "m")',
            "  x: not expected (got 0)",
        ]
    )


def test_a_failing_mapping_is_a_result_not_a_raise(tmp_path: Path) -> None:
    mapping = compile_fields(tmp_path, "c: {path: C, xref: customer}\n")
    result = run_mapping_test(mapping, {"C": "nobody"}, {"c": "x"}, CTX)
    assert not result.ok
    assert result.diff_text().startswith("m: the mapping failed: C: xref customer: no mes code")


def test_a_match_says_so(tmp_path: Path) -> None:
    mapping = compile_fields(tmp_path, "a: A\n")
    result = run_mapping_test(mapping, {"A": 120}, {"a": 120.0}, CTX)
    assert result.ok
    assert result.diff_text() == "m: the output matches the expected body"
