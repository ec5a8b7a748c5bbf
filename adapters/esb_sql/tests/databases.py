"""The two databases the ``sql`` connector is tested on, each with a staging table of its
own made per test, reached through a TCP proxy the test can cut (the database "goes
away") and, on MariaDB, as a user with a password (the secret that must never show)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any, ClassVar

import asyncmy
import asyncpg

from tests.support.tcpproxy import TcpProxy

PASSWORD = "s3cret-db-pw-4711"


class Database:
    kind: ClassVar[str]
    port: ClassVar[int]
    create: ClassVar[str]
    lock: ClassVar[str]

    def __init__(self) -> None:
        self.table = f"erp_receipt_{uuid.uuid4().hex[:10]}"
        self.proxy = TcpProxy("127.0.0.1", self.port)
        self._holder: Any = None

    async def start(self) -> None:
        await self.admin(self.create.format(table=self.table))
        await self.proxy.start()

    async def stop(self) -> None:
        await self.release()
        await self.proxy.cut()
        await self.admin(f"DROP TABLE IF EXISTS {self.table}")

    def url(self, through_proxy: bool = True) -> str:
        raise NotImplementedError

    async def admin(self, sql: str) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    async def hold_lock(self) -> None:
        raise NotImplementedError

    async def release(self) -> None:
        raise NotImplementedError

    def count(self, where: str = "") -> int:
        """Rows of the table (sync: the contract's ``seen`` is), read on its own loop."""

        async def read() -> int:
            rows = await self.admin(f"SELECT COUNT(*) FROM {self.table} {where}")
            return int(rows[0][0])

        with_loop: list[int] = []

        def run() -> None:
            with_loop.append(asyncio.run(read()))

        import threading

        thread = threading.Thread(target=run)
        thread.start()
        thread.join()
        return with_loop[0]


class Postgres(Database):
    kind = "postgresql"
    port = 5432
    create = (
        "CREATE TABLE {table} (id BIGSERIAL PRIMARY KEY, "
        "esb_message_id VARCHAR(200) NOT NULL UNIQUE, order_no VARCHAR(32) NOT NULL UNIQUE, "
        "quantity NUMERIC(12,3) NOT NULL, note TEXT NULL, booked_at TIMESTAMP NULL)"
    )

    def url(self, through_proxy: bool = True) -> str:
        port = self.proxy.port if through_proxy else self.port
        return f"postgresql://postgres:{PASSWORD}@127.0.0.1:{port}/test"

    async def admin(self, sql: str) -> list[tuple[Any, ...]]:
        conn = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/test")
        try:
            return [tuple(r) for r in await conn.fetch(sql)]
        finally:
            await conn.close()

    async def hold_lock(self) -> None:
        self._holder = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/test")
        await self._holder.execute(f"BEGIN; LOCK TABLE {self.table} IN ACCESS EXCLUSIVE MODE")

    async def release(self) -> None:
        if self._holder is not None:
            await self._holder.close()
            self._holder = None


class MariaDb(Database):
    kind = "mariadb"
    port = 3306
    create = (
        "CREATE TABLE {table} (id BIGINT AUTO_INCREMENT PRIMARY KEY, "
        "esb_message_id VARCHAR(200) NOT NULL UNIQUE, order_no VARCHAR(32) NOT NULL UNIQUE, "
        "quantity DECIMAL(12,3) NOT NULL, note TEXT NULL, booked_at DATETIME NULL"
        ") DEFAULT CHARSET = utf8mb4"
    )
    user = "esb_sql_test"

    async def start(self) -> None:
        await self.admin(f"CREATE USER IF NOT EXISTS '{self.user}'@'%' IDENTIFIED BY '{PASSWORD}'")
        await self.admin(f"GRANT ALL ON test.* TO '{self.user}'@'%'")
        await super().start()

    def url(self, through_proxy: bool = True) -> str:
        port = self.proxy.port if through_proxy else self.port
        return f"mysql://{self.user}:{PASSWORD}@127.0.0.1:{port}/test"

    async def _connect(self) -> Any:
        return await asyncmy.connect(
            host="127.0.0.1", port=3306, user="root", password="", db="test", autocommit=True
        )

    async def admin(self, sql: str) -> list[tuple[Any, ...]]:
        conn = await self._connect()
        try:
            async with conn.cursor() as cursor:
                await cursor.execute(sql)
                return list(await cursor.fetchall() or [])
        finally:
            conn.close()

    async def hold_lock(self) -> None:
        self._holder = await self._connect()
        async with self._holder.cursor() as cursor:
            await cursor.execute(f"LOCK TABLES {self.table} WRITE")

    async def release(self) -> None:
        if self._holder is not None:
            self._holder.close()
            self._holder = None
