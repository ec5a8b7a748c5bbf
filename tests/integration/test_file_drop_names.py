"""File names that are not UTF-8 (GBK, as a Windows share writes them) end to end: the file
is taken in, archived or set aside under its real name, and shown by a readable one in
its report, the ledger and the log, which never breaks on it; the watcher goes on.
Both modes: PostgreSQL cannot store the lone surrogates Python holds such names with.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import orjson

from tests.support.drops import (
    HEADER,
    drop,
    eventually,
    json_log,
    ledger,
    message_count,
    names,
)
from tests.support.gateway import write_config
from tests.support.target import TargetServer

INTERFACE = """
interfaces:
  shipment:
    source: wms
    message_type: shipment
    key: order_no
    inbound:
      - {{kind: file-drop, folder: "{folder}", encoding: auto, settle: 0.2s,
         poll_interval: 60s}}
    targets:
      erp:
        connector: {{kind: rest, url: "{url}/api/order-status"}}
"""
GBK_NAME = "发货单.csv".encode("gbk")  # b"\xb7\xa2\xbb\xf5\xb5\xa5.csv": not UTF-8
ON_DISK = "\\xb7\\xa2\\xbb\\xf5\\xb5\\xa5.csv"


def raw_names(folder: Path) -> list[bytes]:
    """The names as bytes, without the gateway's temporary files (``.esb-*.tmp``)."""
    found = os.listdir(os.fsencode(folder)) if folder.exists() else []
    return sorted(name for name in found if not name.startswith(b"."))


def shipment(rows: list[str]) -> bytes:
    return "\r\n".join([HEADER, *rows, ""]).encode("gb18030")


async def test_a_file_named_in_gbk_is_taken_in_and_shown_by_a_readable_name(
    make_gateway: Any, target: TargetServer, tmp_path: Path, capsys: Any
) -> None:
    with json_log():
        await _drop_and_follow(make_gateway, target, tmp_path)
        logged = capsys.readouterr().err
    lines = [orjson.loads(line) for line in logged.splitlines() if line.startswith("{")]
    moved = {line.get("moved_to") for line in lines if line["event"] == "file moved"}
    assert {"archive/发货单.csv", "error/\\xff\\xfe-bad.csv"} <= moved
    assert "Logging error" not in logged
    assert not [line for line in lines if line["event"] == "inbound source failed; restarting"]


async def _drop_and_follow(make_gateway: Any, target: TargetServer, tmp_path: Path) -> None:
    folder = tmp_path / "drop"
    config = write_config(tmp_path / "cfg", INTERFACE.format(folder=folder, url=target.url))
    gut = await make_gateway(config, config_watch=False)
    rows = ["SO-N-1,2026-11-25 09:30,顺丰速运,SF1,P", "SO-N-2,2026-11-25 09:31,京东物流,JD2,P",
            "SO-N-3,2026-11-25 09:32,顺丰速运,SF3"]  # fmt: skip
    drop(folder, os.fsdecode(GBK_NAME), shipment(rows))
    drop(folder, os.fsdecode(b"\xff\xfe-bad.csv"), b"\x00\x01")  # neither UTF-8 nor GBK

    archive, errors = folder / "archive", folder / "error"
    await eventually(lambda: len(raw_names(archive)) == 2, what="the GBK file archived")
    assert raw_names(archive) == [GBK_NAME, GBK_NAME + b".report.json"]  # its real name
    report = orjson.loads((archive / os.fsdecode(GBK_NAME + b".report.json")).read_bytes())
    assert (report["file"], report["name_on_disk"]) == ("发货单.csv", ON_DISK)
    assert report["moved_to"] == "archive/发货单.csv"
    assert report["refusals"][0]["reason"].startswith("发货单.csv, row 4, field status: 4 cells")

    await eventually(lambda: len(raw_names(errors)) == 2, what="the unreadable file set aside")
    bad = orjson.loads((errors / os.fsdecode(b"\xff\xfe-bad.csv.report.json")).read_bytes())
    assert (bad["file"], bad["moved_to"]) == ("\\xff\\xfe-bad.csv", "error/\\xff\\xfe-bad.csv")
    assert "NUL characters" in bad["problem"]

    stored = {
        row.name: (row.status, row.rows_accepted, row.rows_refused) for row in await ledger(gut)
    }
    assert stored == {"发货单.csv": ("done", 2, 1), "\\xff\\xfe-bad.csv": ("failed", 0, 0)}
    await target.wait_received(2)

    started = time.monotonic()  # file-system events still start passes (rescans: every 60s)
    drop(folder, "next.csv", shipment(["SO-N-4,2026-11-25 09:33,顺丰速运,SF4,P"]))
    await eventually(lambda: "next.csv" in names(archive), timeout=20, what="the next file")
    assert time.monotonic() - started < 20
    assert await message_count(gut) == 3

    await gut.stop()
