"""The ``sql`` connector: one mapped document -> one row of a staging table, exactly once.

Each delivery is one transaction. The row carries the message's idempotency key in a
unique column (``message_id_column``), so a retried or replayed delivery never adds a
second row: PostgreSQL's ``INSERT ... ON CONFLICT (that column) DO NOTHING``; on
MariaDB/MySQL (whose ``INSERT IGNORE`` would also swallow refused values) a plain
``INSERT`` whose duplicate-key refusal is checked against that column. With
``upsert_key`` the row replaces the one with the same key (``ON CONFLICT ... DO
UPDATE`` / ``ON DUPLICATE KEY UPDATE``).
"""

from __future__ import annotations

import asyncio
import re
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, field_validator
from sqlalchemy import MetaData, Table, func, insert, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from esb.sdk import (
    ConnectorConfig,
    ConnectorContext,
    Delivered,
    DeliveryRequest,
    Outcome,
    Park,
    RetryLater,
    Timeouts,
    TimeZoneName,
    async_database_url,
)
from esb_sql.failures import reason, transient
from esb_sql.rows import RowProblem, row_of

IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_$]*$"
TABLE_NAME = r"^([A-Za-z_][A-Za-z0-9_$]*\.)?[A-Za-z_][A-Za-z0-9_$]*$"


class SqlConfig(ConnectorConfig):
    """Options of the ``sql`` connector."""

    url: SecretStr = Field(
        description="the target database: mysql://, mariadb://, postgresql:// ... "
        "(write ${ENV_VAR}: it holds a password); the gateway picks the async driver"
    )
    table: str = Field(pattern=TABLE_NAME, description="the staging table, e.g. erp_receipt")
    columns: dict[str, str] | None = Field(
        default=None,
        description="column -> field of the document (a.b for a nested one); "
        "default: every top-level field into the column of its name",
    )
    message_id_column: str = Field(
        default="esb_message_id",
        pattern=IDENTIFIER,
        description="unique column given the message's idempotency key (VARCHAR(200))",
    )
    upsert_key: list[str] = Field(
        default_factory=list,
        description="columns of a unique key: a row with the same key is updated "
        "instead of a second one inserted; empty: insert only",
    )
    time_zone: TimeZoneName = Field(
        default="Asia/Shanghai",
        description="zone a DATETIME column without zone is written in",
    )
    timeout: Timeouts = Field(default_factory=Timeouts)
    max_connections: int = Field(default=4, ge=1, le=100, description="pooled connections")

    @field_validator("upsert_key")
    @classmethod
    def _columns(cls, value: list[str]) -> list[str]:
        for name in value:
            if not re.match(IDENTIFIER, name):
                raise ValueError(f"{name!r} is not a column name")
        return value


def _connect_args(url: str, timeout: float) -> dict[str, Any]:
    if url.startswith("postgresql+asyncpg"):
        return {"timeout": timeout}
    if url.startswith("mysql+asyncmy"):
        return {"connect_timeout": max(1, round(timeout))}
    return {}


class SqlConnector:
    Config: ClassVar[type[ConnectorConfig]] = SqlConfig

    def __init__(self, config: SqlConfig, context: ConnectorContext) -> None:
        self.config = config
        self.context = context
        self.zone = ZoneInfo(config.time_zone)
        self._url = async_database_url(config.url.get_secret_value())
        self._engine: AsyncEngine | None = None
        self._table: Table | None = None

    def _pool(self) -> AsyncEngine:
        """Made on first use, inside the event loop that will run it."""
        if self._engine is None:
            self._engine = create_async_engine(
                self._url,
                pool_size=self.config.max_connections,
                max_overflow=0,
                pool_timeout=self.config.timeout.total,
                pool_pre_ping=True,
                pool_recycle=1800,
                connect_args=_connect_args(self._url, self.config.timeout.connect),
            )
        return self._engine

    async def _reflect(self, connection: AsyncConnection) -> Table:
        if self._table is None:
            schema, _, name = self.config.table.rpartition(".")

            def load(sync: Any) -> Table:
                return Table(name, MetaData(), schema=schema or None, autoload_with=sync)

            self._table = await connection.run_sync(load)
            await connection.rollback()  # reflection's own (read-only) transaction
        return self._table

    async def deliver(self, request: DeliveryRequest) -> Outcome:
        try:
            async with asyncio.timeout(self.config.timeout.total):
                return await self._deliver(request)
        except TimeoutError:
            return RetryLater(
                f"{self.config.table}: no answer within {self.config.timeout.total:g}s"
            )
        except sa_exc.NoSuchTableError:
            return Park(f"table {self.config.table} does not exist in the target database")
        except RowProblem as exc:
            return Park(f"{self.config.table}: {exc}")
        except (sa_exc.SQLAlchemyError, OSError) as exc:
            if isinstance(exc, sa_exc.DBAPIError | OSError) and transient(exc):
                self._table = None  # the table may have changed while it was away
                return RetryLater(f"{self.config.table}: {reason(exc)}")
            return Park(f"{self.config.table}: {reason(exc)}")

    async def _deliver(self, request: DeliveryRequest) -> Outcome:
        key = request.idempotency_key
        id_column = self.config.message_id_column
        async with self._pool().connect() as connection:
            table = await self._reflect(connection)
            if id_column not in table.c:
                raise RowProblem(id_column, f"table {table.fullname} has no such column")
            row = row_of(request.body, table, self.config.columns, id_column, self.zone)
            row[id_column] = key
            try:
                async with connection.begin():
                    written = await connection.execute(self._statement(table, row, connection))
            except sa_exc.IntegrityError:
                if await self._holds(connection, table, key):
                    return Delivered(detail={"table": table.fullname, "already": True})
                raise
        if written.rowcount == 0:  # ON CONFLICT DO NOTHING: this message's row is there
            return Delivered(detail={"table": table.fullname, "already": True})
        return Delivered(detail={"table": table.fullname})

    def _statement(self, table: Table, row: dict[str, Any], connection: AsyncConnection) -> Any:
        dialect = connection.dialect.name
        id_column = self.config.message_id_column
        keyed = self.config.upsert_key
        changed = [c for c in row if c not in keyed]
        if dialect == "postgresql":
            statement = pg_insert(table).values(row)
            if keyed:
                return statement.on_conflict_do_update(
                    index_elements=keyed, set_={c: statement.excluded[c] for c in changed}
                )
            return statement.on_conflict_do_nothing(index_elements=[id_column])
        if dialect in ("mysql", "mariadb") and keyed:
            upsert = mysql_insert(table).values(row)
            return upsert.on_duplicate_key_update({c: upsert.inserted[c] for c in changed})
        return insert(table).values(row)

    async def _holds(self, connection: AsyncConnection, table: Table, key: str) -> bool:
        """Whether this message's row is already in the table (a duplicate-key refusal
        on the message id column is a repeat, not a failure)."""
        column = table.c[self.config.message_id_column]
        async with connection.begin():
            found = await connection.scalar(select(func.count()).where(column == key))
        return bool(found)

    async def aclose(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None
