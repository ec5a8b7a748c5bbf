"""Putting a file away once its rows are settled: to the archive, to the error folder, or
left in the folder because it changed after it was read.

A file is moved only while it is still the content that was read: its size, time and
SHA-256 are taken again through the descriptor it was read from (:mod:`.changes`),
and the move checks that the name still holds that file. A file that changed is never
archived as if it had been read:

- rows were appended (the bytes read, whole, then more from a line end on): it stays
  in the folder and is read again as a new content that *continues* the earlier one
  from the next row (the ledger links the two, so no row is taken in twice);
- anything else (rewritten, truncated, appended inside a row, a json or xml document):
  it goes to the error folder with a report of what was read and what it holds now;
- another file took its name: the rows read stay taken in, the new file is read on
  its own (and continues the earlier content if it starts with it).

An archived file is looked at again on every pass for ``watch_archived``, which catches
a writer that kept the file open and wrote after it was moved.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from .changes import Change, ends_at_line_end, look_again
from .folder import DropFolder, Entry, Refused, Replaced, Role, Stray
from .inbound_config import FileDropConfig
from .ledger import Claim, Ledger, Status
from .names import on_disk, readable
from .readers import Fingerprint
from .report import FileReport
from .threads import blocking

__all__ = ["PutAway"]

log = structlog.get_logger(__name__)
LINE_FORMATS = ("csv", "jsonl")
REPLACED = (
    "another file took this name before this one was put away: the rows read from this one "
    "stay taken in, and the new file is read on its own"
)


@dataclass
class _Archived:
    """A file archived lately, still looked at for writes."""

    entry: Entry  # under its name in the archive
    read_as: Entry  # as it was found in the folder
    found: Fingerprint
    claim: Claim
    report: FileReport
    until: float


class PutAway:
    def __init__(
        self, config: FileDropConfig, ledger: Ledger, forget: Callable[[str], None]
    ) -> None:
        self.config = config
        self.ledger = ledger
        self.forget = forget  # drops what the intake remembers of a name (its fingerprint)
        self._archived: dict[str, _Archived] = {}

    async def file(
        self,
        folder: DropFolder,
        entry: Entry,
        fd: int,
        found: Fingerprint,
        claim: Claim,
        report: FileReport,
        status: Status,
    ) -> None:
        """Put away a file whose rows are settled, and record in the ledger where it went."""
        change = await blocking(lambda: look_again(fd, found))
        if change is not None:
            await self._changed(folder, entry.name, entry, found, claim, report, change, status)
        else:
            await self._move_as_read(folder, entry, fd, found, claim, report, status)
        await self.ledger.finish(claim, report, status)

    async def _move_as_read(
        self,
        folder: DropFolder,
        entry: Entry,
        fd: int,
        found: Fingerprint,
        claim: Claim,
        report: FileReport,
        status: Status,
    ) -> None:
        where: Role = "errors" if status == "failed" else "archive"
        beside = report if (status == "failed" or report.refused or report.continues) else None
        try:
            final = await self.move(folder, entry.name, where, beside, inode=entry.inode)
        except Replaced:
            ends = await blocking(lambda: ends_at_line_end(fd, found.size))
            report.changed, report.changed_to = REPLACED, {"replaced": True, "continuable": ends}
            self.forget(entry.name)
            log.warning("file replaced after it was read", file=entry.shown, why=REPLACED)
            return
        if final is None:
            return
        report.moved_to = folder.shown(where, final)
        if where == "archive" and self.config.watch_archived > 0:
            archived = Entry(final, entry.size, entry.mtime_ns, entry.inode)
            until = time.monotonic() + self.config.watch_archived
            self._archived[final] = _Archived(archived, entry, found, claim, report, until)

    async def _changed(
        self,
        folder: DropFolder,
        name: str,
        read_as: Entry,
        found: Fingerprint,
        claim: Claim,
        report: FileReport,
        change: Change,
        status: Status,
        source: Role = "folder",
    ) -> None:
        """A file that changed after it was read: read on as a continuation, or set aside."""
        appended = change.continues and status == "done" and self.config.format in LINE_FORMATS
        report.changed_to = change.now() | {"continuable": appended}
        self.forget(read_as.name)
        if appended:
            report.moved_to = None
            report.changed = (
                f"{change.size - found.size} bytes were appended after the file was read "
                f"({found.size} bytes, rows up to {report.last_row}): it is read again as a "
                f"new content, from row {report.last_row + 1} on"
            )
            await self.ledger.finish(claim, report, status)  # known before it is read again
            if await self._back_in_folder(folder, name, source, read_as):
                log.warning(
                    "file changed after it was read", file=read_as.shown, done=report.changed
                )
                return
        report.changed = (
            f"the file changed after it was read: its first {found.size} bytes (sha256 "
            f"{found.sha256}) were read and stay taken in ({report.accepted} rows accepted, "
            f"{report.refused} refused, rows up to {report.last_row}); what it holds now "
            f"({change.size} bytes, sha256 {change.sha256}) was not read. Put the rows "
            "that are not taken in yet into a new file and drop that"
        )
        log.warning("file changed after it was read", file=read_as.shown, done=report.changed)
        if source != "folder":
            await blocking(lambda: folder.remove(source, f"{name}.report.json"))
        final = await self.move(folder, name, "errors", report, source=source)
        report.moved_to = folder.shown("errors", final) if final else None

    async def _back_in_folder(
        self, folder: DropFolder, name: str, source: Role, read_as: Entry
    ) -> bool:
        """The file is in the folder under the name it was read as (moved back if need be)."""
        if source == "folder":
            return True
        await blocking(lambda: folder.remove(source, f"{name}.report.json"))
        try:
            move = functools.partial(folder.move, name, "folder", read_as.name, source=source)
            await blocking(lambda: move(exact=True))
        except FileExistsError:  # a new file has that name now: this one goes aside
            return False
        return True

    async def recheck(self, folder: DropFolder) -> None:
        """Archived files still looked at: one written to since it was moved is a change."""
        now = time.monotonic()
        for name, archived in list(self._archived.items()):
            if now > archived.until:
                del self._archived[name]
                continue
            change = await blocking(functools.partial(_written_since, folder, archived))
            if change is None:
                continue
            a = archived
            await self._changed(
                folder, name, a.read_as, a.found, a.claim, a.report, change, "done", "archive"
            )
            await self.ledger.finish(a.claim, a.report, "done")
            del self._archived[name]

    async def set_aside(self, folder: DropFolder, stray: Stray) -> None:
        """A file that is never read: to the error folder, with the reason beside it."""
        report = FileReport(
            file=stray.shown, sha256="", problem=stray.why, name_on_disk=on_disk(stray.name)
        )
        await self.move(folder, stray.name, "errors", report, new_name=stray.safe_name)

    async def again(
        self, folder: DropFolder, entry: Entry, claim: Claim, report: FileReport
    ) -> None:
        """Content taken in before: finish the earlier move, or set a copy aside unread."""
        if claim.name == entry.shown and report.moved_to is None and not report.changed:
            shown = report if report.refused or report.continues else None
            final = await self.move(folder, entry.name, "archive", shown, inode=entry.inode)
            report.moved_to = folder.shown("archive", final) if final else None
            await self.ledger.finish(claim, report, "done")
            return
        copy = FileReport(
            file=entry.shown,
            sha256=report.sha256,
            duplicate_of=claim.name,
            name_on_disk=on_disk(entry.name),
        )
        log.info("file already taken in; archived unread", file=entry.shown, same_as=claim.name)
        await self.move(folder, entry.name, "archive", copy, inode=entry.inode)

    async def move(
        self,
        folder: DropFolder,
        name: str,
        where: Role,
        beside: FileReport | None,
        *,
        new_name: str | None = None,
        inode: int | None = None,
        source: Role = "folder",
    ) -> str | None:
        """The name the file got in ``where``, with ``beside`` written next to it as
        ``<name>.report.json``; None if it was gone (another gateway moved it first)."""
        move = functools.partial(folder.move, name, where, new_name, inode=inode, source=source)
        try:
            final = await blocking(move)
        except FileNotFoundError:
            return None
        moved_to = folder.shown(where, final)
        if beside is not None:
            beside.moved_to = moved_to
            content = beside.to_json()
            await blocking(lambda: folder.write_beside(f"{final}.report.json", where, content))
        log.info("file moved", file=readable(name), moved_to=moved_to)
        return final


def _written_since(folder: DropFolder, archived: _Archived) -> Change | None:
    """The archived file's change since it was read, if it changed (blocking)."""
    now = folder.look("archive", archived.entry.name)
    if now is None or now.inode != archived.entry.inode:
        return None  # moved or replaced by someone else: nothing of ours is there
    if (now.size, now.mtime_ns) == (archived.found.size, archived.read_as.mtime_ns):
        return None
    try:
        fd = folder.open_file(archived.entry, "archive")
    except (FileNotFoundError, Refused):
        return None
    try:
        return look_again(fd, archived.found)
    finally:
        os.close(fd)
