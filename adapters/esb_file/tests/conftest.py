"""The ledger's database in the test's mode: SQLite (migrated here) or PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from esb.settings import Settings
from esb.store.engine import create_engine
from esb.store.migrate import upgrade


@pytest.fixture
async def engine(mode_settings: dict[str, Any], tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    settings = Settings(config=tmp_path, **mode_settings)
    made = create_engine(settings)
    if settings.embedded:
        await upgrade(settings.effective_database_url)
    yield made
    await made.dispose()
