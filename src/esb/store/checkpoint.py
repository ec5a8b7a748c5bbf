"""Embedded mode: checkpoint SQLite's write-ahead log from a thread, off the commit path.

SQLite's automatic checkpoint runs inside the commit that crosses its threshold. The
gateway shares one connection between accepts, claims and outcome writes, so every
request waits behind that checkpoint and its fsync of the database file: the
embedded mode's ingress p99. Here a passive checkpoint runs about every second on
a second connection in a worker thread; it copies what no reader needs any more and
never blocks the writer. The automatic checkpoint stays, at a higher threshold, as a
backstop for processes that do not run this loop (``esb replay``, ``esb xref``...).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path

import structlog

log = structlog.get_logger(__name__)

#: Pages (4 KiB) in the WAL before a commit checkpoints by itself: the backstop.
AUTOCHECKPOINT_PAGES = 8000


def checkpoint(path: Path) -> tuple[int, int, int]:
    """One passive checkpoint: (busy, frames in the WAL, frames copied to the database)."""
    with contextlib.closing(sqlite3.connect(path, timeout=1.0, isolation_level=None)) as conn:
        row = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return int(row[0]), int(row[1]), int(row[2])


async def checkpoint_forever(path: Path, every_s: float = 1.0) -> None:
    while True:
        await asyncio.sleep(every_s)
        try:
            await asyncio.to_thread(checkpoint, path)
        except sqlite3.Error as exc:  # the commit-time backstop still runs
            log.warning("WAL checkpoint skipped", error=str(exc))
