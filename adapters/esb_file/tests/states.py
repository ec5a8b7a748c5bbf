"""The file drop's state on the test's database, as the gateway gives it to the source."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from esb.sdk import StateStore
from esb.store.source_state import SourceStateStore


def database_state(engine: AsyncEngine, interface: str = "shipment") -> StateStore:
    return SourceStateStore(engine, interface, "file-drop")
