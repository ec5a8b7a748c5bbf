"""The file connector: one file per message in a folder, written atomically.

Writes run on their own daemon threads, at most ``max_parallel_writes`` at once, so a
hung network share can hold only those (never the event loop, never the process's
shared executor, never the shutdown) and a delivery that waits longer than ``timeout``
is retried later.
"""

from __future__ import annotations

import asyncio
import errno
from pathlib import Path
from typing import ClassVar

from esb.sdk import (
    ConnectorConfig,
    ConnectorContext,
    Delivered,
    DeliveryRequest,
    Outcome,
    Park,
    RetryLater,
)

from .atomic import Collision, Written, write_atomically
from .config import FileConfig
from .formats import FormatProblem, render
from .naming import NameProblem, Template
from .threads import on_daemon_thread

__all__ = ["FileConnector"]

# Errors that no retry can fix; every other OSError (disk full, permissions, a share
# that is not mounted, I/O errors) may clear, so it is retried.
PERMANENT_ERRNOS = frozenset(
    {errno.ENAMETOOLONG, errno.EISDIR, errno.ENOTDIR, errno.EINVAL, errno.ELOOP, errno.EEXIST}
)


def _outcome_of(exc: OSError, folder: Path) -> Outcome:
    reason = f"{exc.strerror or type(exc).__name__}: {exc.filename or folder}"
    return Park(reason) if exc.errno in PERMANENT_ERRNOS else RetryLater(reason)


class FileConnector:
    Config: ClassVar[type[ConnectorConfig]] = FileConfig

    def __init__(self, config: FileConfig, context: ConnectorContext) -> None:
        self.config = config
        self.context = context
        self.folder = Path(config.folder)
        if not self.folder.is_absolute():
            self.folder = context.config_dir / self.folder
        self._template = Template.parse(config.filename)
        self._slots = asyncio.Semaphore(config.max_parallel_writes)

    async def deliver(self, request: DeliveryRequest) -> Outcome:
        try:
            name = self._template.render(request)
            content = render(request.body, self.config)
        except (NameProblem, FormatProblem) as exc:
            return Park(str(exc))
        try:
            async with asyncio.timeout(self.config.timeout):
                written = await self._write(name, content)
        except TimeoutError:
            return RetryLater(f"timeout after {self.config.timeout:g}s writing {name}")
        except Collision as exc:
            return Park(str(exc))
        except OSError as exc:
            return _outcome_of(exc, self.folder)
        detail = {"path": str(written.path), "bytes": len(content), "action": written.action}
        return Delivered(detail=detail)

    async def _write(self, name: str, content: bytes) -> Written:
        policy, create = self.config.on_collision, self.config.create_folder
        await self._slots.acquire()
        return await on_daemon_thread(
            lambda: write_atomically(self.folder, name, content, policy, create_folder=create),
            self._slots.release,
        )

    async def aclose(self) -> None:
        """Nothing is held between deliveries: files are closed as soon as they are written."""
