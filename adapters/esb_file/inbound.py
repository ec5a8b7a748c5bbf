"""The ``file-drop`` inbound source: watch a folder, take each complete file in once.

A pass scans the folder, moves strays aside (links, odd names), and takes in every file
whose size and time stayed the same for ``settle``; a file under a temporary name
(``ignore``) is never looked at, so writers that rename when done are taken at once.
Passes run when the file system reports a change (watchfiles) and at least every
``poll_interval``, which alone serves shares that send no events. Everything that
survives a restart lives in the ledger (the source's state) and the folder, so the
source can be cancelled or killed anywhere and simply run again. Of several gateways on
one database, the one holding the source's lease watches the folder.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import ClassVar

import structlog
from watchfiles import awatch

from esb.sdk import InboundConfig, SourceContext, StoreUnavailable, shorten

from .folder import DropFolder, Entry
from .inbound_config import FileDropConfig
from .intake import Intake
from .ledger import Ledger
from .names import readable
from .threads import blocking

__all__ = ["FileDropSource", "Settling"]

log = structlog.get_logger(__name__)
UNDECODABLE = "Unable to decode path"  # watchfiles, on a file name that is not UTF-8
#: A new watcher sees no event until it is set up: one more pass this soon after it
#: starts finds what arrived meanwhile, instead of the rescan a poll_interval later.
WATCH_STARTING_S = 1.0


class Settling:
    """Which files have kept the same size, time and inode for ``settle`` seconds."""

    def __init__(self, settle: float) -> None:
        self.settle = settle
        self._since: dict[str, tuple[tuple[int, int, int], float]] = {}

    def update(self, files: list[Entry], now: float) -> tuple[list[Entry], float]:
        """The settled files, and the seconds until the next one may settle (inf: none)."""
        since: dict[str, tuple[tuple[int, int, int], float]] = {}
        ready, wait = [], math.inf
        for entry in files:
            signature, first = self._since.get(entry.name, (entry.signature, now))
            if signature != entry.signature:
                first = now
            since[entry.name] = (entry.signature, first)
            left = first + self.settle - now
            if left <= 0:
                ready.append(entry)
            else:
                wait = min(wait, left)
        self._since = since
        return ready, wait


def _first_error(exc: BaseException) -> BaseException:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def _under(path: str, base: Path) -> Path:
    found = Path(path)
    return found if found.is_absolute() else base / found


class FileDropSource:
    Config: ClassVar[type[InboundConfig]] = FileDropConfig

    def __init__(self, config: FileDropConfig, context: SourceContext) -> None:
        self.config = config
        self.context = context
        folder = _under(config.folder, context.config_dir)
        archive = _under(config.archive, context.config_dir) if config.archive else None
        errors = _under(config.errors, context.config_dir) if config.errors else None
        self.folder = DropFolder(
            folder,
            archive or folder / "archive",
            errors or folder / "error",
            config.pattern,
            config.ignore,
        )
        self.intake = Intake(config, context, Ledger(context.state))
        self.settling = Settling(config.settle)
        self._changed = asyncio.Event()
        self._watcher: asyncio.Task[None] | None = None
        self._events_failed = config.watch == "polling"
        self._folder_missing = False

    async def run(self) -> None:
        """Watch the folder while this process holds the source's lease (one gateway of
        several on one database runs it; the others wait to take over)."""
        await self._open_folder()  # report a missing share at once, even while waiting
        self.folder.close()
        await self.context.state.run_exclusive(self._watch_folder)

    async def _watch_folder(self) -> None:
        try:
            while True:
                wait = await self._pass()
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a
                # cancellation that arrives as the event is set, and the source never stops
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):
                        await self._changed.wait()
                self._changed.clear()
        finally:
            await self._stop_watching()

    async def _open_folder(self) -> bool:
        """Open the folders (made if configured so); False, logged once, if they cannot be."""
        try:
            await blocking(lambda: self.folder.open(create=self.config.create_folders))
        except OSError as exc:
            if not self._folder_missing:
                log.warning(
                    "drop folder cannot be opened; waiting for it",
                    error=shorten(str(exc)),
                    folder=readable(str(self.folder.paths["folder"])),
                )
            self._folder_missing = True
            return False
        self._folder_missing = False
        return True

    async def _pass(self) -> float:
        """One look at the folder; the seconds until the next one is due."""
        if not await self._open_folder():
            return self.config.poll_interval
        try:
            started = self._watch()
            wait = await self._take_ready()
            return min(wait, WATCH_STARTING_S) if started else wait
        except StoreUnavailable as exc:
            log.warning("database unavailable; files wait for the next pass", error=str(exc))
            return self.config.poll_interval
        finally:
            self.folder.close()

    async def _take_ready(self) -> float:
        files, strays = await blocking(self.folder.scan)
        for stray in strays:
            log.warning("set aside unread", file=stray.shown, why=stray.why)
            await self._guarded(stray.name, self.intake.set_aside(self.folder, stray))
        ready, wait = self.settling.update(files, time.monotonic())
        self.intake.forget_all_but({entry.name for entry in files})
        for entry in ready:
            await self._guarded(entry.name, self.intake.take(self.folder, entry))
        await self._guarded("archive", self.intake.put_away.recheck(self.folder))
        return min(wait, self.config.poll_interval)

    async def _guarded(self, name: str, work: Awaitable[None]) -> None:
        """A file the system will not let us read or move is logged; the others go on."""
        try:
            await work
        except OSError as exc:
            where = exc.filename if isinstance(exc.filename, str) else name
            log.error(
                "file could not be handled; tried again next pass",
                file=readable(name),
                error=f"{exc.strerror or type(exc).__name__}: {readable(where)}",
            )

    def _watch(self) -> bool:
        """Start following events unless they are followed (or failed); True if started."""
        if self._events_failed or (self._watcher is not None and not self._watcher.done()):
            return False
        name = f"watch-{self.context.interface}"
        self._watcher = asyncio.create_task(self._follow_events(), name=name)
        return True

    async def _follow_events(self) -> None:
        """Passes at once on file-system events. watchfiles stops on a name it cannot
        decode (not UTF-8): then a pass runs now and the next one watches again. Any
        other failure leaves the rescans alone to find files."""
        folder = self.folder.paths["folder"]
        try:
            async for _ in awatch(folder, watch_filter=None, recursive=False, debounce=500):
                self._changed.set()
        except Exception as exc:  # watchfiles' errors may come wrapped in exception groups
            error = _first_error(exc)
            if isinstance(error, RuntimeError) and UNDECODABLE in str(error):
                self._changed.set()
                log.info("file-system events stopped on a name; watching again")
                return
            self._events_failed = True
            log.warning(
                "no file-system events; rescanning every poll_interval",
                folder=readable(str(folder)),
                error=shorten(f"{type(error).__name__}: {error}"),
            )

    async def _stop_watching(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None

    async def aclose(self) -> None:
        """Nothing is held between passes: folders and files are closed after each one."""
