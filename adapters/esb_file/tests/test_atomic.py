"""Atomic writes on a real disk: each collision policy, and readers that never see half a file."""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

import pytest

from esb_file.atomic import Collision, Written, write_atomically


def write(folder: Path, content: bytes, policy: str, name: str = "INV-1.json") -> Written:
    return write_atomically(folder, name, content, policy, create_folder=True)  # type: ignore[arg-type]


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_overwrite_replaces_the_content(tmp_path: Path) -> None:
    write(tmp_path, b"old", "overwrite")
    assert write(tmp_path, b"new", "overwrite") == Written(tmp_path / "INV-1.json", "written")
    assert (tmp_path / "INV-1.json").read_bytes() == b"new"
    assert leftovers(tmp_path) == []


def test_skip_identical_leaves_the_same_file_alone_and_replaces_another(tmp_path: Path) -> None:
    write(tmp_path, b"same", "skip-identical")
    before = (tmp_path / "INV-1.json").stat()
    assert write(tmp_path, b"same", "skip-identical").action == "unchanged"
    after = (tmp_path / "INV-1.json").stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert write(tmp_path, b"other", "skip-identical").action == "written"
    assert (tmp_path / "INV-1.json").read_bytes() == b"other"


def test_suffix_finds_a_free_name_and_a_replay_finds_its_own_file(tmp_path: Path) -> None:
    write(tmp_path, b"first", "suffix")
    assert write(tmp_path, b"second", "suffix").path.name == "INV-1-1.json"
    assert write(tmp_path, b"second", "suffix") == Written(tmp_path / "INV-1-1.json", "unchanged")
    assert write(tmp_path, b"third", "suffix").path.name == "INV-1-2.json"
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["INV-1-1.json", "INV-1-2.json", "INV-1.json"]


def test_error_refuses_other_content_but_not_an_identical_replay(tmp_path: Path) -> None:
    write(tmp_path, b"mine", "error")
    assert write(tmp_path, b"mine", "error").action == "unchanged"
    with pytest.raises(Collision, match="exists with other content"):
        write(tmp_path, b"yours", "error")
    assert (tmp_path / "INV-1.json").read_bytes() == b"mine"
    assert leftovers(tmp_path) == []


def test_a_missing_folder_is_created_only_when_allowed(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        write_atomically(tmp_path / "gone", "a.json", b"x", "error", create_folder=False)
    write(tmp_path / "new" / "deeper", b"x", "error")
    assert (tmp_path / "new" / "deeper" / "INV-1.json").read_bytes() == b"x"


@pytest.mark.parametrize("policy", ["overwrite", "skip-identical"])
def test_a_reader_never_sees_a_half_written_file(tmp_path: Path, policy: str) -> None:
    versions = [bytes([65 + n]) * (2 * 1024 * 1024) for n in range(3)]
    path, seen, done = tmp_path / "INV-1.json", set(), threading.Event()

    def read_all_the_time() -> None:
        while not done.is_set():
            with contextlib.suppress(FileNotFoundError):  # before the first write
                seen.add(path.read_bytes())

    reader = threading.Thread(target=read_all_the_time)
    reader.start()
    try:
        for n in range(30):
            write(tmp_path, versions[n % 3], policy)
    finally:
        done.set()
        reader.join()
    assert seen, "the reader never got to read"
    assert seen <= set(versions), "a reader saw a file that was not one whole version"
    assert leftovers(tmp_path) == []
