"""Named read-only queries over real databases (MariaDB and PostgreSQL as the MES's),
through a gateway on a real socket in both modes: the scenario's ``mes-completions``
as JSON and as CSV, who may run what, parameters checked and always bound, the
statement timeout, the row limit, a database that is down.
"""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path
from typing import Any

import httpx

from tests.support.gateway import (
    ADMIN_KEY,
    ERP_KEY,
    MES_KEY,
    GatewayUnderTest,
    rest_interface,
    write_config,
)
from tests.support.mes_db import MesDatabase

QUERIES = """
queries:
  mes-completions:
    description: 完工报告 / completion reports of one work order
    database: ${MES_DB_URL}
    systems: [erp]
    sql: |
      SELECT id, work_order, material_code, qty_good, qty_scrap, line_code,
             finished_at, operator_name, sync_flag
      FROM mes_completion
      WHERE work_order = :work_order
      ORDER BY id
    parameters:
      work_order: {type: string, max_length: 64}
  completions-since:
    database: ${MES_DB_URL}
    systems: [erp, mes]
    row_limit: 2
    sql: |
      SELECT id, work_order FROM mes_completion
      WHERE finished_at >= :since AND qty_good >= :min_good AND id > :after
      ORDER BY id
    parameters:
      since: {type: datetime}
      min_good: {type: number, default: 0}
      after: {type: integer, default: 0}
  slow:
    database: ${MES_DB_URL}
    timeout: 1s
    sql: SELECT ${SLEEP} AS slept
"""
SLEEP = {"mariadb": "SLEEP(5)", "postgresql": "pg_sleep(5)"}


async def _gateway(make_gateway: Any, tmp_path: Path, db: MesDatabase) -> GatewayUnderTest:
    config = write_config(tmp_path / "cfg", rest_interface("http://127.0.0.1:9"))
    (config / "queries.yaml").write_text(QUERIES, encoding="utf-8")
    kind = db.kind
    gut: GatewayUnderTest = await make_gateway(
        config, env={"MES_DB_URL": db.url, "SLEEP": SLEEP[kind]}
    )
    return gut


async def _get(gut: GatewayUnderTest, path: str, key: str | None, **kw: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    headers.update(kw.pop("headers", {}))
    return await gut.client.get(f"{gut.url}{path}", headers=headers, **kw)


EXPECTED_ROW = {
    "id": 1,
    "work_order": "WO-20261124-0001",
    "material_code": "100-2001",
    "qty_good": 120.0,
    "qty_scrap": 0.0,
    "line_code": "L1",
    "finished_at": "2026-11-25T14:30:00+08:00",
    "operator_name": "张伟",
    "sync_flag": 0,
}


async def test_the_erp_reads_completions_as_json_and_csv(
    make_gateway: Any, tmp_path: Path, mes_db: MesDatabase
) -> None:
    gut = await _gateway(make_gateway, tmp_path, mes_db)
    path = "/v1/queries/mes-completions"
    params = {"work_order": "WO-20261124-0001"}

    answer = await _get(gut, path, ERP_KEY, params=params)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["rows"] == [EXPECTED_ROW]
    assert body["columns"] == list(EXPECTED_ROW)
    assert (body["row_count"], body["truncated"]) == (1, False)
    assert b'"qty_good":120.000' in answer.content  # the decimal exactly, as a JSON number

    sheet = await _get(gut, path, ERP_KEY, params=params, headers={"Accept": "text/csv"})
    assert sheet.status_code == 200, sheet.text
    assert sheet.headers["content-type"].startswith("text/csv")
    assert sheet.content.startswith(b"\xef\xbb\xbf")  # the BOM: Excel shows 张伟
    rows = list(csv.reader(io.StringIO(sheet.content.decode("utf-8-sig"))))
    assert rows[0] == list(EXPECTED_ROW)
    assert rows[1] == [
        "1", "WO-20261124-0001", "100-2001", "120.000", "0.000", "L1",
        "2026-11-25T14:30:00+08:00", "张伟", "0",
    ]  # fmt: skip
    assert "mes-completions.csv" in sheet.headers["content-disposition"]

    # the admin key runs every query; the list shows each caller what it may run
    assert (await _get(gut, path, ADMIN_KEY, params=params)).json()["rows"] == [EXPECTED_ROW]
    erp_list = (await _get(gut, "/v1/queries", ERP_KEY)).json()["queries"]
    assert [q["name"] for q in erp_list] == ["completions-since", "mes-completions"]
    assert erp_list[1]["parameters"] == [
        {"name": "work_order", "type": "string", "required": True, "default": None,
         "description": ""},
    ]  # fmt: skip
    mes_list = (await _get(gut, "/v1/queries", MES_KEY)).json()["queries"]
    assert [q["name"] for q in mes_list] == ["completions-since"]
    admin_list = (await _get(gut, "/v1/queries", ADMIN_KEY)).json()["queries"]
    assert [q["name"] for q in admin_list] == ["completions-since", "mes-completions", "slow"]


async def test_who_may_run_what_and_every_parameter_checked(
    make_gateway: Any, tmp_path: Path, mes_db: MesDatabase
) -> None:
    gut = await _gateway(make_gateway, tmp_path, mes_db)
    path = "/v1/queries/mes-completions"
    params = {"work_order": "WO-20261124-0001"}

    assert (await _get(gut, path, None, params=params)).status_code == 401
    assert (await _get(gut, path, "not-a-key", params=params)).status_code == 401
    refused = await _get(gut, path, MES_KEY, params=params)
    assert refused.status_code == 403, refused.text
    assert "mes" in refused.json()["error"]["message"]
    assert (await _get(gut, "/v1/queries/no-such", ERP_KEY)).status_code == 404

    missing = await _get(gut, path, ERP_KEY)
    assert missing.status_code == 422
    assert missing.json()["error"]["field"] == "work_order"
    assert "missing" in missing.json()["error"]["message"]
    too_long = await _get(gut, path, ERP_KEY, params={"work_order": "W" * 65})
    assert (too_long.status_code, too_long.json()["error"]["field"]) == (422, "work_order")
    unknown = await _get(gut, path, ERP_KEY, params={**params, "worker": "x"})
    assert (unknown.status_code, unknown.json()["error"]["field"]) == (422, "worker")

    since = "/v1/queries/completions-since"
    bad = await _get(
        gut, since, ERP_KEY, params={"since": "yesterday", "min_good": "lots", "after": "1.5"}
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["error"]["errors"]} == {"since", "min_good", "after"}

    # typed values bound as such; the row limit keeps the first two of three
    limited = await _get(
        gut, since, MES_KEY, params={"since": "2026-11-25T16:00:00+08:00", "min_good": "-10"}
    )
    assert limited.status_code == 200, limited.text
    body = limited.json()
    assert [r["id"] for r in body["rows"]] == [2, 3]
    assert (body["truncated"], body["row_limit"], limited.headers["x-truncated"]) == (
        True, 2, "true",
    )  # fmt: skip
    # a zone given in the parameter is read in the query's zone (08:00Z = 16:00 +08:00)
    utc = await _get(
        gut, since, MES_KEY, params={"since": "2026-11-25T08:00:00Z", "min_good": "3", "after": "2"}
    )
    assert [r["id"] for r in utc.json()["rows"]] == [3]


async def test_a_parameter_is_a_value_never_sql(
    make_gateway: Any, tmp_path: Path, mes_db: MesDatabase
) -> None:
    gut = await _gateway(make_gateway, tmp_path, mes_db)
    for attack in (
        "'; DROP TABLE mes_completion; --",
        "WO-20261124-0001' OR '1'='1",
        "x\\'; DELETE FROM mes_completion; --",
    ):
        answer = await _get(
            gut, "/v1/queries/mes-completions", ERP_KEY, params={"work_order": attack}
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["rows"] == []
    assert await mes_db.run("SELECT COUNT(*) FROM mes_completion") == [(4,)]


async def test_a_slow_query_is_stopped_by_its_timeout(
    make_gateway: Any, tmp_path: Path, mes_db: MesDatabase
) -> None:
    gut = await _gateway(make_gateway, tmp_path, mes_db)
    started = time.monotonic()
    answer = await _get(gut, "/v1/queries/slow", ADMIN_KEY)
    took = time.monotonic() - started
    assert answer.status_code == 504, answer.text
    error = answer.json()["error"]
    assert error["code"] == "statement_timeout"
    assert "statement timeout" in error["message"]
    assert "1s" in error["message"]
    assert took < 4, took  # stopped by the database at 1 s, not after the 5 s sleep
    # the pool's connection is fine afterwards
    again = await _get(gut, "/v1/queries/mes-completions", ERP_KEY, params={"work_order": "x"})
    assert again.status_code == 200, again.text


async def test_a_database_that_is_down_is_a_503_with_the_reason(
    make_gateway: Any, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "cfg", rest_interface("http://127.0.0.1:9"))
    (config / "queries.yaml").write_text(QUERIES, encoding="utf-8")
    gut: GatewayUnderTest = await make_gateway(
        config, env={"MES_DB_URL": "mysql://root@127.0.0.1:9/mes", "SLEEP": "1"}
    )
    answer = await _get(gut, "/v1/queries/mes-completions", ERP_KEY, params={"work_order": "x"})
    assert answer.status_code == 503, answer.text
    assert answer.headers["retry-after"] == "1"
    error = answer.json()["error"]
    assert error["code"] == "query_database_unavailable"
    assert "mes-completions" in error["message"]
    assert "cannot be reached" in error["message"]


async def test_the_demo_factory_publishes_mes_completions_to_the_erp(
    make_gateway: Any, tmp_path: Path, mes_db: MesDatabase
) -> None:
    from esb.settings import demo_config_dir

    env = {
        "ERP_API_KEY": ERP_KEY,
        "DROP_DIR": str(tmp_path / "drop"),
        "MES_DB_URL": mes_db.url,
    }
    gut: GatewayUnderTest = await make_gateway(demo_config_dir(), env=env, config_watch=False)
    answer = await _get(
        gut, "/v1/queries/mes-completions", ERP_KEY, params={"work_order": "WO-20261124-0002"}
    )
    assert answer.status_code == 200, answer.text
    [row] = answer.json()["rows"]
    assert (row["operator_name"], row["qty_good"], row["qty_scrap"]) == ("李娜", 2.5, 0.1)
    assert row["finished_at"] == "2026-11-25T16:05:00+08:00"
    assert (row["sync_msg"], row["sync_time"]) == (None, None)


SNEAKY = {
    "mariadb": (
        "CREATE FUNCTION esb_sneaky() RETURNS INT MODIFIES SQL DATA "
        "BEGIN DELETE FROM mes_completion; RETURN 1; END"
    ),
    "postgresql": (
        "CREATE FUNCTION esb_sneaky() RETURNS INT LANGUAGE plpgsql AS "
        "$$ BEGIN DELETE FROM mes_completion; RETURN 1; END $$"
    ),
}


async def test_the_read_only_transaction_stops_a_write_the_parser_cannot_see(
    make_gateway: Any, tmp_path: Path, mes_db: MesDatabase
) -> None:
    kind = mes_db.kind
    await mes_db.run(SNEAKY[kind])
    config = write_config(tmp_path / "cfg", rest_interface("http://127.0.0.1:9"))
    (config / "queries.yaml").write_text(
        "queries:\n  sneaky:\n    database: ${MES_DB_URL}\n    sql: SELECT esb_sneaky() AS n\n"
    )
    gut: GatewayUnderTest = await make_gateway(config, env={"MES_DB_URL": mes_db.url})
    answer = await _get(gut, "/v1/queries/sneaky", ADMIN_KEY)
    assert answer.status_code == 502, answer.text
    error = answer.json()["error"]
    assert error["code"] == "query_failed"
    assert "read-only" in error["message"].lower().replace("read only", "read-only")
    assert await mes_db.run("SELECT COUNT(*) FROM mes_completion") == [(4,)]


async def test_a_reload_closes_the_pools_and_queries_go_on(
    make_gateway: Any, tmp_path: Path, mes_db: MesDatabase
) -> None:
    gut = await _gateway(make_gateway, tmp_path, mes_db)
    path, params = "/v1/queries/mes-completions", {"work_order": "WO-20261124-0001"}
    assert (await _get(gut, path, ERP_KEY, params=params)).status_code == 200
    runner = gut.gateway.queries
    assert len(runner._engines) == 1  # one pool for the one database
    live = gut.gateway.live
    live.env = {**(live.env or {}), **gut.env}  # the test's variables, as the process has them
    reloaded = await gut.admin("POST", "/v1/config/reload")
    assert reloaded.status_code == 200, reloaded.text
    assert runner._engines == {}
    assert (await _get(gut, path, ERP_KEY, params=params)).json()["rows"][0]["id"] == 1
