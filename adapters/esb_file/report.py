"""What became of one file's rows: counts, the refused rows (file, row, field, reason).

The report is the ledger's ``report`` column while the file is processed (a checkpoint:
every row up to ``last_row`` is settled, so a restarted gateway goes on after it) and
when it is done, and is written beside a file moved to the archive or error folder.
Only the first ``limit`` refusals are listed, so a file of a million bad rows still
has a small report; the others are counted.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import orjson

__all__ = ["FileReport"]


@dataclass
class FileReport:
    file: str
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

    def refuse(self, row: int, problems: list[tuple[str, str]]) -> list[str]:
        """Count one refused row; the reasons, each naming the file, the row and the field."""
        self.refused += 1
        reasons = []
        for name, message in problems:
            reasons.append(f"{self.file}, row {row}, field {name or '(row)'}: {message}")
            if len(self.refusals) < self.limit:
                entry = {"file": self.file, "row": row, "field": name, "reason": reasons[-1]}
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
        return report
