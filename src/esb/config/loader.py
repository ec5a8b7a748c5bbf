"""Load, check and assemble the configuration folder. Nothing half-valid is ever returned."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from esb.config.checks import (
    check_mappings,
    check_ordering,
    check_systems,
    compile_expressions,
    compile_schemas,
)
from esb.config.folder import read_folder
from esb.config.gateway import GatewayConfig, hash_key
from esb.config.masterdata import DomainCheck, MasterDataFile
from esb.config.models import (
    AlertsConfig,
    AlertsFile,
    InterfaceBase,
    InterfacesFileBase,
    SystemConfig,
    SystemsFile,
    interfaces_file_model,
)
from esb.config.query_file import read_queries
from esb.config.refs import InterfaceRefs, interface_refs, names
from esb.config.shadow import declared, routing
from esb.config.shadow_checks import check_shadows
from esb.config.validate import validate
from esb.configfile.yamlfile import YamlDocument, read_yaml
from esb.connectors.registry import ConnectorRegistry
from esb.errors import ConfigError
from esb.mapping.loader import read_mappings

__all__ = ["GatewayConfig", "hash_key", "load_config"]


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


def _read_interfaces(
    folder: Path,
    env: Mapping[str, str],
    registry: ConnectorRegistry,
    problems: list[str],
    off: list[str],
) -> tuple[dict[str, InterfaceBase], list[InterfaceRefs]]:
    """The valid interfaces, and what every interface (valid or not) refers to; the names
    of those switched off by ``enabled:`` are added to ``off``."""
    docs = _interface_docs(folder, env)
    if not docs:
        problems.append(f"{folder}: no interfaces.yaml or interfaces/*.yaml")
    file_model = interfaces_file_model(registry.config_models(), registry.inbound_models())
    models: dict[str, InterfaceBase] = {}
    refs: list[InterfaceRefs] = []
    for doc in docs:
        parsed: InterfacesFileBase | None = validate(doc, file_model)
        problems.extend(doc.problems)
        off.extend(str(loc[1]) for loc in doc.disabled if len(loc) == 2 and loc[0] == "interfaces")
        for ref in interface_refs(doc):
            if any(r.name == ref.name for r in refs):
                where = doc.where(("interfaces", ref.name))
                problems.append(f"{where}: interfaces.{ref.name}: defined twice")
            refs.append(ref)
        models.update(parsed.interfaces if parsed else {})
    return models, refs


def load_config(
    folder: Path, registry: ConnectorRegistry, env: Mapping[str, str] | None = None
) -> GatewayConfig:
    """Read and check every file of ``folder``; raise ConfigError listing every problem of
    every file (a broken file does not hide the others' problems)."""
    env = os.environ if env is None else env
    folder = folder.resolve()
    if not (folder / "systems.yaml").is_file():
        raise ConfigError([f"{folder}: no systems.yaml (is ESB_CONFIG the configuration folder?)"])
    files = read_folder(folder)  # first: a file changed while the rest is read changes it
    systems_doc = read_yaml(folder / "systems.yaml", env)
    systems_file = validate(systems_doc, SystemsFile)
    problems = list(systems_doc.problems)
    switched_off: list[str] = []
    interfaces, refs = _read_interfaces(folder, env, registry, problems, switched_off)
    problems.extend(check_systems(names(systems_doc, "systems"), refs))
    problems.extend(check_ordering(refs))
    alerts = _alerts(folder, env, problems)
    xref_checks = _xref_checks(folder, env, problems)
    mappings, broken, mapping_problems = read_mappings(folder, env)
    problems.extend(mapping_problems)
    problems.extend(check_mappings(refs, mappings, broken))
    problems.extend(check_shadows(refs, mappings, broken))
    business_keys, conditions = compile_expressions(refs, problems)
    validators = compile_schemas(folder, refs, problems)
    queries_off: list[str] = []
    queries = read_queries(folder, env, names(systems_doc, "systems"), problems, queries_off)
    if problems or systems_file is None:
        raise ConfigError(problems)
    shadows = declared(interfaces)
    routed = routing(shadows)  # as if none were promoted: esb.shadow.overlay adds that
    return GatewayConfig(
        folder=folder,
        systems=systems_file.systems,
        interfaces=interfaces,
        key_hashes=_key_hashes(systems_file.systems),
        business_keys=business_keys,
        validators=validators,
        conditions=conditions,
        mappings=mappings,
        alerts=alerts,
        xref_checks=xref_checks,
        queries=queries,
        switched_off=tuple(switched_off),
        queries_off=tuple(queries_off),
        files=files,
        shadows=shadows,
        standby=routed.standby,
        watching=routed.watching,
    )


def _xref_checks(
    folder: Path, env: Mapping[str, str], problems: list[str]
) -> dict[str, DomainCheck]:
    """The optional masterdata.yaml: each domain's sync check."""
    if not (folder / "masterdata.yaml").is_file():
        return {}
    doc = read_yaml(folder / "masterdata.yaml", env)
    parsed: MasterDataFile | None = validate(doc, MasterDataFile)
    problems.extend(doc.problems)
    return dict(parsed.checks) if parsed else {}


def _alerts(folder: Path, env: Mapping[str, str], problems: list[str]) -> AlertsConfig | None:
    """The optional alerts.yaml."""
    if not (folder / "alerts.yaml").is_file():
        return None
    doc = read_yaml(folder / "alerts.yaml", env)
    parsed: AlertsFile | None = validate(doc, AlertsFile)
    problems.extend(doc.problems)
    return parsed.alerts if parsed else None
