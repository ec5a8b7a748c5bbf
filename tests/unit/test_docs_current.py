"""Generated documents in docs/ must match what the code generates now."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from esb.cli import app

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_openapi_json_is_current() -> None:
    result = CliRunner().invoke(app, ["openapi"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == json.loads((DOCS / "openapi.json").read_text()), (
        "docs/openapi.json is stale: run `esb openapi > docs/openapi.json`"
    )
