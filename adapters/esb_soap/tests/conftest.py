"""A real SOAP server per test, and the scenario's WSDL and vectors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.soap_server import SoapServer

SCENARIO = Path(__file__).resolve().parents[3] / "tests" / "data" / "scenario"


@pytest.fixture
async def soap_server() -> AsyncIterator[SoapServer]:
    server = await SoapServer().start()
    yield server
    await server.stop()
