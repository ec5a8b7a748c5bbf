"""The ``file`` connector through the shipped contract suite, against a real folder."""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path
from typing import Any, ClassVar

import orjson

from esb.connectors import DeliveryRequest
from esb.testing import ConnectorContract, ConnectorHarness

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
