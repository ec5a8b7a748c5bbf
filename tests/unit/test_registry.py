"""A plugin's kind is its entry-point name, stated once: the registry gives its config the kind.

A class or config that still states a kind (older plugins) must state the same name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal

import pytest

from esb.config.models import interfaces_file_model
from esb.connectors import load_registry
from esb.errors import ConfigError
from esb.sdk import ConnectorConfig, ConnectorContext, Delivered, DeliveryRequest, Outcome


class QuietConfig(ConnectorConfig):
    """Options of a connector that never writes its kind."""

    level: int = 1


class QuietConnector:
    Config = QuietConfig

    def __init__(self, config: QuietConfig, context: ConnectorContext) -> None:
        self.config = config

    async def deliver(self, request: DeliveryRequest) -> Outcome:
        return Delivered(detail={"level": self.config.level})

    async def aclose(self) -> None:
        return None


def interfaces(connector: dict[str, Any]) -> dict[str, Any]:
    target = {"connector": connector}
    return {"interfaces": {"orders": {"source": "erp", "message_type": "order",
                                      "targets": {"mes": target}}}}  # fmt: skip


def test_the_entry_point_name_becomes_the_kind() -> None:
    registry = load_registry({"quiet": QuietConnector})
    model = registry.configs["quiet"]
    assert issubclass(model, QuietConfig)
    assert model.model_json_schema()["properties"]["kind"]["const"] == "quiet"
    assert model.model_json_schema()["description"] == QuietConfig.__doc__
    config = registry.connector_config("quiet", {"level": 3})
    connector = registry.build(config, ConnectorContext(Path("."), "mes", "orders"))
    assert isinstance(connector, QuietConnector)
    assert connector.config.level == 3


def test_the_interfaces_file_accepts_the_kind_and_tells_kinds_apart() -> None:
    registry = load_registry({"quiet": QuietConnector})
    model = interfaces_file_model(registry.config_models(), registry.inbound_models())
    loaded = model.model_validate(interfaces({"kind": "quiet", "level": 2}))
    connector = loaded.interfaces["orders"].targets["mes"].connector
    assert isinstance(connector, QuietConfig)
    assert connector.kind == "quiet"  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="does not match any of the expected tags"):
        model.model_validate(interfaces({"kind": "quit", "level": 2}))


def test_loading_again_gives_the_same_models_so_configs_compare_equal() -> None:
    first, second = (
        load_registry({"quiet": QuietConnector}),
        load_registry({"quiet": QuietConnector}),
    )
    assert first.configs["quiet"] is second.configs["quiet"]
    assert first.connector_config("quiet", {}) == second.connector_config("quiet", {})


def test_a_built_in_that_still_states_its_kind_keeps_its_model() -> None:
    registry = load_registry()
    for kind, cls in registry.classes.items():
        if "kind" in vars(cls.Config).get("__annotations__", {}):
            assert registry.configs[kind] is cls.Config


class LoudConfig(ConnectorConfig):
    kind: Literal["loud"] = "loud"


class LoudConnector(QuietConnector):
    Config = LoudConfig  # type: ignore[assignment]


class NamedConnector(QuietConnector):
    kind: ClassVar[str] = "named"


@pytest.mark.parametrize(
    ("cls", "stated", "said"),
    [
        (LoudConnector, "loud", "its Config says kind=loud"),
        (NamedConnector, "named", "class says kind='named'"),
    ],
)
def test_a_kind_stated_twice_must_agree_with_the_entry_point(
    cls: type, stated: str, said: str
) -> None:
    with pytest.raises(ConfigError, match=said):
        load_registry({"other": cls})
    assert stated in load_registry({stated: cls}).configs


def test_a_plugin_without_a_config_model_is_refused() -> None:
    class Bare:
        pass

    with pytest.raises(ConfigError, match="has no Config model"):
        load_registry({"bare": Bare})
