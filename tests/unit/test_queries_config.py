"""queries.yaml is checked when it loads: one read-only statement (by a SQL parser),
parameters declared and used, defaults of their type, systems that exist, a database
URL of a known kind; each problem as file:line: key. ``enabled`` switches a query off."""

from __future__ import annotations

from pathlib import Path

import pytest

from esb.config.loader import load_config
from esb.config.sql_check import check_sql
from esb.connectors import load_registry
from esb.errors import ConfigError
from tests.support.gateway import rest_interface, write_config

GOOD = """
queries:
  mes-completions:
    database: ${MES_DB_URL}
    systems: [erp]
    sql: |
      SELECT id, work_order FROM mes_completion
      WHERE work_order = :work_order ORDER BY id
    parameters:
      work_order: {type: string}
"""


def _folder(tmp_path: Path, queries: str) -> Path:
    folder = write_config(tmp_path / "cfg", rest_interface("http://mes:8080"))
    (folder / "queries.yaml").write_text(queries, encoding="utf-8")
    return folder


def _problems(folder: Path, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(
            folder, load_registry(), {"MES_DB_URL": "mysql://u:p@db/mes"} if env is None else env
        )
    return caught.value.problems


def test_a_good_query_loads_with_its_parameters(tmp_path: Path) -> None:
    folder = _folder(tmp_path, GOOD)
    config = load_config(folder, load_registry(), {"MES_DB_URL": "mysql://u:p@db/mes"})
    query = config.queries["mes-completions"]
    assert query.systems == ["erp"]
    assert query.parameters["work_order"].is_required
    assert (query.row_limit, query.timeout) == (1000, 10.0)


@pytest.mark.parametrize(
    ("sql", "words"),
    [
        (
            "DELETE FROM mes_completion",
            "only a SELECT or WITH query may be published, this is a DELETE",
        ),
        ("UPDATE mes_completion SET sync_flag = 0", "this is an UPDATE statement"),
        ("SELECT 1; DROP TABLE mes_completion", "exactly one statement, found 2"),
        ("SELECT * FROM mes_completion FOR UPDATE", "a locking clause"),
        ("SELEC id FROM mes_completion", "the SQL cannot be parsed (mysql SQL)"),
        ("SELECT * FROM t WHERE id = ?", "positional ? is not allowed"),
    ],
)
def test_only_one_read_only_statement_is_accepted(tmp_path: Path, sql: str, words: str) -> None:
    text = GOOD.replace(
        "      SELECT id, work_order FROM mes_completion\n"
        "      WHERE work_order = :work_order ORDER BY id\n",
        f"      {sql}\n",
    ).replace("    parameters:\n      work_order: {type: string}\n", "")
    [problem] = _problems(_folder(tmp_path, text))
    assert problem.startswith(
        f"{tmp_path / 'cfg' / 'queries.yaml'}:6: queries.mes-completions.sql: "
    )
    assert words in problem


def test_a_delete_inside_a_with_is_found_too() -> None:
    sql = "WITH gone AS (DELETE FROM t RETURNING *) SELECT * FROM gone"
    assert "holds a DELETE statement" in check_sql(sql, "postgres").problems[0]
    assert check_sql("WITH a AS (SELECT 1 AS x) SELECT x FROM a", "postgres").problems == []


def test_parameters_systems_defaults_and_urls_are_checked(tmp_path: Path) -> None:
    text = """
queries:
  q1:
    database: redis://cache/0
    systems: [erp, crm]
    sql: SELECT * FROM t WHERE a = :a AND b = :b
    parameters:
      a: {type: integer, default: many}
      c: {type: date}
"""
    found = _problems(_folder(tmp_path, text))
    where = str(tmp_path / "cfg" / "queries.yaml")
    assert found == [
        f"{where}:4: queries.q1.database: unknown database 'redis' in the URL: use one of "
        "mariadb, mssql, mysql, oracle, postgres, postgresql, sqlite, sqlserver",
        f"{where}:6: queries.q1.sql: :b is used but not declared under parameters",
        f"{where}:9: queries.q1.parameters.c: declared but the SQL has no :c",
        f"{where}:8: queries.q1.parameters.a.default: must be a whole number",
        f"{where}:5: queries.q1.systems[1]: unknown system 'crm' (known: erp, finance, mes, wms)",
    ]


def test_schema_problems_name_the_key_and_line(tmp_path: Path) -> None:
    text = GOOD.replace("    systems: [erp]\n", "    systems: [erp]\n    row_limt: 5\n")
    [problem] = _problems(_folder(tmp_path, text))
    assert problem.endswith(
        "queries.yaml:6: queries.mes-completions.row_limt: unknown key 'row_limt': "
        "did you mean 'row_limit'?"
    )


def test_enabled_follows_a_variable(tmp_path: Path) -> None:
    text = GOOD.replace("    database: ${MES_DB_URL}", "    enabled: ${MES_DB_URL:+true}\n"
                        "    database: ${MES_DB_URL}")  # fmt: skip
    folder = _folder(tmp_path, text)
    off = load_config(folder, load_registry(), {})  # its variable need not be set
    assert dict(off.queries) == {}
    on = load_config(folder, load_registry(), {"MES_DB_URL": "postgresql://db/mes"})
    assert list(on.queries) == ["mes-completions"]
    # switched on, it is checked like any other
    (folder / "queries.yaml").write_text(text.replace("SELECT id", "DELETE"), encoding="utf-8")
    [problem] = _problems(folder, {"MES_DB_URL": "postgresql://db/mes"})
    assert "queries.mes-completions.sql" in problem


def test_an_enabled_query_needs_its_database(tmp_path: Path) -> None:
    text = GOOD.replace("    database: ${MES_DB_URL}", "    database: ${MES_DB_URL:-}")
    [problem] = _problems(_folder(tmp_path, text), {})
    assert problem.endswith(
        "queries.yaml:4: queries.mes-completions.database: missing (required while the "
        "query is enabled)"
    )


def test_a_colon_word_inside_a_literal_is_pointed_out(tmp_path: Path) -> None:
    text = GOOD.replace("SELECT id, work_order", "SELECT id, ' :00' AS t, work_order")
    [problem] = _problems(_folder(tmp_path, text))
    assert problem.endswith(
        "queries.mes-completions.sql: :00 inside a literal would be bound: write \\:00 there"
    )
