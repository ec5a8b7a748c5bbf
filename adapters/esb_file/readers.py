"""Read a dropped file as batches of rows (one message each), streaming, in bounded memory.

``fingerprint`` makes a first pass: the SHA-256 of the content (the file's identity in
the ledger and in every row's idempotency key), the encoding that reads all of it
(:mod:`esb_file.decoding`) and whether it can be read at all, so a file in the wrong
encoding is refused before any of its rows is accepted. ``batches`` then yields
``Row``s and ``Refusal``s, ``batch`` at a time, from exactly the bytes the fingerprint
covered: rows a writer appends later are not read under this content's identity.
Rows are numbered as a spreadsheet shows them: with a header, the first data row is
row 2. Blocking: run on a thread (see :mod:`esb_file.threads`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from esb.sdk import PluginError, xml

from .decoding import Encoding, TextCheck
from .inbound_config import FileDropConfig

__all__ = ["Fingerprint", "Refusal", "Row", "Unreadable", "batches", "fingerprint"]

CHUNK = 1024 * 1024


class Unreadable(PluginError):
    """The file as a whole cannot be read: wrong encoding, not the format, a bad header."""


class RowTooLong(PluginError):
    """One row is longer than ``max_row_length``; the rest of it was skipped."""


@dataclass(frozen=True, slots=True)
class Row:
    number: int
    body: Any


@dataclass(frozen=True, slots=True)
class Refusal:
    number: int
    field: str
    reason: str


Item = Row | Refusal


@dataclass(frozen=True)
class Fingerprint:
    sha256: str
    size: int
    problem: str | None  # why the file cannot be read; None: it can
    encoding: Encoding | None = None  # how its text is read (None: xml, or unreadable)


def fingerprint(fd: int, config: FileDropConfig) -> Fingerprint:
    """Hash the whole file; check on the way that it decodes (csv, jsonl, json) and fits."""
    digest, size = hashlib.sha256(), 0
    check = TextCheck(config.encoding) if config.format != "xml" else None
    while chunk := os.pread(fd, CHUNK, size):
        digest.update(chunk)
        if check is not None:
            check.feed(chunk)
        size += len(chunk)
    encoding, problem = check.finish() if check is not None else (None, None)
    if problem is None and config.format in ("json", "xml") and size > config.max_document_bytes:
        problem = f"{size} bytes, more than max_document_bytes ({config.max_document_bytes})"
    return Fingerprint(digest.hexdigest(), size, problem, encoding)


class _Window(io.RawIOBase):
    """Bytes ``start`` to ``end`` of ``fd``, read with ``pread`` (the descriptor's own
    offset is left alone, so a duplicate of it can be read on another thread)."""

    def __init__(self, fd: int, start: int, end: int) -> None:
        super().__init__()
        self.fd, self.position, self.end = fd, start, end

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        wanted = min(len(buffer), self.end - self.position)
        if wanted <= 0:
            return 0
        data = os.pread(self.fd, wanted, self.position)
        buffer[: len(data)] = data
        self.position += len(data)
        return len(data)


class _Lines:
    """The lines of ``text``; a row longer than ``limit`` characters raises RowTooLong."""

    def __init__(self, text: io.TextIOBase, limit: int) -> None:
        self.text, self.limit, self.row_length = text, limit, 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self.text.readline(self.limit + 1)
        if not line:
            raise StopIteration
        self.row_length += len(line)
        if self.row_length > self.limit:
            while line and not line.endswith(("\n", "\r")):  # skip what is left of it
                line = self.text.readline(CHUNK)
            self.row_length = 0
            raise RowTooLong(f"longer than max_row_length ({self.limit} characters)")
        return line


def _text(fd: int, found: Fingerprint) -> io.TextIOWrapper:
    encoding = found.encoding or Encoding("utf-8")
    raw = io.BufferedReader(_Window(fd, encoding.bom, found.size), CHUNK)
    return io.TextIOWrapper(raw, encoding=encoding.codec, newline="")


def _columns(reader: Any, config: FileDropConfig) -> list[str]:
    options = config.csv
    if not options.header:
        return list(options.columns or [])
    try:
        header = next(reader)
    except (StopIteration, csv.Error, RowTooLong) as exc:
        raise Unreadable(f"no readable header row ({exc or 'the file is empty'})") from exc
    names = [cell.strip() for cell in header]
    if options.columns:
        if len(names) != len(options.columns):
            raise Unreadable(
                f"the header has {len(names)} columns, `columns` names "
                f"{len(options.columns)}: not the expected file"
            )
        return list(options.columns)
    if not all(names) or len(set(names)) != len(names):
        raise Unreadable(f"the header row {header!r} has an empty or repeated column name")
    return names


def _csv_row(number: int, cells: list[str], columns: list[str]) -> Item:
    if len(cells) == len(columns):
        return Row(number, dict(zip(columns, cells, strict=True)))
    if len(cells) < len(columns):
        missing = columns[len(cells)]
        return Refusal(number, missing, f"{len(cells)} cells, the header has {len(columns)}")
    return Refusal(number, "", f"{len(cells)} cells, the header has {len(columns)}")


def _csv_items(fd: int, config: FileDropConfig, found: Fingerprint) -> Iterator[Item]:
    lines = _Lines(_text(fd, found), config.max_row_length)
    reader = csv.reader(lines, delimiter=config.csv.delimiter, quotechar=config.csv.quote)
    columns = _columns(reader, config)
    number = 1 if config.csv.header else 0
    while True:
        number += 1
        lines.row_length = 0
        try:
            cells = next(reader)
        except StopIteration:
            return
        except (csv.Error, RowTooLong) as exc:
            yield Refusal(number, "", f"not a CSV row: {exc}")
            continue
        if cells:  # a blank line is no row, but keeps its number
            yield _csv_row(number, cells, columns)


def _jsonl_items(fd: int, config: FileDropConfig, found: Fingerprint) -> Iterator[Item]:
    lines = _Lines(_text(fd, found), config.max_row_length)
    number = 0
    while True:
        number += 1
        lines.row_length = 0
        try:
            line = next(lines)
        except StopIteration:
            return
        except RowTooLong as exc:
            yield Refusal(number, "", str(exc))
            continue
        if line.strip():
            try:
                yield Row(number, orjson.loads(line))
            except orjson.JSONDecodeError as exc:
                yield Refusal(number, "", f"not JSON: {exc}")


def _read_all(fd: int, found: Fingerprint, limit: int) -> bytes:
    start = found.encoding.bom if found.encoding else 0
    with io.BufferedReader(_Window(fd, start, min(found.size, start + limit + 1))) as raw:
        data = raw.read()
    if len(data) > limit:
        raise Unreadable(f"more than max_document_bytes ({limit})")
    return data


def _json_items(fd: int, config: FileDropConfig, found: Fingerprint) -> Iterator[Item]:
    data = _read_all(fd, found, config.max_document_bytes)
    codec = found.encoding.codec if found.encoding else "utf-8"
    try:
        document = orjson.loads(data.decode(codec))
    except (UnicodeDecodeError, orjson.JSONDecodeError) as exc:
        raise Unreadable(f"not a JSON document: {exc}") from exc
    if config.split_array and isinstance(document, list):
        yield from (Row(n, item) for n, item in enumerate(document, start=1))
    else:
        yield Row(1, document)


def _xml_items(fd: int, config: FileDropConfig, found: Fingerprint) -> Iterator[Item]:
    try:
        root = xml.parse(
            _read_all(fd, found, config.max_document_bytes), max_bytes=config.max_document_bytes
        )
    except xml.XmlRefused as exc:
        raise Unreadable(str(exc)) from exc
    record = config.xml.record
    if record is None:
        yield Row(1, xml.to_data(root))
        return
    records = (c for c in root if isinstance(c.tag, str) and c.tag.rpartition("}")[2] == record)
    yield from (Row(n, xml.to_data(element)) for n, element in enumerate(records, start=1))


READERS = {"csv": _csv_items, "jsonl": _jsonl_items, "json": _json_items, "xml": _xml_items}


def batches(fd: int, config: FileDropConfig, found: Fingerprint) -> Iterator[list[Item]]:
    """The rows of the ``found.size`` bytes ``found`` covers, ``config.batch`` at a time,
    in ``found.encoding`` after its byte-order mark.

    Raises :class:`Unreadable` before the first batch when the file as a whole is bad
    (a header, a JSON or XML document that cannot be read).
    """
    batch: list[Item] = []
    try:
        for item in READERS[config.format](fd, config, found):
            batch.append(item)
            if len(batch) >= config.batch:
                yield batch
                batch = []
    except UnicodeDecodeError as exc:  # the file changed since its fingerprint was taken
        raise Unreadable(f"not {found.encoding} text: {exc}") from exc
    if batch:
        yield batch
