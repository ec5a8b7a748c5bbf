"""Shipment files in the encodings Windows, Excel and the WMS write, dropped into the demo
factory's folder (``encoding: auto``): each reaches the ERP as it was written, and
content that is no text the folder allows goes to the error folder, never as garbage
rows. A folder that names GB18030 refuses a UTF-8 file instead of reading mojibake.
Both modes: the ledger records every file.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest

from esb.settings import demo_config_dir
from tests.support.drops import HEADER, drop, eventually, ledger, message_count, names
from tests.support.gateway import GatewayUnderTest, write_config
from tests.support.target import TargetServer

CARRIERS = ("顺丰速运", "京东物流")
ERP_STATUS = "/api/order-status"


@pytest.fixture
async def demo(make_gateway, target: TargetServer, tmp_path: Path) -> GatewayUnderTest:
    env = {"ERP_URL": target.url, "MES_URL": target.url, "WMS_URL": target.url,
           "DROP_DIR": str(tmp_path / "drop")}  # fmt: skip
    return await make_gateway(demo_config_dir(), env=env, config_watch=False)


def shipments(tmp_path: Path) -> Path:
    return tmp_path / "drop" / "wms" / "shipments"


def rows(tag: str) -> str:
    lines = [HEADER] + [
        f"SO-{tag}-{n},2026-11-25 09:30,{carrier},T{n},P" for n, carrier in enumerate(CARRIERS)
    ]
    return "\r\n".join(lines) + "\r\n"


async def test_each_file_reaches_the_erp_as_it_was_written(
    demo: GatewayUnderTest, target: TargetServer, tmp_path: Path
) -> None:
    folder = shipments(tmp_path)
    written = {"UTF8": "utf-8", "EXCEL": "utf-8-sig", "GB": "gb18030", "UTF16": "utf-16"}
    for tag, encoding in written.items():
        drop(folder, f"{tag.lower()}.csv", rows(tag).encode(encoding))

    await eventually(lambda: len(names(folder / "archive")) == 4, what="four files archived")
    await target.wait_received(8)
    await asyncio.sleep(0.3)
    carriers = {body["OrderNo"]: body["Carrier"] for body in target.bodies(ERP_STATUS)}
    assert carriers == {
        f"SO-{tag}-{n}": carrier for tag in written for n, carrier in enumerate(CARRIERS)
    }  # never 椤轰赴閫熻繍
    done = {
        row.name: (row.status, row.rows_accepted, row.rows_refused) for row in await ledger(demo)
    }
    assert done == {f"{tag.lower()}.csv": ("done", 2, 0) for tag in written}
    assert await message_count(demo) == 8


async def test_content_in_no_allowed_encoding_is_refused_as_a_whole(
    demo: GatewayUnderTest, target: TargetServer, tmp_path: Path
) -> None:
    folder = shipments(tmp_path)
    content = rows("BAD").encode("gb18030") + b"SO-BAD-9,2026-11-25 09:30,\xff\xfe,T9,P\r\n"
    drop(folder, "latin.csv", content)

    errors = folder / "error"
    await eventually(lambda: names(errors) == ["latin.csv", "latin.csv.report.json"], what="error")
    report = orjson.loads((errors / "latin.csv.report.json").read_bytes())
    assert report["problem"].startswith("neither UTF-8 nor GB18030 text")
    assert (report["accepted"], report["moved_to"]) == (0, "error/latin.csv")
    [row] = await ledger(demo)
    assert (row.name, row.status, row.rows_accepted) == ("latin.csv", "failed", 0)
    await asyncio.sleep(0.3)
    assert await message_count(demo) == 0  # not even the two good rows before it
    assert target.received == []


GB18030_FOLDER = """
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


async def test_a_folder_that_names_gb18030_refuses_a_utf8_file_rather_than_mojibake(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    folder = tmp_path / "drop"
    config = GB18030_FOLDER.format(folder=folder, url=target.url)
    gut = await make_gateway(write_config(tmp_path / "cfg", config), config_watch=False)
    drop(folder, "utf8.csv", rows("U").encode())
    drop(folder, "excel.csv", rows("E").encode("utf-8-sig"))
    drop(folder, "gb.csv", rows("G").encode("gb18030"))

    await eventually(lambda: names(folder / "archive") == ["gb.csv"], what="the GB18030 file")
    await eventually(lambda: len(names(folder / "error")) == 4, what="the two UTF-8 files")
    problems = {
        name: orjson.loads((folder / "error" / f"{name}.report.json").read_bytes())["problem"]
        for name in ("utf8.csv", "excel.csv")
    }
    assert problems["utf8.csv"].startswith("the file is UTF-8 text, not gb18030")
    assert problems["excel.csv"].startswith("the file starts with a UTF-8 byte-order mark")
    await target.wait_received(2)
    await asyncio.sleep(0.3)
    assert sorted(b["carrier"] for b in target.bodies()) == sorted(CARRIERS)
    assert await message_count(gut) == 2
