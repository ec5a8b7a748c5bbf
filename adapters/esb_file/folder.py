"""The watched folder, its archive and its error folder, touched only through directory fds.

Every file is reached as one name relative to an open folder, with ``O_NOFOLLOW``, so
nothing dropped into the folder can make the gateway read or move anything outside
it: a symbolic link is never followed (it is moved aside, itself), a hard link to a
file elsewhere is refused, a name is one path component by construction, and the
archive and error folders may not be symbolic links either. Blocking: call from a thread.
"""

from __future__ import annotations

import errno
import fnmatch
import hashlib
import os
import secrets
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = ["DropFolder", "Entry", "Refused", "Stray"]

Where = Literal["archive", "errors"]
CHUNK = 1024 * 1024
DIRECTORY = os.O_RDONLY | os.O_DIRECTORY
FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


class Refused(Exception):
    """A file the gateway will not read (it is moved to the error folder with the reason)."""


@dataclass(frozen=True)
class Entry:
    """A regular file in the folder as one ``stat`` saw it."""

    name: str
    size: int
    mtime_ns: int
    inode: int

    @property
    def signature(self) -> tuple[int, int, int]:
        return (self.size, self.mtime_ns, self.inode)


@dataclass(frozen=True)
class Stray:
    """Something in the folder that is never read: moved aside as ``safe_name`` with ``why``."""

    name: str
    safe_name: str
    why: str


def _safe_name(name: str) -> str | None:
    """``name`` if it can be stored and shown as it is, else ``None``."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return name if name.isprintable() else None


def _stray(name: str, mode: int, links: int) -> Stray | None:
    safe = _safe_name(name)
    if safe is None:
        digest = hashlib.sha256(os.fsencode(name)).hexdigest()[:12]
        return Stray(
            name,
            f"unsafe-name-{digest}",
            "the name has control characters or bytes that are not UTF-8",
        )
    if stat.S_ISLNK(mode):
        return Stray(name, safe, "a symbolic link is never followed")
    if not stat.S_ISREG(mode):
        return Stray(name, safe, "not a regular file")
    if links > 1:
        return Stray(name, safe, "a hard link to another file is never read")
    return None


class DropFolder:
    """One pass over the folder: open it, scan, read and move files, close."""

    def __init__(
        self, folder: Path, archive: Path, errors: Path, pattern: str, ignore: list[str]
    ) -> None:
        self.paths = {"folder": folder, "archive": archive, "errors": errors}
        self.pattern = pattern
        self.ignore = ignore
        self._fds: dict[str, int] = {}

    def open(self, *, create: bool) -> None:
        """Open the three folders (creating them if asked); FileNotFoundError if missing."""
        try:
            for role, path in self.paths.items():
                if create:
                    path.mkdir(parents=True, exist_ok=True)
                flags = DIRECTORY if role == "folder" else DIRECTORY | os.O_NOFOLLOW
                self._fds[role] = os.open(path, flags)
        except OSError:
            self.close()
            raise

    def close(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()

    def _wanted(self, name: str) -> bool:
        if any(fnmatch.fnmatchcase(name, pattern) for pattern in self.ignore):
            return False
        return fnmatch.fnmatchcase(name, self.pattern)

    def scan(self) -> tuple[list[Entry], list[Stray]]:
        """Regular files to take, and strays to move aside; folders are left alone."""
        files, strays = [], []
        with os.scandir(self._fds["folder"]) as found:
            for item in found:
                if not self._wanted(item.name):
                    continue
                info = item.stat(follow_symlinks=False)
                if stat.S_ISDIR(info.st_mode):
                    continue
                stray = _stray(item.name, info.st_mode, info.st_nlink)
                if stray is not None:
                    strays.append(stray)
                else:
                    files.append(Entry(item.name, info.st_size, info.st_mtime_ns, info.st_ino))
        return sorted(files, key=lambda e: (e.mtime_ns, e.name)), strays

    def open_file(self, entry: Entry) -> int:
        """A descriptor of ``entry``'s file, checked to be the same plain file that was seen."""
        try:
            fd = os.open(entry.name, FILE, dir_fd=self._fds["folder"])
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise Refused("a symbolic link is never followed") from exc
            raise
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_nlink > 1 or info.st_ino != entry.inode:
            os.close(fd)
            raise Refused("the file was replaced, or is not one plain file, while it was read")
        os.set_blocking(fd, True)
        return fd

    def exists(self, name: str) -> bool:
        try:
            os.stat(name, dir_fd=self._fds["folder"], follow_symlinks=False)
        except FileNotFoundError:
            return False
        return True

    def move(self, name: str, where: Where, new_name: str | None = None) -> str:
        """Move ``name`` into the archive or error folder without replacing anything there;
        the name it got (``stem-1.ext``... when taken)."""
        target = self._fds[where]
        final = self._free_name(new_name or name, target)
        try:
            os.rename(name, final, src_dir_fd=self._fds["folder"], dst_dir_fd=target)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            self._copy_across(name, final, target)
        os.fsync(target)
        os.fsync(self._fds["folder"])
        return final

    def _free_name(self, name: str, folder_fd: int) -> str:
        stem, dot, extension = name.partition(".")
        for n in range(10_000):
            candidate = name if n == 0 else f"{stem}-{n}{dot}{extension}"
            try:
                os.stat(candidate, dir_fd=folder_fd, follow_symlinks=False)
            except FileNotFoundError:
                return candidate
        raise FileExistsError(errno.EEXIST, "no free name", name)

    def _copy_across(self, name: str, final: str, target: int) -> None:
        """The archive is on another file system: copy, flush, name, then remove the original."""
        source = os.open(name, FILE, dir_fd=self._fds["folder"])
        try:
            os.set_blocking(source, True)
            temporary = self._write_temporary(target, iter(lambda: os.read(source, CHUNK), b""))
        finally:
            os.close(source)
        os.rename(temporary, final, src_dir_fd=target, dst_dir_fd=target)
        os.unlink(name, dir_fd=self._fds["folder"])

    def write_beside(self, name: str, where: Where, content: bytes) -> None:
        """Write ``content`` as ``name`` in the archive or error folder, atomically."""
        target = self._fds[where]
        temporary = self._write_temporary(target, iter([content]))
        os.rename(temporary, name, src_dir_fd=target, dst_dir_fd=target)
        os.fsync(target)

    @staticmethod
    def _write_temporary(folder_fd: int, chunks: Iterable[bytes]) -> str:
        name = f".esb-{secrets.token_hex(8)}.tmp"
        fd = os.open(
            name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644, dir_fd=folder_fd
        )
        try:
            for chunk in chunks:
                view = memoryview(chunk)
                while view:
                    view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        return name
