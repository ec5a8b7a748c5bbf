"""Choosing a dropped file's encoding over all of its bytes: a byte-order mark decides;
``auto`` is strict UTF-8, else GB18030, else refused; a named legacy encoding refuses a
file that is plainly UTF-8 instead of reading it as mojibake."""

from __future__ import annotations

import codecs

import pytest
from hypothesis import given
from hypothesis import strategies as st

from esb_file.decoding import Encoding, TextCheck, family

TEXT = "order_no,carrier\r\nSO-1,顺丰速运\r\nSO-2,京东物流\r\n"


def verdict(configured: str, content: bytes, chunk: int = 1 << 20) -> tuple[Encoding | None, str]:
    check = TextCheck(configured)
    for start in range(0, len(content), chunk):
        check.feed(content[start : start + chunk])
    encoding, problem = check.finish()
    return encoding, problem or ""


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 1 << 20])  # marks and characters cut anywhere
@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (TEXT.encode(), Encoding("utf-8")),
        (TEXT.encode("gb18030"), Encoding("gb18030")),
        (TEXT.encode("utf-8-sig"), Encoding("utf-8", 3)),  # Excel's "CSV UTF-8"
        (codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"), Encoding("utf-16-le", 2)),
        (codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"), Encoding("utf-16-be", 2)),
        (codecs.BOM_UTF32_LE + TEXT.encode("utf-32-le"), Encoding("utf-32-le", 4)),
        (b"\x84\x31\x95\x33" + TEXT.encode("gb18030"), Encoding("gb18030", 4)),
        (b"", Encoding("utf-8")),
        (b"a", Encoding("utf-8")),
    ],
)
def test_auto_reads_what_a_mark_says_else_utf8_else_gb18030(
    content: bytes, expected: Encoding, chunk: int
) -> None:
    assert verdict("auto", content, chunk) == (expected, "")


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"a,b\r\n\xff\xfe\xfd,1\r\n", "neither UTF-8 nor GB18030 text"),
        (b"a,b\r\n1,\x80\r\n", "as utf-8, undecodable bytes at byte 7"),
        (b"a,b\r\n1,\x00\r\n", "NUL characters at byte 7: not a text file"),
        (TEXT.encode("utf-16-le"), "NUL characters at byte 1"),  # UTF-16 without a mark
        (b"a,b\r\n1,\x81", "as gb18030, the file ends inside a character"),
    ],
)
def test_auto_refuses_content_that_is_neither(content: bytes, problem: str) -> None:
    encoding, why = verdict("auto", content)
    assert encoding is None
    assert problem in why


def test_a_named_utf8_skips_its_mark_and_a_legacy_encoding_refuses_plain_utf8() -> None:
    assert verdict("utf-8", TEXT.encode("utf-8-sig")) == (Encoding("utf-8", 3), "")
    assert verdict("UTF-8-SIG", TEXT.encode()) == (Encoding("utf-8"), "")
    assert verdict("utf-16", codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"))[0] == Encoding(
        "utf-16-be", 2
    )
    assert verdict("gb18030", TEXT.encode("gb18030")) == (Encoding("gb18030"), "")
    assert verdict("gbk", b"\x84\x31\x95\x33" + TEXT.encode("gbk"))[0] == Encoding("gb18030", 4)

    encoding, why = verdict("gb18030", TEXT.encode())  # 顺丰速运 would be 椤轰赴閫熻繍
    assert encoding is None
    assert "the file is UTF-8 text, not gb18030: set `encoding: auto`" in why
    encoding, why = verdict("gb18030", TEXT.encode("utf-8-sig"))
    assert (encoding, why.startswith("the file starts with a UTF-8 byte-order mark")) == (
        None,
        True,
    )
    # two non-ASCII characters are not evidence enough: legacy text can be valid UTF-8
    assert verdict("gb18030", "a,b\r\n1,é\r\n".encode()) == (Encoding("gb18030"), "")
    assert verdict("latin-1", "a,b\r\n1,é\r\n".encode("latin-1")) == (Encoding("latin-1"), "")


def test_families_group_spellings_of_one_encoding() -> None:
    assert {family(n) for n in ("utf8", "UTF-8", "utf_8_sig")} == {"utf-8"}
    assert {family(n) for n in ("UTF-16LE", "utf_16_be", "utf-16")} == {"utf-16"}
    assert {family(n) for n in ("gbk", "GB2312", "gb18030")} == {"gb18030"}


@given(
    text=st.text(st.characters(codec="utf-8", exclude_characters="\x00")),
    mark=st.sampled_from(["", "utf-8-sig", "utf-16", "utf-32"]),
)
def test_any_unicode_text_is_read_back_as_it_was_written(text: str, mark: str) -> None:
    content = text.encode(mark) if mark else text.encode()
    encoding, problem = verdict("auto", content, chunk=7)
    assert problem == ""
    assert encoding is not None
    assert content[encoding.bom :].decode(encoding.codec) == text
