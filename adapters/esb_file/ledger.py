"""The ledger of files taken in: each content once per interface, in the source's state.

A file is identified by its SHA-256, so a copy under another name is recognised. The
ledger lives in the file drop's own state (``context.state``, :class:`esb.sdk.StateStore`):
``file/<sha256>`` holds what became of a content (name, size, status, counts, its
report), and ``name/<sha256 of a name>`` the contents last found under that name, the
latest first. Only one process runs a drop folder at a time (the source holds the
state's lease), so a content's record is read and written without racing another
gateway. A content whose record says ``processing`` when it is claimed was abandoned
(the gateway stopped or was killed): it is resumed from its checkpoint, and the rows'
idempotency keys make anything submitted again harmless.

A file that changed after it was read is remembered in its report (``changed``); when
the new content starts with every byte that was read (rows appended), it *continues*
the earlier one: only its later rows are read, so no row is taken in twice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Literal

from esb.sdk import StateStore, dumps, loads

from .report import FileReport

__all__ = ["Claim", "Earlier", "Ledger", "Status", "file_key", "name_key"]

Status = Literal["processing", "done", "failed"]

#: Recent contents of one name looked at for a continuation.
RECENT = 20


def file_key(sha256: str) -> str:
    return f"file/{sha256}"


def name_key(name: str) -> str:
    """Names can be long and odd: the key is their hash (the value keeps the name)."""
    return "name/" + hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Claim:
    """The ledger's answer for one content: process it (``new``/``resume``) or not (``done``)."""

    id: str  # the content's sha256
    state: Literal["new", "resume", "done"]
    name: str  # the name the content had when it was first found
    checkpoint: str | None  # the report so far (resume) or the final one (done), as JSON
    size: int = 0
    started_at: str | None = None


@dataclass(frozen=True)
class Earlier:
    """A content of the same name that changed after it was read, not yet continued."""

    id: str
    sha256: str
    size: int
    last_row: int


def _report_text(record: dict[str, Any]) -> str | None:
    report = record.get("report")
    return None if report is None else dumps(report).decode()


class Ledger:
    def __init__(self, state: StateStore) -> None:
        self.state = state

    def _fresh(self, name: str, size: int) -> dict[str, Any]:
        return {
            "name": name,
            "size": size,
            "status": "processing",
            "rows_accepted": 0,
            "rows_refused": 0,
            "report": None,
            "started_at": self.state.clock.now().isoformat(),
            "finished_at": None,
        }

    async def claim(self, name: str, sha256: str, size: int) -> Claim:
        """Record a new content, or say what the ledger knows of it."""
        record = await self.state.get(file_key(sha256))
        if record is None or record["status"] == "failed":  # failed: read again (fixed?)
            fresh = self._fresh(name, size)
            listed = await self.state.get(name_key(name)) or {"name": name, "files": []}
            files = [sha256, *(f for f in listed["files"] if f != sha256)][:RECENT]
            await self.state.put_many(
                {file_key(sha256): fresh, name_key(name): {"name": name, "files": files}}
            )
            return Claim(sha256, "new", name, None, size, fresh["started_at"])
        state: Literal["done", "resume"] = "done" if record["status"] == "done" else "resume"
        return Claim(
            sha256, state, record["name"], _report_text(record), record["size"],
            record["started_at"],
        )  # fmt: skip

    async def changed_earlier(self, name: str) -> list[Earlier]:
        """Contents once found under ``name`` that a new content of that name may continue,
        the longest first: read, then changed by appended rows, or read and never put
        away (the gateway stopped in between), and not continued yet."""
        listed = await self.state.get(name_key(name))
        if listed is None:
            return []
        records = await self.state.get_many(file_key(sha) for sha in listed["files"])
        found = []
        for sha in listed["files"]:
            record = records.get(file_key(sha))
            if record is None or record["status"] != "done" or record["name"] != name:
                continue
            text = _report_text(record)
            report = FileReport.from_json(text, file=name, sha256=sha, limit=0)
            continuable = (report.changed_to or {}).get("continuable")
            never_put_away = report.moved_to is None and not report.changed  # stopped before
            if (continuable or never_put_away) and not report.continued_by:
                found.append(Earlier(sha, sha, record["size"], report.last_row))
        return sorted(found, key=lambda earlier: earlier.size, reverse=True)

    async def continue_from(self, claim: Claim, report: FileReport, earlier: Earlier) -> None:
        """Record, at once, that ``claim``'s content goes on after ``earlier``'s rows."""
        old = await self.state.get(file_key(earlier.id))
        if old is None:
            return
        old["report"] = {**(old.get("report") or {}), "continued_by": report.sha256}
        ours = self._record(claim, report, "processing")
        await self.state.put_many({file_key(earlier.id): old, file_key(claim.id): ours})

    async def checkpoint(self, claim: Claim, report: FileReport) -> None:
        await self.state.put(file_key(claim.id), self._record(claim, report, "processing"))

    async def finish(self, claim: Claim, report: FileReport, status: Status) -> None:
        await self.state.put(file_key(claim.id), self._record(claim, report, status))

    def _record(self, claim: Claim, report: FileReport, status: Status) -> dict[str, Any]:
        finished = None if status == "processing" else self.state.clock.now().isoformat()
        return {
            "name": claim.name,
            "size": claim.size,
            "status": status,
            "rows_accepted": report.accepted,
            "rows_refused": report.refused,
            "report": loads(report.to_json()),
            "started_at": claim.started_at or self.state.clock.now().isoformat(),
            "finished_at": finished,
        }
