"""The scenario's ``production-report`` vectors end to end: the MES staging table on MariaDB
and on PostgreSQL, the gateway in both modes, the demo configuration as shipped.

The ERP stand-in must get exactly ``expected/erp_production_receipt_{1,2}.json`` and the
Kingdee stand-in exactly ``expected/kingdee_PRD_INSTOCK_MES-CPL-{1,2}.json``; a row is
flagged 2 only once both have it (Kingdee is down at first: the ERP has rows 1 and 2, the
rows stay at 1); the table must end as ``expected/mes_completion_after.csv`` (row 3
parked: its material is unknown to the cross-reference; row 4 refused at the door:
``qty_good`` is negative); an operator who adds the material and replays row 3's two
deliveries moves it to 2; a row inserted while the gateway runs is picked up.
"""

from __future__ import annotations

import asyncio
import csv
import json
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from esb.demo import demo_kingdee
from esb.settings import demo_config_dir
from esb.standins.kingdee import KingdeeStandIn
from esb.testing.served import Served
from tests.support.drops import eventually
from tests.support.gateway import GatewayUnderTest
from tests.support.mes_db import MesDatabase
from tests.support.target import TargetServer

VECTORS = Path(__file__).resolve().parents[1] / "data" / "scenario"
RECEIPTS = "/api/production-receipts"


def vector(name: str) -> Any:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


def expected_after() -> list[dict[str, str]]:
    with (VECTORS / "expected" / "mes_completion_after.csv").open(encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


async def flags(db: MesDatabase) -> dict[int, int]:
    return {int(r["id"]): int(r["sync_flag"]) for r in await db.rows()}


@pytest.fixture
async def kingdee() -> AsyncIterator[tuple[KingdeeStandIn, str]]:
    """The finance system: a K/3 Cloud site with the demo's data centre and user."""
    standin = demo_kingdee()
    served = await Served(standin.app()).start()
    yield standin, f"{served.url}/k3cloud"
    await served.stop()


async def start_demo(
    make_gateway: Any, db: MesDatabase, target: TargetServer, kingdee_url: str
) -> GatewayUnderTest:
    env = {
        "MES_DB_URL": db.url,
        "ERP_URL": target.url,
        "KINGDEE_URL": kingdee_url,
        "MES_POLL_INTERVAL": "200ms",
    }
    return await make_gateway(demo_config_dir(), env=env, config_watch=False)


def bills(kingdee: KingdeeStandIn) -> dict[str, dict[str, Any]]:
    return {d.number: d.received() for d in kingdee.documents}


async def test_vectors_end_to_end_then_replay_and_a_new_row(
    mes_db: MesDatabase,
    make_gateway: Any,
    target: TargetServer,
    kingdee: tuple[KingdeeStandIn, str],
    mode: str,
) -> None:
    finance, kingdee_url = kingdee
    finance.fail_next(times=10_000, status=503)  # Kingdee is down when the rows come
    gateway = await start_demo(make_gateway, mes_db, target, kingdee_url)

    async def at_erp_only() -> bool:
        return len(target.bodies(RECEIPTS)) == 2 and sorted((await flags(mes_db)).values()) == [
            1,
            1,
            9,
            9,
        ]

    await eventually(at_erp_only, timeout=30, what="rows 1-2 at the ERP, not yet in Kingdee")
    await asyncio.sleep(1.0)  # a poll or two later: still 1, Kingdee has none of them
    assert sorted((await flags(mes_db)).values()) == [1, 1, 9, 9]
    assert finance.documents == []
    finance.stop_failing()

    async def settled() -> bool:
        return sorted((await flags(mes_db)).values()) == [2, 2, 9, 9]

    await eventually(settled, timeout=30, what="rows 1-4 settled")
    bodies = sorted(target.bodies(RECEIPTS), key=lambda b: b["MesRowId"])
    assert bodies == [vector(f"expected/erp_production_receipt_{n}.json") for n in (1, 2)]
    assert bills(finance) == {
        f"MES-CPL-{n}": vector(f"expected/kingdee_PRD_INSTOCK_MES-CPL-{n}.json") for n in (1, 2)
    }

    rows = {int(r["id"]): r for r in await mes_db.rows()}
    for want in expected_after():
        row = rows[int(want["id"])]
        assert row["sync_flag"] == int(want["sync_flag"]), row
        assert isinstance(row["sync_time"], datetime), row
        names = want["sync_msg_names"].split()
        if names:
            assert all(name in row["sync_msg"] for name in names), row["sync_msg"]
        else:
            assert row["sync_msg"] is None, row
    print(f"\nsync_msg row 3: {rows[3]['sync_msg']!r}; row 4: {rows[4]['sync_msg']!r}")

    # The operator adds the material to the cross-reference and replays row 3's deliveries.
    put = await gateway.admin(
        "PUT",
        "/v1/xref/material/erp/MAT-9999",
        json={"codes": {"mes": "100-9999", "finance": "1.09.999"}, "reason": "new material"},
    )
    assert put.status_code == 200, put.text
    found = await gateway.admin("GET", "/v1/messages", params={"key": "WO-20261124-0003"})
    [message] = found.json()["messages"]
    deliveries = (await gateway.message(message["id"]))["deliveries"]
    assert sorted((d["target"], d["status"]) for d in deliveries) == [
        ("erp", "parked"),
        ("finance", "parked"),
    ]
    for delivery in deliveries:
        replayed = await gateway.admin(
            "POST", f"/v1/deliveries/{delivery['id']}/replay", json={"reason": "material added"}
        )
        assert replayed.status_code == 200, replayed.text

    async def row_3_delivered() -> bool:
        return (await flags(mes_db))[3] == 2

    await eventually(row_3_delivered, timeout=30, what="row 3 replayed to flag 2")
    assert (await mes_db.rows("id = 3"))[0]["sync_msg"] is None
    third = [b for b in target.bodies(RECEIPTS) if b["MesRowId"] == 3]
    assert third == [
        {
            **vector("expected/erp_production_receipt_1.json"),
            "WorkOrderNo": "WO-20261124-0003",
            "MaterialCode": "MAT-9999",
            "GoodQty": 10,
            "FinishedAt": "2026-11-25T17:20:00+08:00",
            "ReportedBy": "王强",
            "MesRowId": 3,
        }
    ]
    receipt_3 = bills(finance)["MES-CPL-3"]["Model"]
    assert receipt_3["FEntity"][0]["FMaterialId"] == {"FNumber": "1.09.999"}

    # A row the MES inserts while the gateway runs is picked up within the interval.
    await mes_db.insert(
        [
            {
                "work_order": "WO-20261124-0005",
                "material_code": "100-4003",
                "qty_good": 7.25,
                "qty_scrap": 0,
                "line_code": "L2",
                "finished_at": datetime(2026, 11, 26, 8, 5),
                "operator_name": "孙丽",
            }
        ]
    )

    async def row_5_delivered() -> bool:
        return (await flags(mes_db)).get(5) == 2

    await eventually(row_5_delivered, timeout=30, what="a new row delivered")
    [fifth] = [b for b in target.bodies(RECEIPTS) if b["MesRowId"] == 5]
    assert fifth == {
        "WorkOrderNo": "WO-20261124-0005",
        "MaterialCode": "MAT-3003",
        "GoodQty": 7.25,
        "ScrapQty": 0,
        "Line": "L2",
        "FinishedAt": "2026-11-26T08:05:00+08:00",
        "ReportedBy": "孙丽",
        "MesRowId": 5,
    }
    assert bills(finance)["MES-CPL-5"]["Model"]["FEntity"][0]["FRealQty"] == 7.25
    assert (await flags(mes_db))[4] == 9  # a refused row stays refused

    # The MES changes a row already delivered and asks for it again: refused, saying why.
    await mes_db.execute("UPDATE mes_completion SET qty_good = 121, sync_flag = 0 WHERE id = 1")

    async def row_1_refused() -> bool:
        return (await flags(mes_db))[1] == 9

    await eventually(row_1_refused, timeout=30, what="a changed row refused")
    [changed] = await mes_db.rows("id = 1")
    assert "changed after the gateway had accepted it" in changed["sync_msg"]
    assert len([b for b in target.bodies(RECEIPTS) if b["MesRowId"] == 1]) == 1
