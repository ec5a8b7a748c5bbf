"""Load, check and assemble the configuration folder. Nothing half-valid is ever returned."""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError
from pydantic import BaseModel, ValidationError

from esb.config.models import (
    InterfaceBase,
    InterfacesFileBase,
    SystemConfig,
    SystemsFile,
    interfaces_file_model,
)
from esb.config.yamlfile import YamlDocument, format_loc, read_yaml
from esb.connectors.registry import ConnectorRegistry
from esb.errors import ConfigError, Forbidden, NotFound


def hash_key(key: str) -> bytes:
    """Keys are kept only as SHA-256 digests; a memory dump shows no caller's key."""
    return hashlib.sha256(key.encode("utf-8")).digest()


@dataclass(frozen=True)
class GatewayConfig:
    """The validated configuration: systems, interfaces, caller keys (hashed)."""

    folder: Path
    systems: Mapping[str, SystemConfig]
    interfaces: Mapping[str, InterfaceBase]
    key_hashes: Mapping[str, bytes]
    business_keys: Mapping[str, Any] = field(default_factory=dict)

    def authenticate(self, token: str) -> str | None:
        """The system whose key this is, compared in constant time against every key."""
        presented = hash_key(token)
        found: str | None = None
        for system, digest in self.key_hashes.items():
            if hmac.compare_digest(presented, digest):
                found = system
        return found

    def interface_for(self, caller: str, message_type: str) -> tuple[str, InterfaceBase]:
        """The interface for ``message_type`` from ``caller``: 404 unknown, 403 someone else's."""
        others = False
        for name, interface in self.interfaces.items():
            if interface.message_type == message_type:
                if interface.source == caller:
                    return name, interface
                others = True
        if others:
            raise Forbidden(f"system {caller!r} may not send message type {message_type!r}")
        raise NotFound(f"no interface accepts message type {message_type!r}")

    def business_key(self, interface: str, body: Any) -> str | None:
        expression = self.business_keys.get(interface)
        if expression is None:
            return None
        value = expression.search(body)
        return None if value is None else str(value)[:200]


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


def _check_references(
    systems: Mapping[str, SystemConfig],
    interfaces: dict[str, tuple[YamlDocument, InterfaceBase]],
) -> list[str]:
    problems = []
    seen: dict[tuple[str, str], str] = {}
    for name, (doc, interface) in interfaces.items():
        where = doc.where(("interfaces", name))
        if interface.source not in systems:
            problems.append(
                f"{where}: interfaces.{name}.source: unknown system {interface.source!r}"
            )
        pair = (interface.source, interface.message_type)
        if pair in seen:
            problems.append(
                f"{where}: interfaces.{name}: {interface.source} already sends "
                f"{interface.message_type!r} through interface {seen[pair]!r}"
            )
        seen[pair] = name
        for target in interface.targets:
            system = interface.target_system(target)
            if system not in systems:
                loc = ("interfaces", name, "targets", target)
                problems.append(f"{doc.where(loc)}: {format_loc(loc)}: unknown system {system!r}")
    return problems


def _compile_keys(
    interfaces: dict[str, tuple[YamlDocument, InterfaceBase]], problems: list[str]
) -> dict[str, Any]:
    compiled = {}
    for name, (doc, interface) in interfaces.items():
        if interface.key is None:
            continue
        try:
            compiled[name] = jmespath.compile(interface.key)
        except JMESPathError as exc:
            loc = ("interfaces", name, "key")
            problems.append(f"{doc.where(loc)}: {format_loc(loc)}: bad expression: {exc}")
    return compiled


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
    file_model = interfaces_file_model(registry.config_models())
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
        problems.extend(_check_references(systems, interfaces))
    business_keys = _compile_keys(interfaces, problems)
    if problems:
        raise ConfigError(problems)
    return GatewayConfig(
        folder=folder,
        systems=systems,
        interfaces={name: interface for name, (_, interface) in interfaces.items()},
        key_hashes=_key_hashes(systems),
        business_keys=business_keys,
    )
