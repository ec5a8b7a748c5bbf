"""``esb db upgrade`` builds the schema from nothing, and the migrations match the models."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

from esb.store.tables import metadata
from tests.support.fixtures import PG_ADMIN_URL

ESB = [sys.executable, "-m", "esb"]


def diff(sync_url: str) -> list[object]:
    engine = create_engine(sync_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def upgrade(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ESB, "db", "upgrade"],
        env={**os.environ, **env},
        text=True,
        capture_output=True,
        timeout=120,
        check=False,
    )


def test_upgrade_on_empty_postgresql_and_models_agree(pg_url: str) -> None:
    name = f"esb_mig_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
        result = upgrade({"ESB_DATABASE_URL": url})
        assert result.returncode == 0, result.stderr
        assert "database at head" in result.stdout
        assert diff_pg(url) == []
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def diff_pg(url: str) -> list[object]:
    """Compare over asyncpg (the driver we ship) through the async engine's sync facade."""
    from sqlalchemy.ext.asyncio import create_async_engine

    async def run() -> list[object]:
        engine = create_async_engine(url.replace("postgresql://", "postgresql+asyncpg://"))
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(
                    lambda c: list(
                        compare_metadata(
                            MigrationContext.configure(c, opts={"compare_type": True}), metadata
                        )
                    )
                )
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_upgrade_on_empty_sqlite_and_models_agree(tmp_path: Path) -> None:
    result = upgrade({"ESB_DATA_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "esb.db").exists()
    assert diff(f"sqlite:///{tmp_path / 'esb.db'}") == []
