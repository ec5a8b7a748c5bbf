"""The master-data statements that run per row of an import, written once per database.

Two reads per chunk: who owns each code the chunk names (``owners``), then every
code of the few entities the chunk may change or conflict with (``codes_of``). On
PostgreSQL a chunk travels as arrays (``unnest``): one statement, one round trip,
the same prepared statement for every chunk. SQLite gets it through temporary
tables and ``executemany``. Entity ids stay the driver's own values (a UUID on
PostgreSQL, 32 hex digits in SQLite's ``CHAR(32)``): no conversion per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

EntityId = Any  # the driver's value: uuid.UUID (asyncpg) or str (SQLite)
CodeRow = tuple[EntityId, str, str]  # (entity, system, code)
Pair = tuple[str, str]  # (system, code)

#: The entities of a domain after ``after``, ``limit`` of them, with all their codes.
PAGE = text(
    """
SELECT entity, system, code FROM xref_codes
WHERE domain = :domain AND entity IN (
    SELECT entity FROM xref_codes WHERE domain = :domain AND entity > :after
    GROUP BY entity ORDER BY entity LIMIT :limit)
ORDER BY entity, id
"""
)
DELETE_ENTITY = text("DELETE FROM xref_codes WHERE domain = :domain AND entity = :entity")


class CodesSql(Protocol):
    #: Below every entity id (where paging starts).
    lowest: EntityId

    def new_id(self, value: int) -> EntityId: ...

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

    def new_id(self, value: int) -> EntityId:
        return UUID(int=value)

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
        Only the table's owner may: anyone else gets a warning, not an error."""
        await conn.exec_driver_sql("ANALYZE xref_codes")


class SqliteCodes:
    """SQLite picks the index matching every column without statistics; the chunk's
    codes and entities go in through temporary tables (one connection's own)."""

    lowest: EntityId = ""
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
