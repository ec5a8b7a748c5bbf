"""Putting a read file away on a real disk with the real ledger (SQLite and PostgreSQL):
archived only while it is the content that was read; appended rows left for a
continuation, anything else to the error folder with a report, a replaced file
left to be read on its own, and archived files looked at again for late writes."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from esb_file import FileDropConfig
from esb_file.folder import DropFolder, Entry
from esb_file.ledger import Claim, Ledger
from esb_file.putaway import REPLACED, PutAway
from esb_file.readers import Fingerprint, fingerprint
from esb_file.report import FileReport
from esb_file.tests.states import database_state

CONTENT = b"order_no,status\r\nSO-1,S\r\nSO-2,P\r\n"


@dataclass
class Read:
    """A file as the intake leaves it once its rows are settled."""

    entry: Entry
    fd: int
    found: Fingerprint
    claim: Claim
    report: FileReport


@pytest.fixture
async def drop(tmp_path: Path) -> AsyncIterator[DropFolder]:
    root = tmp_path / "drop"
    folder = DropFolder(root, root / "archive", root / "error", "*.csv", [".*"])
    folder.open(create=True)
    yield folder
    folder.close()
    for fd in OPENED:
        os.close(fd)
    OPENED.clear()


OPENED: list[int] = []  # descriptors of files read in the running test


def put_away(engine: AsyncEngine, **options: Any) -> PutAway:
    config = FileDropConfig.model_validate({"kind": "file-drop", "folder": "in", **options})
    return PutAway(config, Ledger(database_state(engine)), lambda name: None)


async def read(drop: DropFolder, engine: AsyncEngine, name: str, content: bytes) -> Read:
    path = drop.paths["folder"] / name
    path.write_bytes(content)
    [entry] = [e for e in drop.scan()[0] if e.name == name]
    fd = drop.open_file(entry)
    OPENED.append(fd)
    found = fingerprint(fd, FileDropConfig(kind="file-drop", folder="in"))
    claim = await Ledger(database_state(engine)).claim(entry.shown, found.sha256, found.size)
    report = FileReport(file=entry.shown, sha256=found.sha256, accepted=2, last_row=3)
    return Read(entry, fd, found, claim, report)


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_file())


async def test_an_unchanged_file_is_archived_and_the_report_says_where(
    drop: DropFolder, engine: AsyncEngine, tmp_path: Path
) -> None:
    done = await read(drop, engine, "day.csv", CONTENT)
    await put_away(engine).file(drop, done.entry, done.fd, *_rest(done), "done")
    assert names(drop.paths["archive"]) == ["day.csv"]
    assert done.report.moved_to == "archive/day.csv"
    assert done.report.changed is None

    elsewhere = DropFolder(drop.paths["folder"], tmp_path / "kept", tmp_path / "bad", "*", [])
    elsewhere.open(create=True)
    try:
        failed = await read(elsewhere, engine, "odd.csv", b"\x00")
        await put_away(engine).file(elsewhere, failed.entry, failed.fd, *_rest(failed), "failed")
    finally:
        elsewhere.close()
    assert failed.report.moved_to == f"{tmp_path / 'bad'}/odd.csv"  # the folder, as it is


async def test_rows_appended_after_the_read_leave_the_file_for_a_continuation(
    drop: DropFolder, engine: AsyncEngine
) -> None:
    done = await read(drop, engine, "day.csv", CONTENT)
    with (drop.paths["folder"] / "day.csv").open("ab") as writer:
        writer.write(b"SO-3,S\r\n")
    await put_away(engine).file(drop, done.entry, done.fd, *_rest(done), "done")

    assert names(drop.paths["folder"]) == ["day.csv"]  # left for the next pass
    assert names(drop.paths["archive"]) == names(drop.paths["errors"]) == []
    assert "8 bytes were appended after the file was read" in (done.report.changed or "")
    assert "from row 4 on" in (done.report.changed or "")
    assert done.report.changed_to is not None
    assert done.report.changed_to["continuable"] is True
    assert done.report.changed_to["size"] == len(CONTENT) + 8
    [earlier] = await Ledger(database_state(engine)).changed_earlier("day.csv")
    assert (earlier.sha256, earlier.last_row) == (done.found.sha256, 3)


def _write(content: bytes) -> Any:
    return lambda path: path.write_bytes(content)


def _rewrite_keeping_size_and_time(content: bytes) -> Any:
    def rewrite(path: Path) -> None:
        before = path.stat()
        path.write_bytes(content)
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # only the hash can tell

    return rewrite


def _append(content: bytes) -> Any:
    def append(path: Path) -> None:
        with path.open("ab") as writer:
            writer.write(content)

    return append


@pytest.mark.parametrize(
    ("read_first", "change", "status"),
    [
        (CONTENT, _rewrite_keeping_size_and_time(CONTENT.replace(b"SO-2", b"SO-9")), "done"),
        (CONTENT, _write(CONTENT[:20]), "done"),  # truncated
        (CONTENT + b"SO-3", _append(b",S\r\n"), "done"),  # read up to the middle of a row
        (CONTENT, _append(b"SO-3,S\r\n"), "failed"),  # a file that could not be read
    ],
)
async def test_any_other_change_sends_the_file_to_the_error_folder_with_a_report(
    drop: DropFolder, engine: AsyncEngine, read_first: bytes, change: Any, status: Any
) -> None:
    done = await read(drop, engine, "day.csv", read_first)
    change(drop.paths["folder"] / "day.csv")
    await put_away(engine).file(drop, done.entry, done.fd, *_rest(done), status)

    errors = drop.paths["errors"]
    assert names(errors) == ["day.csv", "day.csv.report.json"]
    report = orjson.loads((errors / "day.csv.report.json").read_bytes())
    assert report["moved_to"] == "error/day.csv"
    assert report["changed"].startswith("the file changed after it was read")
    assert f"sha256 {done.found.sha256}) were read and stay taken in" in report["changed"]
    assert report["changed_to"]["sha256"] != done.found.sha256
    assert report["changed_to"]["continuable"] is False
    assert await Ledger(database_state(engine)).changed_earlier("day.csv") == []


async def test_a_file_replaced_by_another_of_its_name_is_left_to_be_read_on_its_own(
    drop: DropFolder, engine: AsyncEngine
) -> None:
    done = await read(drop, engine, "day.csv", CONTENT)
    newer = drop.paths["folder"] / ".day.csv.tmp"
    newer.write_bytes(CONTENT + b"SO-3,S\r\n")
    newer.rename(drop.paths["folder"] / "day.csv")  # as a writer that renames when done
    await put_away(engine).file(drop, done.entry, done.fd, *_rest(done), "done")

    assert names(drop.paths["folder"]) == ["day.csv"]
    assert (drop.paths["folder"] / "day.csv").read_bytes() == CONTENT + b"SO-3,S\r\n"
    assert (done.report.changed, done.report.moved_to) == (REPLACED, None)
    [earlier] = await Ledger(database_state(engine)).changed_earlier("day.csv")
    assert earlier.sha256 == done.found.sha256  # the new file may continue it


async def test_an_archived_file_written_to_later_is_caught_while_it_is_watched(
    drop: DropFolder, engine: AsyncEngine
) -> None:
    away = put_away(engine, watch_archived=30)
    appended = await read(drop, engine, "a.csv", CONTENT)
    rewritten = await read(drop, engine, "b.csv", CONTENT.replace(b"SO-", b"SX-"))
    rewritten.report.refused = 1  # archived with a report beside it
    for done in (appended, rewritten):
        await away.file(drop, done.entry, done.fd, *_rest(done), "done")
    archive = drop.paths["archive"]
    assert names(archive) == ["a.csv", "b.csv", "b.csv.report.json"]
    await away.recheck(drop)  # nothing written: nothing moves
    assert names(archive) == ["a.csv", "b.csv", "b.csv.report.json"]

    with (archive / "a.csv").open("ab") as writer:  # writers that kept the files open
        writer.write(b"SO-3,S\r\n")
    with (archive / "b.csv").open("r+b") as writer:
        writer.write(b"ORDER")
    await away.recheck(drop)

    assert names(drop.paths["folder"]) == ["a.csv"]  # back, for the continuation
    assert names(archive) == []
    assert names(drop.paths["errors"]) == ["b.csv", "b.csv.report.json"]
    assert appended.report.moved_to is None
    assert rewritten.report.moved_to == "error/b.csv"
    ledger = Ledger(database_state(engine))
    [earlier] = await ledger.changed_earlier("a.csv")
    assert earlier.sha256 == appended.found.sha256
    again = await ledger.claim("b.csv", rewritten.found.sha256, rewritten.found.size)
    kept = FileReport.from_json(again.checkpoint, file="b.csv", sha256="", limit=10)
    assert kept.changed is not None
    assert kept.moved_to == "error/b.csv"


def _rest(done: Read) -> tuple[Fingerprint, Claim, FileReport]:
    return done.found, done.claim, done.report
