"""The ``sql-poll`` options: where the rows are, how they are read, what is written back."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from esb.sdk import (
    Duration,
    InboundConfig,
    ScheduleText,
    StrictModel,
    TimeZoneName,
    async_database_url,
)

__all__ = ["SqlPollConfig", "WriteBack", "check_identifier"]

#: A table or column name, optionally schema-qualified (``mes.mes_completion``): letters,
#: digits and underscores, so it can never smuggle SQL into the statements made from it.
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]{0,127}(\.[A-Za-z_][A-Za-z0-9_$]{0,127})?$")
_COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]{0,127}$")


def check_identifier(name: str, *, dotted: bool = False) -> str:
    if not (_IDENTIFIER if dotted else _COLUMN).match(name):
        what = "a table name (optionally schema.table)" if dotted else "a column name"
        raise ValueError(f"{name!r} is not {what}: letters, digits and _ only")
    return name


class WriteBack(StrictModel):
    """The columns of the source table the gateway updates, and the flag values it writes."""

    flag: str = Field(default="sync_flag", description="the status column the gateway sets")
    new: int = Field(default=0, description="flag value of a row not read yet (the MES writes it)")
    accepted: int = Field(default=1, description="flag once the gateway has accepted the row")
    delivered: int = Field(default=2, description="flag once every target has the message")
    failed: int = Field(
        default=9, description="flag when it failed for good: refused, parked or discarded"
    )
    message: str | None = Field(
        default="sync_msg", description="column for the reason of a failure (none: not written)"
    )
    message_length: int = Field(
        default=500, ge=20, le=4000, description="characters of the reason kept (the column's)"
    )
    time: str | None = Field(
        default="sync_time", description="column for when the flag was set (factory local time)"
    )

    @field_validator("flag")
    @classmethod
    def _flag_column(cls, value: str) -> str:
        return check_identifier(value)

    @field_validator("message", "time")
    @classmethod
    def _columns(cls, value: str | None) -> str | None:
        return None if value is None else check_identifier(value)

    @model_validator(mode="after")
    def _distinct(self) -> WriteBack:
        values = [self.new, self.accepted, self.delivered, self.failed]
        if len(set(values)) != len(values):
            raise ValueError("write_back: new, accepted, delivered and failed must differ")
        return self

    def columns(self) -> set[str]:
        return {c for c in (self.flag, self.message, self.time) if c is not None}


class SqlPollConfig(InboundConfig):
    """Rows of a staging table (中间表) or a SELECT, read on a schedule; each row a message."""

    kind: Literal["sql-poll"] = "sql-poll"
    url: SecretStr = Field(
        description="the database, e.g. mysql://user:pw@host:3306/mes or postgresql://...; "
        "the gateway picks the async driver (a URL naming one is kept)"
    )
    table: str = Field(
        description="the staging table (schema.table allowed): rows are read from it, flags "
        "written back into it, and it names the rows' idempotency keys"
    )
    key: str = Field(default="id", description="the key column: unique, rows are read in its order")
    where: str | None = Field(
        default=None,
        description="SQL condition for rows to read; default: the flag column = write_back.new "
        "(none when write_back is off: the key watermark then decides)",
    )
    query: str | None = Field(
        default=None,
        description="a SELECT of your own instead of table + where (it must return the key "
        "column; the gateway adds the key order and the batch limit)",
    )
    batch: int = Field(default=500, ge=1, le=10_000, description="rows read per statement")
    interval: ScheduleText = Field(
        default="5s", description="how often to poll: a duration (5s, 1m) or a cron expression"
    )
    time_zone: TimeZoneName | None = Field(
        default=None,
        description="zone of DATETIME/TIMESTAMP values without one (default: the factory's, "
        "ESB_TIME_ZONE); they become ISO 8601 with offset",
    )
    write_back: WriteBack | Literal[False] = Field(
        default_factory=WriteBack,
        description="flags written into the table (false: read only, a key watermark kept "
        "in the gateway's state instead)",
    )
    pool_size: int = Field(default=2, ge=1, le=10, description="connections to the database")
    timeout: Duration = Field(
        default=30.0, description="connect and statement timeout; a slower poll fails and retries"
    )

    @field_validator("url")
    @classmethod
    def _url(cls, value: SecretStr) -> SecretStr:
        async_database_url(value.get_secret_value())  # an unknown scheme is refused here
        return value

    @field_validator("table")
    @classmethod
    def _table(cls, value: str) -> str:
        return check_identifier(value, dotted=True)

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        return check_identifier(value)

    @field_validator("query")
    @classmethod
    def _query(cls, value: str | None) -> str | None:
        if value is None:
            return None
        text = value.strip().rstrip(";").strip()
        if not re.match(r"(?is)^(select|with)\b", text) or ";" in text:
            raise ValueError("query: one SELECT (or WITH ... SELECT) statement")
        return text

    @model_validator(mode="after")
    def _one_way(self) -> SqlPollConfig:
        if self.query is not None and self.where is not None:
            raise ValueError("query and where: give one (put the condition into the query)")
        if self.timeout <= 0:
            raise ValueError("timeout must be positive")
        return self

    def condition(self) -> str | None:
        """The rows to read in table mode: ``where``, else the new rows' flag."""
        if self.where is not None:
            return self.where
        if self.write_back is False:
            return None
        return f"{self.write_back.flag} = {self.write_back.new}"
