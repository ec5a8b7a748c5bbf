"""The JSON Schema generated from the models accepts every shipped file and describes every key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from esb.mapping import schema_models
from tests.unit.mapping.helpers import DEMO, REPO

FILES = [
    *sorted((DEMO / "mappings").glob("*.yaml")),
    *sorted((REPO / "bench" / "peer-config" / "mappings").glob("*.yaml")),
]
TABLES = sorted((DEMO / "code-tables").glob("*.yaml"))


def points_at(path: Path) -> Path:
    """The schema an editor finds from the file's first line (relative to the file)."""
    first = path.read_text().splitlines()[0]
    prefix = "# yaml-language-server: $schema="
    assert first.startswith(prefix)
    return (path.parent / first.removeprefix(prefix)).resolve()


def schema(kind: str) -> dict[str, Any]:
    return schema_models()[kind].model_json_schema()


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_shipped_mappings_validate_and_point_at_the_schema(path: Path) -> None:
    jsonschema.validate(yaml.safe_load(path.read_text()), schema("mapping"))
    assert points_at(path) == REPO / "schemas" / "mapping.schema.json"


@pytest.mark.parametrize("path", TABLES, ids=lambda p: p.name)
def test_shipped_code_tables_validate_and_point_at_the_schema(path: Path) -> None:
    jsonschema.validate(yaml.safe_load(path.read_text()), schema("code-table"))
    assert points_at(path) == REPO / "schemas" / "code-table.schema.json"


def test_the_schema_refuses_a_typo() -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(
            {"source": "a", "target": "b", "fields": {"x": {"paht": "X"}}}, schema("mapping")
        )


@pytest.mark.parametrize("kind", ["mapping", "code-table"])
def test_every_keyword_has_a_description(kind: str) -> None:
    document = schema(kind)
    models = [document, *document.get("$defs", {}).values()]
    undescribed = [
        f"{model.get('title')}.{name}"
        for model in models
        for name, spec in model.get("properties", {}).items()
        if not spec.get("description")
    ]
    assert undescribed == []
