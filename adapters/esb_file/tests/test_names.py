"""File names as people and the store see them: GBK decoded, other bytes escaped, control
characters escaped, and never longer than the ledger's column."""

from __future__ import annotations

import os

import pytest

from esb_file.names import has_control_characters, on_disk, readable


@pytest.mark.parametrize(
    ("raw", "shown", "real", "control"),
    [
        (b"day.csv", "day.csv", None, False),
        ("发 货.csv".encode(), "发 货.csv", None, False),  # an ideographic space is fine
        ("发货单.csv".encode("gbk"), "发货单.csv", "\\xb7\\xa2\\xbb\\xf5\\xb5\\xa5.csv", False),
        (b"\xff\xfe.csv", "\\xff\\xfe.csv", "\\xff\\xfe.csv", False),
        (b"line\nbreak.csv", "line\\nbreak.csv", "line\\nbreak.csv", True),
        ("a\u202eb.csv".encode(), "a\\u202eb.csv", "a\\u202eb.csv", True),  # reverses text
    ],
)
def test_names_are_shown_readably_and_truthfully(
    raw: bytes, shown: str, real: str | None, control: bool
) -> None:
    name = os.fsdecode(raw)  # as the folder listing gives it
    assert (readable(name), on_disk(name), has_control_characters(name)) == (shown, real, control)
    readable(name).encode("utf-8")  # no lone surrogate: any log, report or column holds it


def test_a_name_escaped_beyond_the_ledgers_column_is_shortened() -> None:
    name = os.fsdecode(b"\xff" * 251 + b".csv")  # 255 bytes, 1,008 characters escaped
    assert len(readable(name)) < 500
    assert readable(name).startswith("\\xff\\xff")
