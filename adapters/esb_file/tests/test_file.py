"""The file connector on a real disk: the finance vectors, traversal attempts, each outcome."""

from __future__ import annotations

import asyncio
import errno
import os
from pathlib import Path
from typing import Any
from uuid import uuid4

import orjson
import pytest

from esb.connectors import ConnectorContext, Delivered, DeliveryRequest, Outcome, Park, RetryLater
from esb_file import FileConfig, FileConnector
from esb_file.connector import _outcome_of

SCENARIO = Path(__file__).resolve().parents[3] / "tests" / "data" / "scenario"
FINANCE = "finance/invoice-requests"


def connector(config_dir: Path, **options: Any) -> FileConnector:
    config = FileConfig.model_validate(
        {"kind": "file", "folder": FINANCE, "filename": "INV-{FSrcBillNo}.json", **options}
    )
    return FileConnector(config, ConnectorContext(config_dir, "finance", "shipment"))


def request(body: Any) -> DeliveryRequest:
    return DeliveryRequest(uuid4(), uuid4(), "shipment", "finance", "shipment",
                           "SO-20261124-0001", 1, body)  # fmt: skip


async def deliver(files: FileConnector, body: Any) -> Outcome:
    try:
        return await files.deliver(request(body))
    finally:
        await files.aclose()


def all_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize("order", ["SO-20261124-0001", "SO-20261124-0003"])
async def test_finance_invoice_requests_are_written_as_the_scenario_says(
    tmp_path: Path, order: str
) -> None:
    expected = (SCENARIO / "expected" / f"finance_INV-{order}.json").read_bytes()
    files = connector(tmp_path)
    outcome = await files.deliver(request(orjson.loads(expected)))
    path = tmp_path / FINANCE / f"INV-{order}.json"
    assert outcome == Delivered(detail={"path": str(path), "bytes": len(expected),
                                        "action": "written"})  # fmt: skip
    assert path.read_bytes() == expected
    replay = await files.deliver(request(orjson.loads(expected)))
    await files.aclose()
    assert isinstance(replay, Delivered)
    assert replay.detail is not None
    assert replay.detail["action"] == "unchanged"
    assert all_files(tmp_path) == [f"{FINANCE}/INV-{order}.json"]


@pytest.mark.parametrize(
    "bill_no", ["../../../escaped", "..", "/tmp/escaped", "a/b", "..\\..\\escaped"]
)
async def test_traversal_attempts_park_and_write_nothing(tmp_path: Path, bill_no: str) -> None:
    outcome = await deliver(connector(tmp_path / "config"), {"FSrcBillNo": bill_no})
    assert isinstance(outcome, Park)
    assert "FSrcBillNo" in outcome.reason
    assert all_files(tmp_path) == []


async def test_a_symlink_planted_at_the_name_is_replaced_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me")
    (tmp_path / FINANCE).mkdir(parents=True)
    (tmp_path / FINANCE / "INV-1.json").symlink_to(outside)
    outcome = await deliver(connector(tmp_path, on_collision="overwrite"), {"FSrcBillNo": "1"})
    assert isinstance(outcome, Delivered)
    assert outside.read_text() == "keep me"
    assert not (tmp_path / FINANCE / "INV-1.json").is_symlink()


async def test_an_absolute_folder_is_used_as_it_is(tmp_path: Path) -> None:
    outcome = await deliver(
        connector(tmp_path / "cfg", folder=str(tmp_path / "abs")), {"FSrcBillNo": "1"}
    )
    assert isinstance(outcome, Delivered)
    assert (tmp_path / "abs" / "INV-1.json").is_file()


async def test_a_missing_folder_that_may_not_be_created_is_retried(tmp_path: Path) -> None:
    outcome = await deliver(connector(tmp_path, create_folder=False), {"FSrcBillNo": "1"})
    assert isinstance(outcome, RetryLater)
    assert "No such file or directory" in outcome.reason


async def test_collisions_follow_the_policy(tmp_path: Path) -> None:
    (tmp_path / FINANCE).mkdir(parents=True)
    (tmp_path / FINANCE / "INV-1.json").write_text("someone else's\n")
    parked = await deliver(connector(tmp_path), {"FSrcBillNo": "1"})
    assert isinstance(parked, Park)
    assert "exists with other content (on_collision: error)" in parked.reason
    suffixed = await deliver(connector(tmp_path, on_collision="suffix"), {"FSrcBillNo": "1"})
    assert isinstance(suffixed, Delivered)
    assert suffixed.detail is not None
    assert suffixed.detail["path"].endswith("INV-1-1.json")


async def test_a_folder_in_place_of_the_file_parks(tmp_path: Path) -> None:
    (tmp_path / FINANCE / "INV-1.json").mkdir(parents=True)
    outcome = await deliver(connector(tmp_path), {"FSrcBillNo": "1"})
    assert isinstance(outcome, Park)
    assert "Is a directory" in outcome.reason


async def test_a_body_the_format_cannot_hold_parks(tmp_path: Path) -> None:
    outcome = await deliver(connector(tmp_path, format="csv"), {"FSrcBillNo": "1", "x": [1]})
    assert outcome == Park("csv cell x holds a list, not a value")


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (errno.ENOSPC, RetryLater),
        (errno.EDQUOT, RetryLater),
        (errno.EACCES, RetryLater),
        (errno.EPERM, RetryLater),
        (errno.EROFS, RetryLater),
        (errno.EIO, RetryLater),
        (errno.ENAMETOOLONG, Park),
        (errno.ENOTDIR, Park),
    ],
)
def test_os_errors_that_may_clear_are_retried(code: int, kind: type) -> None:
    outcome = _outcome_of(OSError(code, os.strerror(code), "/drop/INV-1.json"), Path("/drop"))
    assert isinstance(outcome, kind)
    assert isinstance(outcome, RetryLater | Park)
    assert outcome.reason == f"{os.strerror(code)}: /drop/INV-1.json"


async def test_stuck_writes_hold_their_slot_until_they_return(tmp_path: Path) -> None:
    files = connector(tmp_path, timeout="300ms", max_parallel_writes=1)
    fifo = tmp_path / FINANCE / "INV-stuck.json"
    fifo.parent.mkdir(parents=True)
    os.mkfifo(fifo)  # opening it blocks, as on a hung network share
    stuck = await files.deliver(request({"FSrcBillNo": "stuck"}))
    assert stuck == RetryLater("timeout after 0.3s writing INV-stuck.json")
    waiting = await files.deliver(request({"FSrcBillNo": "next"}))
    assert waiting == RetryLater("timeout after 0.3s writing INV-next.json")
    os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))  # the share comes back
    for _ in range(200):  # the stuck write returns and gives its slot back
        if not files._slots.locked():
            break
        await asyncio.sleep(0.01)
    assert isinstance(await deliver(files, {"FSrcBillNo": "next"}), Delivered)
