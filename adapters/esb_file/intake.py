"""Take one file in: its rows into the pipeline under the ledger's lease, then move it.

Each row goes to ``context.accept`` with the idempotency key ``file:<sha256>:<row>``; a
batch of rows is submitted at once so they share one commit. A refused row is counted
and reported with the file, its row number and the field, and the others go on. The
file is moved to the archive once the ledger says ``done``, or to the error folder
with a report beside it when it cannot be read at all. If the database goes away
(StoreUnavailable) the file stays where it is and is resumed on a later pass.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass

import structlog

from esb.connectors import InboundContext
from esb.errors import ValidationFailed

from .folder import DropFolder, Entry, Refused, Stray, Where
from .inbound_config import FileDropConfig
from .ledger import Claim, Ledger, Status
from .readers import Fingerprint, Item, Refusal, Row, Unreadable, batches, fingerprint
from .report import FileReport
from .threads import blocking, iterate_on_daemon_thread

__all__ = ["Intake"]

log = structlog.get_logger(__name__)
CHECKPOINT_EVERY_S = 2.0  # a killed gateway re-submits at most this much work (or ...)
CHECKPOINT_EVERY_BATCHES = 10  # ... this many batches) when it resumes the file


@dataclass
class _Cached:
    signature: tuple[int, int, int]
    fingerprint: Fingerprint


class Intake:
    def __init__(self, config: FileDropConfig, context: InboundContext, ledger: Ledger) -> None:
        self.config = config
        self.context = context
        self.ledger = ledger
        self._fingerprints: dict[str, _Cached] = {}

    def forget_all_but(self, names: set[str]) -> None:
        """Drop what is known of files that left the folder."""
        for name in set(self._fingerprints) - names:
            del self._fingerprints[name]

    async def take(self, folder: DropFolder, entry: Entry) -> None:
        """Process ``entry`` once, unless another gateway is processing it right now."""
        try:
            fd = await blocking(lambda: folder.open_file(entry))
        except FileNotFoundError:
            return  # moved away meanwhile (by another gateway)
        except Refused as exc:
            await self.set_aside(folder, Stray(entry.name, entry.name, str(exc)))
            return
        try:
            await self._take_open(folder, entry, fd)
        finally:
            os.close(fd)

    async def set_aside(self, folder: DropFolder, stray: Stray) -> None:
        """A file that is never read: to the error folder, with the reason beside it."""
        report = FileReport(file=stray.name, sha256="", problem=stray.why)
        await self._move(folder, stray.name, "errors", report, new_name=stray.safe_name)

    async def _fingerprint(self, entry: Entry, fd: int) -> Fingerprint:
        cached = self._fingerprints.get(entry.name)
        if cached is None or cached.signature != entry.signature:
            taken = await blocking(lambda: fingerprint(fd, self.config))
            cached = self._fingerprints[entry.name] = _Cached(entry.signature, taken)
        return cached.fingerprint

    async def _take_open(self, folder: DropFolder, entry: Entry, fd: int) -> None:
        found = await self._fingerprint(entry, fd)
        async with self.ledger.lease(found.sha256) as held:
            if not held:
                return
            claim = await self.ledger.claim(entry.name, found.sha256, found.size)
            report = self._report(claim.checkpoint, entry, found)
            if claim.state == "done":
                await self._archive_again(folder, entry, claim, report)
                return
            if claim.state == "resume":
                log.info("resuming an interrupted file", file=entry.name, after_row=report.last_row)
            status = await self._read(fd, claim, report, found.problem)
            await self.ledger.finish(claim, report, status)
            log.info(
                "file taken in",
                interface=self.context.interface,
                file=entry.name,
                status=status,
                accepted=report.accepted,
                refused=report.refused,
                repeated=report.repeated,
            )
            where: Where = "errors" if status == "failed" else "archive"
            shown = report if (status == "failed" or report.refused) else None
            report.moved_to = await self._move(folder, entry.name, where, shown)
            await self.ledger.finish(claim, report, status)  # remember where it went

    def _report(self, checkpoint: str | None, entry: Entry, found: Fingerprint) -> FileReport:
        limit = self.config.max_reported_rows
        return FileReport.from_json(checkpoint, file=entry.name, sha256=found.sha256, limit=limit)

    async def _archive_again(
        self, folder: DropFolder, entry: Entry, claim: Claim, report: FileReport
    ) -> None:
        """Content taken in before: finish the earlier move, or set a copy aside unread."""
        if claim.name == entry.name and report.moved_to is None:  # stopped before the move
            shown = report if report.refused else None
            report.moved_to = await self._move(folder, entry.name, "archive", shown)
            await self.ledger.finish(claim, report, "done")
            return
        copy = FileReport(file=entry.name, sha256=report.sha256, duplicate_of=claim.name)
        log.info("file already taken in; archived unread", file=entry.name, same_as=claim.name)
        await self._move(folder, entry.name, "archive", copy)

    async def _read(self, fd: int, claim: Claim, report: FileReport, problem: str | None) -> Status:
        if problem is None:
            try:
                await self._rows(fd, claim, report)
                return "done"
            except Unreadable as exc:
                problem = str(exc)
        report.problem = problem
        log.warning("file cannot be read", file=report.file, problem=problem)
        return "failed"

    async def _rows(self, fd: int, claim: Claim, report: FileReport) -> None:
        checkpointed, batches_since = time.monotonic(), 0
        reader = iterate_on_daemon_thread(lambda: _batches_of_copy(fd, self.config))
        async with contextlib.aclosing(reader):  # stops the reading thread on any exit
            async for batch in reader:
                todo = [item for item in batch if item.number > report.last_row]
                await self._submit(todo, report)
                report.last_row = max(report.last_row, batch[-1].number)
                batches_since += 1
                due = time.monotonic() - checkpointed >= CHECKPOINT_EVERY_S
                if due or batches_since >= CHECKPOINT_EVERY_BATCHES:
                    await self.ledger.checkpoint(claim, report)
                    checkpointed, batches_since = time.monotonic(), 0

    async def _submit(self, items: list[Item], report: FileReport) -> None:
        """Hand a batch's rows over together (one commit), then settle each in row order."""
        rows = [item for item in items if isinstance(item, Row)]
        results = await asyncio.gather(
            *(
                self.context.accept(row.body, idempotency_key=f"file:{report.sha256}:{row.number}")
                for row in rows
            ),
            return_exceptions=True,
        )
        outcome = {row.number: result for row, result in zip(rows, results, strict=True)}
        for item in items:
            if isinstance(item, Refusal):
                self._refuse(report, item.number, [(item.field, item.reason)])
                continue
            result = outcome[item.number]
            if isinstance(result, ValidationFailed):
                problems = [(p.field, p.message) for p in result.problems]
                self._refuse(report, item.number, problems)
            elif isinstance(result, BaseException):
                raise result  # StoreUnavailable: the file is resumed on a later pass
            else:
                report.accepted += 1
                if not result.created:
                    report.repeated += 1

    def _refuse(self, report: FileReport, row: int, problems: list[tuple[str, str]]) -> None:
        for reason in report.refuse(row, problems):
            if report.refused <= self.config.max_reported_rows:
                log.warning("row refused", interface=self.context.interface, reason=reason)

    async def _move(
        self,
        folder: DropFolder,
        name: str,
        where: Where,
        report: FileReport | None,
        *,
        new_name: str | None = None,
    ) -> str | None:
        """Where the file went (``archive/<name>``); None if another gateway moved it first."""
        try:
            final = await blocking(lambda: folder.move(name, where, new_name))
        except FileNotFoundError:
            return None
        moved_to = f"{where}/{final}"
        if report is not None:
            report.moved_to = moved_to
            content = report.to_json()
            await blocking(lambda: folder.write_beside(f"{final}.report.json", where, content))
        log.info("file moved", file=name, moved_to=moved_to)
        return moved_to


def _batches_of_copy(fd: int, config: FileDropConfig) -> Iterator[list[Item]]:
    """Batches read through a descriptor of their own, closed when reading stops, so the
    thread never reads a number that the loop has closed and reused for another file."""
    own = os.dup(fd)
    try:
        yield from batches(own, config)
    finally:
        os.close(own)
