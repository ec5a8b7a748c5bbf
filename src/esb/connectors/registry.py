"""Find connectors through the ``esb.connectors`` entry-point group."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

from esb.connectors.base import Connector, ConnectorConfig, ConnectorContext
from esb.connectors.inbound import (
    INBOUND_GROUP,
    InboundConfig,
    InboundContext,
    InboundSource,
    check_inbound,
)
from esb.errors import ConfigError

ENTRY_POINT_GROUP = "esb.connectors"

ConnectorFactory = Callable[[Any, ConnectorContext], Connector]


@dataclass(frozen=True)
class ConnectorRegistry:
    """Connector classes (outbound) and inbound source classes by kind; each carries its
    own ``Config`` model."""

    classes: Mapping[str, type[Any]]
    inbound: Mapping[str, type[Any]] = field(default_factory=dict)

    def config_models(self) -> list[type[ConnectorConfig]]:
        return [cls.Config for cls in self.classes.values()]

    def inbound_models(self) -> list[type[InboundConfig]]:
        return [cls.Config for cls in self.inbound.values()]

    def build(self, config: ConnectorConfig, context: ConnectorContext) -> Connector:
        connector: Connector = self.classes[config.kind](config, context)
        return connector

    def build_inbound(self, config: InboundConfig, context: InboundContext) -> InboundSource:
        source: InboundSource = self.inbound[config.kind](config, context)
        return source


def _check(kind: str, cls: Any) -> None:
    config = getattr(cls, "Config", None)
    if not (isinstance(config, type) and issubclass(config, ConnectorConfig)):
        raise ConfigError([f"connector {kind!r}: class {cls!r} has no Config model"])
    if getattr(cls, "kind", None) != kind:
        raise ConfigError([f"connector {kind!r}: class says kind={getattr(cls, 'kind', None)!r}"])


def load_registry(extra: Mapping[str, type[Any]] | None = None) -> ConnectorRegistry:
    """All installed connectors, plus ``extra`` ones (tests register their own this way)."""
    classes: dict[str, type[Any]] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        classes[ep.name] = ep.load()
    classes.update(extra or {})
    for kind, cls in classes.items():
        _check(kind, cls)
    inbound = {ep.name: ep.load() for ep in entry_points(group=INBOUND_GROUP)}
    for kind, cls in inbound.items():
        try:
            check_inbound(kind, cls)
        except TypeError as exc:
            raise ConfigError([str(exc)]) from exc
    return ConnectorRegistry(classes, inbound)
