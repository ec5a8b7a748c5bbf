"""Find connectors and inbound sources through their entry-point groups.

The entry-point name IS the kind: a plugin states its name once, in its
``pyproject.toml``. The registry gives each config model the ``kind: Literal[name]``
field that tells the members of the interfaces file's union apart, so neither the
config model nor the class writes the name again. A plugin that still writes it
must write the entry point's name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import entry_points
from typing import Any, Literal, TypeVar, get_args, get_origin

from pydantic import BaseModel, create_model

from esb.connectors.base import Connector, ConnectorConfig, ConnectorContext
from esb.connectors.core import CoreServices, core_connectors, is_core
from esb.connectors.inbound import INBOUND_GROUP, InboundConfig, InboundSource
from esb.errors import ConfigError
from esb.sdk import SourceContext

ENTRY_POINT_GROUP = "esb.connectors"

ConnectorFactory = Callable[[Any, ConnectorContext], Connector]
M = TypeVar("M", bound=BaseModel)


def stated_kind(model: type[BaseModel]) -> str | None:
    """The kind a config model writes itself (``kind: Literal["rest"]``), if any."""
    kind = model.model_fields.get("kind")
    if kind is None or get_origin(kind.annotation) is not Literal:
        return None
    values = get_args(kind.annotation)
    return str(values[0]) if len(values) == 1 else repr(values)


@cache
def _with_kind(model: type[M], kind: str) -> type[M]:
    """``model`` with ``kind: Literal[kind]``; one class per pair, so that configurations
    loaded again (a reload) compare equal."""
    literal: Any = Literal
    named: type[M] = create_model(
        model.__name__,
        __base__=model,
        __module__=model.__module__,
        __doc__=model.__doc__,
        kind=(literal[kind], kind),
    )
    return named


def named_config(what: str, kind: str, cls: Any, base: type[M]) -> type[M]:
    """The config model of plugin ``cls`` registered as ``kind``, carrying that kind."""
    config = getattr(cls, "Config", None)
    if not (isinstance(config, type) and issubclass(config, base)):
        raise ConfigError([f"{what} {kind!r}: class {cls!r} has no Config model"])
    said = getattr(cls, "kind", kind)
    if said != kind:
        raise ConfigError([f"{what} {kind!r}: class says kind={said!r}"])
    written = stated_kind(config)
    if written == kind:
        return config
    if written is not None:
        raise ConfigError([f"{what} {kind!r}: its Config says kind={written}"])
    return _with_kind(config, kind)


@dataclass(frozen=True)
class ConnectorRegistry:
    """Connector classes (outbound) and inbound source classes by kind, and the config
    model of each with its kind (what the interfaces file's union is built from)."""

    classes: Mapping[str, type[Any]]
    inbound: Mapping[str, type[Any]] = field(default_factory=dict)
    configs: Mapping[str, type[ConnectorConfig]] = field(init=False, repr=False)
    inbound_configs: Mapping[str, type[InboundConfig]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        configs = {
            k: named_config("connector", k, c, ConnectorConfig) for k, c in self.classes.items()
        }
        sources = {k: named_config("source", k, c, InboundConfig) for k, c in self.inbound.items()}
        object.__setattr__(self, "configs", configs)
        object.__setattr__(self, "inbound_configs", sources)

    def config_models(self) -> list[type[ConnectorConfig]]:
        return list(self.configs.values())

    def inbound_models(self) -> list[type[InboundConfig]]:
        return list(self.inbound_configs.values())

    def connector_config(self, kind: str, options: Mapping[str, Any]) -> ConnectorConfig:
        """Validate a connector's options (``kind`` may be left out)."""
        return self.configs[kind].model_validate({**options, "kind": kind})

    def source_config(self, kind: str, options: Mapping[str, Any]) -> InboundConfig:
        """Validate an inbound source's options (``kind`` may be left out)."""
        return self.inbound_configs[kind].model_validate({**options, "kind": kind})

    def build(
        self,
        config: ConnectorConfig,
        context: ConnectorContext,
        core: CoreServices | None = None,
    ) -> Connector:
        """A connector for one target; a core one (``esb.connectors.core``) gets ``core``."""
        kind = _kind_of(config)
        cls = self.classes[kind]
        if not is_core(cls):
            plugin: Connector = cls(config, context)
            return plugin
        if core is None:
            raise ConfigError(
                [f"connector {kind!r} writes the gateway's own data: it runs only in a gateway"]
            )
        connector: Connector = cls(config, context, core)
        return connector

    def build_inbound(self, config: InboundConfig, context: SourceContext) -> InboundSource:
        source: InboundSource = self.inbound[_kind_of(config)](config, context)
        return source


def _kind_of(config: BaseModel) -> str:
    return str(config.kind)  # type: ignore[attr-defined]  # every registered model has it


def _load(group: str) -> dict[str, type[Any]]:
    return {ep.name: ep.load() for ep in entry_points(group=group)}


def load_registry(
    extra: Mapping[str, type[Any]] | None = None,
    extra_inbound: Mapping[str, type[Any]] | None = None,
) -> ConnectorRegistry:
    """The gateway's own connectors, all installed connectors and sources, plus ``extra``
    ones (tests register their own this way); the entry-point name is each one's kind."""
    classes = {**_load(ENTRY_POINT_GROUP), **core_connectors(), **(extra or {})}
    inbound = {**_load(INBOUND_GROUP), **(extra_inbound or {})}
    return ConnectorRegistry(classes, inbound)
