"""File drop end to end: WMS shipment files dropped into the demo factory's folder.

The shipped configuration runs unchanged; ERP is a real HTTP server started here, the
finance files are written by the demo's own file target, and everything goes through
the real pipeline in both modes (SQLite, and PostgreSQL + RabbitMQ).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from esb.settings import demo_config_dir
from tests.support.drops import (
    HEADER,
    drop,
    eventually,
    ledger,
    message_count,
    names,
    shipment_csv,
    shipment_rows,
)
from tests.support.gateway import GatewayUnderTest, write_config
from tests.support.target import TargetServer
from tests.support.tcpproxy import TcpProxy

VECTORS = Path(__file__).resolve().parents[1] / "data" / "scenario"
GOOD = "wms_shipments_20261125.csv"
PARTLY_BAD = "wms_shipments_20261126_partly_bad.csv"
ERP_STATUS = "/api/order-status"


def vector(name: str) -> Any:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


@pytest.fixture
async def demo(make_gateway, target: TargetServer, tmp_path: Path) -> GatewayUnderTest:
    env = {"ERP_URL": target.url, "MES_URL": target.url, "WMS_URL": target.url,
           "DROP_DIR": str(tmp_path / "drop")}  # fmt: skip
    return await make_gateway(demo_config_dir(), env=env, config_watch=False)


def shipments(tmp_path: Path) -> Path:
    return tmp_path / "drop" / "wms" / "shipments"


async def test_both_shipment_files_reach_erp_and_finance_exactly(
    demo: GatewayUnderTest, target: TargetServer, tmp_path: Path
) -> None:
    folder = shipments(tmp_path)
    for name in (GOOD, PARTLY_BAD):
        drop(folder, name, (VECTORS / "inputs" / name).read_bytes())

    await eventually(lambda: len(names(folder / "archive")) == 3, what="both files archived")
    await target.wait_received(3)
    await asyncio.sleep(0.3)  # nothing more may arrive
    expected = [vector(f"expected/erp_order_status_{n}.json") for n in (1, 2, 3)]
    received = target.bodies(ERP_STATUS)
    assert sorted(received, key=lambda b: b["OrderNo"]) == expected

    finance = tmp_path / "drop" / "finance" / "invoice-requests"
    invoices = ["INV-SO-20261124-0001.json", "INV-SO-20261124-0003.json"]
    await eventually(lambda: names(finance) == invoices, what="finance files")
    for invoice in invoices:
        assert (finance / invoice).read_bytes() == (
            VECTORS / f"expected/finance_{invoice}"
        ).read_bytes()

    assert [p.name for p in folder.iterdir() if p.is_file()] == []
    assert names(folder / "archive") == [GOOD, PARTLY_BAD, f"{PARTLY_BAD}.report.json"]
    rows = {r.name: r for r in await ledger(demo)}
    assert (rows[GOOD].status, rows[GOOD].rows_accepted, rows[GOOD].rows_refused) == ("done", 2, 0)
    bad = rows[PARTLY_BAD]
    assert (bad.status, bad.rows_accepted, bad.rows_refused) == ("done", 1, 2)
    report = orjson.loads((folder / "archive" / f"{PARTLY_BAD}.report.json").read_bytes())
    assert report == orjson.loads(bad.report)
    refused = [(r["file"], r["row"], r["field"]) for r in report["refusals"]]
    assert refused == [(PARTLY_BAD, 3, "status"), (PARTLY_BAD, 4, "ship_date")]
    for refusal in report["refusals"]:
        assert f"{PARTLY_BAD}, row {refusal['row']}, field {refusal['field']}" in refusal["reason"]
    assert await message_count(demo) == 3


async def test_the_same_content_under_another_name_is_not_taken_again(
    demo: GatewayUnderTest, target: TargetServer, tmp_path: Path
) -> None:
    folder = shipments(tmp_path)
    content = (VECTORS / "inputs" / GOOD).read_bytes()
    drop(folder, GOOD, content)
    await eventually(lambda: names(folder / "archive") == [GOOD], what="first file archived")
    await target.wait_received(2)

    drop(folder, "again.csv", content)
    drop(folder, GOOD, content)  # and once more under the very same name
    await eventually(lambda: len(names(folder / "archive")) == 5, what="copies archived")
    await asyncio.sleep(0.5)
    assert len(target.bodies(ERP_STATUS)) == 2
    assert await message_count(demo) == 2
    assert len(await ledger(demo)) == 1
    archive = folder / "archive"
    stem, dot, extension = GOOD.partition(".")
    copy = f"{stem}-1{dot}{extension}"
    assert names(archive) == sorted([GOOD, "again.csv", "again.csv.report.json", copy,
                                     f"{copy}.report.json"])  # fmt: skip
    report = orjson.loads((archive / "again.csv.report.json").read_bytes())
    assert (report["duplicate_of"], report["accepted"]) == (GOOD, 0)


@pytest.mark.parametrize("mode", ["embedded"], indirect=True)
async def test_unreadable_files_go_to_the_error_folder_with_a_report(
    demo: GatewayUnderTest, target: TargetServer, tmp_path: Path
) -> None:
    folder = shipments(tmp_path)
    text = (VECTORS / "inputs" / GOOD).read_bytes().decode("gb18030")
    drop(folder, "utf16.csv", text.encode("utf-16-le"))  # no byte-order mark to say so
    drop(folder, "binary.csv", bytes(range(1, 256)) * 8)
    drop(folder, "empty.csv", b"")

    errors = folder / "error"
    await eventually(lambda: len(names(errors)) == 6, what="three files set aside")
    reports = {
        name: orjson.loads((errors / f"{name}.report.json").read_bytes())
        for name in ("utf16.csv", "binary.csv", "empty.csv")
    }
    assert "NUL characters at byte 1: not a text file" in reports["utf16.csv"]["problem"]
    assert "neither UTF-8 nor GB18030 text" in reports["binary.csv"]["problem"]
    assert "header" in reports["empty.csv"]["problem"]
    for name, report in reports.items():
        assert report["moved_to"] == f"error/{name}"  # the folder's real name
    assert {r.status for r in await ledger(demo)} == {"failed"}
    assert await message_count(demo) == 0
    assert target.received == []


@pytest.mark.parametrize("mode", ["embedded"], indirect=True)
async def test_a_file_written_slowly_is_not_read_half_way(
    demo: GatewayUnderTest, target: TargetServer, tmp_path: Path
) -> None:
    folder = shipments(tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    lines = [HEADER, *shipment_rows(60, "SLOW")]
    content = "\r\n".join(lines).encode("gb18030") + b"\r\n"
    chunks = [content[i : i + 331] for i in range(0, len(content), 331)]  # mid-row cuts
    path = folder / "slow.csv"
    with path.open("wb") as writer:  # in place, under its final name: the hard case
        for chunk in chunks:
            writer.write(chunk)
            writer.flush()
            await asyncio.sleep(0.3)  # shorter than the demo's settle (1s)
    assert len(chunks) >= 8
    await eventually(lambda: names(folder / "archive") == ["slow.csv"], what="archived")
    [row] = await ledger(demo)
    assert (row.status, row.rows_accepted, row.rows_refused) == ("done", 60, 0)
    assert row.size == len(content)
    assert await message_count(demo) == 60


CSV_INTERFACE = """
interfaces:
  shipment:
    source: wms
    message_type: shipment
    key: order_no
    inbound:
      - {{kind: file-drop, folder: "{folder}", encoding: gb18030, settle: 0.2s,
         poll_interval: 0.3s}}
    targets:
      erp:
        connector: {{kind: rest, url: "{url}/api/order-status"}}
"""


@pytest.mark.parametrize("mode", ["production"], indirect=True)
async def test_a_file_waits_in_its_folder_while_the_database_is_away(
    make_gateway, target: TargetServer, tmp_path: Path, pg_clean: str
) -> None:
    proxy = await TcpProxy("127.0.0.1", 5432).start()
    via_proxy = pg_clean.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    folder = tmp_path / "drop"
    config = write_config(tmp_path / "cfg", CSV_INTERFACE.format(folder=folder, url=target.url))
    gut = await make_gateway(config, config_watch=False, database_url=via_proxy, db_timeout=1.0)
    try:
        await proxy.cut()
        drop(folder, "day.csv", shipment_csv("OUTAGE", 30))
        await asyncio.sleep(2.0)
        assert names(folder) == ["archive", "day.csv", "error"]  # not taken, not set aside
        await proxy.restore()
        await eventually(lambda: names(folder / "archive") == ["day.csv"], what="taken in")
        await target.wait_received(30)
        assert await message_count(gut) == 30
    finally:
        await gut.stop()  # while the database is reachable: its last outcomes get written
        await proxy.cut()


JSONL_INTERFACE = """
interfaces:
  shipment:
    source: wms
    message_type: shipment
    key: order_no
    inbound:
      - {{kind: file-drop, folder: "{folder}", format: jsonl, settle: 0.2s, poll_interval: 0.3s}}
    targets:
      erp:
        connector: {{kind: rest, url: "{url}/api/order-status"}}
"""


def nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = {"a": value}
    return value


async def test_rows_with_values_the_store_cannot_hold_are_refused_one_by_one(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    folder = tmp_path / "drop"
    config = write_config(tmp_path / "cfg", JSONL_INTERFACE.format(folder=folder, url=target.url))
    gut = await make_gateway(config, config_watch=False)
    rows = [
        {"order_no": "SO-OK-1", "status": "P"},
        {"order_no": "SO-NUL-\u0000", "status": "P"},  # PostgreSQL cannot store NUL
        {"order_no": "SO-" + "9" * 297, "status": "P"},  # a 300-character business key
        {"order_no": "SO-BIG", "qty": 1e20},  # beyond 64 bits
        {"order_no": "SO-DEEP", "a": nested(100)},
        {"order_no": "SO-OK-2", "status": "S"},
    ]
    drop(folder, "odd.jsonl", b"".join(orjson.dumps(row) + b"\n" for row in rows))

    archive = folder / "archive"
    await eventually(lambda: len(names(archive)) == 2, what="archived with a report")
    await target.wait_received(2)
    await asyncio.sleep(0.3)
    assert sorted(b["order_no"] for b in target.bodies()) == ["SO-OK-1", "SO-OK-2"]
    report = orjson.loads((archive / "odd.jsonl.report.json").read_bytes())
    assert (report["accepted"], report["refused"]) == (2, 4)
    fields = {r["row"]: r["field"] for r in report["refusals"]}
    assert (fields[2], fields[3], fields[4]) == ("order_no", "order_no", "qty")
    assert fields[5].startswith("a.a.a")
    assert "NUL" in report["refusals"][0]["reason"]
    [row] = await ledger(gut)
    assert (row.status, row.rows_accepted, row.rows_refused) == ("done", 2, 4)
    assert await message_count(gut) == 2
