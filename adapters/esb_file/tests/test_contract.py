"""The ``file`` connector through the shipped contract suite, against a real folder."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from pathlib import Path
from typing import Any, ClassVar

import orjson

from esb.sdk import DeliveryRequest, InboundSource
from esb.testing import (
    ConnectorContract,
    ConnectorHarness,
    Reply,
    SourceContract,
    SourceHarness,
)

REPORT_WRITTEN_WITHIN_S = 1
README = Path(__file__).resolve().parents[1] / "README.md"


class FileHarness(ConnectorHarness):
    """A drop folder. Transient: the folder is gone (a share not mounted). Permanent: the
    file exists with other content. Hang: the file is a FIFO, whose open blocks like a
    hung network share until the harness lets it go. The file's name is the business
    key: a repeat finds its own file, so no key needs to travel."""

    kind: ClassVar[str] = "file"
    readme: ClassVar[Path | None] = README
    keyed: ClassVar[bool] = False

    def __init__(self, tmp_path: Path) -> None:
        super().__init__(tmp_path)
        self.folder = tmp_path / "drop"
        self.path = self.folder / "INV-SO-1.json"

    async def start(self) -> None:
        self.folder.mkdir()

    async def stop(self) -> None:
        if self.path.is_fifo():
            with contextlib.suppress(OSError):  # ENXIO: nobody is blocked on it
                os.close(os.open(self.path, os.O_WRONLY | os.O_NONBLOCK))

    def options(self, timeout: float) -> dict[str, Any]:
        return {"folder": "drop", "filename": "INV-{OrderNo}.json", "on_collision": "error",
                "create_folder": False, "timeout": timeout}  # fmt: skip

    def body(self) -> Any:
        return {"OrderNo": "SO-1", "FDate": "2026-11-25", "n": 1}

    async def succeed(self) -> None:
        self.folder.mkdir(exist_ok=True)

    async def fail_transiently(self) -> None:
        shutil.rmtree(self.folder)

    async def fail_permanently(self) -> None:
        self.path.write_text('{"OrderNo": "someone else"}\n')

    async def hang(self) -> None:
        os.mkfifo(self.path)

    def seen(self, request: DeliveryRequest) -> int:
        if not self.path.is_file():
            return 0
        return int(orjson.loads(self.path.read_bytes()) == request.body)


class TestFileContract(ConnectorContract):
    harness = FileHarness


def read_report(path: Path) -> dict[str, Any] | None:
    """A report beside a file put away; None while it is not (wholly) written."""
    try:
        found: dict[str, Any] = orjson.loads(path.read_bytes())
    except (FileNotFoundError, orjson.JSONDecodeError):
        return None
    return found


class FileDropHarness(SourceHarness):
    """Plays a system that drops files: each document a JSON file, written under a
    temporary name and renamed (as careful writers do). Taken in: the file is archived;
    refused: archived with a report beside it (or put in the error folder); the store
    down: the file waits in the folder and is taken on a later pass. The ledger lives in
    the source's state (the stand-in's, in memory)."""

    kind: ClassVar[str] = "file-drop"
    readme: ClassVar[Path | None] = README

    def __init__(self, tmp_path: Path) -> None:
        super().__init__(tmp_path)
        self.inbox = tmp_path / "inbox"
        self.dropped: dict[int, str] = {}
        self.drops = 0

    async def start(self) -> None:
        self.inbox.mkdir()

    def options(self, timeout: float) -> dict[str, Any]:
        return {"folder": "inbox", "format": "json", "settle": 0.05, "poll_interval": 0.2,
                "watch_archived": 0}  # fmt: skip

    def body(self, number: int) -> Any:
        return {"OrderNo": f"SO-{number}", "Qty": number}

    async def offer(self, source: InboundSource, number: int) -> Reply:
        self.drops += 1
        name = self.dropped[number] = f"doc-{number}-{self.drops}.json"
        calls = len(self.gateway.offered)
        (self.inbox / f".{name}").write_bytes(orjson.dumps(self.body(number)))
        (self.inbox / f".{name}").rename(self.inbox / name)
        return await self._answer(name, calls)

    async def again(self, source: InboundSource, number: int) -> Reply:
        return await self._answer(self.dropped[number], None)

    async def _answer(self, name: str, calls: int | None) -> Reply:
        """Where the file went; "retry" once the store was found down (``calls``: the
        gateway's calls before the file was dropped) and the file stayed."""
        for _ in range(500):
            await asyncio.sleep(0.02)
            if (self.inbox / "error" / name).exists():
                return "refused"
            if (self.inbox / "archive" / name).exists():
                return await self._archived(self.inbox / "archive" / f"{name}.report.json")
            answers = [o.answer for o in self.gateway.offered[calls:]] if calls is not None else []
            if "unavailable" in answers and (self.inbox / name).exists():
                return "retry"
        raise AssertionError(f"{name} was neither taken in nor put away")

    async def _archived(self, report: Path) -> Reply:
        """No report: taken in; a report says a repeat (taken in before) or refused rows.
        The report is written just after the move: give it a moment."""
        for _ in range(REPORT_WRITTEN_WITHIN_S * 50):
            written = read_report(report)
            if written is not None:
                return "accepted" if written.get("duplicate_of") else "refused"
            await asyncio.sleep(0.02)
        return "accepted"


class TestFileDropContract(SourceContract):
    harness = FileDropHarness
