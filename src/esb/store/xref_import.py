"""Importing many entities: chunk by chunk, set-based, and never in an accept's way for long.

What an import promises:

- **Atomic per chunk.** Rows are applied in chunks, each one transaction: read who
  owns the codes the chunk names (and, for the few entities it may change, their
  codes), plan every row in Python, write the differences (one batched delete, one
  batched insert). If the import stops half
  way, the chunks before stay applied; running the same file again is idempotent
  (the rows already there count as unchanged), so the fix is to run it again.
- **Short transactions.** A chunk's size adapts so its transaction takes about
  ``Pace.target`` seconds; on SQLite (one writer for the whole gateway) the import
  then pauses long enough for a waiting accept to take the lock, so an accept
  waits for at most about one chunk (``esb.xref_pacing``).
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
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from esb.errors import Conflict, StoreUnavailable
from esb.limits import clean_text
from esb.store.audit import audit
from esb.store.engine import transaction, utcnow
from esb.store.tables import xref_versions
from esb.store.xref import bump, entity_set, lock_domain, write
from esb.store.xref_plan import Writes
from esb.store.xref_sql import codes_sql
from esb.xref_csv import Row
from esb.xref_pacing import Pace, ReadAhead, Reader, ReadInSlices

log = structlog.get_logger(__name__)

#: Refused rows listed in a result (all are counted): a bad million-row file stays small.
MAX_LISTED = 1000


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


async def _apply(conn: AsyncConnection, domain: str, chunk: list[Row]) -> tuple[ImportResult, int]:
    """Plan and write one chunk; answers its counts and how many code rows it inserted."""
    part = ImportResult()
    found = await entity_set(conn, domain, [codes for _, codes in chunk], whole_keys=False)
    writes = Writes()
    for number, codes in chunk:
        key_system, key_code = next(iter(codes.items()))
        if not key_code:
            part.refuse(number, "the key (first column) is empty")
            continue
        try:
            change = found.plan(key_system, key_code, codes, empty_removes=False)
        except Conflict as exc:
            part.refuse(number, str(exc))
            continue
        if change is None:
            part.unchanged += 1
            continue
        part.created += change.before is None
        part.updated += change.before is not None
        writes.add(change)
    return part, await write(conn, domain, writes)


async def _claim(conn: AsyncConnection, domain: str) -> bool:
    """Seeding: the domain is new (then it is created now, at version 0)."""
    known = select(xref_versions.c.version).where(xref_versions.c.domain == domain)
    if await conn.scalar(known) is not None:
        return False
    await conn.execute(xref_versions.insert().values(domain=domain, version=0, updated_at=utcnow()))
    return True


@dataclass
class _Import:
    engine: AsyncEngine
    domain: str
    pace: Pace
    claim: bool
    result: ImportResult = field(default_factory=ImportResult)
    committed: bool = False
    #: PostgreSQL plans from statistics: ANALYZE when the import has added 1,000 code rows
    #: to a table without statistics, and whenever it has grown the table tenfold.
    statistics: bool = False
    table_rows: float = -1
    added: int = 0

    async def chunk(self, rows: list[Row]) -> bool:
        """One chunk in one transaction; False: the domain exists and this is a seed."""
        async with transaction(self.engine) as conn:
            await lock_domain(conn, self.domain, bulk=True)
            started = time.monotonic()
            if not self.committed:
                sql = codes_sql(conn)
                self.statistics = sql.plans_from_statistics
                self.table_rows = await sql.table_rows(conn)
                if self.claim and not await _claim(conn, self.domain):
                    return False
            part, inserted = await _apply(conn, self.domain, rows)
        took = time.monotonic() - started
        self.pace.took(len(rows), took)
        log.debug("master-data chunk", domain=self.domain, rows=len(rows), seconds=round(took, 3))
        self.result.add(part)
        self.committed = True
        self.added += inserted
        if self.statistics and self.added > max(self.table_rows * 9, 1000):
            await self._analyze()
        return True

    async def _analyze(self) -> None:
        """Better plans for the next chunks; the import goes on without them if need be."""
        self.added = 0
        try:
            async with transaction(self.engine) as conn:
                sql = codes_sql(conn)
                await sql.analyze(conn)
                self.table_rows = await sql.table_rows(conn)
        except (StoreUnavailable, DBAPIError) as exc:
            log.warning("master-data statistics not refreshed", error=repr(exc.__cause__ or exc))

    async def finish(self, actor: str, reason: str, error: str = "") -> None:
        """Announce the import (one version bump) and audit it, complete or not."""
        after: dict[str, Any] = {"domain": self.domain, **self.result.counts()}
        after["complete"] = not error
        if error:
            after["error"] = clean_text(error)
        async with transaction(self.engine) as conn:
            await bump(conn, self.domain)
            await audit(conn, "xref.import", actor, reason, {"domain": self.domain}, after)


async def import_rows(
    engine: AsyncEngine,
    domain: str,
    systems: int,
    rows: Iterator[Row],
    *,
    actor: str,
    reason: str = "",
    only_if_new_domain: bool = False,
    shared_loop: bool = False,
    pace: Pace | None = None,
) -> ImportResult | None:
    """Upsert ``rows`` (their first system is the key; an empty cell keeps the code) in
    chunks; refused rows are reported with their number, the others applied.

    ``only_if_new_domain``: do nothing if the domain exists (seeding never overwrites
    what an operator changed later); answers None then. ``shared_loop``: this event
    loop also serves requests (see ``esb.xref_pacing``).
    """
    pace = pace or Pace.for_dialect(engine.dialect.name, shared_loop=shared_loop)
    pace.limit(systems)
    work = _Import(engine, domain, pace, only_if_new_domain)
    ahead: Reader = ReadInSlices(rows) if shared_loop else ReadAhead(rows)
    try:
        while (chunk := await ahead.next(pace.rows)) or not work.committed:
            if not await work.chunk(chunk):
                return None
            await asyncio.sleep(pace.pause)
    except BaseException as exc:
        log.warning(
            "master-data import stopped",
            domain=domain,
            applied=work.result.counts(),
            error=repr(exc.__cause__ or exc),
        )
        if work.committed:
            await _finish_quietly(work, actor, reason, repr(exc.__cause__ or exc))
        raise
    finally:
        await ahead.close()
    await work.finish(actor, reason)
    return work.result


async def _finish_quietly(work: _Import, actor: str, reason: str, error: str) -> None:
    try:
        await work.finish(actor, reason, error)
    except StoreUnavailable as exc:
        log.warning("master-data import stopped, not announced", domain=work.domain, error=str(exc))
