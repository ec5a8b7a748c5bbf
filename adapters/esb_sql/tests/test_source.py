"""The source against real MariaDB and PostgreSQL tables, one run at a time, with the
stand-in gateway: what is read, what is written back, what is remembered."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from esb.sdk import MessageOutcome, StoreUnavailable
from esb.testing import StandInGateway
from esb_sql import SqlPollConfig, SqlPollSource
from tests.support.mes_db import MesDatabase


def source_for(db: MesDatabase, tmp_path: Path, **options: Any) -> tuple[SqlPollSource, Any]:
    gateway = StandInGateway()
    context = gateway.context("production-report", "mes", "production_report", tmp_path)
    config = SqlPollConfig(url=db.url, table="mes_completion", **options)
    return SqlPollSource(config, context), gateway


async def flags(db: MesDatabase) -> dict[int, tuple[int, str | None]]:
    return {int(r["id"]): (int(r["sync_flag"]), r["sync_msg"]) for r in await db.rows()}


async def test_rows_become_documents_with_exact_numbers_and_the_factory_offset(
    mes_db: MesDatabase, tmp_path: Path
) -> None:
    source, gateway = source_for(mes_db, tmp_path, batch=3)  # two pages in one run
    try:
        assert await source.poll() == 4
    finally:
        await source.aclose()
    first, second = gateway.accepted()[:2]
    assert first.body == {
        "id": 1, "work_order": "WO-20261124-0001", "material_code": "100-2001",
        "qty_good": 120, "qty_scrap": 0, "line_code": "L1",
        "finished_at": "2026-11-25T14:30:00+08:00", "operator_name": "张伟",
    }  # fmt: skip
    assert (second.body["qty_good"], second.body["qty_scrap"]) == (2.5, 0.1)
    assert [o.idempotency_key for o in gateway.accepted()] == [
        f"sql:mes_completion:{n}" for n in (1, 2, 3, 4)
    ]
    # the stand-in delivers at once: accepted, then told delivered in the same run
    assert {k: f for k, (f, _) in (await flags(mes_db)).items()} == {1: 2, 2: 2, 3: 2, 4: 2}
    assert all(r["sync_time"] is not None for r in await mes_db.rows())


async def test_outcomes_are_written_back_and_a_replayed_row_moves_to_delivered(
    mes_db: MesDatabase, tmp_path: Path
) -> None:
    source, gateway = source_for(mes_db, tmp_path)
    key = source.idempotency_key
    gateway.fates = {
        key(1): MessageOutcome("waiting"),
        key(2): MessageOutcome("parked", "xref material: no erp code for mes code '100-3002'"),
        key(3): MessageOutcome("discarded", "not needed any more"),
    }
    try:
        await source.poll()
        assert await flags(mes_db) == {
            1: (1, None),
            2: (9, "xref material: no erp code for mes code '100-3002'"),
            3: (9, "not needed any more"),
            4: (2, None),
        }
        assert await gateway.state.keys("parked/") == ["parked/2"]

        gateway.fates[key(2)] = MessageOutcome("waiting")  # replayed, not through yet
        await source.poll()
        assert (await flags(mes_db))[2][0] == 9
        gateway.fates[key(2)] = MessageOutcome("delivered")  # ...and now through
        gateway.fates[key(1)] = MessageOutcome("delivered")
        await source.poll()
        assert await flags(mes_db) == {
            1: (2, None), 2: (2, None), 3: (9, "not needed any more"), 4: (2, None)
        }  # fmt: skip
        assert await gateway.state.keys("parked/") == []
        assert len(gateway.offered) == 4  # flagged rows are never read again
    finally:
        await source.aclose()


async def test_a_row_the_gateway_refuses_is_flagged_9_naming_the_field(
    mes_db: MesDatabase, tmp_path: Path
) -> None:
    source, gateway = source_for(mes_db, tmp_path)
    gateway.mode = "refuse"
    try:
        assert await source.poll() == 4
    finally:
        await source.aclose()
    assert {f for f, _ in (await flags(mes_db)).values()} == {9}
    assert (await flags(mes_db))[1][1] == "orderNo: refused by the contract suite"


async def test_a_value_json_cannot_hold_exactly_refuses_its_row_naming_the_column(
    mes_db: MesDatabase, tmp_path: Path
) -> None:
    kind = "NUMERIC(40,20)" if mes_db.kind == "postgresql" else "DECIMAL(40,20)"
    await mes_db.execute(f"ALTER TABLE mes_completion ADD COLUMN weight {kind} NULL")
    await mes_db.execute("UPDATE mes_completion SET weight = 0.12345678901234567890 WHERE id = 2")
    source, gateway = source_for(mes_db, tmp_path)
    try:
        await source.poll()
    finally:
        await source.aclose()
    flag, reason = (await flags(mes_db))[2]
    assert flag == 9
    assert reason is not None
    assert reason.startswith("weight: 0.12345678901234567890 has more digits")
    assert [o.body["id"] for o in gateway.accepted()] == [1, 3, 4]


async def test_read_only_keeps_a_watermark_and_writes_nothing(
    mes_db: MesDatabase, tmp_path: Path
) -> None:
    source, gateway = source_for(mes_db, tmp_path, write_back=False, batch=2)
    try:
        assert await source.poll() == 4
        assert await gateway.state.get("watermark") == 4
        assert await source.poll() == 0
        await mes_db.execute(
            "INSERT INTO mes_completion (work_order, material_code, qty_good, line_code, "
            "finished_at, operator_name) VALUES ('WO-5', '100-2001', 1, 'L1', "
            "'2026-11-26 08:00:00', 'x')"
        )
        assert await source.poll() == 1
    finally:
        await source.aclose()
    assert [o.body["id"] for o in gateway.accepted()] == [1, 2, 3, 4, 5]
    assert {f for f, _ in (await flags(mes_db)).values()} == {0}  # the table is untouched


async def test_a_query_of_ones_own_reads_its_rows_and_flags_the_table(
    mes_db: MesDatabase, tmp_path: Path
) -> None:
    query = (
        "SELECT id, work_order, qty_good FROM mes_completion "
        "WHERE sync_flag = 0 AND line_code = 'L1'"
    )
    source, gateway = source_for(mes_db, tmp_path, query=query, batch=1)
    try:
        assert await source.poll() == 2
    finally:
        await source.aclose()
    assert [o.body for o in gateway.accepted()] == [
        {"id": 1, "work_order": "WO-20261124-0001", "qty_good": 120},
        {"id": 3, "work_order": "WO-20261124-0003", "qty_good": 10},
    ]
    assert {k: f for k, (f, _) in (await flags(mes_db)).items()} == {1: 2, 2: 0, 3: 2, 4: 0}


@pytest.mark.parametrize("mes_db", ["postgresql"], indirect=True)
async def test_times_with_a_zone_are_shown_in_the_interfaces_zone(
    mes_db: MesDatabase, tmp_path: Path
) -> None:
    await mes_db.execute("ALTER TABLE mes_completion ADD COLUMN confirmed TIMESTAMPTZ NULL")
    await mes_db.execute(
        "UPDATE mes_completion SET confirmed = '2026-11-25 06:30:00+00' WHERE id = 1"
    )
    source, gateway = source_for(mes_db, tmp_path, time_zone="Europe/Berlin")
    try:
        await source.poll()
    finally:
        await source.aclose()
    body = gateway.accepted()[0].body
    assert body["confirmed"] == "2026-11-25T07:30:00+01:00"
    assert body["finished_at"] == "2026-11-25T14:30:00+01:00"  # read in the declared zone


@pytest.mark.parametrize("write_back", [True, False])
async def test_a_page_after_the_one_the_store_turned_away_writes_nothing_back(
    mes_db: MesDatabase, tmp_path: Path, write_back: bool
) -> None:
    """Pages are accepted while the one before commits; when the store turns row 2 away,
    row 3 (the next page, possibly taken in already) must be neither flagged nor passed by
    the watermark: the next run reads rows 2-4 again, in key order."""
    options: dict[str, Any] = {} if write_back else {"write_back": False}
    source, gateway = source_for(mes_db, tmp_path, batch=1, **options)

    async def accept(body: Any, **options: Any) -> Any:
        if body["id"] == 2:  # slowly: row 3's page is taken in meanwhile
            await asyncio.sleep(0.3)
            raise StoreUnavailable("the database is away")
        return await gateway.accept(body, **options)

    source.context = replace(source.context, accept=accept)
    try:
        with pytest.raises(StoreUnavailable):
            await source.poll()
        if write_back:
            assert {k: f for k, (f, _) in (await flags(mes_db)).items()} == {1: 1, 2: 0, 3: 0, 4: 0}
        else:
            assert await gateway.state.get("watermark") == 1
        source.context = replace(source.context, accept=gateway.accept)
        assert await source.poll() == 3
    finally:
        await source.aclose()
    assert [o.body["id"] for o in gateway.accepted()][-3:] == [2, 3, 4]
