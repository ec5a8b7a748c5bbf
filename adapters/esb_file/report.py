"""What became of one file's rows: counts, the refused rows (file, row, field, reason).

The report is the ledger's ``report`` column while the file is processed (a checkpoint:
every row up to ``last_row`` is settled, so a restarted gateway goes on after it) and
when it is done, and is written beside a file moved to the archive or error folder.
Only the first ``limit`` refusals are listed, each reason shortened, so a file of a
million bad rows, or of one enormous bad cell, still has a small report; the others
are counted.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import orjson

from esb.sdk import shorten

__all__ = ["FileReport"]

MAX_MESSAGE = 500  # characters of one refusal's message (it may quote a huge cell)
RESTORED = ("encoding", "name_on_disk", "changed", "changed_to", "continues", "continued_by")


@dataclass
class FileReport:
    file: str  # readable (esb_file.names); the real name is ``name_on_disk`` when it differs
    sha256: str
    limit: int = 1000
    accepted: int = 0
    repeated: int = 0  # accepted rows that were already in the pipeline (a resumed file)
    refused: int = 0
    last_row: int = 0
    refusals: list[dict[str, Any]] = field(default_factory=list)
    not_listed: int = 0
    problem: str | None = None  # why the file as a whole could not be read
    duplicate_of: str | None = None
    moved_to: str | None = None  # e.g. archive/name.csv, once the file left the folder
    encoding: str | None = None  # the text encoding the rows were read in
    name_on_disk: str | None = None  # the name's bytes, escaped, when not shown as they are
    changed: str | None = None  # the file changed after it was read: what was done about it
    changed_to: dict[str, Any] | None = None  # size, sha256 and time of the changed file
    continues: dict[str, Any] | None = None  # an earlier read of this file: its rows are skipped
    continued_by: str | None = None  # the sha256 of the content that continued this one

    def refuse(self, row: int, problems: list[tuple[str, str]]) -> list[str]:
        """Count one refused row; the reasons, each naming the file, the row and the field."""
        self.refused += 1
        reasons = []
        for name, message in problems:
            field_name = shorten(name or "(row)")
            shown = shorten(message, MAX_MESSAGE)
            reasons.append(f"{self.file}, row {row}, field {field_name}: {shown}")
            if len(self.refusals) < self.limit:
                entry = {
                    "file": self.file,
                    "row": row,
                    "field": shorten(name),
                    "reason": reasons[-1],
                }
                self.refusals.append(entry)
            else:
                self.not_listed += 1
        return reasons

    def to_json(self) -> bytes:
        data = asdict(self)
        del data["limit"]
        return orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n"

    @classmethod
    def from_json(cls, text: str | None, *, file: str, sha256: str, limit: int) -> FileReport:
        """A checkpoint read back; an unreadable or missing one starts from the beginning."""
        report = cls(file=file, sha256=sha256, limit=limit)
        try:
            data = orjson.loads(text) if text else {}
        except orjson.JSONDecodeError:
            return report
        for name in ("accepted", "repeated", "refused", "last_row", "not_listed"):
            setattr(report, name, int(data.get(name, 0)))
        report.refusals = list(data.get("refusals", []))[:limit]
        report.moved_to = data.get("moved_to")
        for name in RESTORED:
            setattr(report, name, data.get(name))
        return report
