"""docs/mappings.md documents every keyword and function, and its examples really work."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from esb.errors import MappingError
from esb.mapping import (
    MappingContext,
    StaticXref,
    compile_input_schema,
    load_mappings,
    schema_models,
)
from esb.mapping.functions import CUSTOM
from esb.mapping.models import CodeTable, DateTimeRule, FieldRule, XrefRule
from tests.unit.mapping.helpers import DEMO, REPO, SCENARIO

DOC = (REPO / "docs" / "mappings.md").read_text(encoding="utf-8")


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC, flags=re.DOTALL)


def keywords(model: type[BaseModel]) -> list[str]:
    return [field.alias or name for name, field in model.model_fields.items()]


@pytest.mark.parametrize(
    "model", [*schema_models().values(), FieldRule, DateTimeRule, XrefRule, CodeTable]
)
def test_every_keyword_is_documented(model: type[BaseModel]) -> None:
    missing = [k for k in keywords(model) if f"`{k}`" not in DOC and f"### {k}\n" not in DOC]
    assert missing == []


def test_every_field_keyword_has_its_own_section() -> None:
    assert [k for k in keywords(FieldRule) if f"### {k}\n" not in DOC] == []


def test_every_function_is_documented() -> None:
    assert [name for name in CUSTOM if f"`{name}(" not in DOC] == []


def _as_mapping(data: dict[str, Any]) -> dict[str, Any] | None:
    if "source" in data:
        return data
    if "fields" in data:
        return {"source": "erp", "target": "mes", **data}
    if "code_tables" in data:
        return {"source": "erp", "target": "mes", "fields": {"x": "X"}, **data}
    return None


def test_every_yaml_example_loads(tmp_path: Path) -> None:
    shutil.copytree(DEMO / "code-tables", tmp_path / "code-tables")
    (tmp_path / "mappings").mkdir()
    examples = [yaml.safe_load(block) for block in blocks("yaml")]
    for number, data in enumerate(examples):
        if data is None:  # the editor line alone
            continue
        mapping = _as_mapping(data)
        folder, text = ("mappings", mapping) if mapping else ("code-tables", data)
        (tmp_path / folder / f"example-{number}.yaml").write_text(yaml.safe_dump(text))
    loaded = load_mappings(tmp_path, {})
    assert len(loaded) >= 15


def test_the_worked_example_is_true() -> None:
    source, target, schema = (json.loads(block) for block in blocks("json"))
    mapping = load_mappings(DEMO, {}).get("sales-order-to-mes")
    ctx = MappingContext(StaticXref.from_masterdata(SCENARIO / "masterdata"))
    assert mapping(source, ctx) == target
    assert compile_input_schema(schema).validate(source) == []


@pytest.mark.parametrize(
    "change",
    [
        {"Lines": [{"Qty": "1"}, {"Qty": "abc"}]},
        {"DeliveryDate": "20261345"},
        {"Lines": [{"Qty": "1", "Unit": "BOX"}]},
        {"OrderNo": None},
        {"CustCode": "C9999"},
    ],
)
def test_the_run_time_error_examples_are_real(change: dict[str, Any]) -> None:
    mapping = load_mappings(DEMO, {}).get("sales-order-to-mes")
    ctx = MappingContext(StaticXref.from_masterdata(SCENARIO / "masterdata"))
    body = json.loads((SCENARIO / "inputs" / "sales_order_normal.json").read_text())
    with pytest.raises(MappingError) as caught:
        mapping({**body, **change}, ctx)
    assert f"\n{caught.value}\n" in DOC
