"""The statements the source runs, built with SQLAlchemy so each dialect gets its own
quoting and row limit (``LIMIT``, ``TOP``, ``FETCH FIRST``). Names come from the config,
checked as identifiers; values are always bound parameters; only the user's own ``where``
and ``query`` are SQL text, taken from the configuration as written."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    TableClause,
    Update,
    bindparam,
    column,
    literal_column,
    select,
    table,
    text,
)

from esb_sql.config import SqlPollConfig, WriteBack

__all__ = ["Statements"]


def _sql_text(sql: str) -> str:
    """The user's SQL with every colon escaped: ``'08:00'`` is text, not a bind parameter."""
    return sql.replace(":", "\\:")


def _after(value: Any) -> Any:
    """A key bound as its own type; whole numbers as BIGINT (an INTEGER cast would refuse a
    key beyond 2**31 on PostgreSQL)."""
    kind = BigInteger() if isinstance(value, int) and not isinstance(value, bool) else None
    return bindparam("after", value, type_=kind)


def _keys(values: Sequence[Any]) -> Any:
    ints = all(isinstance(v, int) and not isinstance(v, bool) for v in values)
    return bindparam("keys", list(values), expanding=True, type_=BigInteger() if ints else None)


def _table(name: str, columns: Sequence[str]) -> TableClause:
    schema, _, bare = name.rpartition(".")
    return table(bare, *(column(c) for c in columns), schema=schema or None)


class Statements:
    """Selects of new rows (table + where, or the user's query) and of rows to watch, and
    the write-back updates, for one configured source."""

    def __init__(self, config: SqlPollConfig) -> None:
        self.config = config
        self.write_back: WriteBack | None = config.write_back or None
        names = [config.key, *(sorted(self.write_back.columns()) if self.write_back else [])]
        self.table = _table(config.table, list(dict.fromkeys(names)))
        self.key = self.table.c[config.key]

    def new_rows(self, after: Any, limit: int) -> Select[Any]:
        """The next ``limit`` rows to read, in key order, after key ``after`` (None: from
        the start)."""
        if self.config.query is not None:
            source = text(_sql_text(self.config.query)).columns(column(self.config.key))
            rows = source.subquery("q")
            key: ColumnElement[Any] = rows.c[self.config.key]
            statement: Select[Any] = select(literal_column("*")).select_from(rows)
        else:
            key = self.key
            statement = select(literal_column("*")).select_from(self.table)
            condition = self.config.condition()
            if condition is not None:
                statement = statement.where(text(f"({_sql_text(condition)})"))
        if after is not None:
            statement = statement.where(key > _after(after))
        return statement.order_by(key).limit(limit)

    def flagged(self, flag: int, after: Any, limit: int) -> Select[Any]:
        """Keys of rows holding ``flag`` (accepted ones: still to be told their outcome)."""
        assert self.write_back is not None
        statement = select(self.key).where(self.table.c[self.write_back.flag] == flag)
        if after is not None:
            statement = statement.where(self.key > _after(after))
        return statement.order_by(self.key).limit(limit)

    def set_flag(
        self, keys: Sequence[Any], flag: int, when: datetime, *, expected: int | None = None
    ) -> Update:
        """Every row of ``keys`` gets ``flag``, no reason and ``when`` (one statement)."""
        assert self.write_back is not None
        wb = self.write_back
        values: dict[str, Any] = {wb.flag: flag}
        if wb.message is not None:
            values[wb.message] = None
        if wb.time is not None:
            values[wb.time] = when
        statement = self.table.update().where(self.key.in_(_keys(keys))).values(values)
        if expected is not None:
            statement = statement.where(self.table.c[wb.flag] == expected)
        return statement

    def set_failed(self) -> Update:
        """One row gets the failed flag, its reason and the time; executed with a list of
        ``{"k": key, "f": flag, "m": reason, "t": when}`` (an executemany)."""
        assert self.write_back is not None
        wb = self.write_back
        values: dict[str, Any] = {wb.flag: bindparam("f")}
        if wb.message is not None:
            values[wb.message] = bindparam("m")
        if wb.time is not None:
            values[wb.time] = bindparam("t")
        return self.table.update().where(self.key == bindparam("k")).values(values)
