"""Scratch MES databases (MariaDB or PostgreSQL) holding the scenario's staging table.

Each test gets a database of its own, created from the scenario's vectors
(``inputs/mes_completion.<kind>.sql``) and dropped afterwards; the URL handed out is
the plain kind users write (``mysql://``, ``postgresql://``).
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncmy
import asyncpg
import pytest

from tests.support.fixtures import PG_ADMIN_URL

MARIADB = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": ""}
MARIADB_URL = os.environ.get("ESB_TEST_MARIADB", "mysql://root@127.0.0.1:3306")
VECTORS = Path(__file__).parents[1] / "data" / "scenario" / "inputs"
HOW_TO_START_MARIADB = "service mariadb start (or: mysqld_safe &)"


def _require(host: str, port: int, what: str, how: str) -> None:
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError as exc:
        pytest.fail(f"{what} is not reachable on {host}:{port} ({exc}); start it: {how}")


def statements(kind: str) -> list[str]:
    """The vector file's statements, comments dropped."""
    text = (VECTORS / f"mes_completion.{kind}.sql").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


class MariaDb:
    """A scratch MariaDB database; ``run`` executes statements in it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.url = f"{MARIADB_URL}/{name}"

    async def run(self, *sql: str) -> list[tuple[object, ...]]:
        conn = await asyncmy.connect(**MARIADB, db=self.name, autocommit=True)
        try:
            rows: list[tuple[object, ...]] = []
            async with conn.cursor() as cursor:
                for statement in sql:
                    await cursor.execute(statement)
                    rows = list(await cursor.fetchall() or [])
            return rows
        finally:
            conn.close()


class PostgresDb:
    def __init__(self, name: str) -> None:
        self.name = name
        self.url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"

    async def run(self, *sql: str) -> list[tuple[object, ...]]:
        conn = await asyncpg.connect(self.url)
        try:
            rows: list[tuple[object, ...]] = []
            for statement in sql:
                rows = [tuple(r) for r in await conn.fetch(statement)]
            return rows
        finally:
            await conn.close()


async def _admin_mariadb(sql: str) -> None:
    conn = await asyncmy.connect(**MARIADB, autocommit=True)
    try:
        async with conn.cursor() as cursor:
            await cursor.execute(sql)
    finally:
        conn.close()


async def _admin_postgres(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(params=["mariadb", "postgresql"])
async def query_db(request: pytest.FixtureRequest) -> AsyncIterator[MariaDb | PostgresDb]:
    """The MES's database with ``mes_completion`` and its four rows, on each kind."""
    name = f"esb_mes_{uuid.uuid4().hex[:10]}"
    db: MariaDb | PostgresDb
    if request.param == "mariadb":
        _require("127.0.0.1", 3306, "MariaDB", HOW_TO_START_MARIADB)
        await _admin_mariadb(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        db = MariaDb(name)
        drop = f"DROP DATABASE IF EXISTS `{name}`"
        admin = _admin_mariadb
    else:
        _require("127.0.0.1", 5432, "PostgreSQL", "pg_ctlcluster ... main start")
        await _admin_postgres(f'CREATE DATABASE "{name}"')
        db = PostgresDb(name)
        drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
        admin = _admin_postgres
    try:
        await db.run(*statements(request.param))
        yield db
    finally:
        await admin(drop)
