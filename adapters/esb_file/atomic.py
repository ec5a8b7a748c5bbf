"""Write one file so that no reader ever sees it half-written, whatever the collision policy.

The content goes to a hidden temporary file in the same folder, is flushed to disk, and
only then gets its name (``rename``, or a hard ``link`` that never clobbers); the folder
is flushed too, so the name survives a crash. Blocking: call it from a thread.
"""

from __future__ import annotations

import errno
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from esb.sdk import PluginError

__all__ = ["Collision", "Written", "write_atomically"]

Policy = Literal["overwrite", "skip-identical", "suffix", "error"]
MAX_SUFFIX = 999
NO_HARD_LINKS = frozenset({errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK})


class Collision(PluginError):
    """The file exists with other content and the policy does not allow replacing it."""


@dataclass(frozen=True)
class Written:
    path: Path
    action: Literal["written", "unchanged"]


def _temporary(folder: Path, content: bytes) -> Path:
    path = folder / f".esb-{secrets.token_hex(8)}.tmp"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        view = memoryview(content)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    return path


def _sync_folder(folder: Path) -> None:
    if os.name == "nt":  # Windows cannot open a folder; its renames are journalled
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _same(path: Path, content: bytes) -> bool:
    """Whether ``path`` holds exactly ``content`` (read only when the sizes agree)."""
    try:
        with open(path, "rb") as handle:
            if os.fstat(handle.fileno()).st_size != len(content):
                return False
            return handle.read(len(content) + 1) == content
    except FileNotFoundError:
        return False


def _link(temporary: Path, path: Path) -> None:
    """Give ``temporary`` the name ``path`` unless that name exists (``FileExistsError``)."""
    try:
        os.link(temporary, path)
    except OSError as exc:
        if exc.errno not in NO_HARD_LINKS:
            raise
        if path.exists():  # a file system without hard links: check, then rename
            raise FileExistsError(errno.EEXIST, "exists", str(path)) from exc
        os.rename(temporary, path)


def _suffixed(name: str, n: int) -> str:
    stem, dot, extension = name.partition(".")
    return f"{stem}-{n}{dot}{extension}"


def _place(temporary: Path, path: Path, content: bytes, policy: Policy) -> Written:
    if policy == "overwrite" or (policy == "skip-identical" and not _same(path, content)):
        os.replace(temporary, path)
        return Written(path, "written")
    if policy == "skip-identical":
        return Written(path, "unchanged")
    candidates = [path.name] + (
        [_suffixed(path.name, n) for n in range(1, MAX_SUFFIX + 1)] if policy == "suffix" else []
    )
    for name in candidates:
        candidate = path.with_name(name)
        try:
            _link(temporary, candidate)
            return Written(candidate, "written")
        except FileExistsError:
            if _same(candidate, content):
                return Written(candidate, "unchanged")
    raise Collision(f"{path} exists with other content (on_collision: {policy})")


def write_atomically(
    folder: Path, name: str, content: bytes, policy: Policy, *, create_folder: bool
) -> Written:
    """Write ``content`` as ``folder/name``; an identical file already there is left alone."""
    if create_folder:
        folder.mkdir(parents=True, exist_ok=True)
    temporary = _temporary(folder, content)
    try:
        written = _place(temporary, folder / name, content, policy)
    finally:
        temporary.unlink(missing_ok=True)
    if written.action == "written":
        _sync_folder(folder)
    return written
