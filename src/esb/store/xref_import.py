"""Importing many entities: chunk by chunk, set-based, and never in an accept's way for long.

What an import promises:

- **Atomic per chunk.** Rows are applied in chunks, each one transaction: read the
  entities the chunk names (one query), plan every row in Python, write the
  differences (one batched delete, one batched insert). If the import stops half
  way, the chunks before stay applied; running the same file again is idempotent
  (the rows already there count as unchanged), so the fix is to run it again.
- **Short transactions.** A chunk's size adapts so its transaction takes about
  ``Pace.target`` seconds; on SQLite (one writer for the whole gateway) the import
  then pauses long enough for a waiting accept to take the lock, so an accept
  waits for at most about one chunk.
- **One announcement.** The domain's version moves once, when the import ends (also
  when it fails after some chunks), with the audit entry: each process's cache
  reloads the domain once per import, not once per chunk. Until then the cache
  keeps the master data as it was before the import.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from esb.errors import Conflict, StoreUnavailable
from esb.limits import clean_text
from esb.store.audit import audit
from esb.store.engine import transaction, utcnow
from esb.store.tables import xref_versions
from esb.store.xref import Writes, bump, entity_set, lock_domain, write
from esb.xref_csv import Row

log = structlog.get_logger(__name__)

#: Refused rows listed in a result (all are counted): a bad million-row file stays small.
MAX_LISTED = 1000
#: Codes per chunk at most: one bound parameter each in the chunk's read, and both
#: SQLite and asyncpg stop at 32,767 parameters per statement.
MAX_CODES = 30_000


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def refuse(self, row: int, message: str) -> None:
        self.refused += 1
        if len(self.errors) < MAX_LISTED:
            self.errors.append({"row": row, "message": message})

    def add(self, other: ImportResult) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.refused += other.refused
        self.errors.extend(other.errors[: MAX_LISTED - len(self.errors)])

    def counts(self) -> dict[str, int]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "refused": self.refused,
        }


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
    def for_dialect(cls, dialect: str) -> Pace:
        return cls(target=0.1, pause=0.12) if dialect == "sqlite" else cls(target=0.5, pause=0)

    def limit(self, systems: int) -> None:
        self.max_rows = max(self.min_rows, min(self.max_rows, MAX_CODES // max(systems, 1)))
        self.rows = min(self.rows, self.max_rows)

    def took(self, rows: int, seconds: float) -> None:
        if rows >= self.rows:  # a short last chunk says nothing about the pace
            wanted = int(rows * self.target / max(seconds, 0.001))
            self.rows = max(self.min_rows, min(self.max_rows, wanted, self.rows * 2))


async def _apply(conn: AsyncConnection, domain: str, chunk: list[Row]) -> ImportResult:
    part = ImportResult()
    found = await entity_set(conn, domain, [p for _, codes in chunk for p in codes.items() if p[1]])
    writes = Writes()
    for number, codes in chunk:
        key_system, key_code = next(iter(codes.items()))
        if not key_code:
            part.refuse(number, "the key (first column) is empty")
            continue
        try:
            change = found.plan(key_system, key_code, codes, empty_removes=False)
        except Conflict as exc:
            part.refuse(number, exc.message)
            continue
        if change is None:
            part.unchanged += 1
            continue
        part.created += change.before is None
        part.updated += change.before is not None
        writes.add(domain, change)
    await write(conn, writes)
    return part


async def _claim(conn: AsyncConnection, domain: str) -> bool:
    """Seeding: the domain is new (then it is created now, at version 0)."""
    known = select(xref_versions.c.version).where(xref_versions.c.domain == domain)
    if await conn.scalar(known) is not None:
        return False
    await conn.execute(xref_versions.insert().values(domain=domain, version=0, updated_at=utcnow()))
    return True


async def _finish(
    engine: AsyncEngine, domain: str, result: ImportResult, actor: str, reason: str, error: str
) -> None:
    """Announce the import (one version bump) and audit it, complete or not."""
    after: dict[str, Any] = {"domain": domain, **result.counts(), "complete": not error}
    if error:
        after["error"] = clean_text(error)
    async with transaction(engine) as conn:
        await bump(conn, domain)
        await audit(conn, "xref.import", actor, reason, {"domain": domain}, after)


async def import_rows(
    engine: AsyncEngine,
    domain: str,
    systems: int,
    rows: Iterator[Row],
    *,
    actor: str,
    reason: str = "",
    only_if_new_domain: bool = False,
    pace: Pace | None = None,
) -> ImportResult | None:
    """Upsert ``rows`` (their first system is the key; an empty cell keeps the code) in
    chunks; refused rows are reported with their number, the others applied.

    ``only_if_new_domain``: do nothing if the domain exists (seeding never overwrites
    what an operator changed later); answers None then.
    """
    pace = pace or Pace.for_dialect(engine.dialect.name)
    pace.limit(systems)
    result = ImportResult()
    committed = False
    try:
        while True:
            chunk = list(islice(rows, pace.rows))
            if not chunk and committed:
                break
            async with transaction(engine) as conn:
                await lock_domain(conn, domain)
                started = time.monotonic()
                if only_if_new_domain and not committed and not await _claim(conn, domain):
                    return None
                part = await _apply(conn, domain, chunk)
            pace.took(len(chunk), time.monotonic() - started)
            result.add(part)
            committed = True
            if not chunk:
                break
            await asyncio.sleep(pace.pause)
    except BaseException as exc:
        if committed:
            await _finish_quietly(engine, domain, result, actor, reason, repr(exc))
        raise
    await _finish(engine, domain, result, actor, reason, "")
    return result


async def _finish_quietly(
    engine: AsyncEngine, domain: str, result: ImportResult, actor: str, reason: str, error: str
) -> None:
    try:
        await _finish(engine, domain, result, actor, reason, error)
    except StoreUnavailable as exc:
        log.warning("master-data import stopped and not announced", domain=domain, error=str(exc))
