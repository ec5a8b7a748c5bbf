"""Take one file in: its rows into the pipeline, recorded in the ledger, then put it away.

Each row goes to ``context.accept_many`` with the idempotency key ``file:<sha256>:<row>``; a
batch of rows is submitted at once so they share one commit. A row the pipeline
refuses (its schema, a value the store cannot hold) is counted and reported with the
file, its row number and the field, and the others go on. A file whose earlier
content was read and then appended to continues after that content's last row, so
no row is taken in twice. Once every row is settled the file is put away
(:mod:`.putaway`). If the database goes away (StoreUnavailable) the file stays where
it is and is resumed on a later pass.
"""

from __future__ import annotations

import contextlib
import functools
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import structlog

from esb.sdk import EsbError, SourceContext, ValidationFailed

from .changes import ends_at_line_end, prefix_sha256
from .folder import DropFolder, Entry, Refused, Stray
from .inbound_config import FileDropConfig
from .ledger import Claim, Ledger, Status
from .names import on_disk
from .putaway import LINE_FORMATS, PutAway
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


def _refusal(result: BaseException) -> list[tuple[str, str]] | None:
    """The fields a refused row failed on; None for an error that is not the row's fault.

    A request error (4xx: the schema, the door's limits) or the store refusing a value
    is the row's; anything else (the database away) stops the file, to resume later."""
    if isinstance(result, ValidationFailed):
        return [(p.field, p.message) for p in result.problems]
    status = getattr(result, "http_status", 500)
    if isinstance(result, EsbError) and isinstance(status, int) and 400 <= status < 500:
        return [(getattr(result, "field", None) or "", str(result))]
    return None


class Intake:
    def __init__(self, config: FileDropConfig, context: SourceContext, ledger: Ledger) -> None:
        self.config = config
        self.context = context
        self.ledger = ledger
        self._fingerprints: dict[str, _Cached] = {}
        self.put_away = PutAway(config, ledger, self.forget)

    def forget(self, name: str) -> None:
        """Forget what is known of ``name`` (it changed: its next content is new)."""
        self._fingerprints.pop(name, None)

    def forget_all_but(self, names: set[str]) -> None:
        """Drop what is known of files that left the folder."""
        for name in set(self._fingerprints) - names:
            del self._fingerprints[name]

    async def take(self, folder: DropFolder, entry: Entry) -> None:
        """Process ``entry`` once (this process runs the folder: it holds the source's lease)."""
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
        await self.put_away.set_aside(folder, stray)

    async def _fingerprint(self, entry: Entry, fd: int) -> Fingerprint:
        cached = self._fingerprints.get(entry.name)
        if cached is None or cached.signature != entry.signature:
            taken = await blocking(lambda: fingerprint(fd, self.config))
            cached = self._fingerprints[entry.name] = _Cached(entry.signature, taken)
        return cached.fingerprint

    async def _take_open(self, folder: DropFolder, entry: Entry, fd: int) -> None:
        found = await self._fingerprint(entry, fd)
        claim = await self.ledger.claim(entry.shown, found.sha256, found.size)
        report = self._report(claim.checkpoint, entry, found)
        if claim.state == "done":
            await self.put_away.again(folder, entry, claim, report)
            return
        if claim.state == "resume":
            log.info("resuming an interrupted file", file=entry.shown, after_row=report.last_row)
        elif found.problem is None and self.config.format in LINE_FORMATS:
            await self._continue_earlier(entry, fd, found, claim, report)
        status = await self._read(fd, claim, report, found)
        await self.ledger.finish(claim, report, status)
        log.info(
            "file taken in",
            interface=self.context.interface,
            file=entry.shown,
            status=status,
            accepted=report.accepted,
            refused=report.refused,
            repeated=report.repeated,
        )
        await self.put_away.file(folder, entry, fd, found, claim, report, status)

    def _report(self, checkpoint: str | None, entry: Entry, found: Fingerprint) -> FileReport:
        limit = self.config.max_reported_rows
        report = FileReport.from_json(
            checkpoint, file=entry.shown, sha256=found.sha256, limit=limit
        )
        report.encoding = str(found.encoding) if found.encoding else None
        report.name_on_disk = on_disk(entry.name)
        return report

    async def _continue_earlier(
        self, entry: Entry, fd: int, found: Fingerprint, claim: Claim, report: FileReport
    ) -> None:
        """A new content that starts with every byte of an earlier read of the same file
        (rows were appended) is read on after that read's last row."""
        for earlier in await self.ledger.changed_earlier(entry.shown):
            if earlier.size >= found.size:
                continue
            prefix = await blocking(functools.partial(prefix_sha256, fd, earlier.size))
            whole_rows = await blocking(functools.partial(ends_at_line_end, fd, earlier.size))
            if prefix != earlier.sha256 or not whole_rows:
                continue
            report.continues = {
                "sha256": earlier.sha256,
                "size": earlier.size,
                "last_row": earlier.last_row,
            }
            report.last_row = earlier.last_row
            await self.ledger.continue_from(claim, report, earlier)
            log.info("file continues an earlier read", file=entry.shown, after_row=report.last_row)
            return

    async def _read(self, fd: int, claim: Claim, report: FileReport, found: Fingerprint) -> Status:
        problem = found.problem
        if problem is None:
            try:
                await self._rows(fd, claim, report, found)
                return "done"
            except Unreadable as exc:
                problem = str(exc)
        report.problem = problem
        log.warning("file cannot be read", file=report.file, problem=problem)
        return "failed"

    async def _rows(self, fd: int, claim: Claim, report: FileReport, found: Fingerprint) -> None:
        checkpointed, batches_since = time.monotonic(), 0
        reader = iterate_on_daemon_thread(lambda: _batches_of_copy(fd, self.config, found))
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
        results = await self.context.accept_many(
            [(row.body, f"file:{report.sha256}:{row.number}") for row in rows]
        )
        outcome: dict[int, Any] = {
            row.number: result for row, result in zip(rows, results, strict=True)
        }
        for item in items:
            if isinstance(item, Refusal):
                self._refuse(report, item.number, [(item.field, item.reason)])
                continue
            result = outcome[item.number]
            if not isinstance(result, BaseException):
                report.accepted += 1
                report.repeated += 0 if result.created else 1
            elif (problems := _refusal(result)) is not None:
                self._refuse(report, item.number, problems)
            else:
                raise result  # StoreUnavailable: the file is resumed on a later pass

    def _refuse(self, report: FileReport, row: int, problems: list[tuple[str, str]]) -> None:
        for reason in report.refuse(row, problems):
            if report.refused <= self.config.max_reported_rows:
                log.warning("row refused", interface=self.context.interface, reason=reason)


def _batches_of_copy(fd: int, config: FileDropConfig, found: Fingerprint) -> Iterator[list[Item]]:
    """Batches read through a descriptor of their own, closed when reading stops, so the
    thread never reads a number that the loop has closed and reused for another file."""
    own = os.dup(fd)
    try:
        yield from batches(own, config, found)
    finally:
        os.close(own)
