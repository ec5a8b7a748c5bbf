"""The ``sql`` connector on real PostgreSQL and MariaDB: a retried or replayed delivery
inserts once (rows counted), through the connector and through a running gateway in
both modes; refused values park naming the column; upserts, nested values, times."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from esb.connectors import load_registry
from esb.sdk import ConnectorContext, Delivered, Park, RetryLater
from esb.testing import delivery_request
from esb_sql import SqlConfig, SqlConnector
from esb_sql.tests.databases import Database, MariaDb, Postgres
from tests.support.gateway import MES_KEY, GatewayUnderTest, write_config


@pytest.fixture(params=[Postgres, MariaDb], ids=["postgresql", "mariadb"])
async def db(request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    database: Database = request.param()
    await database.start()
    yield database
    await database.stop()


def connector(db: Database, tmp_path: Path, **options: Any) -> SqlConnector:
    config = SqlConfig(url=db.url(through_proxy=False), table=db.table, **options)
    return SqlConnector(config, ConnectorContext(tmp_path, "erp", "production-report"))


async def rows(db: Database, columns: str = "order_no, quantity, note, booked_at") -> list[Any]:
    return await db.admin(f"SELECT {columns} FROM {db.table} ORDER BY id")


BODY = {"order_no": "WO-1", "quantity": "120.000", "note": "张伟"}


async def test_a_retried_delivery_inserts_once(db: Database, tmp_path: Path) -> None:
    sql = connector(db, tmp_path)
    first = delivery_request(BODY, "erp")
    outcomes = [await sql.deliver(dataclasses.replace(first, attempt=n)) for n in (1, 2, 3)]
    other = await sql.deliver(delivery_request({**BODY, "order_no": "WO-2"}, "erp"))
    await sql.aclose()
    assert [type(o) for o in (*outcomes, other)] == [Delivered] * 4
    assert isinstance(outcomes[0], Delivered)
    assert isinstance(outcomes[1], Delivered)
    assert outcomes[0].detail == {"table": db.table}
    assert outcomes[1].detail == {"table": db.table, "already": True}
    assert await db.admin(f"SELECT COUNT(*) FROM {db.table}") == [(2,)]
    [(key,)] = await db.admin(f"SELECT esb_message_id FROM {db.table} WHERE order_no = 'WO-1'")
    assert key == first.idempotency_key
    assert (await rows(db))[0][:3] == ("WO-1", Decimal("120.000"), "张伟")


async def test_upsert_by_key_updates_the_row(db: Database, tmp_path: Path) -> None:
    sql = connector(db, tmp_path, upsert_key=["order_no"])
    assert isinstance(await sql.deliver(delivery_request(BODY, "erp")), Delivered)
    later = {**BODY, "quantity": 118, "note": None}
    assert isinstance(await sql.deliver(delivery_request(later, "erp")), Delivered)
    await sql.aclose()
    assert [r[:3] for r in await rows(db)] == [("WO-1", Decimal("118.000"), None)]


async def test_columns_nested_values_and_times(db: Database, tmp_path: Path) -> None:
    columns = {"order_no": "WorkOrder", "quantity": "Qty.Good", "note": "Qty", "booked_at": "At"}
    sql = connector(db, tmp_path, columns=columns)
    body = {"WorkOrder": "WO-9", "Qty": {"Good": 2.5, "Unit": "件"}, "At": "2026-11-25T06:30:00Z"}
    assert isinstance(await sql.deliver(delivery_request(body, "erp")), Delivered)
    await sql.aclose()
    [(order, quantity, note, booked)] = await rows(db)
    assert (order, quantity) == ("WO-9", Decimal("2.500"))
    assert note == '{"Good":2.5,"Unit":"件"}'  # a nested value: its JSON text
    assert booked.isoformat() == "2026-11-25T14:30:00"  # factory local time (+08:00)


@pytest.mark.parametrize(
    ("body", "options", "named"),
    [
        ({"order_no": "WO-1", "quantity": "lots"}, {}, "column quantity: 'lots' is not a number"),
        ({"order_no": "W" * 40, "quantity": 1}, {}, "column order_no: 40 characters, the column"),
        ({"order_no": "WO-1", "quantity": 1, "colour": "red"}, {}, "column colour: table"),
        ({"order_no": "WO-1"}, {}, "quantity"),  # NOT NULL, refused by the database itself
        ([1, 2], {}, "must be a JSON object"),
        ({"order_no": "WO-1", "quantity": 1}, {"table": "no_such_table"}, "does not exist"),
    ],
)
async def test_refused_values_park_naming_the_column(
    db: Database, tmp_path: Path, body: Any, options: dict[str, Any], named: str
) -> None:
    sql = connector(db, tmp_path)
    if options:
        sql = SqlConnector(
            SqlConfig(url=db.url(through_proxy=False), **{"table": db.table, **options}),
            ConnectorContext(tmp_path, "erp", "production-report"),
        )
    outcome = await sql.deliver(delivery_request(body, "erp"))
    await sql.aclose()
    assert isinstance(outcome, Park), outcome
    assert named in outcome.reason
    assert await db.admin(f"SELECT COUNT(*) FROM {db.table}") == [(0,)]


async def test_a_database_that_is_away_is_retried_later(db: Database, tmp_path: Path) -> None:
    config = SqlConfig(
        url=db.url().replace(f":{db.proxy.port}/", ":9/"),
        table=db.table,
        timeout={"connect": 1, "total": 2},
    )
    sql = SqlConnector(config, ConnectorContext(tmp_path, "erp", "production-report"))
    outcome = await sql.deliver(delivery_request(BODY, "erp"))
    await sql.aclose()
    assert isinstance(outcome, RetryLater), outcome


async def test_the_kind_is_registered() -> None:
    assert load_registry().classes["sql"] is SqlConnector


INTERFACE = """
interfaces:
  production-report:
    source: mes
    message_type: production_report
    retry: {{schedule: [0.1s], jitter: 0}}
    targets:
      erp:
        connector: {{kind: sql, url: "${{ERP_DB_URL}}", table: {table}}}
"""


async def test_through_the_gateway_each_message_is_one_row(
    db: Database, make_gateway: Any, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "cfg", INTERFACE.format(table=db.table))
    gut: GatewayUnderTest = await make_gateway(
        config, env={"ERP_DB_URL": db.url(through_proxy=False)}
    )
    keyed = {"Idempotency-Key": "report-1"}
    sent = await gut.send("production_report", BODY, key=MES_KEY, headers=keyed)
    assert sent.status_code == 202, sent.text
    await gut.wait_status(sent.json()["id"], "delivered")
    repeat = await gut.send("production_report", BODY, key=MES_KEY, headers=keyed)
    assert repeat.json()["id"] == sent.json()["id"]

    # refused by the table: parked naming why; replayed once fixed: one row
    await db.admin(f"ALTER TABLE {db.table} ADD CONSTRAINT no_big CHECK (order_no <> 'WO-2')")
    big = await gut.send("production_report", {**BODY, "order_no": "WO-2"}, key=MES_KEY)
    parked = await gut.wait_status(big.json()["id"], "parked")
    delivery = parked["deliveries"][0]
    assert "no_big" in str(delivery), delivery
    await db.admin(f"ALTER TABLE {db.table} DROP CONSTRAINT no_big")
    replayed = await gut.admin(
        "POST", f"/v1/deliveries/{delivery['id']}/replay", json={"reason": "constraint fixed"}
    )
    assert replayed.status_code == 200, replayed.text
    await gut.wait_status(big.json()["id"], "delivered")
    assert await db.admin(
        f"SELECT order_no, COUNT(*) FROM {db.table} GROUP BY order_no ORDER BY order_no"
    ) == [("WO-1", 1), ("WO-2", 1)]


def test_deadlocks_and_lock_waits_are_transient_constraints_are_not() -> None:
    import asyncmy.errors
    import asyncpg

    from esb_sql.failures import transient

    assert transient(asyncpg.exceptions.DeadlockDetectedError("deadlock detected"))
    assert transient(asyncpg.exceptions.SerializationError("could not serialize"))
    assert transient(asyncpg.exceptions.AdminShutdownError("terminating connection"))
    assert transient(asyncmy.errors.OperationalError(1213, "Deadlock found"))
    assert transient(asyncmy.errors.OperationalError(1205, "Lock wait timeout exceeded"))
    assert transient(asyncmy.errors.OperationalError(2013, "Lost connection"))
    assert transient(ConnectionRefusedError(111, "refused"))
    assert not transient(asyncpg.exceptions.NotNullViolationError("null value"))
    assert not transient(asyncmy.errors.OperationalError(4025, "CONSTRAINT failed"))
    assert not transient(asyncmy.errors.IntegrityError(1048, "Column 'qty' cannot be null"))
    assert not transient(asyncmy.errors.DataError(1406, "Data too long for column 'x'"))
