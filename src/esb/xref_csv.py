"""The master-data CSV format: a header of system names, one row per entity, first column the key.

Read as a stream (a file of a million rows is never held whole) and written as a
stream. Cells are neutralised on export per OWASP's CSV-injection guidance: a cell
that a spreadsheet would run as a formula (it starts with ``= + - @``, a tab or a
carriage return) gets a leading apostrophe, and import takes exactly that apostrophe
off again, so an exported file imports back to the same codes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Generator, Iterable, Iterator
from contextlib import contextmanager
from typing import IO

from esb.errors import FieldProblem, ValidationFailed
from esb.limits import MAX_CODE, MAX_NAME, text_problem

Entity = dict[str, str]  # system -> code
Row = tuple[int, Entity]  # (row number in the file, header row = 1; the row's codes)

#: What Excel, LibreOffice and Google Sheets start a formula with (OWASP, "CSV Injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"
#: Excel only shows Chinese in a UTF-8 CSV that starts with a byte-order mark.
BOM = "\ufeff"
#: A 422 lists this many problems of a file (and then says that there are more).
MAX_PROBLEMS = 20


def neutralise(cell: str) -> str:
    """The cell as written to CSV: an apostrophe before anything a spreadsheet would run,
    and before an apostrophe that ``restore`` would otherwise take off."""
    if cell.startswith(FORMULA_START) or (
        cell.startswith(ESCAPE) and cell[1:].startswith((*FORMULA_START, ESCAPE))
    ):
        return ESCAPE + cell
    return cell


def restore(cell: str) -> str:
    """The code a neutralised cell stands for (``neutralise``'s inverse)."""
    if cell.startswith(ESCAPE) and cell[1:].startswith((*FORMULA_START, ESCAPE)):
        return cell[1:]
    return cell


@contextmanager
def text_reader(binary: IO[bytes]) -> Iterator[IO[str]]:
    """UTF-8, with or without Excel's byte-order mark (the csv module wants ``newline=""``);
    the binary file stays open afterwards, to be read again."""
    text = io.TextIOWrapper(binary, encoding="utf-8-sig", errors="surrogateescape", newline="")
    try:
        yield text
    finally:
        text.detach()


def _utf8(text: str) -> bool:
    """False for bytes that were not UTF-8 (decoded to lone surrogates, so that the row
    that has them can be named: a strict decoder fails a whole block at once)."""
    if text.isascii():
        return True
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _cell_problem(cell: str, max_length: int) -> str | None:
    return "is not UTF-8" if not _utf8(cell) else text_problem(cell, max_length)


def _header(reader: Iterator[list[str]], source: str) -> list[str]:
    header = [restore(h.strip()) for h in next(reader, [])]
    if not header or any(not h for h in header) or len(set(header)) != len(header):
        raise ValidationFailed([FieldProblem(f"{source}:1", "header must name each system once")])
    problems = [
        FieldProblem(f"{source}:1:{column}", f"system name {problem}")
        for column, name in enumerate(header, start=1)
        if (problem := _cell_problem(name, MAX_NAME)) is not None
    ]
    if problems:
        raise ValidationFailed(problems)
    return header


def _row_problems(
    source: str, number: int, header: list[str], row: list[str]
) -> list[FieldProblem]:
    if len(row) != len(header):
        wrong = f"{len(row)} columns, the header has {len(header)}"
        return [FieldProblem(f"{source}:{number}", wrong)]
    joined = "".join(row)
    if max(map(len, row)) <= MAX_CODE and "\x00" not in joined and _utf8(joined):
        return []  # the common case, decided in C
    return [
        FieldProblem(f"{source}:{number}:{system}", problem)
        for system, cell in zip(header, row, strict=True)
        if (problem := _cell_problem(restore(cell.strip()), MAX_CODE)) is not None
    ]


def _records(text: IO[str], source: str) -> Iterator[tuple[int, list[str]]]:
    """Non-blank records with their number; a broken file is a 422 naming the row."""
    reader = csv.reader(text)
    number = 0
    try:
        for number, record in enumerate(reader, start=1):
            if number == 1 or "".join(record).strip():
                yield number, record
    except csv.Error as exc:
        raise ValidationFailed([FieldProblem(f"{source}:{number + 1}", str(exc))]) from None


def check_steps(text: IO[str], source: str) -> Generator[None, None, list[str]]:
    """Read the whole file once and answer its header, or a 422 naming rows and columns;
    a step every 256 records (``esb.xref_pacing.sliced`` runs it on a shared loop).

    Nothing is imported from a file with a problem here (a wrong delimiter or encoding
    would otherwise refuse every row one by one); conflicts with the database are found
    later, row by row.
    """
    records = _records(text, source)
    header = _header((record for _, record in records), source)
    problems: list[FieldProblem] = []
    for number, record in records:
        problems.extend(_row_problems(source, number, header, record))
        if len(problems) >= MAX_PROBLEMS:
            problems.append(FieldProblem(source, "more problems not listed: fix these first"))
            break
        if number % 256 == 0:
            yield
    if problems:
        raise ValidationFailed(problems[: MAX_PROBLEMS + 1])
    return header


def check(text: IO[str], source: str) -> list[str]:
    """``check_steps`` in one go (in a thread, or a process of its own)."""
    steps = check_steps(text, source)
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]


def rows(text: IO[str], source: str) -> Iterator[Row]:
    """The rows of a file that passed ``check``: cells stripped and restored, in order."""
    records = _records(text, source)
    header = _header((record for _, record in records), source)
    for number, record in records:
        cells = [c.strip() for c in record]
        if ESCAPE in "".join(cells):
            cells = [restore(c) for c in cells]
        yield number, dict(zip(header, cells, strict=True))


def _text(systems: list[str], entities: Iterable[Entity]) -> str:
    """RFC 4180 lines (CRLF, as Excel writes them): the csv module then also quotes a cell
    with a carriage return, which a bare LF line ending would leave open to splitting."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows([neutralise(e.get(s, "")) for s in systems] for e in entities)
    return out.getvalue()


async def chunks(systems: list[str], pages: AsyncIterator[list[Entity]]) -> AsyncIterator[str]:
    """The CSV text a page of entities at a time: the BOM and the header first."""
    yield BOM + _text(systems, [dict(zip(systems, systems, strict=True))])
    async for page in pages:
        yield _text(systems, page)
