"""The drop folder on a real disk: what a scan takes, what it sets aside, how files move."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from esb_file.folder import DropFolder, Refused, Replaced, Stray
from esb_file.inbound import Settling


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[DropFolder]:
    root = tmp_path / "drop"
    drop = DropFolder(root, root / "archive", tmp_path / "error", "*.csv", [".*", "*.tmp"])
    drop.open(create=True)
    yield drop
    drop.close()


def test_a_scan_takes_plain_files_and_sets_links_and_odd_names_aside(
    folder: DropFolder, tmp_path: Path
) -> None:
    root = folder.paths["folder"]
    (tmp_path / "elsewhere.csv").write_text("x")
    (root / "b.csv").write_text("b")
    (root / "a.csv").write_text("a")
    (root / ".hidden.csv").write_text("h")
    (root / "writing.csv.tmp").write_text("w")
    (root / "notes.txt").write_text("n")
    (root / "link.csv").symlink_to(tmp_path / "elsewhere.csv")
    os.link(tmp_path / "elsewhere.csv", root / "hard.csv")
    (root / "tab\there.csv").write_text("t")
    (root / "sub.csv").mkdir()
    os.utime(root / "b.csv", ns=(1, 1))  # older: taken first

    files, strays = folder.scan()
    assert [f.name for f in files] == ["b.csv", "a.csv"]
    why = {s.name: s for s in strays}
    assert set(why) == {"link.csv", "hard.csv", "tab\there.csv"}
    assert why["link.csv"] == Stray("link.csv", "link.csv", "a symbolic link is never followed")
    assert why["tab\there.csv"].safe_name.startswith("unsafe-name-")


def test_moves_never_replace_a_file_and_reports_go_beside(folder: DropFolder) -> None:
    root = folder.paths["folder"]
    for content in ("first", "second"):
        (root / "day.csv").write_text(content)
        final = folder.move("day.csv", "archive")
        folder.write_beside(f"{final}.report.json", "archive", b"{}")
    archive = folder.paths["archive"]
    assert sorted(p.name for p in archive.iterdir()) == [
        "day-1.csv",
        "day-1.csv.report.json",
        "day.csv",
        "day.csv.report.json",
    ]
    assert (archive / "day.csv").read_text() == "first"
    assert (archive / "day-1.csv").read_text() == "second"
    (root / "x.csv").write_text("x")
    assert folder.move("x.csv", "errors", "renamed.csv") == "renamed.csv"
    assert (folder.paths["errors"] / "renamed.csv").read_text() == "x"


def test_a_name_that_is_not_utf8_is_a_file_like_any_other(folder: DropFolder) -> None:
    root = os.fsencode(folder.paths["folder"])
    gbk = "发货单.csv".encode("gbk")  # from a Windows share: not UTF-8
    for raw in (gbk, b"\xff\xfe.csv", b"tab\there.csv"):
        with open(os.path.join(root, raw), "wb") as file:
            file.write(b"a")
    files, strays = folder.scan()
    shown = {entry.shown: entry for entry in files}
    assert set(shown) == {"发货单.csv", "\\xff\\xfe.csv"}
    assert os.fsencode(shown["发货单.csv"].name) == gbk  # reached by its real name
    assert [stray.shown for stray in strays] == ["tab\\there.csv"]  # control characters

    final = folder.move(shown["发货单.csv"].name, "archive")
    assert os.fsencode(final) == gbk
    assert folder.shown("archive", final) == "archive/发货单.csv"
    folder.write_beside(f"{final}.report.json", "archive", b"{}")
    assert gbk + b".report.json" in os.listdir(os.fsencode(folder.paths["archive"]))


def test_a_move_checks_the_name_still_holds_the_file_that_was_read(
    folder: DropFolder, tmp_path: Path
) -> None:
    root = folder.paths["folder"]
    (root / "a.csv").write_text("a")
    [entry], _ = folder.scan()
    (root / "a.csv").rename(tmp_path / "kept")
    (root / "a.csv").write_text("another file, another inode")
    with pytest.raises(Replaced):
        folder.move("a.csv", "archive", inode=entry.inode)
    assert folder.move("a.csv", "archive") == "a.csv"

    (root / "b.csv").write_text("b")
    (root / "a.csv").write_text("a again")
    with pytest.raises(FileExistsError):  # back in the folder only under the very same name
        folder.move("a.csv", "folder", "b.csv", source="archive", exact=True)
    assert folder.move("a.csv", "folder", "c.csv", source="archive", exact=True) == "c.csv"
    assert folder.look("folder", "c.csv") is not None
    assert folder.look("archive", "a.csv") is None


def test_a_file_swapped_after_the_scan_is_not_read(folder: DropFolder, tmp_path: Path) -> None:
    root = folder.paths["folder"]
    (root / "a.csv").write_text("a")
    [entry], _ = folder.scan()
    (root / "a.csv").rename(tmp_path / "kept")  # still there: its inode is not reused
    (root / "a.csv").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(Refused, match="symbolic link"):
        folder.open_file(entry)
    (root / "a.csv").unlink()
    (root / "a.csv").write_text("another file, another inode")
    with pytest.raises(Refused, match="replaced"):
        folder.open_file(entry)


def test_an_archive_that_is_a_link_cannot_be_opened(tmp_path: Path) -> None:
    root = tmp_path / "drop"
    root.mkdir()
    (tmp_path / "outside").mkdir()
    (root / "archive").symlink_to(tmp_path / "outside", target_is_directory=True)
    drop = DropFolder(root, root / "archive", root / "error", "*", [])
    open_before = len(os.listdir("/proc/self/fd"))
    with pytest.raises(OSError, match=r"Too many levels|symbolic|Not a directory"):
        drop.open(create=True)
    assert len(os.listdir("/proc/self/fd")) == open_before  # nothing left open


def test_a_file_settles_when_it_kept_its_size_and_time_long_enough(tmp_path: Path) -> None:
    root = tmp_path / "drop"
    drop = DropFolder(root, root / "archive", root / "error", "*", [])
    drop.open(create=True)
    try:
        (root / "f.csv").write_text("a")
        settling = Settling(1.0)
        files, _ = drop.scan()
        assert settling.update(files, now=100.0) == ([], 1.0)
        ready, wait = settling.update(files, now=100.6)
        assert ready == []
        assert wait == pytest.approx(0.4)
        with (root / "f.csv").open("a") as growing:
            growing.write("more")
        files, _ = drop.scan()
        assert settling.update(files, now=100.9) == ([], 1.0)  # changed: the clock restarts
        ready, _ = settling.update(files, now=101.9)
        assert [f.name for f in ready] == ["f.csv"]
    finally:
        drop.close()
