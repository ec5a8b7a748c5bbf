"""A scratch MES database (MariaDB or PostgreSQL) holding the scenario's staging table.

Each test gets a database of its own, made from the scenario's SQL
(``inputs/mes_completion.<kind>.sql``: the table and its four rows), and dropped after.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from esb.sdk import async_database_url

VECTORS = Path(__file__).resolve().parents[1] / "data" / "scenario"
MARIADB_URL = os.environ.get("ESB_TEST_MARIADB", "mysql://root@127.0.0.1:3306/test")
POSTGRES_URL = os.environ.get("ESB_TEST_POSTGRES", "postgresql://127.0.0.1:5432/test")
SERVERS = {"mariadb": MARIADB_URL, "postgresql": POSTGRES_URL}


def statements(sql: str) -> list[str]:
    """The statements of a script (no semicolons inside its values)."""
    bare = re.sub(r"(?m)^--.*$", "", sql)
    return [s.strip() for s in bare.split(";") if s.strip()]


def _in(url: str, database: str) -> str:
    return url.rsplit("/", 1)[0] + f"/{database}"


@dataclass
class MesDatabase:
    kind: str  # mariadb | postgresql
    url: str  # as a user writes it: mysql://... or postgresql://...
    engine: AsyncEngine

    async def run(self, *sql: str) -> list[tuple[Any, ...]]:
        """Statements as written (no bound parameters: a function body may hold colons);
        the rows of the last one."""
        rows: list[tuple[Any, ...]] = []
        async with self.engine.begin() as conn:
            for statement in sql:
                found = await conn.exec_driver_sql(statement)
                rows = [tuple(r) for r in found.all()] if found.returns_rows else []
        return rows

    async def execute(self, sql: str, parameters: Any = None) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(text(sql), parameters or {})

    async def rows(self, where: str = "1 = 1") -> list[dict[str, Any]]:
        async with self.engine.connect() as conn:
            found = await conn.execute(
                text(f"SELECT * FROM mes_completion WHERE {where} ORDER BY id")
            )
            return [dict(r) for r in found.mappings().all()]

    async def count(self, where: str = "1 = 1") -> int:
        async with self.engine.connect() as conn:
            found = await conn.scalar(text(f"SELECT count(*) FROM mes_completion WHERE {where}"))
            return int(found or 0)

    async def insert(self, rows: list[dict[str, Any]]) -> None:
        await self.execute(
            "INSERT INTO mes_completion (work_order, material_code, qty_good, qty_scrap, "
            "line_code, finished_at, operator_name) VALUES (:work_order, :material_code, "
            ":qty_good, :qty_scrap, :line_code, :finished_at, :operator_name)",
            rows,
        )


async def _admin(url: str, sql: str) -> None:
    engine = create_async_engine(async_database_url(url), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


async def make_mes_database(kind: str, *, with_rows: bool = True) -> MesDatabase:
    """A new database on the ``kind`` server with ``mes_completion`` (and the four rows)."""
    server = SERVERS[kind]
    name = f"esb_mes_{uuid.uuid4().hex[:10]}"
    await _admin(server, f"CREATE DATABASE {name}")
    url = _in(server, name)
    engine = create_async_engine(async_database_url(url))
    db = MesDatabase(kind, url, engine)
    script = statements((VECTORS / "inputs" / f"mes_completion.{kind}.sql").read_text("utf-8"))
    for sql in script if with_rows else script[:1]:
        await db.execute(sql)
    return db


async def drop_mes_database(db: MesDatabase) -> None:
    await db.engine.dispose()
    name = db.url.rsplit("/", 1)[1]
    force = " WITH (FORCE)" if db.kind == "postgresql" else ""
    await _admin(SERVERS[db.kind], f"DROP DATABASE IF EXISTS {name}{force}")


@pytest.fixture(params=["mariadb", "postgresql"])
async def mes_db(request: pytest.FixtureRequest) -> AsyncIterator[MesDatabase]:
    """The scenario's staging table with its four rows, on MariaDB and on PostgreSQL."""
    db = await make_mes_database(str(request.param))
    yield db
    await drop_mes_database(db)
