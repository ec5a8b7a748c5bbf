"""The embedded store's writer connection: SQLite called on the event loop's own thread,
except for the calls that may wait.

``aiosqlite`` runs every call (each statement, each fetch, each cursor, BEGIN and COMMIT)
on its own thread and wakes the event loop for its answer: about forty round trips
between threads for each accepted and delivered message, most of the embedded mode's
CPU per message (docs/performance.md, issue 15). The statements themselves take
microseconds. This connection offers the same asynchronous interface to SQLAlchemy's
``aiosqlite`` dialect, but runs a call on a thread only when it may wait: ``BEGIN``
(the write lock, held by another process for up to ``busy_timeout``), ``COMMIT`` (the
fsync), ``DELETE`` and schema statements (whole tables), and a large ``executemany``
(a page of a staging table, whose SQLite work then overlaps the next page's checks).
Everything else runs in place, in order, on a connection that only this writer uses.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

#: An ``executemany`` of more rows than this goes to the thread.
MANY_ROWS_IN_PLACE = 64
#: Statements that take a lock, sync the disk or may touch a whole table (a deferred
#: ``BEGIN`` takes nothing: a reader's snapshot starts in place).
_MAY_WAIT = (
    "BEGIN IMMEDIATE", "BEGIN EXCLUSIVE", "COMMIT", "END", "DELETE", "CREATE", "DROP",
    "ALTER", "VACUUM", "ANALYZE", "PRAGMA",
)  # fmt: skip


def _may_wait(sql: str) -> bool:
    return sql.lstrip()[:16].upper().startswith(_MAY_WAIT)


class _InPlace:
    """What SQLAlchemy's adapter puts in ``aiosqlite``'s queue (setting the isolation
    level): run at once."""

    @staticmethod
    def put_nowait(item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as exc:
            future.set_exception(exc)


class InlineCursor:
    """An ``aiosqlite.Cursor`` look-alike over one ``sqlite3.Cursor``."""

    def __init__(self, connection: InlineConnection, cursor: sqlite3.Cursor) -> None:
        self._connection = connection
        self._cursor = cursor

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._cursor.close()

    async def execute(self, sql: str, parameters: Any = ()) -> InlineCursor:
        if _may_wait(sql):
            await self._connection.on_thread(self._cursor.execute, sql, parameters)
        else:
            self._cursor.execute(sql, parameters)
        return self

    async def executemany(self, sql: str, rows: Iterable[Any]) -> InlineCursor:
        if not isinstance(rows, Sequence) or len(rows) > MANY_ROWS_IN_PLACE or _may_wait(sql):
            await self._connection.on_thread(self._cursor.executemany, sql, rows)
        else:
            self._cursor.executemany(sql, rows)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(self._cursor.arraysize if size is None else size)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    def __aiter__(self) -> InlineCursor:
        return self

    async def __anext__(self) -> Any:
        row = self._cursor.fetchone()
        if row is None:
            raise StopAsyncIteration
        return row

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class InlineConnection:
    """An ``aiosqlite.Connection`` look-alike: in place, or on its own thread for a call
    that may wait (never both at once: SQLAlchemy awaits each call before the next)."""

    def __init__(self, conn: sqlite3.Connection, thread: ThreadPoolExecutor) -> None:
        self._conn = conn
        self._connection: sqlite3.Connection | None = conn  # the adapter checks it
        self._thread = thread
        self._tx = _InPlace()
        self._committed_changes = conn.total_changes

    async def on_thread(self, function: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._thread, function, *args)

    def cursor(self) -> InlineCursor:
        return InlineCursor(self, self._conn.cursor())

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    async def commit(self) -> None:
        """On the thread when rows changed (the fsync); a read's end in place."""
        if not self._conn.in_transaction:
            return
        if self._conn.total_changes == self._committed_changes:
            self._conn.commit()
            return
        await self.on_thread(self._conn.commit)
        self._committed_changes = self._conn.total_changes

    async def rollback(self) -> None:
        self._conn.rollback()
        self._committed_changes = self._conn.total_changes  # nothing left to sync

    async def create_function(self, *args: Any, **kw: Any) -> None:
        self._conn.create_function(*args, **kw)

    async def close(self) -> None:
        if self._connection is None:
            return
        self._connection = None
        try:
            await self.on_thread(self._conn.close)
        finally:
            self._thread.shutdown(wait=False)

    def stop(self) -> None:
        """Terminate: close without waiting (the pool gave up on this connection)."""
        self._connection = None
        self._thread.submit(self._conn.close)
        self._thread.shutdown(wait=False)


async def connect(path: Path) -> InlineConnection:
    """Open ``path`` on the connection's own thread (opening may wait for a lock)."""
    thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="esb-sqlite-writer")
    conn = await asyncio.get_running_loop().run_in_executor(
        thread, lambda: sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    )
    return InlineConnection(conn, thread)
