"""Input validation at the door: every offending field, each with its own path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from esb.errors import ConfigError, FieldProblem
from esb.mapping import InputSchemaError, compile_input_schema, load_input_schema

ORDER = {
    "type": "object",
    "required": ["OrderNo", "Lines"],
    "additionalProperties": False,
    "properties": {
        "OrderNo": {"type": "string"},
        "Due": {"type": "string", "format": "date:yyyyMMdd"},
        "Shipped": {"type": "string", "format": "datetime:yyyy-MM-dd HH:mm"},
        "At": {"type": "string", "format": "date-time"},
        "Kind": {"oneOf": [{"type": "string", "const": "A"}, {"type": "integer", "minimum": 10}]},
        "Lines": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["Qty"],
                "properties": {"Qty": {"type": "string", "format": "decimal"}},
            },
        },
    },
}


def problems(body: Any) -> list[tuple[str, str]]:
    return [(p.field, p.message) for p in compile_input_schema(ORDER).validate(body)]


def test_a_valid_body_has_no_problems() -> None:
    body = {
        "OrderNo": "1",
        "Due": "20240229",
        "Shipped": "2026-11-25 09:30",
        "At": "2026-11-25T09:30:00+08:00",
        "Kind": 12,
        "Lines": [{"Qty": "2.5"}, {"Qty": "-3"}],
    }
    assert problems(body) == []


def test_every_offending_field_is_named() -> None:
    body = {
        "Due": "20230229",
        "Shipped": "2026-11-25T09:30",
        "At": "2026-13-25T09:30:00Z",
        "Kind": 3,
        "Extra": 1,
        "Lines": [{"Qty": "2.5"}, {"Qty": "1,5"}, {}],
    }
    assert problems(body) == [
        ("At", "'2026-13-25T09:30:00Z' is not a valid date-time"),
        ("Due", "'20230229' is not a real date written yyyyMMdd"),
        ("Extra", "is not allowed"),
        ("Kind", "3 is less than the minimum of 10"),
        ("Lines[1].Qty", "'1,5' is not a decimal number written as text (e.g. \"12.50\")"),
        ("Lines[2].Qty", "is required"),
        ("OrderNo", "is required"),
        ("Shipped", "'2026-11-25T09:30' is not a date and time written yyyy-MM-dd HH:mm"),
    ]


def test_one_of_reports_the_closest_branch() -> None:
    body = {"OrderNo": "1", "Lines": [{"Qty": "1"}]}
    assert problems({**body, "Kind": 3}) == [("Kind", "3 is less than the minimum of 10")]
    assert problems({**body, "Kind": "B"}) == [("Kind", "'A' was expected")]
    assert problems({**body, "Kind": [1]}) == [
        ("Kind", "[1] is not valid under any of the given schemas")
    ]


def test_empty_list_and_wrong_root() -> None:
    assert problems({"OrderNo": "1", "Lines": []}) == [("Lines", "[] should be non-empty")]
    assert problems([1]) == [("", "[1] is not of type 'object'")]


def test_problems_are_field_problems() -> None:
    [problem] = compile_input_schema(ORDER).validate({"Lines": [{"Qty": "1"}]})
    assert problem == FieldProblem("OrderNo", "is required")


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({"type": "strnig"}, "type: 'strnig' is not valid under any of the given schemas"),
        ({"properties": {"a": {"format": "decimel"}}}, "/properties/a: unknown format 'decimel'"),
        ({"format": "date:yyyy-QQ"}, "format 'date:yyyy-QQ': pattern letter 'Q'"),
        ({"format": "date:yyyy-MM-dd HH:mm"}, "a date has no time; use datetime:yyyy-MM-dd HH:mm"),
        ({"format": "datetime:HH:mm"}, "the pattern needs yyyy, MM and dd"),
    ],
)
def test_bad_schemas_are_refused_when_compiled(schema: dict[str, Any], message: str) -> None:
    with pytest.raises(InputSchemaError) as caught:
        compile_input_schema(schema)
    assert message in str(caught.value)


def test_formats_apply_to_text_only_and_enum_values_are_not_formats() -> None:
    validator = compile_input_schema(
        {"properties": {"q": {"format": "decimal"}, "c": {"const": {"format": "whatever"}}}}
    )
    assert validator.validate({"q": 5}) == []


def test_schema_files_are_read_with_file_and_line_in_errors(tmp_path: Path) -> None:
    good = tmp_path / "good.schema.json"
    good.write_text('{"required": ["OrderNo"]}')
    assert [p.field for p in load_input_schema(good).validate({})] == ["OrderNo"]
    for text, problem in [
        ('{\n  "type": "object",\n  "required": [OrderNo]\n}', ":3: JSON syntax: Expecting value"),
        ("[]", ":1: a JSON Schema is an object"),
        ('{"format": "decimel"}', ":1: /: unknown format 'decimel'"),
    ]:
        bad = tmp_path / "bad.schema.json"
        bad.write_text(text)
        with pytest.raises(ConfigError) as caught:
            load_input_schema(bad)
        [message] = caught.value.problems
        assert message.startswith(f"{bad}{problem}")
