"""The watched folder, its archive and its error folder, touched only through directory fds.

Every file is reached as one name relative to an open folder, with ``O_NOFOLLOW``, so
nothing dropped into the folder can make the gateway read or move anything outside
it: a symbolic link is never followed (it is moved aside, itself), a hard link to a
file elsewhere is refused, a name is one path component by construction, and the
archive and error folders may not be symbolic links either. A name that is not UTF-8
(GBK from a Windows share) is just a name: such files are read like any other, and
shown by :mod:`esb_file.names`. Blocking: call from a thread.
"""

from __future__ import annotations

import contextlib
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

from esb.sdk import PluginError

from .names import has_control_characters, readable

__all__ = ["DropFolder", "Entry", "Refused", "Replaced", "Stray"]

Role = Literal["folder", "archive", "errors"]
CHUNK = 1024 * 1024
DIRECTORY = os.O_RDONLY | os.O_DIRECTORY
FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


class Refused(PluginError):
    """A file the gateway will not read (it is moved to the error folder with the reason)."""


class Replaced(PluginError):
    """The name no longer holds the file that was read: another file took its place."""


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

    @property
    def shown(self) -> str:
        return readable(self.name)


@dataclass(frozen=True)
class Stray:
    """Something in the folder that is never read: moved aside as ``safe_name`` with ``why``."""

    name: str
    safe_name: str
    why: str

    @property
    def shown(self) -> str:
        return readable(self.name)


def _stray(name: str, mode: int, links: int) -> Stray | None:
    if has_control_characters(name):
        digest = hashlib.sha256(os.fsencode(name)).hexdigest()[:12]
        why = "the name has control characters (a line break, a tab...)"
        return Stray(name, f"unsafe-name-{digest}", why)
    if stat.S_ISLNK(mode):
        return Stray(name, name, "a symbolic link is never followed")
    if not stat.S_ISREG(mode):
        return Stray(name, name, "not a regular file")
    if links > 1:
        return Stray(name, name, "a hard link to another file is never read")
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

    def open_file(self, entry: Entry, where: Role = "folder") -> int:
        """A descriptor of ``entry``'s file (in ``where``, under ``entry.name``), checked to
        be the same plain file that was seen."""
        try:
            fd = os.open(entry.name, FILE, dir_fd=self._fds[where])
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

    def look(self, where: Role, name: str) -> Entry | None:
        """``name`` in that folder as ``stat`` sees it now; None if nothing has that name."""
        try:
            info = os.stat(name, dir_fd=self._fds[where], follow_symlinks=False)
        except FileNotFoundError:
            return None
        return Entry(name, info.st_size, info.st_mtime_ns, info.st_ino)

    def remove(self, where: Role, name: str) -> None:
        """Delete ``name`` from that folder, if it is there (a report that no longer holds)."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name, dir_fd=self._fds[where])

    def exists(self, name: str) -> bool:
        try:
            os.stat(name, dir_fd=self._fds["folder"], follow_symlinks=False)
        except FileNotFoundError:
            return False
        return True

    def shown(self, where: Role, name: str) -> str:
        """Where ``name`` in that folder is, for people: ``error/x.csv`` inside the drop
        folder, the full path elsewhere."""
        path = self.paths[where]
        if where != "folder":
            with contextlib.suppress(ValueError):
                path = path.relative_to(self.paths["folder"])
        return f"{readable(os.fspath(path))}/{readable(name)}"

    def move(
        self,
        name: str,
        where: Role,
        new_name: str | None = None,
        *,
        inode: int | None = None,
        source: Role = "folder",
        exact: bool = False,
    ) -> str:
        """Move ``name`` from ``source`` into ``where`` without replacing anything there;
        the name it got (``stem-1.ext``... when taken; FileExistsError instead if
        ``exact``). With ``inode``, Replaced if the name holds another file than that one."""
        origin, target = self._fds[source], self._fds[where]
        if (
            inode is not None
            and os.stat(name, dir_fd=origin, follow_symlinks=False).st_ino != inode
        ):
            raise Replaced(name)
        final = self._free_name(new_name or name, target, tries=1 if exact else 10_000)
        try:
            os.rename(name, final, src_dir_fd=origin, dst_dir_fd=target)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            self._copy_across(name, final, origin, target)
        os.fsync(target)
        os.fsync(origin)
        return final

    def _free_name(self, name: str, folder_fd: int, tries: int) -> str:
        stem, dot, extension = name.partition(".")
        for n in range(tries):
            candidate = name if n == 0 else f"{stem}-{n}{dot}{extension}"
            try:
                os.stat(candidate, dir_fd=folder_fd, follow_symlinks=False)
            except FileNotFoundError:
                return candidate
        raise FileExistsError(errno.EEXIST, "no free name", name)

    def _copy_across(self, name: str, final: str, origin: int, target: int) -> None:
        """The archive is on another file system: copy, flush, name, then remove the original."""
        source = os.open(name, FILE, dir_fd=origin)
        try:
            os.set_blocking(source, True)
            temporary = self._write_temporary(target, iter(lambda: os.read(source, CHUNK), b""))
        finally:
            os.close(source)
        os.rename(temporary, final, src_dir_fd=target, dst_dir_fd=target)
        os.unlink(name, dir_fd=origin)

    def write_beside(self, name: str, where: Role, content: bytes) -> None:
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
