"""The master-data statements that run per row of an import, written once per database.

Two reads per chunk: who owns each code the chunk names (``owners``), then every
code of the few entities the chunk may change or conflict with (``codes_of``). On
PostgreSQL a chunk travels as arrays (``unnest``): one statement, one round trip,
the same prepared statement for every chunk. SQLite gets it through temporary
tables and ``executemany``. Entity ids stay the driver's own values (a UUID on
PostgreSQL, 32 hex digits in SQLite's ``CHAR(32)``): no conversion per row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any, Protocol
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

EntityId = Any  # the driver's value: uuid.UUID (asyncpg) or str (SQLite)
CodeRow = tuple[EntityId, str, str]  # (entity, system, code)
Pair = tuple[str, str]  # (system, code)

#: A domain's codes after (entity, system), in that order: one range of the unique index
#: (domain, entity, system), whatever the planner knows about the table.
PAGE = text(
    """
SELECT entity, system, code FROM xref_codes
WHERE domain = :domain AND (entity, system) > (:entity, :system)
ORDER BY entity, system
LIMIT :limit
"""
)
DELETE_ENTITY = text("DELETE FROM xref_codes WHERE domain = :domain AND entity = :entity")


class CodesSql(Protocol):
    #: Below every entity id (where paging starts).
    lowest: EntityId
    #: The planner needs ANALYZE after an import grew the table.
    plans_from_statistics: bool

    def new_id(self, value: int) -> EntityId: ...

    async def lock(self, conn: AsyncConnection, domain: str, *, bulk: bool) -> None:
        """Writers of ``domain`` take turns until the transaction ends; ``bulk``: this
        transaction is one chunk of an import."""

    async def owners(
        self, conn: AsyncConnection, domain: str, pairs: Sequence[Pair]
    ) -> Sequence[CodeRow]:
        """(entity, system, code) for each of ``pairs`` that names an entity."""

    async def codes_of(
        self, conn: AsyncConnection, domain: str, entities: Sequence[EntityId]
    ) -> Sequence[CodeRow]:
        """Every code of ``entities``, each entity's in the order they were written."""

    async def write(
        self,
        conn: AsyncConnection,
        domain: str,
        deletes: Sequence[tuple[EntityId, str]],
        inserts: Sequence[CodeRow],
    ) -> None:
        """Delete (entity, system) rows, then insert new ones."""

    async def table_rows(self, conn: AsyncConnection) -> float:
        """How many rows the planner believes ``xref_codes`` has (-1: it has no idea)."""

    async def analyze(self, conn: AsyncConnection) -> None:
        """Fresh planner statistics for ``xref_codes`` (after an import grew it)."""


class PostgresCodes:
    """Lookups are equalities on every column of a unique index, fenced with ``LIMIT 1``
    so that the planner keeps them index probes even without statistics."""

    lowest: EntityId = UUID(int=0)
    plans_from_statistics = True
    OWNERS = text(
        """
SELECT x.entity, w.system, w.code
FROM unnest(CAST(:systems AS varchar[]), CAST(:codes AS varchar[])) AS w(system, code)
CROSS JOIN LATERAL (
    SELECT entity FROM xref_codes
    WHERE domain = :domain AND system = w.system AND code = w.code LIMIT 1) AS x
"""
    )
    CODES_OF = text(
        """
SELECT entity, system, code FROM xref_codes
WHERE domain = :domain AND entity = ANY(CAST(:entities AS uuid[]))
ORDER BY entity, id
"""
    )
    DELETE = text(
        """
DELETE FROM xref_codes c
USING unnest(CAST(:entities AS uuid[]), CAST(:systems AS varchar[])) AS d(entity, system)
WHERE c.domain = :domain AND c.entity = d.entity AND c.system = d.system
"""
    )
    INSERT = text(
        """
INSERT INTO xref_codes (domain, entity, system, code)
SELECT :domain, i.entity, i.system, i.code
FROM unnest(CAST(:entities AS uuid[]), CAST(:systems AS varchar[]), CAST(:codes AS varchar[]))
     AS i(entity, system, code)
"""
    )

    #: An import's chunk: plans made for its values (never a generic plan made when the
    #: table was small), and a commit that does not wait for the disk: the import's last
    #: transaction (synchronous) flushes the log of every chunk before it, and a chunk
    #: lost to a crash is one the import reports as not done (run it again).
    BULK = text(
        "SELECT pg_advisory_xact_lock(:key), "
        "set_config('plan_cache_mode', 'force_custom_plan', true), "
        "set_config('synchronous_commit', 'off', true)"
    )
    LOCK = text("SELECT pg_advisory_xact_lock(:key)")

    def new_id(self, value: int) -> EntityId:
        return UUID(int=value)

    async def lock(self, conn: AsyncConnection, domain: str, *, bulk: bool) -> None:
        digest = hashlib.sha256(f"esb.xref:{domain}".encode()).digest()
        key = int.from_bytes(digest[:8], "big", signed=True)
        await conn.execute(self.BULK if bulk else self.LOCK, {"key": key})

    async def owners(
        self, conn: AsyncConnection, domain: str, pairs: Sequence[Pair]
    ) -> Sequence[CodeRow]:
        if not pairs:
            return []
        systems, codes = zip(*pairs, strict=True)
        found = await conn.execute(
            self.OWNERS, {"domain": domain, "systems": list(systems), "codes": list(codes)}
        )
        return [(r[0], r[1], r[2]) for r in found.all()]

    async def codes_of(
        self, conn: AsyncConnection, domain: str, entities: Sequence[EntityId]
    ) -> Sequence[CodeRow]:
        if not entities:
            return []
        found = await conn.execute(self.CODES_OF, {"domain": domain, "entities": list(entities)})
        return [(r[0], r[1], r[2]) for r in found.all()]

    async def write(
        self,
        conn: AsyncConnection,
        domain: str,
        deletes: Sequence[tuple[EntityId, str]],
        inserts: Sequence[CodeRow],
    ) -> None:
        if deletes:
            entities, systems = zip(*deletes, strict=True)
            await conn.execute(
                self.DELETE,
                {"domain": domain, "entities": list(entities), "systems": list(systems)},
            )
        if inserts:
            entities, systems, codes = zip(*inserts, strict=True)
            await conn.execute(
                self.INSERT,
                {
                    "domain": domain,
                    "entities": list(entities),
                    "systems": list(systems),
                    "codes": list(codes),
                },
            )

    async def table_rows(self, conn: AsyncConnection) -> float:
        found = await conn.scalar(
            text("SELECT reltuples FROM pg_class WHERE oid = CAST('xref_codes' AS regclass)")
        )
        return float(found if found is not None else -1)

    async def analyze(self, conn: AsyncConnection) -> None:
        """Without statistics (a table an import is filling) the planner cannot tell the
        two unique indexes apart and may filter a whole domain for one entity's codes.
        Only the table's owner may: anyone else gets a warning, not an error; a table
        being vacuumed is skipped (autovacuum analyzes it then)."""
        await conn.exec_driver_sql("SET LOCAL lock_timeout = '1s'")
        await conn.exec_driver_sql("ANALYZE (SKIP_LOCKED) xref_codes")


class SqliteCodes:
    """SQLite picks the index matching every column without statistics; the chunk's
    codes and entities go in through temporary tables (one connection's own)."""

    lowest: EntityId = ""
    plans_from_statistics = False
    TABLES = (
        "CREATE TEMP TABLE IF NOT EXISTS xref_wanted (system TEXT, code TEXT)",
        "CREATE TEMP TABLE IF NOT EXISTS xref_named (entity TEXT)",
    )
    OWNERS = """
SELECT x.entity, w.system, w.code FROM temp.xref_wanted w
JOIN xref_codes x ON x.domain = ?1 AND x.system = w.system AND x.code = w.code
"""
    CODES_OF = """
SELECT x.entity, x.system, x.code FROM temp.xref_named n
JOIN xref_codes x ON x.domain = ?1 AND x.entity = n.entity
ORDER BY x.entity, x.id
"""
    DELETE = "DELETE FROM xref_codes WHERE domain = ? AND entity = ? AND system = ?"
    INSERT = "INSERT INTO xref_codes (domain, entity, system, code) VALUES (?, ?, ?, ?)"

    def new_id(self, value: int) -> EntityId:
        return f"{value:032x}"  # how SQLAlchemy's Uuid keeps a UUID in SQLite

    async def lock(self, conn: AsyncConnection, domain: str, *, bulk: bool) -> None:
        """``BEGIN IMMEDIATE`` already made this the only writer of the database."""

    async def _fill(self, conn: AsyncConnection, table: str, rows: Sequence[Any]) -> None:
        for statement in self.TABLES:
            await conn.exec_driver_sql(statement)
        await conn.exec_driver_sql(f"DELETE FROM temp.{table}")
        marks = ", ".join("?" * len(rows[0]))
        await conn.exec_driver_sql(f"INSERT INTO temp.{table} VALUES ({marks})", list(rows))

    async def owners(
        self, conn: AsyncConnection, domain: str, pairs: Sequence[Pair]
    ) -> Sequence[CodeRow]:
        if not pairs:
            return []
        await self._fill(conn, "xref_wanted", pairs)
        found: Sequence[Any] = (await conn.exec_driver_sql(self.OWNERS, (domain,))).all()
        return [(e, s, c) for e, s, c in found]

    async def codes_of(
        self, conn: AsyncConnection, domain: str, entities: Sequence[EntityId]
    ) -> Sequence[CodeRow]:
        if not entities:
            return []
        await self._fill(conn, "xref_named", [(e,) for e in entities])
        found: Sequence[Any] = (await conn.exec_driver_sql(self.CODES_OF, (domain,))).all()
        return [(e, s, c) for e, s, c in found]

    async def write(
        self,
        conn: AsyncConnection,
        domain: str,
        deletes: Sequence[tuple[EntityId, str]],
        inserts: Sequence[CodeRow],
    ) -> None:
        if deletes:
            await conn.exec_driver_sql(self.DELETE, [(domain, e, s) for e, s in deletes])
        if inserts:
            await conn.exec_driver_sql(self.INSERT, [(domain, e, s, c) for e, s, c in inserts])

    async def table_rows(self, conn: AsyncConnection) -> float:
        return -1

    async def analyze(self, conn: AsyncConnection) -> None:
        return None


def codes_sql(conn: AsyncConnection) -> CodesSql:
    sql: CodesSql = PostgresCodes() if conn.dialect.name == "postgresql" else SqliteCodes()
    return sql
