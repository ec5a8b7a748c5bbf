"""``esb check`` (the real command) refuses a query that would write, with file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import esb, refused_in_words
from tests.support.gateway import rest_interface, write_config

DELETING = """
queries:
  purge:
    database: mysql://gw@db/mes
    systems: [erp]
    sql: |
      DELETE FROM mes_completion WHERE work_order = :work_order
    parameters:
      work_order: {}
"""


def test_esb_check_refuses_a_delete_with_file_and_line(tmp_path: Path) -> None:
    folder = write_config(tmp_path / "cfg", rest_interface("http://mes:8080"))
    (folder / "queries.yaml").write_text(DELETING, encoding="utf-8")
    stderr = refused_in_words(esb("check", env={"ESB_CONFIG": str(folder)}, cwd=folder), 1)
    first = stderr.strip().splitlines()[0]
    assert first == (
        "queries.yaml:6: queries.purge.sql: only a SELECT or WITH query may be published, "
        "this is a DELETE statement"
    )
    (folder / "queries.yaml").write_text(DELETING.replace("DELETE FROM", "SELECT * FROM"))
    ok = esb("check", env={"ESB_CONFIG": str(folder)}, cwd=folder)
    assert ok.returncode == 0, ok.stderr


QUERY_OFF = {
    "en": "off: query purge (its enabled: is false or its variable is unset)",
    "zh": "已关闭：查询 purge（其 enabled: 为 false，或其变量未设置）",  # noqa: RUF001
}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_esb_check_says_which_queries_are_off(lang: str, tmp_path: Path) -> None:
    folder = write_config(tmp_path / "cfg", rest_interface("http://mes:8080"))
    optional = DELETING.replace("DELETE FROM", "SELECT * FROM").replace(
        "    database: mysql://gw@db/mes",
        "    enabled: ${MES_DB_URL:+true}\n    database: ${MES_DB_URL}",
    )
    (folder / "queries.yaml").write_text(optional, encoding="utf-8")
    result = esb("check", env={"ESB_CONFIG": str(folder)}, cwd=folder, lang=lang)
    assert result.returncode == 0, result.stderr
    assert QUERY_OFF[lang] in result.stdout
