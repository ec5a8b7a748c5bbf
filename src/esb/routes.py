"""The route map: the loaded configuration as a graph, each edge with its live health.

Systems are the nodes. Each interface comes into the gateway from its source system by
its ways in (``http`` when the source has a key, then each inbound source: ``file-drop``,
``soap``, ``sql-poll``...); each of its targets is an edge out to the system it calls,
with the connector's kind, the mapping and the ``when`` condition. A target that writes
the gateway's own data (``xref``) goes to a node of kind ``gateway``.

The live state of an edge is the health report's row for its interface and target,
taken as it is: health is computed once, in :mod:`esb.report`. An open circuit breaker
of the target system shows as ``breaker_open`` (nothing is called then, whatever the
numbers say). Read-only: the YAML stays the source of truth.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from esb.config.checks import GATEWAY_KINDS
from esb.config.gateway import GatewayConfig
from esb.config.models import InterfaceBase

__all__ = ["edge_health", "route_map"]

Row = Mapping[str, Any]


def edge_health(status: str, breaker: str | None) -> str:
    """``ok``, ``degraded``, ``failing`` (the report's status) or ``breaker_open``."""
    return "breaker_open" if breaker == "open" else status


def ways_in(config: GatewayConfig, interface: InterfaceBase) -> list[dict[str, str]]:
    """HTTP when the source system has a key to post with, then each inbound source."""
    http = [{"kind": "http"}] if interface.source in config.key_hashes else []
    return http + [{"kind": source.kind} for source in interface.inbound]


def _mapping(config: GatewayConfig, name: str | None) -> dict[str, Any] | None:
    if name is None or name not in config.mappings:
        return None
    mapping = config.mappings.get(name)
    return {
        "name": name,
        "description": mapping.description,
        "xref": sorted(mapping.xref_domains),
    }


def _edge(
    config: GatewayConfig, name: str, target: str, row: Row, breakers: Mapping[str, str | None]
) -> dict[str, Any]:
    interface = config.interfaces[name]
    spec = interface.targets[target]
    system = interface.target_system(target)
    gateway = spec.connector.kind in GATEWAY_KINDS and spec.system is None
    breaker = None if gateway else breakers.get(system)
    return {
        "id": f"{name}/{target}",
        "interface": name,
        "target": target,
        "from": interface.source,
        "to": system,
        "to_kind": "gateway" if gateway else "system",
        "connector": spec.connector.kind,
        "mapping": _mapping(config, spec.mapping),
        "when": spec.when,
        "ordering": spec.ordering,
        "supersede": spec.supersede,
        "deadline_s": spec.deadline,
        "health": edge_health(row["status"], breaker),
        "status": row["status"],
        "breaker": breaker,
        "pending": row["pending"],
        "parked": row["parked"],
        "blocked": row["blocked"],
        "last_error": row["last_error"],
    }


def _systems(
    config: GatewayConfig, edges: list[dict[str, Any]], breakers: Mapping[str, str | None]
) -> list[dict[str, Any]]:
    """Every system of systems.yaml in its order, then the gateway's own targets."""
    nodes = [
        {
            "name": name,
            "kind": "system",
            "description": system.description,
            "calls_in": name in config.key_hashes,
            "breaker": breakers.get(name),
        }
        for name, system in config.systems.items()
    ]
    own = dict.fromkeys(e["to"] for e in edges if e["to_kind"] == "gateway")
    nodes += [
        {"name": name, "kind": "gateway", "description": "", "calls_in": False, "breaker": None}
        for name in own
    ]
    return nodes


def route_map(config: GatewayConfig, report: Row) -> dict[str, Any]:
    """The graph of ``config`` with the live state of ``report`` (a health report built
    on the same configuration: it has a row for every interface and target)."""
    rows = {(r["interface"], r["target"]): r for r in report["interfaces"]}
    breakers = {r["system"]: r["breaker"] for r in report["systems"]}
    edges = [
        _edge(config, name, target, rows[(name, target)], breakers)
        for name, interface in config.interfaces.items()
        for target in interface.targets
    ]
    interfaces = [
        {
            "name": name,
            "description": interface.description,
            "source": interface.source,
            "message_type": interface.message_type,
            "key": interface.key,
            "sources": ways_in(config, interface),
            "targets": list(interface.targets),
        }
        for name, interface in config.interfaces.items()
    ]
    return {
        "window": report["window"],
        "at": report["to"],
        "systems": _systems(config, edges, breakers),
        "interfaces": interfaces,
        "edges": edges,
        "switched_off": sorted(config.switched_off),
    }
