"""Schema migrations with Alembic; the scripts ship inside the package (esb/migrations)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

from esb.errors import StoreUnavailable

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["url"] = url
    return config


def upgrade_sync(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


async def upgrade(url: str, revision: str = "head") -> None:
    """Run the migrations in a thread: Alembic's env drives its own event loop."""
    await asyncio.to_thread(upgrade_sync, url, revision)


def head_revision(url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())


async def ensure_schema(engine: AsyncEngine, url: str, *, auto: bool) -> None:
    """Embedded: migrate on start. Production: refuse to run on an old schema."""
    if auto:
        if await current_revision(engine) != head_revision(url):
            await upgrade(url)
        return
    current, head = await current_revision(engine), head_revision(url)
    if current != head:
        raise StoreUnavailable(
            f"database schema is at {current or 'nothing'}, code expects {head}: "
            "run `esb db upgrade`"
        )
