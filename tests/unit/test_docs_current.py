"""Generated documents in docs/ must match what the code generates now."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from esb.cli import app
from esb.settings import demo_config_dir

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_openapi_json_is_current() -> None:
    result = CliRunner().invoke(app, ["openapi"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == json.loads((DOCS / "openapi.json").read_text()), (
        "docs/openapi.json is stale: run `esb openapi > docs/openapi.json`"
    )


def test_json_schemas_are_current() -> None:
    from esb.config.schemas import generate
    from esb.connectors import load_registry

    folder = DOCS.parent / "schemas"
    for name, schema in generate(load_registry()).items():
        assert json.loads((folder / name).read_text()) == schema, (
            f"schemas/{name} is stale: run `esb schemas`"
        )


def test_shipped_examples_validate_against_the_schemas() -> None:
    import jsonschema
    import yaml

    folder = DOCS.parent / "schemas"
    example = demo_config_dir()
    for kind in ("systems", "interfaces", "queries", "alerts"):
        schema = json.loads((folder / f"{kind}.schema.json").read_text())
        document = yaml.safe_load((example / f"{kind}.yaml").read_text())
        jsonschema.validate(document, schema)
        first = (example / f"{kind}.yaml").read_text().splitlines()[0]
        relative = first.removeprefix("# yaml-language-server: $schema=")
        assert (example / relative).resolve() == folder / f"{kind}.schema.json", first
