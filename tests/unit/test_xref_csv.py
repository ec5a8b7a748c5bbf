"""The master-data CSV format: formula cells neutralised and restored, refusals by row and
column, and a file name for any domain."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from esb import xref_csv
from esb.api.xref import attachment
from esb.errors import ValidationFailed

FORMULAS = ["=cmd|' /C calc'!A0", "+SUM(1,2)", "-2+3", '@HYPERLINK("http://x")', "\tTAB", "\rCR"]


@pytest.mark.parametrize("code", FORMULAS)
def test_a_cell_a_spreadsheet_would_run_gets_an_apostrophe(code: str) -> None:
    assert xref_csv.neutralise(code) == "'" + code
    assert xref_csv.restore(xref_csv.neutralise(code)) == code


@pytest.mark.parametrize("code", ["C0001", "'plain", "a=b", "O'Brien", "", "中文"])
def test_other_cells_stay_as_they_are(code: str) -> None:
    assert xref_csv.neutralise(code) == code
    assert xref_csv.restore(code) == code


@given(st.text())
def test_restore_undoes_neutralise_for_any_text(code: str) -> None:
    written = xref_csv.neutralise(code)
    assert xref_csv.restore(written) == code
    assert not written.startswith(xref_csv.FORMULA_START)


def read(text: str, source: str = "customer.csv") -> list[xref_csv.Row]:
    """Check, then read, as an import does (UTF-8 bytes, read twice)."""
    binary = io.BytesIO(text.encode())
    with xref_csv.text_reader(binary) as first:
        header = xref_csv.check(first, source)
    binary.seek(0)
    with xref_csv.text_reader(binary) as second:
        rows = list(xref_csv.rows(second, source))
    assert all(list(codes) == header for _, codes in rows)
    return rows


def refusal(text: str) -> list[tuple[str, str]]:
    with pytest.raises(ValidationFailed) as refused:
        read(text)
    return [(p.field, p.message) for p in refused.value.problems]


def test_rows_keep_their_number_in_the_file_and_cells_are_stripped_and_restored() -> None:
    text = "\ufefferp, mes\nC1, 9001 \n\n,,\nC2,'=1+1\n"
    assert read(text) == [(2, {"erp": "C1", "mes": "9001"}), (5, {"erp": "C2", "mes": "=1+1"})]


def test_a_cell_the_store_cannot_hold_is_refused_by_row_and_column() -> None:
    text = f"erp,mes\nC1,ok\nC2,bad\x00code\nC3,{'x' * 201}\n"
    assert refusal(text) == [
        ("customer.csv:3:mes", "contains a NUL character (\\u0000), which cannot be stored"),
        ("customer.csv:4:mes", "is longer than 200 characters (201)"),
    ]


def test_the_header_names_each_system_once_within_the_name_limit() -> None:
    assert refusal("erp,erp\nC1,C2\n")[0][0] == "customer.csv:1"
    assert refusal(f"erp,{'s' * 101}\nC1,C2\n") == [
        ("customer.csv:1:2", "system name is longer than 100 characters (101)")
    ]


def test_a_ragged_row_and_a_broken_encoding_are_refused_by_row() -> None:
    assert refusal("erp,mes\nC1\n") == [("customer.csv:2", "1 columns, the header has 2")]
    binary = io.BytesIO("erp,mes\nC1,ok\nC2,é\n".encode("latin-1"))
    with xref_csv.text_reader(binary) as text, pytest.raises(ValidationFailed) as refused:
        xref_csv.check(text, "customer.csv")
    assert [(p.field, p.message) for p in refused.value.problems] == [
        ("customer.csv:3:mes", "is not UTF-8")
    ]


def test_a_file_with_many_problems_lists_the_first_ones() -> None:
    text = "erp,mes\n" + "C1\n" * 100
    problems = refusal(text)
    assert len(problems) == xref_csv.MAX_PROBLEMS + 1
    assert problems[-1] == ("customer.csv", "more problems not listed: fix these first")


async def test_export_text_starts_with_a_bom_and_neutralises_cells() -> None:
    async def pages() -> AsyncIterator[list[xref_csv.Entity]]:
        yield [{"erp": "C1", "mes": "=1+1"}, {"erp": "C2"}]

    text = "".join([chunk async for chunk in xref_csv.chunks(["erp", "mes"], pages())])
    assert text == "\ufefferp,mes\r\nC1,'=1+1\r\nC2,\r\n"
    assert list(csv.reader(io.StringIO(text[1:], newline=""))) == [
        ["erp", "mes"],
        ["C1", "'=1+1"],
        ["C2", ""],
    ]


async def test_any_code_comes_back_from_its_export_line_breaks_and_quotes_included() -> None:
    codes = ["\rCR", "a\r\nb", "x\ny", 'say "hi"', "a,b", "'", "''", "=1", "中文"]
    entities = [{"erp": f"K{n}", "mes": code} for n, code in enumerate(codes)]

    async def pages() -> AsyncIterator[list[xref_csv.Entity]]:
        yield entities

    text = "".join([chunk async for chunk in xref_csv.chunks(["erp", "mes"], pages())])
    assert [codes for _, codes in read(text)] == entities


@pytest.mark.parametrize("name", ["customer.csv", "中.csv", 'a"b\\c.csv', "客户 主数据.csv"])
def test_any_file_name_makes_a_latin_1_header_that_names_it(name: str) -> None:
    header = attachment(name)
    header.encode("latin-1")  # what an HTTP header must be
    kind, plain, extended = (part.strip() for part in header.split(";"))
    assert kind == "attachment"
    assert plain.startswith('filename="')
    assert plain.endswith('"')
    assert plain[10:-1].isascii()
    assert '"' not in plain[10:-1]
    assert extended.startswith("filename*=UTF-8''")  # RFC 6266 / 5987: what browsers use
    assert unquote(extended.split("''", 1)[1], encoding="utf-8", errors="strict") == name
