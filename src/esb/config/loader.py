"""Load, check and assemble the configuration folder. Nothing half-valid is ever returned."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from esb.config.checks import check_mappings, check_systems, compile_expressions, compile_schemas
from esb.config.gateway import GatewayConfig, hash_key
from esb.config.models import (
    AlertsConfig,
    AlertsFile,
    InterfaceBase,
    InterfacesFileBase,
    SystemConfig,
    SystemsFile,
    interfaces_file_model,
)
from esb.config.yamlfile import YamlDocument, format_loc, read_yaml
from esb.connectors.registry import ConnectorRegistry
from esb.errors import ConfigError
from esb.mapping import MappingSet, load_mappings

__all__ = ["GatewayConfig", "hash_key", "load_config"]


def file_loc(data: Any, loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Pydantic's error path as it reads in the file: steps it inserts (union tags such
    as ``rest``, validator names) are dropped; a missing key at the end is kept."""
    out: list[Any] = []
    for n, part in enumerate(loc):
        if (isinstance(data, dict) and part in data) or (
            isinstance(data, list) and isinstance(part, int) and part < len(data)
        ):
            data = data[part]
        elif n < len(loc) - 1:
            continue
        out.append(part)
    return tuple(out)


def _validation_problems(doc: YamlDocument, exc: ValidationError) -> list[str]:
    problems = []
    for error in exc.errors(include_url=False):
        loc = file_loc(doc.data, tuple(error["loc"]))
        if error["type"] == "union_tag_invalid":
            loc = (*loc, "kind")
        problems.append(f"{doc.where(loc)}: {format_loc(loc) or '(file)'}: {error['msg']}")
    return problems


def _validate(doc: YamlDocument, model: type[BaseModel]) -> Any:
    if doc.problems:
        return None
    if doc.data is None:
        doc.problems.append(f"{doc.path}:1: the file is empty")
        return None
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        doc.problems.extend(_validation_problems(doc, exc))
        return None


def _interface_docs(folder: Path, env: Mapping[str, str]) -> list[YamlDocument]:
    paths = []
    if (folder / "interfaces.yaml").is_file():
        paths.append(folder / "interfaces.yaml")
    if (folder / "interfaces").is_dir():
        paths.extend(sorted((folder / "interfaces").glob("*.yaml")))
    return [read_yaml(p, env) for p in paths]


def _key_hashes(systems: Mapping[str, SystemConfig]) -> dict[str, bytes]:
    hashes = {}
    for name, system in systems.items():
        if system.api_key is not None and system.api_key.get_secret_value():
            hashes[name] = hash_key(system.api_key.get_secret_value())
        elif system.api_key_sha256:
            hashes[name] = bytes.fromhex(system.api_key_sha256)
    return hashes


def load_config(
    folder: Path, registry: ConnectorRegistry, env: Mapping[str, str] | None = None
) -> GatewayConfig:
    """Read and check every file of ``folder``; raise ConfigError listing every problem."""
    env = os.environ if env is None else env
    folder = folder.resolve()
    if not (folder / "systems.yaml").is_file():
        raise ConfigError([f"{folder}: no systems.yaml (is ESB_CONFIG the configuration folder?)"])
    systems_doc = read_yaml(folder / "systems.yaml", env)
    systems_file = _validate(systems_doc, SystemsFile)
    problems = list(systems_doc.problems)

    interface_docs = _interface_docs(folder, env)
    if not interface_docs:
        problems.append(f"{folder}: no interfaces.yaml or interfaces/*.yaml")
    file_model = interfaces_file_model(registry.config_models(), registry.inbound_models())
    interfaces: dict[str, tuple[YamlDocument, InterfaceBase]] = {}
    for doc in interface_docs:
        parsed: InterfacesFileBase | None = _validate(doc, file_model)
        problems.extend(doc.problems)
        for name, interface in (parsed.interfaces if parsed else {}).items():
            if name in interfaces:
                problems.append(
                    f"{doc.where(('interfaces', name))}: interface {name!r} defined twice"
                )
            interfaces[name] = (doc, interface)

    systems = systems_file.systems if systems_file else {}
    if systems_file is not None:
        problems.extend(check_systems(systems, interfaces))
    alerts = _alerts(folder, env, problems)
    mappings = _mappings(folder, env, problems)
    problems.extend(check_mappings(interfaces, mappings))
    business_keys, conditions = compile_expressions(interfaces, problems)
    validators = compile_schemas(folder, interfaces, problems)
    if problems:
        raise ConfigError(problems)
    return GatewayConfig(
        folder=folder,
        systems=systems,
        interfaces={name: interface for name, (_, interface) in interfaces.items()},
        key_hashes=_key_hashes(systems),
        business_keys=business_keys,
        validators=validators,
        conditions=conditions,
        mappings=mappings,
        alerts=alerts,
    )


def _alerts(folder: Path, env: Mapping[str, str], problems: list[str]) -> AlertsConfig | None:
    """The optional alerts.yaml."""
    if not (folder / "alerts.yaml").is_file():
        return None
    doc = read_yaml(folder / "alerts.yaml", env)
    parsed: AlertsFile | None = _validate(doc, AlertsFile)
    problems.extend(doc.problems)
    return parsed.alerts if parsed else None


def _mappings(folder: Path, env: Mapping[str, str], problems: list[str]) -> MappingSet:
    try:
        return load_mappings(folder, env)
    except ConfigError as exc:
        problems.extend(exc.problems)
        return MappingSet()
