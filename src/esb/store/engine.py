"""Open the database (PostgreSQL or embedded SQLite) and translate its failures at the edge."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import event, make_url
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from esb.errors import StoreRefused, StoreUnavailable
from esb.settings import Settings
from esb.store import inline_sqlite
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
            "PRAGMA busy_timeout=10000",  # first: the next pragmas may wait for a lock too
            "PRAGMA journal_mode=WAL",
            f"PRAGMA synchronous={synchronous}",
            "PRAGMA foreign_keys=ON",
            f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}",  # see store.checkpoint
        ):
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_engine(url: str, connections: int, *, in_place: bool) -> AsyncEngine:
    """A pool of SQLite connections; ``in_place`` ones run SQLite on the event loop's own
    thread (see ``inline_sqlite``), the others through aiosqlite's thread."""
    path = Path(make_url(url).database or "")
    return create_async_engine(
        url,
        pool_size=connections,
        max_overflow=0,
        pool_timeout=60,
        **({"async_creator": lambda: inline_sqlite.connect(path)} if in_place else {}),
    )


def create_read_engine(
    settings: Settings, writer: AsyncEngine, *, connections: int = 2, in_place: bool = False
) -> AsyncEngine:
    """Connections for reads that need no write lock. SQLite: read-only connections beside
    the one writer (in WAL mode a reader neither waits for the writer nor holds it up), so
    a read no longer queues behind, or delays, an accept's commit; ``in_place`` for short
    keyed reads (see ``inline_sqlite``), never for a report that may scan a table.
    PostgreSQL: the writer's own pool, whose connections already read concurrently."""
    if writer.dialect.name != "sqlite":
        return writer
    engine = _sqlite_engine(settings.effective_database_url, connections, in_place=in_place)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in ("PRAGMA busy_timeout=10000", "PRAGMA query_only=ON"):
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")  # deferred: one snapshot, no write lock

    return engine


def create_engine(settings: Settings) -> AsyncEngine:
    """One engine per process. SQLite gets a single connection: it has one writer anyway."""
    url = settings.effective_database_url
    if url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = _sqlite_engine(url, 1, in_place=True)
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


#: SQLSTATE classes that mean "the database is not there right now": connection
#: exceptions, insufficient resources, operator intervention (shutdown, cannot connect
#: now), transaction rollback (serialization, deadlock), system errors.
_UNAVAILABLE_CLASSES = frozenset({"08", "53", "57", "40", "58"})
#: Data exceptions (value too long, NUL in text, numeric out of range...): refused data.
_REFUSED_CLASS = "22"


def _sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a failure through SQLAlchemy, or of asyncpg's own (driver_connection)."""
    failure = exc if isinstance(exc, asyncpg.PostgresError) else getattr(exc, "orig", None)
    state = getattr(failure, "sqlstate", None)
    return state if isinstance(state, str) and len(state) == 5 else None


def is_unavailable(exc: BaseException) -> bool:
    """True for 'the database is not there' failures, False for refused data and bugs."""
    if isinstance(exc, OSError | TimeoutError | sa_exc.TimeoutError):
        return True
    if isinstance(exc, asyncpg.PostgresError):
        state = _sqlstate(exc)
        return state is not None and state[:2] in _UNAVAILABLE_CLASSES
    if not isinstance(exc, sa_exc.DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    state = _sqlstate(exc)
    if state is not None:
        return state[:2] in _UNAVAILABLE_CLASSES
    # no SQLSTATE: SQLite ("database is locked", disk I/O) or the driver lost its link
    return not isinstance(exc, sa_exc.IntegrityError | sa_exc.ProgrammingError | sa_exc.DataError)


def is_refused(exc: BaseException) -> bool:
    """True when the database refused a value of the data itself (retrying cannot help)."""
    if isinstance(exc, sa_exc.DataError):
        return True
    if isinstance(exc, sa_exc.DBAPIError | asyncpg.PostgresError):
        state = _sqlstate(exc)
        return state is not None and state[:2] == _REFUSED_CLASS
    return isinstance(exc, UnicodeEncodeError)  # a lone surrogate on its way to the driver


def _unavailable(exc: Exception) -> StoreUnavailable:
    return StoreUnavailable(f"database unavailable: {type(exc).__name__}")


def translate(exc: Exception) -> Exception:
    """The store's failure as the gateway's error (the exception itself for a bug)."""
    if is_unavailable(exc):
        return _unavailable(exc)
    if is_refused(exc):
        detail = str(getattr(exc, "orig", None) or exc).splitlines()[0][:300]
        return StoreRefused(f"the database refused a value: {detail}")
    return exc


@contextmanager
def translated() -> Iterator[None]:
    """The store's failures as StoreUnavailable (the database is away) or StoreRefused (it
    cannot hold a value of this data); anything else (a bug) as it is."""
    try:
        yield
    except (StoreUnavailable, StoreRefused):
        raise
    except Exception as exc:
        translation = translate(exc)
        if translation is exc:
            raise
        raise translation from exc


@asynccontextmanager
async def transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """``engine.begin()`` with its failures ``translated``."""
    with translated():
        async with engine.begin() as conn:
            yield conn


@asynccontextmanager
async def statements(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection for statements that stand alone: on PostgreSQL each commits by itself
    (no BEGIN/COMMIT round trips: a third of the time for a read); on SQLite, whose
    transactions the gateway drives itself, an ordinary transaction."""
    if engine.dialect.name != "postgresql":
        async with transaction(engine) as conn:
            yield conn
        return
    with translated():
        async with engine.connect() as conn:
            yield await conn.execution_options(isolation_level="AUTOCOMMIT")


@asynccontextmanager
async def driver_connection(engine: AsyncEngine) -> AsyncIterator[asyncpg.Connection]:
    """A pooled PostgreSQL connection's own asyncpg connection, for a statement run so
    often that SQLAlchemy's execution and result layers are most of its cost (the check
    before each call to a target: 790 µs of CPU through them, 130 µs without). No
    transaction is opened, so each statement commits by itself. Failures are translated
    like every other store failure; one that closed the connection takes it out of the
    pool (SQLAlchemy cannot see it) and is StoreUnavailable."""
    with translated():
        async with engine.connect() as conn:
            driver: asyncpg.Connection = (await conn.get_raw_connection()).driver_connection
            try:
                yield driver
            except Exception as exc:
                if not driver.is_closed():
                    raise
                await conn.invalidate(exc)
                raise _unavailable(exc) from exc
