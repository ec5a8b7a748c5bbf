"""How a master-data import shares its process and its database with the pipeline.

Two kinds of process import:

- **the CLI** (``esb xref import``), a process of its own: the next chunk is parsed in a
  thread while this one is in the database, and chunks are large (PostgreSQL);
- **the API process** (``POST /v1/xref/{domain}/import``), whose event loop also takes
  orders: a CPU-bound thread there would hold every request up (each I/O callback waits
  for the GIL, the thread drops it only every 5 ms), so parsing and checking run on the
  loop itself in slices of ``SLICE`` seconds with a rest in between, and chunks are small.

In both, a chunk's transaction is kept to about ``Pace.target`` seconds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Protocol, TypeVar

from esb.xref_csv import Row

T = TypeVar("T")

#: CPU work on a shared event loop: this long at most, then a rest this long.
SLICE, REST = 0.01, 0.004
#: Codes per chunk at most (a chunk's rows, its reads and writes are held in memory).
MAX_CODES = 30_000


@dataclass
class Pace:
    """Rows per chunk, adapted so a chunk's transaction takes about ``target`` seconds,
    and the pause after each chunk (SQLite: longer than its busy handler's longest
    sleep, 100 ms, so a writer waiting in another process gets its turn)."""

    target: float
    pause: float
    rows: int = 500
    min_rows: int = 50
    max_rows: int = 10_000

    @classmethod
    def for_dialect(cls, dialect: str, *, shared_loop: bool = False) -> Pace:
        if dialect == "sqlite":
            return cls(target=0.08, pause=0.11)
        return cls(target=0.1 if shared_loop else 0.5, pause=0)

    def limit(self, systems: int) -> None:
        self.max_rows = max(self.min_rows, min(self.max_rows, MAX_CODES // max(systems, 1)))
        self.rows = min(self.rows, self.max_rows)

    def took(self, rows: int, seconds: float) -> None:
        if rows >= self.rows:  # a short last chunk says nothing about the pace
            wanted = int(rows * self.target / max(seconds, 0.001))
            self.rows = max(self.min_rows, min(self.max_rows, wanted, self.rows * 3 // 2))


async def sliced(steps: Generator[None, None, T]) -> T:
    """Run ``steps`` (a generator that yields often) on the event loop, resting after
    every ``SLICE`` seconds of it; answers what it returns."""
    deadline = time.monotonic() + SLICE
    try:
        while True:
            next(steps)
            if time.monotonic() > deadline:
                await asyncio.sleep(REST)
                deadline = time.monotonic() + SLICE
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


class Reader(Protocol):
    async def next(self, size: int) -> list[Row]:
        """The next ``size`` rows at most ([] at the end)."""

    async def close(self) -> None: ...


class ReadAhead:
    """The next chunk is parsed in a thread while this one is in the database: the
    import's Python work and the database's overlap (for a process of its own)."""

    def __init__(self, rows: Iterator[Row]) -> None:
        self.rows = rows
        self.pending: asyncio.Future[list[Row]] | None = None

    def _read(self, size: int) -> asyncio.Future[list[Row]]:
        return asyncio.ensure_future(asyncio.to_thread(lambda: list(islice(self.rows, size))))

    async def next(self, size: int) -> list[Row]:
        chunk = await (self.pending or self._read(size))
        self.pending = self._read(size) if chunk else None
        return chunk

    async def close(self) -> None:
        """Wait for a read in flight: the file must not close under it."""
        if self.pending is not None:
            await asyncio.gather(self.pending, return_exceptions=True)
            self.pending = None


class ReadInSlices:
    """Each chunk parsed on the event loop, in slices (for the API process)."""

    def __init__(self, rows: Iterator[Row]) -> None:
        self.rows = rows

    def _take(self, size: int) -> Generator[None, None, list[Row]]:
        chunk: list[Row] = []
        for row in islice(self.rows, size):
            chunk.append(row)
            if len(chunk) % 64 == 0:
                yield
        return chunk

    async def next(self, size: int) -> list[Row]:
        return await sliced(self._take(size))

    async def close(self) -> None:
        return None
