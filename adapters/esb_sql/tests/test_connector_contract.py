"""The ``sql`` connector through the shipped contract suite, on real PostgreSQL and MariaDB.

Transient: the database goes away (a TCP proxy cut in front of it). Permanent: the
table refuses the row (a CHECK constraint). Hanging: another session holds a lock on
the table. ``seen``: rows of the table holding the delivery's idempotency key (the
target is idempotent by itself: ``keyed = False``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from esb.sdk import DeliveryRequest
from esb.testing import ConnectorContract, ConnectorHarness
from esb_sql.tests.databases import PASSWORD, Database, MariaDb, Postgres

README = Path(__file__).resolve().parents[1] / "README.md"


class SqlHarness(ConnectorHarness):
    kind: ClassVar[str] = "sql"
    secret: ClassVar[str | None] = PASSWORD
    readme: ClassVar[Path | None] = README
    keyed: ClassVar[bool] = False
    database: ClassVar[type[Database]]

    def __init__(self, tmp_path: Path) -> None:
        super().__init__(tmp_path)
        self.db = self.database()
        self.refusing = False

    async def start(self) -> None:
        await self.db.start()

    async def stop(self) -> None:
        await self.db.stop()

    def options(self, timeout: float) -> dict[str, Any]:
        return {
            "url": self.db.url(),
            "table": self.db.table,
            "columns": {"order_no": "orderNo", "quantity": "quantity"},
            "timeout": {"connect": timeout, "total": timeout},
        }

    def body(self) -> Any:
        import uuid

        return {"orderNo": f"SO-{uuid.uuid4().hex[:8]}", "quantity": "2.50"}

    async def succeed(self) -> None:
        await self.db.proxy.cut()
        await self.db.proxy.restore()
        if self.refusing:
            await self.db.admin(f"ALTER TABLE {self.db.table} DROP CONSTRAINT no_orders")
            self.refusing = False

    async def fail_transiently(self) -> None:
        await self.db.proxy.cut()

    async def fail_permanently(self) -> None:
        await self.db.admin(
            f"ALTER TABLE {self.db.table} ADD CONSTRAINT no_orders CHECK (quantity < 0)"
        )
        self.refusing = True

    async def hang(self) -> None:
        await self.db.hold_lock()

    def seen(self, request: DeliveryRequest) -> int:
        return self.db.count(f"WHERE esb_message_id = '{request.idempotency_key}'")


class PostgresHarness(SqlHarness):
    database = Postgres


class MariaDbHarness(SqlHarness):
    database = MariaDb


class TestSqlOnPostgres(ConnectorContract):
    harness = PostgresHarness


class TestSqlOnMariaDb(ConnectorContract):
    harness = MariaDbHarness
