"""Reading dropped files: every format, row numbers as a spreadsheet shows them, refusals
per row, whole-file problems before any row, and a fingerprint that finds bad encodings."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from esb_file import FileDropConfig
from esb_file.readers import Refusal, Row, Unreadable, batches, fingerprint

SCENARIO = Path(__file__).resolve().parents[3] / "tests" / "data" / "scenario" / "inputs"


def config(**options: Any) -> FileDropConfig:
    return FileDropConfig.model_validate({"kind": "file-drop", "folder": "in", **options})


@contextmanager
def opened(tmp_path: Path, content: bytes) -> Iterator[int]:
    path = tmp_path / "file"
    path.write_bytes(content)
    fd = os.open(path, os.O_RDONLY)
    try:
        yield fd
    finally:
        os.close(fd)


def read(tmp_path: Path, content: bytes, **options: Any) -> list[Row | Refusal]:
    chosen = config(**options)
    with opened(tmp_path, content) as fd:
        found = fingerprint(fd, chosen)
        assert found.problem is None, found.problem
        return [item for batch in batches(fd, chosen, found) for item in batch]


def test_the_scenario_file_is_read_as_rows_numbered_like_a_spreadsheet(tmp_path: Path) -> None:
    content = (SCENARIO / "wms_shipments_20261126_partly_bad.csv").read_bytes()
    items = read(tmp_path, content, encoding="gb18030")
    assert [item.number for item in items] == [2, 3, 4]
    assert items[0] == Row(
        2,
        {
            "order_no": "SO-20261124-0003",
            "ship_date": "2026-11-26 08:00",
            "carrier": "顺丰速运",
            "tracking_no": "SF2000000001",
            "status": "S",
        },
    )


def test_csv_cells_that_do_not_fit_the_header_are_refused_row_by_row(tmp_path: Path) -> None:
    content = b'a,b,c\r\n1,2,3\r\n4,5\r\n\r\n6,7,8,9\r\n"x\r\ny",z,w\r\n'
    items = read(tmp_path, content)
    assert items == [
        Row(2, {"a": "1", "b": "2", "c": "3"}),
        Refusal(3, "c", "2 cells, the header has 3"),
        Refusal(5, "", "4 cells, the header has 3"),  # row 4 is blank: skipped, still counted
        Row(6, {"a": "x\r\ny", "b": "z", "c": "w"}),
    ]


def test_csv_layout_options(tmp_path: Path) -> None:
    content = "单号;状态\n1;S\n".encode("gb18030")
    assert read(tmp_path, content, encoding="gb18030", csv={"delimiter": ";"}) == [
        Row(2, {"单号": "1", "状态": "S"})
    ]
    renamed = {"delimiter": ";", "columns": ["order_no", "status"]}
    assert read(tmp_path, content, encoding="gb18030", csv=renamed) == [
        Row(2, {"order_no": "1", "status": "S"})
    ]
    headless = {"header": False, "columns": ["order_no", "status"], "delimiter": ";"}
    assert read(tmp_path, b"1;S\n2;P\n", csv=headless) == [
        Row(1, {"order_no": "1", "status": "S"}),
        Row(2, {"order_no": "2", "status": "P"}),
    ]


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"", "no readable header"),
        (b"a,,c\r\n1,2,3\r\n", "empty or repeated"),
        (b"a,b,a\r\n1,2,3\r\n", "empty or repeated"),
    ],
)
def test_a_bad_header_makes_the_whole_file_unreadable(
    tmp_path: Path, content: bytes, why: str
) -> None:
    with pytest.raises(Unreadable, match=why):
        read(tmp_path, content)


def test_a_header_that_is_not_the_expected_columns_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(Unreadable, match="not the expected file"):
        read(tmp_path, b"a,b\r\n1,2\r\n", csv={"columns": ["a", "b", "c"]})


def test_a_row_longer_than_the_limit_is_refused_and_the_next_one_read(tmp_path: Path) -> None:
    content = b"a,b\n1," + b"x" * 5000 + b"\n2,y\n"
    items = read(tmp_path, content, max_row_length=1024)
    assert isinstance(items[0], Refusal)
    assert "max_row_length" in items[0].reason
    assert items[1] == Row(3, {"a": "2", "b": "y"})


def test_json_lines_one_document_per_line(tmp_path: Path) -> None:
    content = b'{"a": 1}\n\n{"a": 2\n[1, 2]\n'
    items = read(tmp_path, content, format="jsonl")
    assert items[0] == Row(1, {"a": 1})
    assert isinstance(items[1], Refusal)
    assert items[1].number == 3
    assert "not JSON" in items[1].reason
    assert items[2] == Row(4, [1, 2])


def test_json_one_document_or_one_message_per_item(tmp_path: Path) -> None:
    content = b'[{"a": 1}, {"a": 2}]'
    assert read(tmp_path, content, format="json") == [Row(1, [{"a": 1}, {"a": 2}])]
    assert read(tmp_path, content, format="json", split_array=True) == [
        Row(1, {"a": 1}),
        Row(2, {"a": 2}),
    ]
    with pytest.raises(Unreadable, match="not a JSON document"):
        read(tmp_path, b'{"a": ', format="json")


def test_xml_whole_document_or_one_message_per_record(tmp_path: Path) -> None:
    content = (
        '<?xml version="1.0" encoding="GB18030"?><s:Shipments xmlns:s="urn:x" day="26">'
        "<s:Shipment><s:order_no>1</s:order_no><s:carrier>顺丰速运</s:carrier></s:Shipment>"
        "<s:Note>n</s:Note><s:Shipment><s:order_no>2</s:order_no></s:Shipment></s:Shipments>"
    ).encode("gb18030")
    assert read(tmp_path, content, format="xml", xml={"record": "Shipment"}) == [
        Row(1, {"order_no": "1", "carrier": "顺丰速运"}),
        Row(2, {"order_no": "2"}),
    ]
    [whole] = read(tmp_path, content, format="xml")
    assert isinstance(whole, Row)
    assert whole.body["@day"] == "26"
    assert [s["order_no"] for s in whole.body["Shipment"]] == ["1", "2"]


def test_batches_hold_at_most_batch_rows(tmp_path: Path) -> None:
    content = b"a\n" + b"".join(b"%d\n" % n for n in range(25))
    chosen = config(batch=10)
    with opened(tmp_path, content) as fd:
        sizes = [len(batch) for batch in batches(fd, chosen, fingerprint(fd, chosen))]
    assert sizes == [10, 10, 5]


def test_fingerprint_hashes_the_content_and_finds_text_that_is_not_text(tmp_path: Path) -> None:
    good = (SCENARIO / "wms_shipments_20261125.csv").read_bytes()
    with opened(tmp_path, good) as fd:
        found = fingerprint(fd, config(encoding="gb18030"))
    assert (found.sha256, found.size, found.problem) == (
        hashlib.sha256(good).hexdigest(),
        len(good),
        None,
    )
    text = good.decode("gb18030")
    for content, problem in [
        (text.encode("utf-16-le"), "NUL characters"),  # no byte-order mark: NUL bytes
        (text.encode("utf-16"), "a UTF-16 byte-order mark: it is UTF-16 text, not gb18030"),
        (text.encode("utf-8-sig"), "a UTF-8 byte-order mark: it is UTF-8 text, not gb18030"),
        (text.encode(), "the file is UTF-8 text, not gb18030: set `encoding: auto`"),
        (b"a,b\n\xff,1\n", "not gb18030 text: undecodable bytes at byte 4"),
        (good + b"\x81", "ends inside a character"),
        (b"a,b\n1,\x00\n", "NUL characters"),
    ]:
        with opened(tmp_path, content) as fd:
            assert problem in (fingerprint(fd, config(encoding="gb18030")).problem or "")


def test_fingerprint_refuses_a_document_over_the_limit(tmp_path: Path) -> None:
    with opened(tmp_path, b"[" + b"1," * 1000 + b"1]") as fd:
        found = fingerprint(fd, config(format="json", max_document_bytes=1024))
    assert "more than max_document_bytes" in (found.problem or "")


@pytest.mark.parametrize("encoding", ["utf-8", "auto"])
@pytest.mark.parametrize("format_", ["csv", "jsonl", "json"])
def test_a_byte_order_mark_is_never_part_of_the_first_row(
    tmp_path: Path, encoding: str, format_: str
) -> None:
    content = {
        "csv": "order_no,carrier\r\nSO-1,顺丰速运\r\n",
        "jsonl": '{"order_no": "SO-1", "carrier": "顺丰速运"}\n',
        "json": '{"order_no": "SO-1", "carrier": "顺丰速运"}',
    }[format_].encode("utf-8-sig")  # what Excel's "CSV UTF-8" writes
    [row] = read(tmp_path, content, encoding=encoding, format=format_)
    assert row == Row(1 if format_ != "csv" else 2, {"order_no": "SO-1", "carrier": "顺丰速运"})


def test_auto_reads_utf8_and_gb18030_files_each_as_written(tmp_path: Path) -> None:
    text = "order_no,carrier\r\nSO-1,顺丰速运\r\n"
    for content in (text.encode(), text.encode("gb18030"), text.encode("utf-16")):
        [row] = read(tmp_path, content, encoding="auto")
        assert row == Row(2, {"order_no": "SO-1", "carrier": "顺丰速运"})  # not 椤轰赴閫熻繍


def test_rows_are_read_from_the_fingerprinted_bytes_only(tmp_path: Path) -> None:
    chosen = config()
    path = tmp_path / "file"
    path.write_bytes(b"a,b\n1,x\n")
    fd = os.open(path, os.O_RDONLY)
    try:
        found = fingerprint(fd, chosen)
        with path.open("ab") as writer:  # a writer appends after the fingerprint was taken
            writer.write(b"2,y\n")
        items = [item for batch in batches(fd, chosen, found) for item in batch]
    finally:
        os.close(fd)
    assert items == [Row(2, {"a": "1", "b": "x"})]
