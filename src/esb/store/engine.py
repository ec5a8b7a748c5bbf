"""Open the database (PostgreSQL or embedded SQLite) and translate its failures at the edge."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from esb.errors import StoreUnavailable
from esb.settings import Settings
from esb.store.checkpoint import AUTOCHECKPOINT_PAGES


def utcnow() -> datetime:
    return datetime.now(UTC)


def _sqlite_pragmas(engine: AsyncEngine, synchronous: str) -> None:
    """WAL + the chosen fsync level; we emit BEGIN ourselves so a transaction is a transaction."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "PRAGMA journal_mode=WAL",
            f"PRAGMA synchronous={synchronous}",
            "PRAGMA busy_timeout=10000",
            "PRAGMA foreign_keys=ON",
            f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}",  # see store.checkpoint
        ):
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_engine(settings: Settings) -> AsyncEngine:
    """One engine per process. SQLite gets a single connection: it has one writer anyway."""
    url = settings.effective_database_url
    if url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, pool_size=1, max_overflow=0, pool_timeout=60)
        _sqlite_pragmas(engine, settings.sqlite_synchronous)
        return engine
    return create_async_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        pool_timeout=settings.db_timeout,
        pool_recycle=1800,
        connect_args={
            "timeout": settings.db_timeout,
            "command_timeout": settings.db_timeout * 6,
            "server_settings": {"application_name": "esb"},
        },
    )


def is_unavailable(exc: BaseException) -> bool:
    """True for 'the database is not there' failures, False for bugs and constraint errors."""
    if isinstance(exc, sa_exc.IntegrityError | sa_exc.ProgrammingError | sa_exc.DataError):
        return False
    return isinstance(
        exc,
        sa_exc.DBAPIError | sa_exc.TimeoutError | OSError | TimeoutError | asyncio.TimeoutError,
    )


@asynccontextmanager
async def transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """``engine.begin()`` whose connection failures surface as StoreUnavailable."""
    try:
        async with engine.begin() as conn:
            yield conn
    except StoreUnavailable:
        raise
    except Exception as exc:
        if is_unavailable(exc):
            raise StoreUnavailable(f"database unavailable: {type(exc).__name__}") from exc
        raise
