"""Data problems at run time: always MappingError (or XrefMissing), always naming the path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from esb.errors import MappingError, XrefMissing
from esb.mapping import CompiledMapping, load_mappings
from tests.unit.mapping.helpers import CTX, compile_fields, write_folder

LINES = """
items:
  each: Lines
  fields:
    qty: {path: Qty, type: number}
    due: {path: Due, date: {from: yyyyMMdd, to: yyyy-MM-dd}}
    order: {path: $.OrderNo, required: true}
    part: {path: Part, fields: {"no": {path: "No", type: int}}}
"""


@pytest.fixture
def lines(tmp_path: Path) -> CompiledMapping:
    return compile_fields(tmp_path, LINES)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"OrderNo": "1", "Lines": [{}, {"Qty": "abc"}]}, "Lines[1].Qty: 'abc' is not a number"),
        (
            {"OrderNo": "1", "Lines": [{"Due": "20261345"}]},
            "Lines[0].Due: '20261345' is not a real date written yyyyMMdd",
        ),
        ({"Lines": [{}]}, "OrderNo: required value is missing"),
        (
            {"OrderNo": "1", "Lines": [{"Part": {"No": "x"}}]},
            "Lines[0].Part.No: 'x' is not a whole number",
        ),
        ({"OrderNo": "1", "Lines": [{"Part": [1]}]}, "Lines[0].Part: expected an object, got [1]"),
        ({"OrderNo": "1", "Lines": {"Qty": 1}}, "Lines: expected a list, got {'Qty': 1}"),
        ({"OrderNo": "1", "Lines": [{"Qty": True}]}, "Lines[0].Qty: True is not a number"),
        ({"OrderNo": "1", "Lines": [{"Qty": "1e999"}]}, "Lines[0].Qty: '1e999' is out of range"),
    ],
)
def test_errors_name_the_source_path(lines: CompiledMapping, body: Any, message: str) -> None:
    with pytest.raises(MappingError) as caught:
        lines(body, CTX)
    assert str(caught.value) == message
    assert caught.value.path == message.split(": ")[0]


def test_a_body_that_is_not_an_object_is_a_mapping_error(lines: CompiledMapping) -> None:
    with pytest.raises(MappingError, match="must be a JSON object, not list"):
        lines([], CTX)


def test_expression_failures_are_mapping_errors(tmp_path: Path) -> None:
    mapping = compile_fields(
        tmp_path,
        """
        a: {expr: "abs(A)"}
        b: {expr: "divide(`1`, B)"}
        c: {const: 1, if: "abs(C)"}
        """,
    )
    with pytest.raises(MappingError, match=r"expression 'abs\(A\)': In function abs\(\)"):
        mapping({"A": "x"}, CTX)
    with pytest.raises(MappingError, match="division by zero"):
        mapping({"A": 1, "B": 0}, CTX)
    with pytest.raises(MappingError, match=r"^if: expression 'abs\(C\)'"):
        mapping({"A": 1, "B": 1, "C": "x"}, CTX)


def test_codes_must_be_text_for_tables_and_xref(tmp_path: Path) -> None:
    mapping = compile_fields(
        tmp_path,
        "u: {path: U, code_table: t}\nc: {path: C, xref: customer}\n",
        "code_tables:\n  t: {values: {A: B}, unknown: pass}\n",
    )
    with pytest.raises(MappingError, match=r"^U: code table 't' translates codes \(text\)"):
        mapping({"U": {"x": 1}}, CTX)
    with pytest.raises(MappingError, match=r"^C: xref customer: a code is text, not \[1\]"):
        mapping({"C": [1]}, CTX)


def test_datetime_without_offset_cannot_be_written_with_one(tmp_path: Path) -> None:
    mapping = compile_fields(tmp_path, 't: {path: T, datetime: {from: iso, to: "HH:mmXXX"}}\n')
    assert mapping({"T": "2026-11-25T09:30+01:00"}, CTX) == {"t": "09:30+01:00"}
    with pytest.raises(MappingError, match=r"^T: 2026-11-25T09:30:00 has no time zone offset$"):
        mapping({"T": "2026-11-25T09:30"}, CTX)


def test_xref_missing_is_a_mapping_error_too(tmp_path: Path) -> None:
    mapping = compile_fields(tmp_path, "c: {path: C, xref: customer}\n")
    with pytest.raises(MappingError) as caught:
        mapping({"C": "nobody"}, CTX)
    assert isinstance(caught.value, XrefMissing)
    assert not caught.value.retryable, "a master-data miss parks the delivery"


RULES = {
    "string": "{path: A, type: string}",
    "int": "{path: A, type: int}",
    "number": "{path: A, type: number}",
    "decimal": "{path: A, type: decimal}",
    "bool": "{path: A, type: bool}",
    "date": "{path: A, date: {from: yyyyMMdd, to: yyyy-MM-dd}}",
    "datetime": "{path: A, datetime: {from: \"yyyy-MM-dd'T'HH:mm:ssXXX\", to_zone: UTC, to: iso}}",
    "iso": "{path: A, datetime: {from: iso, to: \"yyyy-MM-dd'T'HH:mm:ssXXX\"}}",
    "code": "{path: A, code_table: t}",
    "xref": "{path: A, xref: customer}",
    "add": '{expr: "add(A, B)"}',
    "pad": "{expr: \"pad_left(A, `4`, '0')\"}",
    "round": '{expr: "round(A, `2`)"}',
    "if": '{const: 1, if: "A == B"}',
    "nested": "{path: A, fields: {x: {path: x, type: int}}}",
    "each": '{each: B, fields: {x: {path: x, type: number}, y: {path: "@", type: string}}}',
}
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["20261205", "2026-11-25T09:30:00+08:00", "C0001", "1e400", "12.50", "-0"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from("xyz"), inner),
    max_leaves=8,
)


@pytest.fixture(scope="module")
def one_rule_each(tmp_path_factory: pytest.TempPathFactory) -> dict[str, CompiledMapping]:
    folder = tmp_path_factory.mktemp("rules")
    table = "code_tables:\n  t: {values: {'1': one}, unknown: error}\n"
    files = {n: f"source: erp\ntarget: mes\nfields:\n  v: {r}\n{table}" for n, r in RULES.items()}
    write_folder(folder, files)
    mappings = load_mappings(folder, {})
    return {name: mappings.get(name) for name in RULES}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(a=json_values, b=json_values)
def test_any_json_input_gives_output_or_mapping_error(
    one_rule_each: dict[str, CompiledMapping], a: Any, b: Any
) -> None:
    for name, mapping in one_rule_each.items():
        out = outcome(mapping, {"A": a, "B": b})
        if isinstance(out, MappingError):
            assert out.path in ("", "A", "B") or out.path.startswith(("A.", "B[")), name
        else:
            assert isinstance(out, dict), name


def outcome(mapping: CompiledMapping, body: Any) -> Any:
    """The output, or the MappingError; any other exception fails the test."""
    try:
        return mapping(body, CTX)
    except MappingError as exc:
        return exc
