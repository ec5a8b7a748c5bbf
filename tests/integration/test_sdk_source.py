"""An inbound source that uses only the SDK (``tests/support/ticker_source.py``) runs in a
real gateway, both modes: its documents go through the pipeline to a target, its state
survives a restart (nothing is taken twice), and it holds its lease while it runs."""

from __future__ import annotations

import ast
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from esb.api import create_app
from esb.config.loader import load_config
from esb.connectors import ConnectorRegistry, load_registry
from esb.live import routes
from esb.settings import Settings
from esb.store.source_state import SourceStateStore
from tests.support import ticker_source
from tests.support.drops import eventually, message_count
from tests.support.gateway import delete_broker_objects, write_config
from tests.support.serving import Served
from tests.support.target import TargetServer
from tests.support.ticker_source import TickerSource

INTERFACE = """
interfaces:
  ticks:
    source: wms
    message_type: tick
    key: id
    inbound:
      - {{kind: ticker, count: {count}, every: 0.05s}}
    targets:
      erp:
        connector: {{kind: rest, url: "{url}/api/ticks"}}
"""


class Gateway:
    """A gateway whose registry has the ticker as an installed source would be."""

    def __init__(self, settings: Settings) -> None:
        found = load_registry()
        self.registry = ConnectorRegistry(found.classes, {**found.inbound, "ticker": TickerSource})
        self.settings = settings
        self.config = load_config(settings.config, self.registry, settings.config_env())
        self.served: Served | None = None

    async def start(self) -> Gateway:
        app = create_app(self.settings, config=self.config, registry=self.registry)
        self.served = await Served(app).start()
        return self

    async def stop(self) -> None:
        if self.served is not None:
            await self.served.stop()
            self.served = None

    @property
    def gateway(self) -> Any:
        assert self.served is not None
        return self.served.app.state.gateway


@pytest.fixture
async def ticker_gateway(
    mode_settings: dict[str, Any], target: TargetServer, tmp_path: Path
) -> AsyncIterator[Gateway]:
    config = write_config(tmp_path / "cfg", INTERFACE.format(count=5, url=target.url))
    settings = Settings(config=config, **{**mode_settings, "config_watch": False})
    made = Gateway(settings)
    yield await made.start()
    await made.stop()
    if not settings.embedded:
        await delete_broker_objects(settings, routes(made.config))


def test_the_source_imports_nothing_of_esb_but_the_sdk() -> None:
    tree = ast.parse(Path(ticker_source.__file__).read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert {name for name in imported if name and name.split(".")[0] == "esb"} == {"esb.sdk"}


async def test_a_source_on_the_sdk_takes_documents_in_once_across_a_restart(
    ticker_gateway: Gateway, target: TargetServer
) -> None:
    await target.wait_received(5)
    assert sorted(body["n"] for body in target.bodies("/api/ticks")) == [0, 1, 2, 3, 4]
    engine = ticker_gateway.gateway.engine
    state = SourceStateStore(engine, "ticks", "ticker", owner="test")
    assert await state.get("cursor") == 5
    assert await eventually(lambda: _released(state), what="lease released when done")

    await ticker_gateway.stop()
    await ticker_gateway.start()  # a new process would do the same: the cursor says 5
    await eventually(lambda: ticker_gateway.gateway.inbound.sources, what="source started")
    assert await eventually(lambda: _released(state), what="the source ran and ended")
    assert await message_count(ticker_gateway, "ticks") == 5
    assert len(target.received) == 5


async def _released(state: SourceStateStore) -> bool:
    return await state.holder() is None
