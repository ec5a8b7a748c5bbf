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

A large ``executemany`` of a plain ``INSERT ... VALUES (?, ...)`` runs on the thread as
multi-row ``INSERT``s instead: ``sqlite3`` takes the GIL back for every row of an
``executemany`` (it binds the row's values between steps), so with the event loop busy
checking the next page each row waited for the interpreter's switch interval (5 ms):
500 delivery rows took 50-230 ms in the gateway, and 3 s beside a busy thread, against
30 ms as one statement whose values are bound at once and whose work runs without the
GIL (issue 12).
"""

from __future__ import annotations

import asyncio
import re
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


#: Rows per multi-row statement at most (a few statement texts, cached by ``sqlite3``).
ROWS_PER_STATEMENT = 500
#: ``INSERT INTO t (a, b, c) VALUES (?, ?, 0)`` with an optional ``ON CONFLICT ...`` tail:
#: the values group (positional marks and plain constants) can be repeated.
_PLAIN_INSERT = re.compile(
    r"\s*(INSERT\s+INTO\s+[^()]+\([^()]*\)\s*VALUES\s*)(\([^()'\";]*\?[^()'\";]*\))"
    r"(\s*(?:ON\s+CONFLICT\b[^;?]*)?)\s*",
    re.IGNORECASE,
)


def _may_wait(sql: str) -> bool:
    return sql.lstrip()[:16].upper().startswith(_MAY_WAIT)


def multi_row(sql: str, rows: Sequence[Any], limit: int) -> list[tuple[str, list[Any]]] | None:
    """``rows`` of a plain positional ``INSERT`` as multi-row statements of at most
    ``limit`` values each, or None when ``sql`` is anything else (or a row is not a
    sequence of the statement's width)."""
    found = _PLAIN_INSERT.fullmatch(sql)
    if found is None:
        return None
    head, group, tail = found.groups()
    width = group.count("?")
    if any(isinstance(row, dict) or len(row) != width for row in rows):
        return None
    per = max(1, min(ROWS_PER_STATEMENT, limit // width))
    statements = []
    for start in range(0, len(rows), per):
        chunk = rows[start : start + per]
        values = [value for row in chunk for value in row]
        statements.append((f"{head}{','.join([group] * len(chunk))}{tail}", values))
    return statements


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
        self._rowcount: int | None = None  # the rows of a split executemany

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._cursor.close()

    async def execute(self, sql: str, parameters: Any = ()) -> InlineCursor:
        self._rowcount = None
        if _may_wait(sql):
            await self._connection.on_thread(self._cursor.execute, sql, parameters)
        else:
            self._cursor.execute(sql, parameters)
        return self

    async def executemany(self, sql: str, rows: Iterable[Any]) -> InlineCursor:
        self._rowcount = None
        if isinstance(rows, Sequence) and len(rows) <= MANY_ROWS_IN_PLACE and not _may_wait(sql):
            self._cursor.executemany(sql, rows)
            return self
        split = (
            multi_row(sql, rows, self._connection.variable_limit)
            if isinstance(rows, Sequence)
            else None
        )
        if split is None:
            await self._connection.on_thread(self._cursor.executemany, sql, rows)
        else:
            self._rowcount = await self._connection.on_thread(self._execute_each, split)
        return self

    def _execute_each(self, statements: list[tuple[str, list[Any]]]) -> int:
        """On the thread: the statements in order; the rows they changed."""
        changed = 0
        for sql, values in statements:
            self._cursor.execute(sql, values)
            changed += self._cursor.rowcount
        return changed

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
        return self._cursor.rowcount if self._rowcount is None else self._rowcount

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
        #: bound values one statement may hold (SQLITE_MAX_VARIABLE_NUMBER)
        self.variable_limit = conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)

    async def on_thread(self, function: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._thread, function, *args)

    async def alone(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """``work`` on the thread with the connection itself: it begins and ends its own
        transaction (a page written in one call, no hop between its statements)."""
        try:
            return await self.on_thread(work, self._conn)
        finally:
            self._committed_changes = self._conn.total_changes

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
