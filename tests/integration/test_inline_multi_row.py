"""A large ``executemany`` of a plain INSERT runs as multi-row statements on the writer's
thread: ``sqlite3`` takes the GIL back for every row of an ``executemany``, so beside a
busy event loop each row waited for the interpreter's switch interval (issue 12)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from esb.store.inline_sqlite import InlineConnection, multi_row

INSERT = "INSERT INTO t (k, v, n) VALUES (?, ?, 0) ON CONFLICT (k) DO NOTHING"


def test_a_plain_insert_is_split_by_the_bound_values_a_statement_may_hold() -> None:
    rows = [(n, f"v{n}") for n in range(7)]
    split = multi_row(INSERT, rows, limit=6)
    assert split is not None
    assert [len(values) for _, values in split] == [6, 6, 2]
    assert split[0][0] == (
        "INSERT INTO t (k, v, n) VALUES (?, ?, 0),(?, ?, 0),(?, ?, 0) ON CONFLICT (k) DO NOTHING"
    )
    assert split[2][1] == [6, "v6"]


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO t (k, v) VALUES (?, ?) RETURNING k",  # each row's answer is wanted
        "INSERT INTO t (k, v) SELECT ?, ?",
        "INSERT INTO t (k, v) VALUES ('(', ?)",  # a quoted literal: not parsed here
        "UPDATE t SET v = ? WHERE k = ?",
        "INSERT INTO t (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = ?",
    ],
)
def test_anything_but_a_plain_insert_is_left_to_executemany(sql: str) -> None:
    assert multi_row(sql, [(1, "a")], limit=100) is None


def test_named_or_misshapen_rows_are_left_to_executemany() -> None:
    assert multi_row(INSERT, [{"k": 1, "v": "a"}], limit=100) is None
    assert multi_row(INSERT, [(1, "a", "extra")], limit=100) is None


@pytest.fixture
def connection(tmp_path: Path) -> Iterator[InlineConnection]:
    raw = sqlite3.connect(tmp_path / "t.db", isolation_level=None, check_same_thread=False)
    raw.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL, n INTEGER)")
    with ThreadPoolExecutor(1) as thread:
        yield InlineConnection(raw, thread)
    raw.close()


async def test_every_row_is_written_and_counted_across_statements(
    connection: InlineConnection,
) -> None:
    connection.variable_limit = 10  # 5 rows a statement
    cursor = connection.cursor()
    await cursor.execute("INSERT INTO t (k, v) VALUES (3, 'there before')")
    rows = [(n, f"v{n}") for n in range(200)] + [(7, "a repeat in the page")]
    await cursor.executemany(INSERT, rows)
    assert cursor.rowcount == 199  # key 3 was there, key 7 came twice: neither counted
    await cursor.execute("SELECT count(*), min(k), max(k), sum(n) FROM t")
    assert await cursor.fetchone() == (200, 0, 199, 0)
    await cursor.execute("SELECT v FROM t WHERE k IN (3, 7) ORDER BY k")
    assert await cursor.fetchall() == [("there before",), ("v7",)]
    await cursor.execute("SELECT 1")
    assert cursor.rowcount == -1  # a later statement's own count, not the page's


async def test_a_failing_row_fails_the_call(connection: InlineConnection) -> None:
    cursor = connection.cursor()
    rows: list[tuple[object, ...]] = [(n, f"v{n}") for n in range(100)]
    rows[60] = (60, None)  # NOT NULL
    with pytest.raises(sqlite3.IntegrityError):
        await cursor.executemany(INSERT, rows)
