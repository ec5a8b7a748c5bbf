"""What each interface refers to, read from its file as written.

Cross-file checks (unknown systems, unknown mappings, expressions, schema files) run on
these rather than on the validated models, so an interface with a typo in one key is
still checked for everything else in the same run of ``esb check``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from esb.configfile.yamlfile import YamlDocument


@dataclass(frozen=True)
class TargetRefs:
    name: str
    system: str  # the system called (default: the target's name)
    mapping: str | None
    when: str | None
    ordering: object = None  # as written (validated by the model)
    supersede: object = None
    kind: str | None = None  # the connector's kind, as written
    shadow: object = None  # the shadow: block, as written


@dataclass(frozen=True)
class InterfaceRefs:
    name: str
    doc: YamlDocument
    source: str | None
    message_type: str | None
    key: str | None
    schema: str | None
    targets: tuple[TargetRefs, ...]


def _text(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) else None


def _entries(data: Any, key: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """``key``'s mapping of name -> settings, skipping what is not shaped like one."""
    found = data.get(key) if isinstance(data, dict) else None
    if isinstance(found, dict):
        for name, value in found.items():
            if isinstance(name, str) and isinstance(value, dict):
                yield name, value


def _target(name: str, data: dict[str, Any]) -> TargetRefs:
    connector = data.get("connector")
    return TargetRefs(
        name,
        _text(data, "system") or name,
        _text(data, "mapping"),
        _text(data, "when"),
        data.get("ordering"),
        data.get("supersede"),
        _text(connector, "kind") if isinstance(connector, dict) else None,
        data.get("shadow"),
    )


def interface_refs(doc: YamlDocument) -> list[InterfaceRefs]:
    """Every interface of one interfaces file, valid or not."""
    return [
        InterfaceRefs(
            name,
            doc,
            _text(data, "source"),
            _text(data, "message_type"),
            _text(data, "key"),
            _text(data, "schema"),
            tuple(_target(t, spec) for t, spec in _entries(data, "targets")),
        )
        for name, data in _entries(doc.data, "interfaces")
    ]


def names(doc: YamlDocument, key: str) -> set[str] | None:
    """The names under ``key`` (``systems``), or None when the file could not be read."""
    found = doc.data.get(key) if isinstance(doc.data, dict) else None
    return {str(n) for n in found} if isinstance(found, dict) else None
