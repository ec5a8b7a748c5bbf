"""Did a file change after its rows were read? Looked at when it is put away.

The rows of a file are read from the bytes its fingerprint covered, under that
content's identity; a writer that appends or rewrites the file in place meanwhile
makes a new content, which must never be archived as if it had been read. Before
a file is moved, its size, time and SHA-256 are taken again through the descriptor
it was read from (the name may hold another file by then: that is a replacement).
Blocking: call from a thread.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime

from .readers import CHUNK, Fingerprint

__all__ = ["Change", "ends_at_line_end", "look_again", "prefix_sha256"]

LINE_ENDS = (b"\n", b"\r")


@dataclass(frozen=True)
class Change:
    """What the file is now, against what was read."""

    size: int
    mtime_ns: int
    sha256: str
    continues: bool  # the read bytes, whole, then more, from a line end on: an append

    def now(self) -> dict[str, object]:
        modified = datetime.fromtimestamp(self.mtime_ns / 1e9, UTC).isoformat()
        return {"size": self.size, "sha256": self.sha256, "modified": modified}


def ends_at_line_end(fd: int, size: int) -> bool:
    """Do the first ``size`` bytes of ``fd`` end with a line end (a whole last row)?"""
    return size > 0 and os.pread(fd, 1, size - 1) in LINE_ENDS


def look_again(fd: int, found: Fingerprint) -> Change | None:
    """The file's content now, if it is not the content ``found`` describes."""
    info = os.fstat(fd)
    whole, offset = hashlib.sha256(), 0
    read_part: str | None = None  # the SHA-256 of the first found.size bytes as they are now
    last_read = b""
    while chunk := os.pread(fd, CHUNK, offset):
        if offset < found.size <= offset + len(chunk):  # the end of what was read
            cut = found.size - offset
            whole.update(chunk[:cut])
            read_part = whole.copy().hexdigest()
            last_read = chunk[cut - 1 : cut]
            whole.update(chunk[cut:])
        else:
            whole.update(chunk)
        offset += len(chunk)
    if offset == found.size and whole.hexdigest() == found.sha256:
        return None
    continues = offset > found.size and read_part == found.sha256 and last_read in LINE_ENDS
    return Change(offset, info.st_mtime_ns, whole.hexdigest(), continues)


def prefix_sha256(fd: int, size: int) -> str | None:
    """The SHA-256 of the first ``size`` bytes of ``fd``; None if it is shorter."""
    digest, offset = hashlib.sha256(), 0
    while offset < size and (chunk := os.pread(fd, min(CHUNK, size - offset), offset)):
        digest.update(chunk)
        offset += len(chunk)
    return digest.hexdigest() if offset == size else None
