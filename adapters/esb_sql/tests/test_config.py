"""The options: checked names, one way of reading, the statements each dialect gets."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import Dialect, make_url

from esb.sdk import ValidationFailed
from esb_sql.config import SqlPollConfig
from esb_sql.source import refusal
from esb_sql.statements import Statements

BASE: dict[str, Any] = {"url": "mysql://esb:pw@mes-db/mes", "table": "mes_completion"}


def test_defaults_read_new_rows_by_the_flag() -> None:
    config = SqlPollConfig(**BASE)
    assert config.condition() == "sync_flag = 0"
    assert config.interval == "5s"
    assert config.key == "id"
    assert config.batch == 500
    assert SqlPollConfig(**BASE, write_back=False).condition() is None
    assert SqlPollConfig(**BASE, where="status = 'done'").condition() == "status = 'done'"


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"table": "mes; DROP TABLE x"}, "not a table name"),
        ({"key": "id desc"}, "not a column name"),
        ({"write_back": {"flag": "a b"}}, "not a column name"),
        ({"write_back": {"accepted": 2}}, "must differ"),
        ({"query": "DELETE FROM mes_completion"}, "one SELECT"),
        ({"query": "SELECT 1; DELETE FROM t"}, "one SELECT"),
        ({"query": "SELECT * FROM t", "where": "x = 1"}, "give one"),
        ({"url": "ftp://host/x"}, "unknown database"),
        ({"interval": "every now and then"}, "not a schedule"),
        ({"batch": 0}, "greater than or equal to 1"),
        ({"time_zone": "Mars/Olympus"}, "unknown time zone"),
    ],
)
def test_wrong_options_are_refused_saying_why(options: dict[str, Any], says: str) -> None:
    with pytest.raises(ValueError, match=says):
        SqlPollConfig(**{**BASE, **options})


def test_the_url_never_shows() -> None:
    config = SqlPollConfig(**{**BASE, "url": "mysql://esb:s3cret@mes-db/mes"})
    assert "s3cret" not in repr(config)
    assert "s3cret" not in config.model_dump_json()


def dialect(name: str) -> Dialect:
    return make_url(f"{name}://").get_dialect()()


def sql(statement: Any, dialect: Dialect) -> str:
    return " ".join(str(statement.compile(dialect=dialect)).split())


def test_new_rows_in_key_order_with_each_dialects_limit() -> None:
    statements = Statements(SqlPollConfig(**BASE))
    select = statements.new_rows(41, 500)
    assert sql(select, dialect("mysql")) == (
        "SELECT * FROM mes_completion WHERE (sync_flag = 0) AND mes_completion.id > %s "
        "ORDER BY mes_completion.id LIMIT %s"
    )
    assert "::BIGINT" in sql(select, dialect("postgresql"))  # keys beyond 2**31
    assert "TOP" in sql(select, dialect("mssql"))
    assert "FETCH FIRST" in sql(select, dialect("oracle"))
    first = sql(statements.new_rows(None, 10), dialect("mysql"))
    assert "id >" not in first


def test_a_query_is_wrapped_and_its_colons_stay_text() -> None:
    config = SqlPollConfig(
        **BASE, query="SELECT * FROM mes_completion WHERE finished_at > '2026-01-01 08:00:00'"
    )
    compiled = sql(Statements(config).new_rows(7, 100), dialect("postgresql"))
    assert compiled.startswith(
        "SELECT * FROM (SELECT * FROM mes_completion WHERE finished_at > '2026-01-01 08:00:00')"
        " AS q WHERE q.id > "
    )
    assert compiled.endswith("ORDER BY q.id LIMIT %(param_1)s::INTEGER")


def test_write_back_statements() -> None:
    statements = Statements(SqlPollConfig(**{**BASE, "table": "mes.mes_completion"}))
    update = sql(statements.set_flag([1, 2], 2, datetime(2026, 1, 1), expected=1), dialect("mysql"))
    assert update.startswith(
        "UPDATE mes.mes_completion SET sync_flag=%s, sync_msg=%s, sync_time=%s "
        "WHERE mes.mes_completion.id IN ("
    )
    assert update.endswith("AND mes.mes_completion.sync_flag = %s")
    failed = sql(statements.set_failed(), dialect("mysql"))
    assert failed == (
        "UPDATE mes.mes_completion SET sync_flag=%s, sync_msg=%s, sync_time=%s "
        "WHERE mes.mes_completion.id = %s"
    )
    bare = Statements(SqlPollConfig(**BASE, write_back={"message": None, "time": None}))
    assert sql(bare.set_failed(), dialect("mysql")).startswith(
        "UPDATE mes_completion SET sync_flag=%s WHERE"
    )


def test_a_refusal_names_the_fields_and_the_store_away_is_not_one() -> None:
    from esb.sdk import FieldProblem, StoreUnavailable

    problem = ValidationFailed([FieldProblem("qty_good", "-5 is less than the minimum of 0")])
    assert refusal(problem) == "qty_good: -5 is less than the minimum of 0"
    reused = ValidationFailed(
        [FieldProblem("Idempotency-Key", "already used for a different body")],
        code="idempotency_key_reused",
    )
    assert "the row changed after the gateway had accepted it" in (refusal(reused) or "")
    assert refusal(StoreUnavailable("down")) is None
    assert refusal(RuntimeError("bug")) is None
