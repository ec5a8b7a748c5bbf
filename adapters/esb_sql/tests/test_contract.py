"""The ``sql-poll`` source through the shipped contract suite, against a real MariaDB.

The suite assumes a caller who offers a document and is told what became of it; a
staging table has no caller, so the harness plays the MES: offering document ``n`` is
writing row ``n`` with flag 0 (again: setting its flag back to 0, as an MES re-sending
the same row does), and the answer is the flag the gateway writes back (1 or 2:
accepted; 9: refused) or, while the store is away, the row staying new ("retry"; the
next poll takes it). The gateway reaches the table as a user of its own who may only
read it and update the three sync columns; that user's password is the secret that
must never show.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from esb.sdk import InboundSource, async_database_url
from esb.testing import Reply, SourceContract, SourceHarness
from tests.support.mes_db import MARIADB_URL

README = Path(__file__).resolve().parents[1] / "README.md"
TABLE = """CREATE TABLE staging (
    id BIGINT NOT NULL PRIMARY KEY, order_no VARCHAR(32) NOT NULL,
    qty DECIMAL(12,3) NOT NULL, sync_flag TINYINT NOT NULL DEFAULT 0,
    sync_msg VARCHAR(500) NULL, sync_time DATETIME NULL)"""


class StagingTableHarness(SourceHarness):
    kind: ClassVar[str] = "sql-poll"
    readme: ClassVar[Path | None] = README
    secret: ClassVar[str | None] = "s3cret-db-password-4711"

    def __init__(self, tmp_path: Path) -> None:
        super().__init__(tmp_path)
        self.name = f"esb_contract_{uuid.uuid4().hex[:8]}"
        self.root: AsyncEngine | None = None

    async def _root(self, sql: str, parameters: Any = None) -> Any:
        assert self.root is not None
        async with self.root.connect() as conn:
            return await conn.execute(text(sql), parameters or {})

    async def start(self) -> None:
        self.root = create_async_engine(
            async_database_url(MARIADB_URL), isolation_level="AUTOCOMMIT"
        )
        await self._root(f"CREATE DATABASE {self.name}")
        await self._root(f"CREATE TABLE {self.name}.{TABLE.removeprefix('CREATE TABLE ')}")
        await self._root(f"CREATE USER '{self.name}'@'%' IDENTIFIED BY '{self.secret}'")
        await self._root(
            f"GRANT SELECT, UPDATE (sync_flag, sync_msg, sync_time) "
            f"ON {self.name}.staging TO '{self.name}'@'%'"
        )

    async def stop(self) -> None:
        await self._root(f"DROP USER IF EXISTS '{self.name}'@'%'")
        await self._root(f"DROP DATABASE IF EXISTS {self.name}")
        assert self.root is not None
        await self.root.dispose()

    def options(self, timeout: float) -> dict[str, Any]:
        server = MARIADB_URL.split("@", 1)[1].rsplit("/", 1)[0]
        url = f"mysql://{self.name}:{self.secret}@{server}/{self.name}"
        return {"url": url, "table": "staging", "interval": "50ms", "batch": 10,
                "timeout": timeout, "time_zone": "Asia/Shanghai"}  # fmt: skip

    def body(self, number: int) -> Any:
        return {"id": number, "order_no": f"SO-{number}", "qty": number + 0.25}

    async def _flag(self, number: int) -> int | None:
        found = await self._root(f"SELECT sync_flag FROM {self.name}.staging WHERE id = {number}")
        value = found.scalar()
        return None if value is None else int(value)

    async def offer(self, source: InboundSource, number: int) -> Reply:
        calls = len(self.gateway.offered)
        if await self._flag(number) is None:
            await self._root(
                f"INSERT INTO {self.name}.staging (id, order_no, qty) VALUES (:id, :o, :q)",
                {"id": number, "o": f"SO-{number}", "q": number + 0.25},
            )
        else:  # the MES sends the same row again
            await self._root(f"UPDATE {self.name}.staging SET sync_flag = 0 WHERE id = {number}")
        return await self._answer(number, calls)

    async def again(self, source: InboundSource, number: int) -> Reply:
        return await self._answer(number, None)

    async def _answer(self, number: int, calls: int | None) -> Reply:
        for _ in range(500):
            await asyncio.sleep(0.02)
            flag = await self._flag(number)
            if flag in (1, 2):
                return "accepted"
            if flag == 9:
                return "refused"
            answers = [o.answer for o in self.gateway.offered[calls:]] if calls is not None else []
            if "unavailable" in answers:
                return "retry"
        raise AssertionError(f"row {number} was neither flagged nor left for a later poll")


class TestSqlPollContract(SourceContract):
    harness = StagingTableHarness
