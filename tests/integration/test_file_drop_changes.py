"""A file that changes after it was read is never archived as if it had been read.

A writer that keeps the file open and appends after the gateway took it in: the later
rows are taken in too (as a continuation), each exactly once. A writer that rewrites
it in place: the file goes to the error folder with a report of what was read and
what it holds now. Both modes; real files, a real ERP stand-in, the real ledger.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.support.drops import HEADER, eventually, ledger, message_count, names, shipment_rows
from tests.support.gateway import GatewayUnderTest, write_config
from tests.support.target import TargetServer

INTERFACE = """
interfaces:
  shipment:
    source: wms
    message_type: shipment
    key: order_no
    inbound:
      - {{kind: file-drop, folder: "{folder}", encoding: auto, settle: 0.3s,
         poll_interval: 0.3s, batch: {batch}}}
    targets:
      erp:
        connector: {{kind: rest, url: "{url}/api/order-status"}}
"""


@pytest.fixture
async def gateway(make_gateway: Any, target: TargetServer, tmp_path: Path) -> GatewayUnderTest:
    config = INTERFACE.format(folder=tmp_path / "drop", url=target.url, batch=100)
    gut: GatewayUnderTest = await make_gateway(
        write_config(tmp_path / "cfg", config), config_watch=False
    )
    return gut


def lines(rows: list[str], header: bool = False) -> bytes:
    return "".join(f"{row}\r\n" for row in ([HEADER] if header else []) + rows).encode()


async def delivered_once(gut: GatewayUnderTest, target: TargetServer, expected: list[str]) -> None:
    await eventually(
        lambda: len(target.received) >= len(expected), timeout=90, what="every row delivered"
    )
    await asyncio.sleep(0.5)  # nothing more may arrive
    orders = [body["order_no"] for body in target.bodies()]
    assert sorted(orders) == sorted(row.split(",")[0] for row in expected)
    assert await message_count(gut) == len(expected)


async def test_rows_appended_by_a_writer_that_kept_the_file_open_are_taken_in_once(
    gateway: GatewayUnderTest, target: TargetServer, tmp_path: Path
) -> None:
    folder = tmp_path / "drop"
    first, later = shipment_rows(20, "FIRST"), shipment_rows(10, "LATER")
    await eventually(folder.is_dir, what="the drop folder")  # made as the source starts
    with (folder / "day.csv").open("wb") as writer:  # in place, under its final name
        writer.write(lines(first, header=True))
        writer.flush()
        await eventually(lambda: names(folder / "archive") == ["day.csv"], what="archived")
        await eventually(lambda: message_count(gateway), what="the first rows taken in")
        writer.write(lines(later))  # after the gateway took it: lands in the archived file
        writer.flush()

    await delivered_once(gateway, target, first + later)
    await eventually(lambda: len(names(folder / "archive")) == 2, what="archived again")
    assert names(folder / "archive") == ["day.csv", "day.csv.report.json"]
    assert (folder / "archive" / "day.csv").read_bytes() == lines(first + later, header=True)
    earlier, continued = await ledger(gateway)
    assert (earlier.status, earlier.rows_accepted, continued.rows_accepted) == ("done", 20, 10)
    before, after = orjson.loads(earlier.report), orjson.loads(continued.report)
    assert "bytes were appended after the file was read" in before["changed"]
    assert before["continued_by"] == continued.sha256
    assert after["continues"] == {"sha256": earlier.sha256, "size": earlier.size, "last_row": 21}
    report = orjson.loads((folder / "archive" / "day.csv.report.json").read_bytes())
    assert (report["accepted"], report["continues"]["last_row"]) == (10, 21)


async def test_a_file_rewritten_in_place_after_it_was_taken_goes_to_the_error_folder(
    gateway: GatewayUnderTest, target: TargetServer, tmp_path: Path
) -> None:
    folder = tmp_path / "drop"
    first = shipment_rows(5, "FIRST")
    await eventually(folder.is_dir, what="the drop folder")  # made as the source starts
    with (folder / "day.csv").open("w+b") as writer:
        writer.write(lines(first, header=True))
        writer.flush()
        await eventually(lambda: names(folder / "archive") == ["day.csv"], what="archived")
        writer.seek(0)
        writer.write(lines(shipment_rows(5, "OTHER"), header=True))  # another export, same size
        writer.flush()

    errors = folder / "error"
    await eventually(lambda: names(errors) == ["day.csv", "day.csv.report.json"], what="set aside")
    assert names(folder / "archive") == []
    report = orjson.loads((errors / "day.csv.report.json").read_bytes())
    assert report["moved_to"] == "error/day.csv"
    assert "the file changed after it was read" in report["changed"]
    assert "(5 rows accepted, 0 refused, rows up to 6)" in report["changed"]
    assert report["changed_to"]["continuable"] is False
    await delivered_once(gateway, target, first)  # what was read stays; nothing else is read
    [row] = await ledger(gateway)
    assert orjson.loads(row.report)["moved_to"] == "error/day.csv"


@pytest.mark.parametrize("batch", [20])
async def test_rows_appended_while_a_long_file_is_read_are_taken_in_once(
    make_gateway: Any, target: TargetServer, tmp_path: Path, batch: int
) -> None:
    folder = tmp_path / "drop"
    config = INTERFACE.format(folder=folder, url=target.url, batch=batch)
    gut = await make_gateway(write_config(tmp_path / "cfg", config), config_watch=False)
    first, later = shipment_rows(1500, "LONG"), shipment_rows(50, "MORE")
    await eventually(folder.is_dir, what="the drop folder")  # made as the source starts
    with (folder / "long.csv").open("wb") as writer:
        writer.write(lines(first, header=True))
        writer.flush()
        await eventually(lambda: ledger(gut), what="the file claimed")  # being read now
        writer.write(lines(later))
        writer.flush()

    await delivered_once(gut, target, first + later)
    assert [row.rows_accepted for row in await ledger(gut)] == [1500, 50]
