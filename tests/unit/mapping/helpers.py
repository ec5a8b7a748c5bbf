"""Small builders for mapping tests: a config folder in tmp_path, one mapping compiled from text."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from esb.errors import ConfigError
from esb.mapping import CompiledMapping, MappingContext, StaticXref, load_mappings
from esb.settings import demo_config_dir

REPO = Path(__file__).resolve().parents[3]
DEMO = demo_config_dir()
SCENARIO = REPO / "tests" / "data" / "scenario"
PEERS = REPO / "tests" / "data" / "peers"

XREF = StaticXref(
    {
        "customer": [{"erp": "C0001", "mes": "900123", "wms": "CUST-01"}],
        "material": [{"erp": "MAT-1001", "mes": "100-2001", "wms": "SKU1001"}],
    }
)
CTX = MappingContext(XREF)


def write_folder(
    root: Path, mappings: dict[str, str], tables: dict[str, str] | None = None
) -> Path:
    """A configuration folder with ``mappings/<name>.yaml`` and ``code-tables/<name>.yaml``."""
    for sub, files in (("mappings", mappings), ("code-tables", tables or {})):
        (root / sub).mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (root / sub / f"{name}.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def compile_fields(root: Path, fields: str, extra: str = "", **tables: str) -> CompiledMapping:
    """One mapping ``m`` (erp -> mes) whose ``fields:`` block is ``fields`` (YAML, indented 2)."""
    text = "source: erp\ntarget: mes\nfields:\n" + textwrap.indent(textwrap.dedent(fields), "  ")
    write_folder(root, {"m": text + textwrap.dedent(extra)}, tables)
    return load_mappings(root, {}).get("m")


def problems_of(root: Path, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_mappings(root, env or {})
    return caught.value.problems


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
