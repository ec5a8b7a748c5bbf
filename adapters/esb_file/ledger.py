"""The ledger of files taken in (``inbound_files``): each content once per interface.

A file is identified by its SHA-256, so a copy under another name is recognised. It
is processed under a *lease*: on PostgreSQL a session advisory lock, which the
database drops by itself when the holding process dies, so several gateways can watch
one folder and a file abandoned by a killed one is resumed by the next that sees it;
embedded (SQLite, one process) a lock held in this process. A file whose row says
``processing`` while nobody holds its lease was abandoned: it is resumed from its
checkpoint, and the rows' idempotency keys make anything submitted again harmless.

A file that changed after it was read is remembered in its report (``changed``); when
the new content starts with every byte that was read (rows appended), it *continues*
the earlier one: only its later rows are read, so no row is taken in twice.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Literal

import orjson
from sqlalchemy import Insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from esb.store.engine import transaction, translated, utcnow
from esb.store.tables import inbound_files

from .report import FileReport

__all__ = ["Claim", "Earlier", "Ledger"]

Status = Literal["processing", "done", "failed"]

#: Recent contents of one name looked at for a continuation.
RECENT = 20
#: Leases held by this process (embedded mode: SQLite serves one process).
_held_here: set[tuple[str, str]] = set()


@dataclass(frozen=True)
class Claim:
    """The ledger's answer for one content: process it (``new``/``resume``) or not (``done``)."""

    id: int
    state: Literal["new", "resume", "done"]
    name: str  # the name the content had when it was first found
    checkpoint: str | None  # the report so far (resume) or the final one (done)


@dataclass(frozen=True)
class Earlier:
    """A content of the same name that changed after it was read, not yet continued."""

    id: int
    sha256: str
    size: int
    last_row: int


def _lock_key(interface: str, sha256: str) -> int:
    digest = hashlib.sha256(f"esb-inbound:{interface}:{sha256}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _insert(conn: AsyncConnection) -> Insert:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    insert: Insert = (
        dialect.insert(inbound_files)
        .on_conflict_do_nothing(index_elements=["interface", "sha256"])
        .returning(inbound_files.c.id)
    )
    return insert


class Ledger:
    def __init__(self, engine: AsyncEngine, interface: str) -> None:
        self.engine = engine
        self.interface = interface

    @asynccontextmanager
    async def lease(self, sha256: str) -> AsyncIterator[bool]:
        """Yields whether this process now holds the file's lease (False: someone else does)."""
        if self.engine.dialect.name != "postgresql":
            async with self._local_lease(sha256) as held:
                yield held
            return
        conn = await self._lock(_lock_key(self.interface, sha256))
        try:
            yield conn is not None
        finally:
            if conn is not None:  # closed, not pooled: the lock goes with the session
                with contextlib.suppress(SQLAlchemyError, OSError):  # gone already: so is the lock
                    await conn.invalidate()
                    await conn.close()

    async def _lock(self, key: int) -> AsyncConnection | None:
        """A connection holding the advisory lock ``key``, or None if another session has it."""
        with translated():
            conn = await self.engine.connect()
        try:
            with translated():
                held = await conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": key})
                await conn.commit()
        except BaseException:
            await conn.invalidate()
            await conn.close()
            raise
        if not held:
            await conn.close()
            return None
        return conn

    @asynccontextmanager
    async def _local_lease(self, sha256: str) -> AsyncIterator[bool]:
        key = (self.interface, sha256)
        if key in _held_here:
            yield False
            return
        _held_here.add(key)
        try:
            yield True
        finally:
            _held_here.discard(key)

    async def claim(self, name: str, sha256: str, size: int) -> Claim:
        """Record a new content, or say what the ledger knows of it. Call under its lease."""
        async with transaction(self.engine) as conn:
            values = {
                "interface": self.interface,
                "name": name,
                "sha256": sha256,
                "size": size,
                "status": "processing",
                "rows_accepted": 0,
                "rows_refused": 0,
                "started_at": utcnow(),
            }
            new_id = await conn.scalar(_insert(conn).values(**values))
            if new_id is not None:
                return Claim(int(new_id), "new", name, None)
            row = (
                await conn.execute(
                    select(inbound_files).where(
                        inbound_files.c.interface == self.interface,
                        inbound_files.c.sha256 == sha256,
                    )
                )
            ).one()
            if row.status == "done":
                return Claim(row.id, "done", row.name, row.report)
            if row.status == "failed":  # read again from the start (the cause may be fixed)
                await conn.execute(
                    update(inbound_files)
                    .where(inbound_files.c.id == row.id)
                    .values(values | {"report": None, "finished_at": None})
                )
                return Claim(row.id, "new", name, None)
            return Claim(row.id, "resume", row.name, row.report)

    async def changed_earlier(self, name: str) -> list[Earlier]:
        """Contents once found under ``name`` that a new content of that name may continue,
        the longest first: read, then changed by appended rows, or read and never put
        away (the gateway stopped in between), and not continued yet."""
        async with transaction(self.engine) as conn:
            rows = (
                await conn.execute(
                    select(
                        inbound_files.c.id,
                        inbound_files.c.sha256,
                        inbound_files.c.size,
                        inbound_files.c.report,
                    )
                    .where(
                        inbound_files.c.interface == self.interface,
                        inbound_files.c.name == name,
                        inbound_files.c.status == "done",
                    )
                    .order_by(inbound_files.c.id.desc())
                    .limit(RECENT)
                )
            ).all()
        found = []
        for row in rows:
            report = FileReport.from_json(row.report, file=name, sha256=row.sha256, limit=0)
            continuable = (report.changed_to or {}).get("continuable")
            never_put_away = report.moved_to is None and not report.changed  # stopped before
            if (continuable or never_put_away) and not report.continued_by:
                found.append(Earlier(row.id, row.sha256, row.size, report.last_row))
        return sorted(found, key=lambda earlier: earlier.size, reverse=True)

    async def continue_from(self, claim: Claim, report: FileReport, earlier: Earlier) -> None:
        """Record, at once, that ``claim``'s content goes on after ``earlier``'s rows."""
        async with transaction(self.engine) as conn:
            old = await conn.scalar(
                select(inbound_files.c.report).where(inbound_files.c.id == earlier.id)
            )
            previous = orjson.loads(old) if old else {}
            previous["continued_by"] = report.sha256
            written = {earlier.id: orjson.dumps(previous), claim.id: report.to_json()}
            for row_id, content in written.items():
                await conn.execute(
                    update(inbound_files)
                    .where(inbound_files.c.id == row_id)
                    .values(report=content.decode())
                )

    async def checkpoint(self, claim: Claim, report: FileReport) -> None:
        await self._write(claim, report, "processing")

    async def finish(self, claim: Claim, report: FileReport, status: Status) -> None:
        await self._write(claim, report, status)

    async def _write(self, claim: Claim, report: FileReport, status: Status) -> None:
        values: dict[str, object] = {
            "status": status,
            "rows_accepted": report.accepted,
            "rows_refused": report.refused,
            "report": report.to_json().decode(),
        }
        if status != "processing":
            values["finished_at"] = utcnow()
        async with transaction(self.engine) as conn:
            await conn.execute(
                update(inbound_files).where(inbound_files.c.id == claim.id).values(**values)
            )
