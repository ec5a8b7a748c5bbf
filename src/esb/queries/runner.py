"""Running a named query: a bounded pool per database, a read-only transaction, a
statement timeout the database itself enforces, at most ``row_limit`` rows.

PostgreSQL: ``SET TRANSACTION READ ONLY`` and ``SET LOCAL statement_timeout``;
MariaDB: ``max_statement_time`` (MySQL: ``max_execution_time``) and
``START TRANSACTION READ ONLY``. The transaction is always rolled back. An asyncio
timeout a little past the statement timeout is the backstop for a database that does
not stop on its own. Pools are made on first use and closed on a reload and at stop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncmy.errors
import asyncpg
import structlog
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from esb.config.queries import QueryConfig
from esb.errors import QueryDatabaseUnavailable, QueryFailed, QueryTimedOut
from esb.sdk._databases import async_database_url
from esb.sdk._text import shorten

log = structlog.get_logger(__name__)

#: Connections per database: queries are reports, not traffic; a burst waits its turn.
POOL_SIZE = 4
#: Seconds a query waits for a free connection of its pool, or to connect.
POOL_WAIT_S = 5.0
CONNECT_TIMEOUT_S = 5
#: The backstop past the statement timeout.
GRACE_S = 2.0
#: Error codes meaning "stopped by the statement timeout".
_PG_CANCELLED = "57014"
_MYSQL_TIMEOUTS = {1969, 3024}  # MariaDB max_statement_time, MySQL max_execution_time


#: What the database (through SQLAlchemy, or the driver directly while a server-side
#: cursor is read) raises: a database's answer, never a bug of ours.
DATABASE_ERRORS = (
    sa_exc.DBAPIError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncmy.errors.Error,
    OSError,
)


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: Sequence[Sequence[Any]]
    truncated: bool  # more rows than row_limit: only the first row_limit are here


def _connect_args(url: str) -> dict[str, Any]:
    if url.startswith("postgresql+asyncpg"):
        return {"timeout": CONNECT_TIMEOUT_S, "server_settings": {"application_name": "esb-query"}}
    if url.startswith("mysql+asyncmy"):
        return {"connect_timeout": CONNECT_TIMEOUT_S}
    return {}


def _driver_error(error: BaseException) -> BaseException:
    """The driver's own exception under SQLAlchemy's wrapping (and its adapter's)."""
    found = getattr(error, "orig", None) or error
    return found.__cause__ if isinstance(found.__cause__, asyncpg.PostgresError) else found


def _timed_out(error: BaseException) -> bool:
    orig = _driver_error(error)
    if getattr(orig, "sqlstate", None) == _PG_CANCELLED:
        return True
    args: tuple[Any, ...] = tuple(getattr(orig, "args", ()))
    return len(args) > 0 and args[0] in _MYSQL_TIMEOUTS


def _connection_lost(error: BaseException) -> bool:
    if isinstance(error, sa_exc.DBAPIError):
        return bool(error.connection_invalidated)
    return isinstance(error, OSError | asyncpg.ConnectionDoesNotExistError)


def _reason(error: BaseException) -> str:
    """The database's own words, first line, without SQLAlchemy's decoration."""
    orig = _driver_error(error)
    words = str(orig).strip().splitlines()
    return shorten(words[0] if words else type(orig).__name__)


class QueryRunner:
    """Runs queries; one pool per database URL, shared by the queries naming it."""

    def __init__(self) -> None:
        self._engines: dict[str, AsyncEngine] = {}

    def _engine(self, database: str) -> AsyncEngine:
        url = async_database_url(database)
        engine = self._engines.get(url)
        if engine is None:
            engine = create_async_engine(
                url,
                pool_size=POOL_SIZE,
                max_overflow=0,
                pool_timeout=POOL_WAIT_S,
                pool_pre_ping=True,
                pool_recycle=1800,
                connect_args=_connect_args(url),
            )
            self._engines[url] = engine
        return engine

    async def run(self, name: str, query: QueryConfig, values: dict[str, Any]) -> QueryResult:
        """The query's rows; QueryDatabaseUnavailable, QueryTimedOut or QueryFailed."""
        engine = self._engine(query.database)
        try:
            async with asyncio.timeout(query.timeout + POOL_WAIT_S + GRACE_S):
                connection = engine.connect()
                try:
                    await connection.start()
                except (sa_exc.DBAPIError, sa_exc.TimeoutError, OSError, TimeoutError) as exc:
                    log.warning("query database unavailable", query=name, error=_reason(exc))
                    raise QueryDatabaseUnavailable(
                        f"the database of query {name!r} cannot be reached: {_reason(exc)}"
                    ) from exc
                try:
                    return await self._run(connection, name, query, values)
                finally:
                    await connection.close()
        except TimeoutError as exc:
            raise QueryTimedOut(
                f"query {name!r} did not finish within its statement timeout ({query.timeout:g}s)"
            ) from exc

    async def _run(
        self, connection: AsyncConnection, name: str, query: QueryConfig, values: dict[str, Any]
    ) -> QueryResult:
        try:
            await self._read_only(connection, query.timeout)
            result = await connection.stream(text(query.sql.strip().rstrip(";")), values)
            try:
                rows = list(await result.fetchmany(query.row_limit + 1))
                columns = list(result.keys())
            finally:
                await result.close()
            return QueryResult(columns, rows[: query.row_limit], len(rows) > query.row_limit)
        except DATABASE_ERRORS as exc:
            if _timed_out(exc):
                raise QueryTimedOut(
                    f"query {name!r} was stopped by its statement timeout ({query.timeout:g}s)"
                ) from exc
            if _connection_lost(exc):
                raise QueryDatabaseUnavailable(
                    f"the database of query {name!r} went away: {_reason(exc)}"
                ) from exc
            log.warning("query refused by its database", query=name, error=_reason(exc))
            raise QueryFailed(f"the database refused query {name!r}: {_reason(exc)}") from exc
        finally:
            await _rollback(connection)

    @staticmethod
    async def _read_only(connection: AsyncConnection, timeout: float) -> None:
        """Open the transaction read-only, with the database's own statement timeout."""
        dialect = connection.dialect.name
        if dialect == "postgresql":
            await connection.execute(text("SET TRANSACTION READ ONLY"))
            await connection.execute(text(f"SET LOCAL statement_timeout = {int(timeout * 1000)}"))
        elif dialect in ("mysql", "mariadb"):
            if getattr(connection.dialect, "is_mariadb", False):
                await connection.exec_driver_sql(f"SET SESSION max_statement_time = {timeout:.3f}")
            else:
                await connection.exec_driver_sql(
                    f"SET SESSION max_execution_time = {int(timeout * 1000)}"
                )
            await connection.exec_driver_sql("START TRANSACTION READ ONLY")
        # other databases: the asyncio backstop, and a database user that may only read

    async def reset(self) -> None:
        """Close every pool (a reload may have changed a URL or removed a query)."""
        engines, self._engines = self._engines, {}
        for engine in engines.values():
            await engine.dispose()

    async def aclose(self) -> None:
        await self.reset()


async def _rollback(connection: AsyncConnection) -> None:
    try:
        await connection.rollback()
    except DATABASE_ERRORS:  # the connection is gone: the pool drops it
        await connection.invalidate()
