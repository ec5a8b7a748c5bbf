"""JSON Schemas for every YAML file kind, generated from the models (never written by hand).

Editors validate as people type through a ``# yaml-language-server: $schema=...`` line.
Connector options come from each installed connector's own config model.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from esb.config.masterdata import MasterDataFile
from esb.config.models import AlertsFile, SystemsFile, interfaces_file_model
from esb.config.queries import QueriesFile
from esb.connectors import ConnectorRegistry
from esb.mapping import schema_models

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


ENV_REFERENCE = {
    "type": "string",
    "pattern": r"\$\{[A-Za-z_][A-Za-z0-9_]*",
    "description": "a value from the environment: ${NAME}, ${NAME:-default}",
}
_STRING_LIMITS = {"pattern", "enum", "format", "minLength", "maxLength"}


def _needs_env_branch(node: dict[str, Any]) -> bool:
    """A ${VAR} string would fail this leaf (a number, an enum, a patterned string)."""
    if "const" in node or "$ref" in node:
        return False  # discriminators (kind, type) are written literally
    if node.get("type") in ("number", "integer", "boolean") or "enum" in node:
        return True
    return node.get("type") == "string" and bool(_STRING_LIMITS & node.keys())


def _allow_env(node: Any) -> Any:
    """Any value in a file may be written as ${VAR}: the schema must accept that too."""
    if isinstance(node, list):
        return [_allow_env(n) for n in node]
    if not isinstance(node, dict):
        return node
    node = {k: v if k in ("const", "enum", "default") else _allow_env(v) for k, v in node.items()}
    return {"anyOf": [node, ENV_REFERENCE]} if _needs_env_branch(node) else node


def _schema(model: type[BaseModel], title: str) -> dict[str, Any]:
    schema = _allow_env(model.model_json_schema())
    return {"$schema": SCHEMA_DIALECT, **schema, "title": title}


def generate(registry: ConnectorRegistry) -> dict[str, dict[str, Any]]:
    """File name in ``schemas/`` -> its JSON Schema."""
    schemas = {
        "systems.schema.json": _schema(SystemsFile, "esb systems.yaml"),
        "alerts.schema.json": _schema(AlertsFile, "esb alerts.yaml"),
        "masterdata.schema.json": _schema(MasterDataFile, "esb masterdata.yaml"),
        "queries.schema.json": _schema(QueriesFile, "esb queries.yaml"),
        "interfaces.schema.json": _schema(
            interfaces_file_model(registry.config_models(), registry.inbound_models()),
            "esb interfaces.yaml",
        ),
    }
    for kind, model in schema_models().items():
        schemas[f"{kind}.schema.json"] = _schema(model, f"esb {kind} file")
    return schemas
