"""One harness per connector kind: every test of the suite runs against each."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from esb.connectors import ConnectorRegistry, load_registry
from tests.contract.harnesses import HARNESSES, Harness


@pytest.fixture(scope="session")
def registry() -> ConnectorRegistry:
    """The connectors installed through the ``esb.connectors`` entry points, built-ins too."""
    return load_registry()


@pytest.fixture(params=sorted(HARNESSES))
async def harness(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    made: Harness = HARNESSES[request.param](tmp_path)
    await made.start()
    yield made
    await made.stop()
