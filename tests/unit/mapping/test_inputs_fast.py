"""The compiled validator says "valid" only where the reference implementation does: a
document it lets through unwalked must be one ``jsonschema`` finds no problem in. Checked
on the demo's schemas and the format-heavy ``ORDER`` schema, with valid documents and
random mutations of them (values of every JSON kind, 1.0 for an integer, digits of other
scripts, odd dates, keys removed and added)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from esb.mapping import compile_input_schema
from esb.settings import demo_config_dir
from tests.unit.mapping.test_inputs import ORDER

INPUTS = Path(__file__).resolve().parents[2] / "data" / "scenario" / "inputs"
SCHEMAS = demo_config_dir() / "schemas"

VALID: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "order": (
        ORDER,
        {
            "OrderNo": "SO-1",
            "Due": "20261124",
            "Shipped": "2026-11-24 08:30",
            "At": "2026-11-24T08:30:00+08:00",
            "Kind": 12,
            "Lines": [{"Qty": "12.50"}],
        },
    ),
    "sales_order": (
        json.loads((SCHEMAS / "sales_order.schema.json").read_text("utf-8")),
        json.loads((INPUTS / "sales_order_normal.json").read_text("utf-8")),
    ),
    "production_report": (
        json.loads((SCHEMAS / "production_report.schema.json").read_text("utf-8")),
        {
            "id": 1,
            "work_order": "WO-20261124-0001",
            "material_code": "100-2001",
            "qty_good": 120,
            "qty_scrap": 0.5,
            "line_code": "L1",
            "finished_at": "2026-11-25T14:30:00+08:00",
            "operator_name": "张伟",
        },
    ),
    "shipment_row": (
        json.loads((SCHEMAS / "shipment_row.schema.json").read_text("utf-8")),
        {
            "order_no": "SO-20261124-0001",
            "ship_date": "2026-11-25 09:30",
            "carrier": "顺丰速运",
            "tracking_no": "SF1234567890",
            "status": "S",
        },
    ),
}

ODD_TEXT = st.sampled_from(
    ["", " ", "12.50", "-3", "1e3", "١٢", "\uff11\uff12", "2026-02-30", "20261324",
     "2026-11-24T08:30:00Z", "2026-11-24 08:30", "2026-11-24T08:30:00+08:00\n", "A", "02",
     "张伟", "\u0000", "abc\n"]
)  # fmt: skip
VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.sampled_from([1.0, -0.0, 0.5, 1e20, 2.5])
    | st.floats(allow_nan=False, allow_infinity=False)
    | ODD_TEXT
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*path, index))
    return found


@st.composite
def mutated(draw: st.DrawFn, document: Any) -> Any:
    document = copy.deepcopy(document)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        path = draw(st.sampled_from(_paths(document)))
        if not path:
            continue
        parent = document
        for step in path[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = draw(VALUES)
        elif action == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.text(max_size=6))] = draw(VALUES)
        elif isinstance(parent, list):
            parent.append(draw(VALUES))
    return document


def cases() -> list[tuple[str, dict[str, Any], Any]]:
    return [(name, schema, document) for name, (schema, document) in VALID.items()]


@pytest.mark.parametrize(("name", "schema", "document"), cases(), ids=[c[0] for c in cases()])
def test_the_fast_check_never_passes_what_the_walk_refuses(
    name: str, schema: dict[str, Any], document: Any
) -> None:
    validator = compile_input_schema(schema)
    fast, walk = validator._fast, validator._validator
    assert fast is not None, f"{name}: the compiled validator did not take the schema"

    @settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(mutated(document))
    def check(body: Any) -> None:
        try:
            passed = fast.is_valid(body)
        except (ValueError, TypeError, OverflowError):
            return  # it says nothing: the walk decides
        refused = [str(e.message) for e in walk.iter_errors(body)]
        assert not (passed and refused), (body, refused)

    check()


def test_a_document_the_fast_check_refuses_gets_the_walk_s_problems() -> None:
    validator = compile_input_schema(ORDER)
    assert [(p.field, p.message) for p in validator.validate({"OrderNo": "X", "Lines": [{}]})] == [
        ("Lines[0].Qty", "is required")
    ]


def test_the_valid_documents_take_the_fast_way() -> None:
    for name, schema, document in cases():
        validator = compile_input_schema(schema)
        assert validator._fast is not None, name
        assert validator._fast.is_valid(document), name
        assert validator.validate(document) == [], name
