"""A started server's objects are frozen out of the collector's full passes (issue 12)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
import uvicorn

from esb.heap import YOUNG_THRESHOLD, freeze_startup_objects
from esb.serving import GatewayServer


@pytest.fixture(autouse=True)
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()  # the rest of the test run is collected as usual
    gc.set_threshold(*thresholds)


class Cycle:
    def __init__(self) -> None:
        self.me = self


def test_the_start_ups_garbage_is_collected_and_the_rest_frozen() -> None:
    cycle = Cycle()
    gone = weakref.ref(cycle)
    del cycle  # garbage only the cycle collector frees
    freeze_startup_objects()
    assert gc.get_freeze_count() > 0
    assert gone() is None  # freed, not frozen
    kept_out = gc.get_freeze_count()
    gc.collect()
    assert gc.get_freeze_count() == kept_out  # a full pass leaves them alone
    assert gc.get_threshold()[0] == YOUNG_THRESHOLD


async def app(scope: dict[str, Any], receive: Callable[[], Awaitable[Any]], send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})


async def test_the_server_freezes_once_started() -> None:
    server = GatewayServer(uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None))
    server.config.load()
    server.lifespan = server.config.lifespan_class(server.config)
    assert gc.get_freeze_count() == 0
    await server.startup()
    try:
        assert server.started
        assert gc.get_freeze_count() > 0
    finally:
        await server.shutdown()
