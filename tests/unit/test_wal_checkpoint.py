"""The embedded mode's WAL checkpoint, run beside the writer instead of inside its commits."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path

from esb.store.checkpoint import checkpoint, checkpoint_forever


def writer_with_log(path: Path, rows: int) -> sqlite3.Connection:
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")  # only our checkpoint copies the log
    writer.execute("CREATE TABLE t (x)")
    for n in range(rows):
        writer.execute("INSERT INTO t VALUES (?)", (n,))
    return writer


def test_a_passive_checkpoint_copies_the_whole_log(tmp_path: Path) -> None:
    writer = writer_with_log(tmp_path / "esb.db", 50)
    busy, frames, copied = checkpoint(tmp_path / "esb.db")
    assert (busy, copied) == (0, frames)
    assert frames >= 50
    writer.close()


def test_a_checkpoint_does_not_wait_for_an_open_write_transaction(tmp_path: Path) -> None:
    writer = writer_with_log(tmp_path / "esb.db", 20)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO t VALUES (-1)")
    busy, frames, copied = checkpoint(tmp_path / "esb.db")  # no "database is locked"
    assert busy == 0
    assert copied == frames
    writer.execute("COMMIT")
    assert writer.execute("SELECT count(*) FROM t").fetchone() == (21,)
    writer.close()


async def test_the_loop_copies_the_log_into_the_database_file(tmp_path: Path) -> None:
    path = tmp_path / "esb.db"
    writer = writer_with_log(path, 2000)
    before = path.stat().st_size  # the rows are still only in the log
    loop = asyncio.create_task(checkpoint_forever(path, every_s=0.01))
    try:
        for _ in range(300):
            await asyncio.sleep(0.01)
            if path.stat().st_size > before:
                break
        else:
            raise AssertionError("the loop never copied the log back")
    finally:
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop
    assert writer.execute("SELECT count(*) FROM t").fetchone() == (2000,)
    writer.close()
