"""Each change of configuration in the audit log once, however many processes load it.

Every process of a gateway (several ``esb serve``, workers, on several hosts) reads the
same changed files and reloads. ``config_state`` holds the digest of the files last
recorded and what they said: the first process to record a change moves it to the new
digest and writes the audit entry in the same transaction; the others find the digest
already there and write nothing. The row is read ``FOR UPDATE`` (PostgreSQL: a second
process waits, then reads the moved row; SQLite has one writer at a time), and the very
first row is inserted only if absent, so two processes never both record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from esb.store.audit import audit
from esb.store.engine import transaction, utcnow
from esb.store.tables import config_state

#: The one row's name.
ROW = "configuration"


@dataclass(frozen=True)
class Entry:
    """An audit entry to write (see ``esb.store.audit.audit``)."""

    action: str
    actor: str
    reason: str
    before: Any
    after: Any


@dataclass(frozen=True)
class Recorded:
    """The configuration last recorded: its digest and what it said (secrets masked)."""

    digest: str
    summary: Any


#: Given what was recorded (None: nothing yet), the entry for this change (None: none).
Describe = Callable[[Recorded | None], Entry | None]


async def _write(conn: AsyncConnection, entry: Entry) -> None:
    await audit(conn, entry.action, entry.actor, entry.reason, entry.before, entry.after)


async def _insert_first(conn: AsyncConnection, digest: str, summary: Any) -> bool:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(config_state).values(
        name=ROW, digest=digest, summary=orjson.dumps(summary).decode(), at=utcnow()
    )
    done = await conn.execute(statement.on_conflict_do_nothing(index_elements=["name"]))
    return bool(done.rowcount)


async def record_change(engine: AsyncEngine, digest: str, summary: Any, describe: Describe) -> bool:
    """Move the recorded configuration to ``digest`` and write what ``describe`` makes of
    the change; False when ``digest`` is already recorded (another process was first)."""
    async with transaction(engine) as conn:
        query = select(config_state).where(config_state.c.name == ROW).with_for_update()
        row = (await conn.execute(query)).first()
        if row is not None and row.digest == digest:
            return False
        recorded = None if row is None else Recorded(row.digest, orjson.loads(row.summary))
        entry = describe(recorded)
        if row is None:
            if not await _insert_first(conn, digest, summary):
                return False  # another process recorded the first one meanwhile
        else:
            await conn.execute(
                update(config_state)
                .where(config_state.c.name == ROW)
                .values(digest=digest, summary=orjson.dumps(summary).decode(), at=utcnow())
            )
        if entry is not None:
            await _write(conn, entry)
        return entry is not None


async def record_refusal(engine: AsyncEngine, running: str, refused: str, entry: Entry) -> bool:
    """Write ``entry`` for files (digest ``refused``) refused while ``running`` runs, unless
    this refusal is the last one recorded."""
    key = f"{running}:{refused}"
    async with transaction(engine) as conn:
        moved = await conn.execute(
            update(config_state)
            .where(
                config_state.c.name == ROW,
                or_(config_state.c.refused.is_(None), config_state.c.refused != key),
            )
            .values(refused=key)
        )
        if not moved.rowcount:
            return False
        await _write(conn, entry)
        return True
